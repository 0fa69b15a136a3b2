"""Test set-up: Triton's CPU interpreter, switched on before anything imports triton."""

import importlib.util
import os
import sys
from pathlib import Path

# Read when @triton.jit decorates a kernel: it must be set before any example module is imported.
os.environ["TRITON_INTERPRET"] = "1"

_SRC = Path(__file__).resolve().parents[1] / "src"
if importlib.util.find_spec("tritonlift") is None and _SRC.is_dir():
    sys.path.insert(0, str(_SRC))  # a checkout that was not pip-installed


# End-to-end and mutation suites that do not pass yet live in tests/pending/ (see issue 2's notes);
# they are kept out of CI collection until they pass, never weakened.
collect_ignore_glob = ["pending/*"]
