"""`python -m tritonlift`: the same command line as the `tritonlift` script."""

from tritonlift.cli import main

if __name__ == "__main__":
    main()
