"""Run example modules in Triton's CPU interpreter: find them, draw their inputs, record their launches.

The test contract of an example (see examples/README.md): a module-level `INPUTS` dict mapping each host
function to an input spec per parameter, and one `reference_<host>` torch function per host.
`TRITON_INTERPRET=1` is set by tests/conftest.py before anything imports triton.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import inspect
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import torch
from hypothesis import Phase

ROOT = Path(__file__).resolve().parents[1]


def _dir_from_env(variable: str, default: str) -> Path:
    """A directory named by an environment variable (relative to the checkout), else the default."""
    return (ROOT / os.environ.get(variable, default)).resolve()


# Overridable so the same harness can run a staged set (e.g. tests/pending/examples, which CI does not
# collect): TRITONLIFT_EXAMPLES_DIR, TRITONLIFT_MUTANTS_DIR, TRITONLIFT_REWRITES_DIR.
EXAMPLES = _dir_from_env("TRITONLIFT_EXAMPLES_DIR", "examples")
MUTANTS = _dir_from_env("TRITONLIFT_MUTANTS_DIR", "tests/mutants")
REWRITES = _dir_from_env("TRITONLIFT_REWRITES_DIR", "tests/rewrites")
CONTRACT_MARKER = "# ---- test contract"

# Hypothesis without its `explain` phase: that phase re-runs failing cases under a line tracer, which makes
# the interpreter crawl (minutes per failing test). Failing cases are still shrunk and printed with seeds.
PHASES = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink)

# One float32 ulp-scale tolerance for torch vs the interpreter (numpy math underneath). An example whose
# results are reductions (summation order differs between numpy and torch) may declare a looser one in its
# test contract: `TOLERANCE = {"rtol": 1e-4, "atol": 1e-5}`; it travels with its reference results.
RTOL = 1e-5
ATOL = 1e-5
TOLERANCE_ATTR = "_tritonlift_tolerance"  # set by run_reference on the reference's tensors


# ---------------------------------------------------------------------------------------------------------
# Finding examples and what they launch (read with ast, like tritonlift itself)


def example_paths() -> list[Path]:
    """Every example file: adding a file under examples/ adds it to every parametrized test."""
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def launches_by_host(path: Path) -> dict[str, list[str]]:
    """Top-level functions containing `kernel[grid](...)` launches -> the kernels they launch, in order."""
    tree = ast.parse(path.read_text(), filename=str(path))
    hosts: dict[str, list[str]] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        kernels: list[str] = []
        for sub in ast.walk(node):
            if (
                isinstance(sub, ast.Call)
                and isinstance(sub.func, ast.Subscript)
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id not in kernels
            ):
                kernels.append(sub.func.value.id)
        if kernels:
            hosts[node.name] = kernels
    return hosts


def function_params(path: Path, name: str) -> list[str]:
    """Parameter names of the top-level function `name` in `path`, in order."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return [a.arg for a in node.args.posonlyargs + node.args.args]
    raise LookupError(f"{path.name}: no top-level function {name!r}")


def host_cases() -> list[tuple[Path, str]]:
    """(example, host function) for every host of every example."""
    return [(p, h) for p in example_paths() for h in launches_by_host(p)]


def kernel_cases() -> list[tuple[Path, str, str]]:
    """(example, kernel, a host that launches it) for every launched kernel of every example."""
    cases: dict[tuple[Path, str], str] = {}
    for p in example_paths():
        for host, kernels in launches_by_host(p).items():
            for k in kernels:
                cases.setdefault((p, k), host)
    return [(p, k, h) for (p, k), h in cases.items()]


def case_id(*parts: Any) -> str:
    return "-".join(p.stem if isinstance(p, Path) else str(p) for p in parts)


# ---------------------------------------------------------------------------------------------------------
# Importing a module under the interpreter


@functools.cache
def load_module(path: Path) -> ModuleType:
    """Import a Python file by path, its kernels decorated under TRITON_INTERPRET=1."""
    if os.environ.get("TRITON_INTERPRET") != "1":
        raise RuntimeError("TRITON_INTERPRET=1 must be set before triton is imported (tests/conftest.py)")
    path = Path(path).resolve()
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    name = "_tritonlift_test_" + re.sub(r"\W", "_", str(where.with_suffix("")))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses, inspect and triton look modules up by name
    spec.loader.exec_module(module)
    for kname in {k for ks in launches_by_host(path).values() for k in ks}:
        if innermost_jit(getattr(module, kname)) is None:
            raise RuntimeError(f"{path.name}: {kname} was not decorated by the interpreter")
    return module


def innermost_jit(obj: Any) -> Any:
    """The InterpretedFunction under any stack of autotune/heuristics/libentry wrappers, or None."""
    from triton.runtime.interpreter import InterpretedFunction

    for _ in range(16):
        if isinstance(obj, InterpretedFunction):
            return obj
        obj = getattr(obj, "fn", None)
        if obj is None:
            return None
    return None


def reference(module: ModuleType, host: str) -> Callable[..., Any]:
    return getattr(module, f"reference_{host}")


def input_specs(module: ModuleType, host: str) -> dict[str, str]:
    return module.INPUTS[host]


# ---------------------------------------------------------------------------------------------------------
# Input specs: "f32[n]", "f32[M, N] strided", "f32[*s]", "bool[*s] strided", "float"

DTYPES = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16, "bool": torch.bool}
SPEC_RE = re.compile(r"^(?P<dtype>\w+)\[(?P<dims>[^\]]*)\](?P<strided>\s+strided)?$")


@dataclass(frozen=True)
class ArgSpec:
    kind: str  # "tensor" | "float" | "int"
    dtype: torch.dtype | None = None
    dims: tuple[str, ...] = ()  # dimension names, or ("*group",) for a shape of any rank shared by name
    strided: bool = False  # the host accepts non-contiguous views for this argument


def parse_spec(text: str) -> ArgSpec:
    text = text.strip()
    if text in ("float", "int"):
        return ArgSpec(text)
    m = SPEC_RE.match(text)
    if not m or m["dtype"] not in DTYPES:
        raise ValueError(f"bad input spec {text!r}: expected e.g. 'f32[M, N] strided', 'f32[*s]' or 'float'")
    dims = tuple(d.strip() for d in m["dims"].split(",") if d.strip())
    if any(d.startswith("*") for d in dims) and len(dims) != 1:
        raise ValueError(f"bad input spec {text!r}: a '*group' shape stands alone")
    return ArgSpec("tensor", DTYPES[m["dtype"]], dims, bool(m["strided"]))


class Chooser(Protocol):
    """Where the random choices come from: hypothesis (shrinks, prints) or a seeded random.Random."""

    def integer(self, lo: int, hi: int, label: str, specials: tuple[int, ...] = ()) -> int: ...
    def real(self, lo: float, hi: float, label: str) -> float: ...
    def boolean(self, label: str) -> bool: ...


class HypothesisChooser:
    def __init__(self, data: Any):
        self.data = data

    def integer(self, lo: int, hi: int, label: str, specials: tuple[int, ...] = ()) -> int:
        from hypothesis import strategies as st

        strategy = st.integers(lo, hi)
        inside = [s for s in specials if lo <= s <= hi]
        if inside:
            strategy = st.one_of(strategy, st.sampled_from(inside))
        return self.data.draw(strategy, label=label)

    def real(self, lo: float, hi: float, label: str) -> float:
        from hypothesis import strategies as st

        return self.data.draw(st.floats(lo, hi, allow_nan=False, width=32), label=label)

    def boolean(self, label: str) -> bool:
        from hypothesis import strategies as st

        return self.data.draw(st.booleans(), label=label)


class RandomChooser:
    def __init__(self, rng: Any):
        self.rng = rng

    def integer(self, lo: int, hi: int, label: str, specials: tuple[int, ...] = ()) -> int:
        inside = [s for s in specials if lo <= s <= hi]
        if inside and self.rng.random() < 0.3:
            return self.rng.choice(inside)
        return self.rng.randint(lo, hi)

    def real(self, lo: float, hi: float, label: str) -> float:
        return float(torch.tensor(self.rng.uniform(lo, hi), dtype=torch.float32))

    def boolean(self, label: str) -> bool:
        return self.rng.random() < 0.5


# Sizes stay small: the interpreter costs about 1-2 ms per program instance.
FLAT_RANGE = (1, 3000)  # a dimension only ever seen in 1-D tensors
TILE_RANGE = (1, 72)  # a dimension of a 2-D (or higher) tensor
FLAT_SPECIALS = (1, 2, 31, 32, 33, 511, 512, 513, 1023, 1024, 1025, 2048)
TILE_SPECIALS = (1, 2, 31, 32, 33, 64, 65)
GROUP_RANGES = {1: FLAT_RANGE, 2: (1, 60), 3: (1, 16)}


def draw_sizes(
    specs: dict[str, ArgSpec], chooser: Chooser, fixed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A size for every dimension name and a shape for every '*group' of the specs."""
    fixed = dict(fixed or {})
    ranks: dict[str, int] = {}
    for spec in specs.values():
        for d in spec.dims:
            ranks[d] = max(ranks.get(d, 0), len(spec.dims))
    sizes: dict[str, Any] = {}
    for d, rank in ranks.items():
        key = d.lstrip("*")
        if key in fixed:
            value = fixed[key]
            if d.startswith("*"):
                value = (value,) if isinstance(value, int) else tuple(value)
            sizes[d] = value
        elif d.startswith("*"):
            r = chooser.integer(1, 3, f"rank of {key}")
            lo, hi = GROUP_RANGES[r]
            specials = FLAT_SPECIALS if r == 1 else TILE_SPECIALS
            sizes[d] = tuple(chooser.integer(lo, hi, f"{key}[{i}]", specials) for i in range(r))
        elif rank == 1:
            sizes[d] = chooser.integer(*FLAT_RANGE, d, FLAT_SPECIALS)
        else:
            sizes[d] = chooser.integer(*TILE_RANGE, d, TILE_SPECIALS)
    return sizes


def block_multiple_sizes(specs_text: dict[str, str]) -> dict[str, Any]:
    """Sizes that are multiples of every block size the examples use: 2048 flat, 64 per 2-D dimension."""
    specs = [parse_spec(t) for t in specs_text.values()]
    sizes: dict[str, Any] = {}
    for spec in specs:
        for d in spec.dims:
            in_2d = any(d in s.dims and len(s.dims) > 1 for s in specs)
            sizes[d.lstrip("*")] = 64 if in_2d else 2048
    return sizes


def shape_of(spec: ArgSpec, sizes: dict[str, Any]) -> tuple[int, ...]:
    if len(spec.dims) == 1 and spec.dims[0].startswith("*"):
        return tuple(sizes[spec.dims[0]])
    return tuple(int(sizes[d]) for d in spec.dims)


def random_values(shape: tuple[int, ...], dtype: torch.dtype, gen: torch.Generator) -> torch.Tensor:
    if dtype == torch.bool:
        return torch.rand(shape, generator=gen) < 0.5
    return torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)


def layout(shape: tuple[int, ...], kind: str) -> tuple[tuple[int, ...], int]:
    """Strides (in elements) and the storage span of a view of `shape` laid out as `kind`.

    contiguous: row-major; every2: every other element of a row-major buffer; padded: rows of a wider
    buffer (last dimension sliced); transposed: the last two dimensions swapped in memory.
    """
    dims = list(shape)
    if kind == "transposed" and len(dims) >= 2:
        order = list(range(len(dims)))
        order[-1], order[-2] = order[-2], order[-1]
    else:
        order = list(range(len(dims)))
    mem_shape = [dims[i] for i in order]
    if kind == "padded":
        mem_shape[-1] += 3
    strides_mem = [1] * len(mem_shape)
    for i in range(len(mem_shape) - 2, -1, -1):
        strides_mem[i] = strides_mem[i + 1] * mem_shape[i + 1]
    if kind == "every2":
        strides_mem = [2 * s for s in strides_mem]
    strides = [0] * len(dims)
    for mem_pos, dim in enumerate(order):
        strides[dim] = strides_mem[mem_pos]
    span = 1 + sum((n - 1) * s for n, s in zip(dims, strides, strict=True)) if all(dims) else 0
    return tuple(strides), span


SLACK = 16384  # elements of poison on each side of every input: a stray read sees NaN, not another tensor


def make_tensor(shape: tuple[int, ...], dtype: torch.dtype, kind: str, gen: torch.Generator) -> torch.Tensor:
    """Random values in the given layout, inside a buffer poisoned (NaN / True) on both sides."""
    strides, span = layout(shape, kind)
    total = SLACK + span + SLACK
    buf = (
        torch.ones(total, dtype=dtype)
        if dtype == torch.bool
        else torch.full((total,), float("nan"), dtype=dtype)
    )
    view = buf.as_strided(shape, strides, SLACK)
    view.copy_(random_values(shape, dtype, gen))
    return view


def make_inputs(
    specs_text: dict[str, str],
    chooser: Chooser,
    fixed_sizes: dict[str, Any] | None = None,
    strided: bool | None = None,
) -> dict[str, Any]:
    """Arguments for one host call: tensors per spec (non-contiguous where allowed) and scalars.

    `strided`: None lets the chooser decide per tensor; False forces contiguous; True makes every tensor
    that allows it non-contiguous.
    """
    specs = {name: parse_spec(text) for name, text in specs_text.items()}
    sizes = draw_sizes(specs, chooser, fixed_sizes)
    gen = torch.Generator().manual_seed(chooser.integer(0, 2**31 - 1, "torch seed"))
    args: dict[str, Any] = {}
    for name, spec in specs.items():
        if spec.kind == "float":
            args[name] = chooser.real(-2.0, 2.0, name)
        elif spec.kind == "int":
            args[name] = chooser.integer(-8, 8, name)
        else:
            shape = shape_of(spec, sizes)
            kind = "contiguous"
            if (
                spec.strided
                and strided is not False
                and (strided or chooser.boolean(f"{name} non-contiguous"))
            ):
                kinds = ["every2"] if len(shape) == 1 else ["padded", "transposed", "every2"]
                kind = kinds[chooser.integer(0, len(kinds) - 1, f"{name} layout")]
            args[name] = make_tensor(shape, spec.dtype, kind, gen)
    return args


# ---------------------------------------------------------------------------------------------------------
# Cloning tensors with their storage, so a copy can be handed to a second implementation


def clone_args(args: dict[str, Any]) -> dict[str, Any]:
    """Deep copies of tensor arguments keeping storage, offset, strides and aliasing between arguments."""
    storages: dict[int, Any] = {}
    out: dict[str, Any] = {}
    for name, value in args.items():
        if isinstance(value, torch.Tensor):
            storage = value.untyped_storage()
            key = storage.data_ptr()
            if key not in storages:
                storages[key] = storage.clone()
            copy = torch.empty(0, dtype=value.dtype, device=value.device)
            copy.set_(storages[key], value.storage_offset(), value.size(), value.stride())
            out[name] = copy
        else:
            out[name] = value
    return out


def storage_view(t: torch.Tensor) -> torch.Tensor:
    """All elements of t's storage as a 1-D tensor of t's dtype (what a kernel's pointer can reach)."""
    n = t.untyped_storage().nbytes() // t.element_size()
    return torch.empty(0, dtype=t.dtype, device=t.device).set_(t.untyped_storage(), 0, (n,), (1,))


# ---------------------------------------------------------------------------------------------------------
# Running hosts: uninitialized memory is NaN, launches are recorded


@contextmanager
def nan_uninitialized() -> Iterator[None]:
    """torch.empty*/empty_like return NaN-filled tensors (ints: their max), so unwritten elements show."""
    import torch.utils.deterministic as det

    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = det.fill_uninitialized_memory
    torch.use_deterministic_algorithms(True, warn_only=True)
    det.fill_uninitialized_memory = True
    try:
        yield
    finally:
        det.fill_uninitialized_memory = fill
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)


@dataclass
class Launch:
    """One `kernel[grid](...)` call: every argument by name (constexprs included), before and after."""

    kernel: str
    arg_names: list[str]
    grid: tuple[int, int, int]
    before: dict[str, Any]
    after: dict[str, Any] = field(default_factory=dict)


@contextmanager
def record_launches(module: ModuleType) -> Iterator[list[Launch]]:
    """Record every launch of the module's kernels, with the constexprs autotune/heuristics chose."""
    launches: list[Launch] = []
    patched = []
    seen: set[int] = set()
    for value in list(vars(module).values()):
        jit = innermost_jit(value)
        if jit is None or id(jit) in seen:
            continue
        seen.add(id(jit))
        jit.run = _recording_run(jit, jit.run, launches)  # instance attribute shadows the method
        patched.append(jit)
    try:
        yield launches
    finally:
        for jit in patched:
            del jit.__dict__["run"]


def _recording_run(jit: Any, original: Callable[..., Any], launches: list[Launch]) -> Callable[..., Any]:
    def run(*args: Any, grid: Any, warmup: bool, **kwargs: Any) -> Any:
        if warmup:
            return original(*args, grid=grid, warmup=warmup, **kwargs)
        params = {k: v for k, v in kwargs.items() if k in jit.arg_names}
        bound = inspect.getcallargs(jit.fn, *args, **params)
        bound = {name: bound[name] for name in jit.arg_names}
        g = tuple(grid(bound) if callable(grid) else grid)
        launch = Launch(jit.__name__, list(jit.arg_names), g + (1,) * (3 - len(g)), clone_args(bound))
        result = original(*args, grid=grid, warmup=warmup, **kwargs)
        launch.after = clone_args(bound)
        launches.append(launch)
        return result

    return run


def run_host(module: ModuleType, host: str, args: dict[str, Any]) -> tuple[Any, list[Launch]]:
    """Call the host in the interpreter on copies of `args`; its result and the launches it made."""
    with nan_uninitialized(), record_launches(module) as launches:
        result = getattr(module, host)(**clone_args(args))
    return result, launches


def run_reference(module: ModuleType, host: str, args: dict[str, Any]) -> Any:
    """The reference's result, its tensors tagged with the module's TOLERANCE (if it declares one)."""
    result = reference(module, host)(**clone_args(args))
    tolerance = getattr(module, "TOLERANCE", None)
    if tolerance is not None:
        rtol, atol = float(tolerance.get("rtol", RTOL)), float(tolerance.get("atol", ATOL))
        for t in _tensors(result):
            setattr(t, TOLERANCE_ATTR, (rtol, atol))
    return result


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from _tensors(v)


def tolerance_of(expected: torch.Tensor) -> tuple[float, float]:
    """(rtol, atol) for comparing against `expected`: its example's TOLERANCE, else RTOL and ATOL."""
    return getattr(expected, TOLERANCE_ATTR, (RTOL, ATOL))


# ---------------------------------------------------------------------------------------------------------
# Comparing


def assert_same(
    actual: Any, expected: Any, what: str, rtol: float | None = None, atol: float | None = None
) -> None:
    """Same structure, shapes, dtypes; values close (NaN only where both are NaN).

    rtol/atol left None: the tolerance run_reference tagged `expected` with, else RTOL/ATOL."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, (tuple, list)) and len(actual) == len(expected), (
            f"{what}: structure differs"
        )
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_same(a, e, f"{what}[{i}]", rtol, atol)
        return
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor), f"{what}: expected a tensor, got {type(actual).__name__}"
        assert actual.shape == expected.shape, (
            f"{what}: shape {tuple(actual.shape)} != {tuple(expected.shape)}"
        )
        assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
        tagged_rtol, tagged_atol = tolerance_of(expected)
        rtol = tagged_rtol if rtol is None else rtol
        atol = tagged_atol if atol is None else atol
        torch.testing.assert_close(
            actual, expected, rtol=rtol, atol=atol, equal_nan=True, msg=lambda m: f"{what}: {m}"
        )
        return
    assert actual == expected, f"{what}: {actual!r} != {expected!r}"


def differs(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None) -> bool:
    try:
        assert_same(actual, expected, "value", rtol, atol)
    except AssertionError:
        return True
    return False


def describe(args: dict[str, Any]) -> str:
    """A one-line picture of host arguments for failure messages."""
    parts = []
    for name, v in args.items():
        if isinstance(v, torch.Tensor):
            parts.append(f"{name}: {str(v.dtype).removeprefix('torch.')}{list(v.shape)} stride={v.stride()}")
        else:
            parts.append(f"{name}={v!r}")
    return ", ".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Mutant and rewrite files: a header of `# key: value` lines, then a whole copy of an example module


HEADER_RE = re.compile(r"^#\s*([\w-]+):\s*(.*?)\s*$")


@dataclass(frozen=True)
class Variant:
    path: Path
    original: Path  # the example it was copied from
    target: str  # the host or kernel name whose formula is compared
    change: str  # what was changed, in words
    plain_refuted: bool  # refuted even without a reference formula (mutants only)
    witness: dict[str, Any] | None  # sizes that expose a mutant in the interpreter; None: no interpreter run
    witness_note: str


def read_header(path: Path) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in path.read_text().splitlines():
        m = HEADER_RE.match(line)
        if not m:
            break
        header[m[1]] = m[2]
    return header


def parse_witness(text: str) -> tuple[dict[str, Any] | None, str]:
    """'any' -> {} (random sizes); 'n=1048577, M=3' -> those sizes ('*s' groups: a 1-D size);
    'none (why)' -> None."""
    text = text.strip()
    if text.startswith("none"):
        return None, text
    if text in ("", "any"):
        return {}, text
    sizes: dict[str, Any] = {}
    for item in text.split(","):
        key, _, value = item.partition("=")
        sizes[key.strip()] = int(value)
    return sizes, text


def read_variant(path: Path) -> Variant:
    header = read_header(path)
    kind = "mutant-of" if "mutant-of" in header else "rewrite-of"
    if kind not in header or "target" not in header:
        raise ValueError(f"{path}: header needs '# mutant-of:' or '# rewrite-of:' and '# target:' lines")
    witness, note = parse_witness(header.get("witness", "any"))
    return Variant(
        path=path,
        original=original_path(header[kind]),
        target=header["target"],
        change=header.get("mutation", header.get("rewrite", "")),
        plain_refuted=header.get("plain", "") == "refuted",
        witness=witness,
        witness_note=note,
    )


def original_path(text: str) -> Path:
    """The example a header names: 'examples/<name>.py' is looked up in EXAMPLES (which may be a staged
    directory such as tests/pending/examples); any other path is relative to the checkout."""
    rel = Path(text)
    if rel.parts[:1] == ("examples",):
        return EXAMPLES.joinpath(*rel.parts[1:])
    return ROOT / rel


def mutant_paths() -> list[Path]:
    return sorted(MUTANTS.glob("*.py"))


def rewrite_paths() -> list[Path]:
    return sorted(REWRITES.glob("*.py"))


def host_of(original: Path, target: str) -> str:
    """The host to run for a target: the target itself, or the first host launching that kernel."""
    hosts = launches_by_host(original)
    if target in hosts:
        return target
    for host, kernels in hosts.items():
        if target in kernels:
            return host
    raise LookupError(f"{original.name}: {target!r} is neither a host nor a launched kernel")


def jit_functions(path: Path) -> list[str]:
    """Names of the top-level functions decorated with something ending in `jit` (kernels and helpers)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for deco in node.decorator_list:
                target = deco.func if isinstance(deco, ast.Call) else deco
                if ast.unparse(target).split(".")[-1] == "jit":
                    names.append(node.name)
    return names


# ---------------------------------------------------------------------------------------------------------
# Lifting with tritonlift (imported lazily: the interpreter-only tests need none of it)


@functools.cache
def lift_cached(path: Path, op: str | None = None, expect: str | None = None) -> tuple[Any, ...]:
    """tritonlift.lift_file, once per (file, op, expect) in each test process."""
    from tritonlift.api import lift_file
    from tritonlift.options import Options

    options = Options(expect=expect) if expect is not None else None
    return tuple(lift_file(path, options, op))


def summary(results: Any) -> str:
    return (
        "; ".join(f"{r.kind} {r.name}: {r.status} {r.formula or r.message}" for r in results) or "no results"
    )


def result_named(results: Any, name: str) -> Any:
    """The one result called `name` (an operator's host name or a kernel's name)."""
    found = [r for r in results if r.name == name]
    assert len(found) == 1, f"expected one result named {name!r}, got {len(found)}: {summary(results)}"
    return found[0]


def exec_torch(result: Any) -> Callable[..., Any]:
    """The function defined by a result's `torch` field, run with only torch and math in scope."""
    import math

    assert result.torch.strip(), f"{result.name}: empty torch field"
    namespace: dict[str, Any] = {"torch": torch, "math": math}
    exec(compile(result.torch, f"<torch field of {result.name}>", "exec"), namespace)
    fn = namespace.get(result.name)
    assert callable(fn), (
        f"{result.name}: the torch field defines no function {result.name!r}:\n{result.torch}"
    )
    return fn


def torch_signature(result: Any) -> tuple[list[str], list[str]]:
    """Parameter names and (unparsed) defaults of the function in a result's torch field."""
    tree = ast.parse(result.torch)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == result.name:
            params = [a.arg for a in node.args.posonlyargs + node.args.args]
            return params, [ast.unparse(d) for d in node.args.defaults]
    raise AssertionError(
        f"{result.name}: the torch field defines no function {result.name!r}:\n{result.torch}"
    )


def function_defaults(path: Path, name: str) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return [ast.unparse(d) for d in node.args.defaults]
    raise LookupError(f"{path.name}: no top-level function {name!r}")


def cli_env() -> dict[str, str]:
    """The environment for `python -m tritonlift`: the checkout's src/ importable even if not installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env
