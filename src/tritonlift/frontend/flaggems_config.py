"""FlagGems' heuristics configs, read statically: `@triton.heuristics(runtime.get_heuristic_config("softmax_inner"))`
resolves to the lambdas of `HEURISTICS_CONFIGS["softmax_inner"]` in the installed package's
`flag_gems/runtime/backend/_nvidia/heuristics_config_utils.py` (never imported: it needs a GPU).

Only heuristics whose function is a pure expression of `args` become lambdas: a body that is one `return`, or
an `if`/`elif`/`else` chain of returns (an `IfExp` then), with the module's integer constants substituted.
A heuristic with other statements (device queries, loops) is left out, so its constexpr stays free and a
proof holds for every value it could take.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

BACKEND = "_nvidia"  # FlagGems' default backend: its configs are the fallback of every vendor
HEURISTICS_FILE = Path("runtime") / "backend" / BACKEND / "heuristics_config_utils.py"


def is_config_call(node: ast.expr | None, method: str) -> str | None:
    """The config name of `<anything>.get_heuristic_config("name")` (method given), else None."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == method
        and len(node.args) == 1
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value
    return None


def package_root(kernel_file: str) -> Path | None:
    """The `flag_gems` package directory that holds kernel_file and a backend heuristics file."""
    for d in Path(kernel_file).resolve().parents:
        if (d / HEURISTICS_FILE).is_file():
            return d
    return None


def heuristic_config(kernel_file: str, name: str) -> tuple[dict[str, ast.expr], str] | None:
    """constexpr name -> lambda for `get_heuristic_config(name)` seen from kernel_file, and where it was read;
    None when the package or the config is not found."""
    root = package_root(kernel_file)
    if root is None:
        return None
    configs = _configs(str(root / HEURISTICS_FILE))
    if name not in configs:
        return None
    return configs[name], f"{root.name}/{HEURISTICS_FILE.as_posix()}"


@cache
def _configs(path: str) -> dict[str, dict[str, ast.expr]]:
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    constants: dict[str, ast.expr] = {}
    funcs: dict[str, ast.FunctionDef] = {}
    table: ast.expr | None = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = node
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if target == "HEURISTICS_CONFIGS":
                table = node.value
            elif isinstance(node.value, ast.Constant) and isinstance(node.value.value, (int, float)):
                constants[target] = node.value
    out: dict[str, dict[str, ast.expr]] = {}
    if not isinstance(table, ast.Dict):
        return out
    for key, value in zip(table.keys, table.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(value, ast.Dict)):
            continue
        entry: dict[str, ast.expr] = {}
        for k, v in zip(value.keys, value.values, strict=True):
            if not (isinstance(k, ast.Constant) and isinstance(k.value, str)):
                continue
            lam = v if isinstance(v, ast.Lambda) else None
            if isinstance(v, ast.Name) and v.id in funcs:
                lam = _as_lambda(funcs[v.id])
            if lam is not None:
                entry[k.value] = _Inline(constants).visit(lam)
        out[key.value] = entry
    return out


def unread_heuristics(kernel_file: str, name: str) -> dict[str, str]:
    """constexpr name -> heuristic function name, for the entries of `get_heuristic_config(name)` that are not
    read as lambdas (device queries, loops): the constexprs such a heuristic chooses stay free."""
    root = package_root(kernel_file)
    if root is None:
        return {}
    return dict(_unread(str(root / HEURISTICS_FILE)).get(name, {}))


@cache
def _unread(path: str) -> dict[str, dict[str, str]]:
    read = _configs(path)
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError):
        return {}
    out: dict[str, dict[str, str]] = {}
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                and node.targets[0].id == "HEURISTICS_CONFIGS" and isinstance(node.value, ast.Dict)):
            continue
        for key, value in zip(node.value.keys, node.value.values, strict=True):
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str) and isinstance(value, ast.Dict)):
                continue
            entry = {k.value: ast.unparse(v) for k, v in zip(value.keys, value.values, strict=True)
                     if isinstance(k, ast.Constant) and isinstance(k.value, str)
                     and k.value not in read.get(key.value, {})}
            out[key.value] = entry
    return out


def _as_lambda(fn: ast.FunctionDef) -> ast.Lambda | None:
    """`def f(args): return e` (or an if/else chain of returns) as `lambda args: e`, else None."""
    if len(fn.args.args) != 1 or fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs:
        return None
    body = _returns(fn.body)
    if body is None:
        return None
    lam = ast.Lambda(args=fn.args, body=body)
    return ast.fix_missing_locations(ast.copy_location(lam, fn))


def _returns(stmts: list[ast.stmt]) -> ast.expr | None:
    stmts = [s for s in stmts if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]  # docstring
    if not stmts:
        return None
    head, rest = stmts[0], stmts[1:]
    if isinstance(head, ast.Return) and head.value is not None:
        return head.value
    if isinstance(head, ast.If):
        then = _returns(head.body)
        other = _returns(head.orelse + rest) if head.orelse else _returns(rest)
        if then is not None and other is not None:
            return ast.IfExp(test=head.test, body=then, orelse=other)
    return None


class _Inline(ast.NodeTransformer):
    """Module-level numeric constants (`_MAX_TILE_N_PER_ROW = 4096`) replaced by their values."""

    def __init__(self, constants: dict[str, ast.expr]):
        self.constants = constants

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if isinstance(node.ctx, ast.Load) and node.id in self.constants:
            return ast.copy_location(ast.Constant(self.constants[node.id].value), node)  # type: ignore[attr-defined]
        return node
