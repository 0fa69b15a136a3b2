"""Read a Python file with `ast` (never importing it): jit kernels, helpers, host functions, launches."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from tritonlift.errors import InputError

# decorators that only pick launch parameters or cache compiled kernels: no semantic effect
WRAPPER_DECORATORS = ("libentry", "libtuner", "autotune", "heuristics", "jit", "pointwise_dynamic")


@dataclass
class Decorator:
    qualname: str  # dotted, aliases resolved: "triton.jit", "triton.autotune", "flag_gems.utils.libentry"
    node: ast.expr
    args: list[ast.expr] = field(default_factory=list)
    kwargs: dict[str, ast.expr] = field(default_factory=dict)

    @property
    def short(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


@dataclass
class KParam:
    name: str
    constexpr: bool
    default: ast.expr | None
    line: int
    annotation: str = ""  # as written: "tl.constexpr", "tl.int64", ...


@dataclass
class JitFunction:
    name: str
    node: ast.FunctionDef
    params: list[KParam]
    decorators: list[Decorator]  # outermost first
    file: str
    line: int

    def decorator(self, short: str) -> Decorator | None:
        for d in self.decorators:
            if d.short == short:
                return d
        return None

    @property
    def is_pointwise(self) -> bool:
        return self.decorator("pointwise_dynamic") is not None

    @property
    def heuristics(self) -> dict[str, ast.expr]:
        """constexpr name -> lambda, from `@triton.heuristics({...})` written as a dict literal, or from
        FlagGems' `@triton.heuristics(runtime.get_heuristic_config("name"))` read from the package's sources."""
        return self.heuristics_with_origin()[0]

    def heuristics_with_origin(self) -> tuple[dict[str, ast.expr], str]:
        """The heuristics lambdas and where they were read: "" for a literal dict in the kernel's file, else
        `get_heuristic_config("name") in <file>`."""
        from tritonlift.frontend.flaggems_config import heuristic_config, is_config_call

        d = self.decorator("heuristics")
        if d is None:
            return {}, ""
        src = d.args[0] if d.args else d.kwargs.get("values")
        config = is_config_call(src, "get_heuristic_config")
        if config is not None:
            found = heuristic_config(self.file, config)
            if found is None:
                return {}, ""
            return dict(found[0]), f'get_heuristic_config("{config}") in {found[1]}'
        out: dict[str, ast.expr] = {}
        if isinstance(src, ast.Dict):
            for k, v in zip(src.keys, src.values, strict=True):
                if isinstance(k, ast.Constant) and isinstance(k.value, str):
                    out[k.value] = v
        return out, ""

    def unread_heuristics(self) -> tuple[dict[str, str], str]:
        """constexprs a heuristic of FlagGems' `get_heuristic_config("name")` chooses with a function that is
        not read as a lambda (frontend/flaggems_config.py): name -> the function, and where it was read."""
        from tritonlift.frontend.flaggems_config import heuristic_config, is_config_call, unread_heuristics

        d = self.decorator("heuristics")
        if d is None:
            return {}, ""
        config = is_config_call(d.args[0] if d.args else d.kwargs.get("values"), "get_heuristic_config")
        found = heuristic_config(self.file, config) if config is not None else None
        if config is None or found is None:
            return {}, ""
        return unread_heuristics(self.file, config), f'get_heuristic_config("{config}") in {found[1]}'

    @property
    def autotune_configs(self) -> list[dict[str, ast.expr]]:
        """The constexpr values of each `triton.Config({...})` of a literal autotune config list."""
        d = self.decorator("autotune")
        if d is None:
            return []
        src = d.kwargs.get("configs", d.args[0] if d.args else None)
        out: list[dict[str, ast.expr]] = []
        if isinstance(src, (ast.List, ast.Tuple)):
            for c in src.elts:
                if isinstance(c, ast.Call) and c.args and isinstance(c.args[0], ast.Dict):
                    kv = c.args[0]
                    out.append(
                        {
                            k.value: v
                            for k, v in zip(kv.keys, kv.values, strict=True)
                            if isinstance(k, ast.Constant) and isinstance(k.value, str)
                        }
                    )
        return out


@dataclass
class Launch:
    kernel: str
    grid: ast.expr
    args: list[ast.expr]
    kwargs: dict[str, ast.expr]
    line: int
    node: ast.Call


@dataclass
class HostFunction:
    name: str
    node: ast.FunctionDef
    file: str
    line: int
    launches: list[Launch]


@dataclass
class SourceModule:
    path: str
    source: str
    tree: ast.Module
    aliases: dict[str, str]  # local name -> dotted qualified name
    constants: dict[str, ast.expr]  # module-level NAME = <expr> (last assignment wins)
    jit: dict[str, JitFunction]
    hosts: dict[str, HostFunction]

    def kernels(self) -> list[JitFunction]:
        """Jit functions that are entry points: not pointwise bodies and not only used by other jit code
        (called, or passed as a function: `tl.reduce(x, 0, combine_fn=_mul)`)."""
        called: set[str] = set()
        launched = {ln.kernel for h in self.hosts.values() for ln in h.launches}
        for fn in self.jit.values():
            for node in ast.walk(fn.node):
                if isinstance(node, ast.Name) and node.id in self.jit and node.id != fn.name:
                    called.add(node.id)
        return [
            f
            for f in self.jit.values()
            if not f.is_pointwise and (f.name in launched or f.name not in called)
        ]

    def imported_jit(self, name: str) -> JitFunction | None:
        """The jit function a name imports from another file of this package tree (`from pkg.utils.limits import
        get_dtype_min`, `from ..utils.limits import ...`), located on disk without importing anything."""
        qual = self.aliases.get(name, "")
        module, _, fn = qual.rpartition(".")
        path = _module_file(Path(self.path), module) if module else None
        if path is None or str(path) == self.path:
            return None
        try:
            return load_module_cached(str(path)).jit.get(fn)
        except InputError:
            return None

    def imported_function(self, qual: str) -> tuple[SourceModule, ast.FunctionDef] | None:
        """The module-level (non-jit) function a qualified name `pkg.mod.f` names in another file of this
        package tree, with that file's module; located on disk without importing anything."""
        module, _, fn = qual.rpartition(".")
        path = _module_file(Path(self.path), module) if module else None
        if path is None or str(path) == self.path:
            return None
        try:
            other = load_module_cached(str(path))
        except InputError:
            return None
        if fn in other.jit:
            return None
        found = next((n for n in other.tree.body if isinstance(n, ast.FunctionDef) and n.name == fn), None)
        return (other, found) if found is not None else None

    def pointwise(self) -> list[JitFunction]:
        """`@pointwise_dynamic` scalar bodies: each lifts on its own, to a result of kind "pointwise"."""
        return [f for f in self.jit.values() if f.is_pointwise]


def qualname(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """`tl.math.exp` -> "triton.language.math.exp" using the module's import aliases."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):  # decorator factories: libentry()
        return qualname(node.func, aliases)
    if not isinstance(node, ast.Name):
        return None
    head = aliases.get(node.id, node.id)
    return ".".join([head, *reversed(parts)])


def _module_statements(tree: ast.Module) -> list[ast.stmt]:
    """The module's top-level statements, those in the body of a top-level `try:` included (FlagGems binds
    libdevice names there: `try: _finitef = tl_extra_shim.finitef except Exception: pass`; where the body
    fails, the names stay unbound and no kernel using them compiles)."""
    out: list[ast.stmt] = []
    for node in tree.body:
        out.append(node)
        if isinstance(node, ast.Try):
            out += node.body
    return out


def _collect_aliases(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in _module_statements(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    aliases[a.asname] = a.name
                else:
                    aliases[a.name.split(".")[0]] = a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for a in node.names:
                aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.ImportFrom):  # `from . import libdevice`: a sibling module, by its name
            for a in node.names:
                aliases[a.asname or a.name] = a.name
    # module-level `erf = tl_extra_shim.erf` style re-bindings of dotted names
    for node in _module_statements(tree):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Attribute)
        ):
            q = qualname(node.value, aliases)
            if q:
                aliases[node.targets[0].id] = q
    return aliases


def _decorators(fn: ast.FunctionDef, aliases: dict[str, str]) -> list[Decorator]:
    out: list[Decorator] = []
    for d in fn.decorator_list:
        q = qualname(d, aliases) or ast.unparse(d)
        if isinstance(d, ast.Call):
            kwargs = {k.arg: k.value for k in d.keywords if k.arg}
            out.append(Decorator(q, d, list(d.args), kwargs))
        else:
            out.append(Decorator(q, d))
    return out


def _is_jit(decs: list[Decorator]) -> bool:
    return any(d.short == "jit" and d.qualname.startswith(("triton", "jit")) for d in decs)


def _params(fn: ast.FunctionDef) -> list[KParam]:
    args = fn.args.posonlyargs + fn.args.args
    defaults: list[ast.expr | None] = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
    out = []
    for a, d in zip(args, defaults, strict=True):
        ann = ast.unparse(a.annotation) if a.annotation is not None else ""
        out.append(KParam(a.arg, "constexpr" in ann, d, a.lineno, ann))
    for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True):
        ann = ast.unparse(a.annotation) if a.annotation is not None else ""
        out.append(KParam(a.arg, "constexpr" in ann, d, a.lineno, ann))
    return out


def _launches(fn: ast.FunctionDef, jit_names: set[str]) -> list[Launch]:
    out = []
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Subscript)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in jit_names
        ):
            kwargs = {k.arg: k.value for k in node.keywords if k.arg}
            out.append(Launch(node.func.value.id, node.func.slice, list(node.args), kwargs, node.lineno, node))
    out.sort(key=lambda ln: (ln.line, ln.node.col_offset))
    return out


def module_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """Functions defined at module level, including those under a module-level `if`/`try` (conditional
    definitions such as `if HAS_TLE:` or `try: ... except ImportError:`), in source order; where one name is
    defined in several branches, the last definition is the one the module's tables keep."""
    out: list[ast.FunctionDef] = []

    def visit(stmts: list[ast.stmt]) -> None:
        for node in stmts:
            if isinstance(node, ast.FunctionDef):
                out.append(node)
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for h in node.handlers:
                    visit(h.body)
                visit(node.orelse)
                visit(node.finalbody)

    visit(tree.body)
    return out


def parse_source(source: str, path: str) -> SourceModule:
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError as e:
        raise InputError(f"syntax error: {e.msg}", path, e.lineno or 0) from None
    aliases = _collect_aliases(tree)
    constants: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            constants[node.targets[0].id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            constants[node.target.id] = node.value
    funcs = module_functions(tree)
    jit: dict[str, JitFunction] = {}
    for fn in funcs:
        decs = _decorators(fn, aliases)
        if _is_jit(decs):
            line = fn.decorator_list[0].lineno if fn.decorator_list else fn.lineno
            jit[fn.name] = JitFunction(fn.name, fn, _params(fn), decs, path, min(line, fn.lineno))
    hosts: dict[str, HostFunction] = {}
    for fn in funcs:
        if fn.name in jit:
            continue
        launches = _launches(fn, set(jit))
        if launches:
            hosts[fn.name] = HostFunction(fn.name, fn, path, fn.lineno, launches)
    return SourceModule(path, source, tree, aliases, constants, jit, hosts)


def _module_file(importer: Path, dotted: str) -> Path | None:
    """`a.b.c` as a file a/b/c.py under the importer's package directories or the directory holding the
    top-level package (absolute imports of the same package, and relative imports, whose dots are dropped)."""
    parts = dotted.split(".")
    d = importer.parent
    while True:
        f = d.joinpath(*parts).with_suffix(".py")
        if f.is_file():
            return f
        if not (d / "__init__.py").is_file() or d.parent == d:
            return None
        d = d.parent


_CACHE: dict[str, SourceModule] = {}


def load_module_cached(path: str) -> SourceModule:
    """load_module, read once per process (helpers imported from another file)."""
    if path not in _CACHE:
        _CACHE[path] = load_module(path)
    return _CACHE[path]


def load_module(path: str | Path) -> SourceModule:
    p = Path(path)
    try:
        source = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("no such file", str(path), 0) from None
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read: {e}", str(path), 0) from None
    return parse_source(source, str(path))
