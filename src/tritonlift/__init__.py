"""tritonlift: lift Triton kernels to short, verified textbook formulas."""

__version__ = "0.1.0"
