"""FlagGems on disk: locate the installed package without importing it, list its `@triton.jit` functions
with their roles (kernel, helper, pointwise body), and the 33-operator table with the kernels each launches.

Nothing here imports `flag_gems` (it needs a GPU): the package is found with `importlib.util.find_spec`
(which, for a top-level name, reads the file system only) or the distribution's file list, and every file
is read with `ast`.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tritonlift.errors import InputError
from tritonlift.frontend.source import SourceModule, load_module, qualname

PACKAGE = "flag_gems"
DISTRIBUTION = "flag-gems"
PINNED_VERSION = "5.0.2"
# the operator sources: ops/, fused/ and experimental_ops/; the vendor backends under runtime/backend/ (copies of
# the operators for other hardware) and utils/ (the library's own machinery) are left out
SUBPACKAGES = ("ops", "fused", "experimental_ops")
LEFT_OUT = "left out: runtime/backend/ (vendor copies of the operators for other hardware) and utils/"
INSTALL_HINT = f"pip install --no-deps {DISTRIBUTION}=={PINNED_VERSION}"


# ---------------------------------------------------------------------------------------------------------
# Locating the package


def locate_package() -> Path | None:
    """The installed `flag_gems` package directory, found without importing it; None when not installed."""
    try:
        spec = importlib.util.find_spec(PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            if (Path(location) / "ops").is_dir():
                return Path(location)
    try:
        dist = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in dist.files or []:
        if f.parts[:2] == (PACKAGE, "__init__.py"):
            return Path(str(dist.locate_file(f))).parent
    return None


def installed_version() -> str | None:
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


def require_package() -> Path:
    root = locate_package()
    if root is None:
        raise InputError(f"FlagGems is not installed: {INSTALL_HINT}")
    return root


def source_files(root: Path, subpackages: Iterable[str] = SUBPACKAGES) -> list[Path]:
    """Every Python file of the operator subpackages (recursively), sorted; __init__ files included."""
    out: list[Path] = []
    for sub in subpackages:
        base = root / sub
        if base.is_dir():
            out += [f for f in base.rglob("*.py") if "__pycache__" not in f.parts]
    return sorted(out)


# ---------------------------------------------------------------------------------------------------------
# The jit functions of one file


# Out-of-scope families: what they are recognised by (the qualified name of a call, or the file).
RANDOM_CALLS = ("rand", "randn", "randint", "randint4x", "philox", "philox_impl", "uint_to_uniform_float")
SORT_CALLS = ("sort", "argsort", "topk", "sort_impl", "flip", "bitonic_merge", "_bitonic_merge", "histogram")
SORT_FILES = ("sort", "topk", "unique", "unique_consecutive", "randperm", "bin_topk", "grouped_topk")


@dataclass
class JitEntry:
    """One `@triton.jit` function of the package, with what the bench needs to know about it."""

    file: str  # relative to the package root, e.g. "ops/softmax.py"
    path: str  # absolute path, as the pipeline reports it
    name: str
    line: int
    role: str  # kernel | helper | pointwise | nested
    launched_by: list[str] = field(default_factory=list)  # host functions of the same file
    used_by: list[str] = field(default_factory=list)  # jit functions of the same file that call/reference it
    scope: str | None = None  # out-of-scope family: random | atomics | sort
    scope_reason: str = ""
    nested_in: str = ""  # for role nested: the enclosing statement, e.g. "if HAS_TLE: (line 275)"

    @property
    def key(self) -> str:
        return f"{self.file}::{self.name}"


def _all_jit_defs(tree: ast.Module) -> list[tuple[ast.FunctionDef, str]]:
    """Every function decorated with something named `jit`, at any depth, with where it is nested."""
    out: list[tuple[ast.FunctionDef, str]] = []

    def visit(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef):
                if any(_is_jit_decorator(d) for d in child.decorator_list):
                    out.append((child, where))
                visit(child, f"def {child.name}: (line {child.lineno})")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"class {child.name}: (line {child.lineno})")
            elif isinstance(child, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
                head = (
                    ast.unparse(child.test)
                    if isinstance(child, (ast.If, ast.While))
                    else type(child).__name__
                )
                visit(child, f"{type(child).__name__.lower()} {head}: (line {child.lineno})")
            else:
                visit(child, where)

    visit(tree, "")
    return out


def _is_jit_decorator(d: ast.expr) -> bool:
    target = d.func if isinstance(d, ast.Call) else d
    return (isinstance(target, ast.Attribute) and target.attr == "jit") or (
        isinstance(target, ast.Name) and target.id == "jit"
    )


def _referenced_names(fn: ast.FunctionDef) -> set[str]:
    """Names read in a function's body (calls, `combine_fn=` arguments, ...), decorators excluded."""
    out: set[str] = set()
    for stmt in fn.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                out.add(node.id)
    return out


def _call_qualnames(fn: ast.FunctionDef, aliases: dict[str, str]) -> list[tuple[str, int]]:
    out = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            q = qualname(node.func, aliases)
            if q:
                out.append((q, node.lineno))
    return out


def _atomic_results_used(fn: ast.FunctionDef, aliases: dict[str, str]) -> list[tuple[str, int]]:
    """Atomic calls whose returned (old) value the function does not discard: each is an order-dependent use."""
    discarded = {id(st.value) for st in ast.walk(fn) if isinstance(st, ast.Expr)}
    out = []
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and id(node) not in discarded:
            q = qualname(node.func, aliases) or ""
            if q.rsplit(".", 1)[-1] in ORDER_INDEPENDENT:
                out.append((q, node.lineno))
    return out


# atomics whose final result does not depend on the order of the updates (symbolic/atomics.py): in scope,
# unless their returned value is used
ORDER_INDEPENDENT = ("atomic_add", "atomic_max", "atomic_min")


def _scope(fn: ast.FunctionDef, aliases: dict[str, str], stem: str) -> tuple[str | None, str]:
    used = set(_atomic_results_used(fn, aliases))
    for q, line in _call_qualnames(fn, aliases):
        last = q.rsplit(".", 1)[-1]
        if (q, line) in used:
            return "atomics", f"{q} (line {line}): its returned old value is used"
        if last.startswith("atomic_") and last not in ORDER_INDEPENDENT:
            return "atomics", f"{q} (line {line})"
        if last in RANDOM_CALLS or "philox" in last or ".random_utils." in q:
            return "random", f"{q} (line {line})"
        if last in SORT_CALLS and not q.startswith("torch."):
            return "sort", f"{q} (line {line})"
    if stem in SORT_FILES:
        return "sort", f"in {stem}.py"
    return None, ""


def file_entries(path: Path, root: Path) -> list[JitEntry]:
    """Every jit function of one file (module level or nested), in source order, with its role."""
    rel = path.relative_to(root).as_posix()
    module = load_module(path)
    defs = _all_jit_defs(module.tree)
    visible = set(module.jit)
    launched: dict[str, list[str]] = {}
    for host in module.hosts.values():
        for launch in host.launches:
            launched.setdefault(launch.kernel, [])
            if host.name not in launched[launch.kernel]:
                launched[launch.kernel].append(host.name)
    names = {fn.name for fn, _where in defs}
    used_by: dict[str, list[str]] = {}
    for fn, _where in defs:
        for name in sorted(_referenced_names(fn) & names - {fn.name}):
            used_by.setdefault(name, []).append(fn.name)
    entries = []
    for fn, where in defs:
        jf = module.jit.get(fn.name)
        if fn.name not in visible or (jf is not None and jf.node is not fn):
            role = "nested"
            if jf is not None and jf.node is not fn:  # a conditional definition another branch redefines
                where = f"shadowed: the definition at line {jf.node.lineno} is the one lifted"
        elif jf is not None and jf.is_pointwise:
            role = "pointwise"
        elif fn.name in used_by and fn.name not in launched:
            role = "helper"
        else:
            role = "kernel"
        scope, reason = _scope(fn, module.aliases, path.stem)
        line = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
        entries.append(
            JitEntry(
                file=rel,
                path=str(path),
                name=fn.name,
                line=line,
                role=role,
                launched_by=launched.get(fn.name, []),
                used_by=used_by.get(fn.name, []),
                scope=scope,
                scope_reason=reason,
                nested_in=where if role == "nested" else "",
            )
        )
    _inherit_scope(entries)
    return entries


def _inherit_scope(entries: list[JitEntry]) -> None:
    """A kernel is in an out-of-scope family when a helper it calls is (e.g. philox in a helper)."""
    by_name = {e.name: e for e in entries}
    changed = True
    while changed:
        changed = False
        for helper in entries:
            if helper.scope is None:
                continue
            for user in helper.used_by:
                e = by_name.get(user)
                if e is not None and e.scope is None:
                    e.scope = helper.scope
                    e.scope_reason = f"calls {helper.name}: {helper.scope_reason}"
                    changed = True


def package_entries(root: Path, files: Iterable[Path] | None = None) -> tuple[list[JitEntry], list[str]]:
    """The jit functions of every source file; also the files that could not be read (one line each)."""
    entries: list[JitEntry] = []
    unreadable: list[str] = []
    for path in files if files is not None else source_files(root):
        try:
            entries += file_entries(path, root)
        except InputError as e:
            unreadable.append(e.located())
    return entries, unreadable


# ---------------------------------------------------------------------------------------------------------
# The 33 operators


@dataclass(frozen=True)
class OperatorSpec:
    """One operator of the flaggems-33 suite: where it lives and what is left out of "lifted"."""

    name: str
    file: str  # relative to the package root
    hosts: tuple[str, ...]  # the forward host functions (torch overloads) whose kernels count
    exclude: tuple[tuple[str, str], ...] = ()  # (kernel, why it does not count), e.g. complex-only paths
    torch_ref: str = ""  # the PyTorch operator it implements, for the report


COMPLEX = "complex inputs only"

FLAGGEMS_33: tuple[OperatorSpec, ...] = (
    OperatorSpec("abs", "ops/abs.py", ("abs",), torch_ref="torch.abs"),
    OperatorSpec("neg", "ops/neg.py", ("neg",), torch_ref="torch.neg"),
    OperatorSpec("exp", "ops/exp.py", ("exp",), torch_ref="torch.exp"),
    OperatorSpec("log", "ops/log.py", ("log",), torch_ref="torch.log"),
    OperatorSpec("sqrt", "ops/sqrt.py", ("sqrt",), torch_ref="torch.sqrt"),
    OperatorSpec("rsqrt", "ops/rsqrt.py", ("rsqrt",), torch_ref="torch.rsqrt"),
    OperatorSpec("sin", "ops/sin.py", ("sin",), torch_ref="torch.sin"),
    OperatorSpec("tanh", "ops/tanh.py", ("tanh",), torch_ref="torch.tanh"),
    OperatorSpec("sigmoid", "ops/sigmoid.py", ("sigmoid",), torch_ref="torch.sigmoid"),
    OperatorSpec("silu", "ops/silu.py", ("silu",), torch_ref="torch.nn.functional.silu"),
    OperatorSpec("gelu", "ops/gelu.py", ("gelu",), torch_ref="torch.nn.functional.gelu"),
    OperatorSpec("relu", "ops/relu.py", ("relu",), torch_ref="torch.relu"),
    OperatorSpec("clamp", "ops/clamp.py", ("clamp", "clamp_tensor"), torch_ref="torch.clamp"),
    OperatorSpec("add", "ops/add.py", ("add",), torch_ref="torch.add"),
    OperatorSpec("sub", "ops/sub.py", ("sub",), torch_ref="torch.sub"),
    OperatorSpec("mul", "ops/mul.py", ("mul",), (("mul_complex_kernel", COMPLEX),), torch_ref="torch.mul"),
    OperatorSpec("true_divide", "ops/div.py", ("true_divide",), torch_ref="torch.true_divide"),
    OperatorSpec(
        "pow", "ops/pow.py", ("pow_tensor_tensor", "pow_tensor_scalar", "pow_scalar"), torch_ref="torch.pow"
    ),
    OperatorSpec("maximum", "ops/maximum.py", ("maximum",), torch_ref="torch.maximum"),
    OperatorSpec("where", "ops/where.py", ("where_self",), torch_ref="torch.where"),
    OperatorSpec("silu_and_mul", "fused/silu_and_mul.py", ("silu_and_mul",), torch_ref="F.silu(x) * y"),
    OperatorSpec("sum", "ops/sum.py", ("sum", "sum_dim"), torch_ref="torch.sum"),
    OperatorSpec("mean", "ops/mean.py", ("mean", "mean_dim"), torch_ref="torch.mean"),
    OperatorSpec("amax", "ops/amax.py", ("amax",), torch_ref="torch.amax"),
    OperatorSpec("prod", "ops/prod.py", ("prod", "prod_dim"), torch_ref="torch.prod"),
    OperatorSpec("softmax", "ops/softmax.py", ("softmax",), torch_ref="torch.softmax"),
    OperatorSpec("log_softmax", "ops/log_softmax.py", ("log_softmax",), torch_ref="torch.log_softmax"),
    OperatorSpec(
        "layer_norm", "ops/layernorm.py", ("layer_norm",), torch_ref="torch.nn.functional.layer_norm"
    ),
    OperatorSpec("rms_norm", "ops/rms_norm.py", ("rms_norm",), torch_ref="torch.nn.functional.rms_norm"),
    OperatorSpec("mm", "ops/mm.py", ("mm",), torch_ref="torch.mm"),
    OperatorSpec("bmm", "ops/bmm.py", ("bmm",), torch_ref="torch.bmm"),
    OperatorSpec("addmm", "ops/addmm.py", ("addmm",), torch_ref="torch.addmm"),
    OperatorSpec("mv", "ops/mv.py", ("mv",), torch_ref="torch.mv"),
)


@dataclass
class KernelRef:
    """A jit function an operator runs: a launched kernel or a pointwise function it calls."""

    file: str  # relative to the package root
    name: str
    kind: str  # kernel | pointwise
    via: list[str] = field(default_factory=list)  # the call chain from the operator's host function
    host_file: str = ""  # the file of the function that launches or calls it (via[-1])

    @property
    def key(self) -> str:
        return f"{self.file}::{self.name}"


@cache
def _module(path: str) -> SourceModule:
    return load_module(path)


def _functions(module: SourceModule) -> dict[str, ast.FunctionDef]:
    """Module-level functions and `Class.method` (for `Class.apply` -> `Class.forward`)."""
    out: dict[str, ast.FunctionDef] = {}
    for node in module.tree.body:
        if isinstance(node, ast.FunctionDef):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    out[f"{node.name}.{item.name}"] = item
    return out


def _module_file(root: Path, dotted: str) -> Path | None:
    """`flag_gems.ops.mm_streamk` (absolute) -> its file under root, if it is one of the package's files."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE:
        return None
    base = root.joinpath(*parts[1:])
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    return None


def _resolve_import(root: Path, path: Path, module: SourceModule, name: str) -> tuple[Path, str] | None:
    """Where a name imported into a module is defined: `from flag_gems.ops.x import f` or `from .x import f`."""
    for node in module.tree.body:
        if not isinstance(node, ast.ImportFrom):
            continue
        for a in node.names:
            if (a.asname or a.name) != name:
                continue
            if node.level:
                pkg = path.parent
                for _ in range(node.level - 1):
                    pkg = pkg.parent
                dotted = ".".join([PACKAGE, *pkg.relative_to(root).parts, *(node.module or "").split(".")])
            else:
                dotted = node.module or ""
            target = _module_file(root, dotted.rstrip("."))
            if target is not None:
                return target, a.name
    return None


def operator_kernels(root: Path, spec: OperatorSpec) -> tuple[list[KernelRef], list[str]]:
    """The kernels an operator's hosts launch (`kernel[grid](...)`) and the pointwise functions they call,
    following calls to other functions of the package (same file, imports, `Class.apply` -> `forward`).

    Also returns the host functions that were not found (a table entry out of date with the package).
    """
    found: dict[str, KernelRef] = {}
    missing: list[str] = []
    seen: set[tuple[str, str]] = set()

    def walk(path: Path, fname: str, chain: list[str], depth: int) -> bool:
        if (str(path), fname) in seen or depth > 6:
            return True
        seen.add((str(path), fname))
        module = _module(str(path))
        fns = _functions(module)
        fn = fns.get(fname)
        if fn is None:
            return False
        rel = path.relative_to(root).as_posix()
        here = [*chain, fname]
        for node in ast.walk(fn):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name):
                name = func.value.id
                if name in module.jit:
                    found.setdefault(f"{rel}::{name}", KernelRef(rel, name, "kernel", here, rel))
                else:
                    imported = _resolve_import(root, path, module, name)
                    if imported is not None:
                        target, real = imported
                        trel = target.relative_to(root).as_posix()
                        found.setdefault(f"{trel}::{real}", KernelRef(trel, real, "kernel", here, rel))
                continue
            if isinstance(func, ast.Name):
                name = func.id
                jf = module.jit.get(name)
                if jf is not None:
                    if jf.is_pointwise:
                        found.setdefault(f"{rel}::{name}", KernelRef(rel, name, "pointwise", here, rel))
                    continue
                if name in fns:
                    walk(path, name, here, depth + 1)
                    continue
                imported = _resolve_import(root, path, module, name)
                if imported is not None:
                    target, real = imported
                    tmod = _module(str(target))
                    tjf = tmod.jit.get(real)
                    trel = target.relative_to(root).as_posix()
                    if tjf is not None and tjf.is_pointwise:
                        found.setdefault(f"{trel}::{real}", KernelRef(trel, real, "pointwise", here, rel))
                    elif tjf is None:
                        walk(target, real, here, depth + 1)
            elif (
                isinstance(func, ast.Attribute)
                and func.attr == "apply"
                and isinstance(func.value, ast.Name)
                and f"{func.value.id}.forward" in fns
            ):
                walk(path, f"{func.value.id}.forward", here, depth + 1)
        return True

    path = root / spec.file
    for host in spec.hosts:
        if not path.is_file() or not walk(path, host, [], 0):
            missing.append(host)
    excluded = {k for k, _why in spec.exclude}
    return [k for k in found.values() if k.name not in excluded], missing
