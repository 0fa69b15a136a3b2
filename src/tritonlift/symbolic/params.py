"""Classify kernel parameters without running anything: pointers, integer scalars, real scalars."""

from __future__ import annotations

import ast
import re

from tritonlift.frontend.source import JitFunction, SourceModule, qualname
from tritonlift.ir.expr import Kind
from tritonlift.symbolic.tl_table import tl_function

_POINTER_FUNCS = ("load", "store", "atomic_add", "atomic_max", "atomic_min", "atomic_xchg", "atomic_cas",
                  "make_block_ptr")
# a parameter the body never reads has no context: its name decides (it can still appear in a --expect formula)
_INT_NAME = re.compile(r"(^|_)(stride|n|num|size|len|numel|rows?|cols?|dim|[MNK])(_|$|s$)|stride", re.IGNORECASE)
_INT_ARG_FUNCS = ("arange", "cdiv", "program_id", "full", "zeros", "multiple_of")


def _additive_names(node: ast.expr) -> set[str]:
    """Names that appear as top-level summands (the pointer base in `x_ptr + offs`)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        return _additive_names(node.left) | (_additive_names(node.right) if isinstance(node.op, ast.Add) else set())
    if isinstance(node, ast.Name):
        return {node.id}
    if isinstance(node, ast.Subscript):
        return _additive_names(node.value)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "to":
        return set()
    return set()


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _annotated_kind(annotation: str) -> Kind | None:
    """The kind a scalar parameter's dtype annotation (`tl.int64`, `tl.float32`, ...) declares."""
    name = annotation.rsplit(".", 1)[-1]
    if name in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        return Kind.INT
    if name in ("float16", "bfloat16", "float32", "float64"):
        return Kind.REAL
    return None


def classify(module: SourceModule, fn: JitFunction, depth: int = 0) -> tuple[list[str], dict[str, Kind]]:
    """(pointer params, scalar kinds): pointers are additive bases of load/store addresses, here or in the
    @triton.jit helpers the function passes them to (followed a few calls deep)."""
    assigns: dict[str, list[ast.expr]] = {}
    for node in ast.walk(fn.node):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        assigns.setdefault(n.id, []).append(node.value)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) and node.value:
            assigns.setdefault(node.target.id, []).append(node.value)
    ptr_exprs: list[ast.expr] = []
    int_exprs: list[ast.expr] = []
    for node in ast.walk(fn.node):
        if not isinstance(node, ast.Call):
            continue
        name = tl_function(qualname(node.func, module.aliases) or "")
        first = node.args[0] if node.args else next(
            (kw.value for kw in node.keywords if kw.arg in ("pointer", "base")), None)
        if name in _POINTER_FUNCS and first is not None:
            ptr_exprs.append(first)
            int_exprs.append(first)
            for kw in node.keywords:
                if kw.arg == "mask":
                    int_exprs.append(kw.value)
            if name == "load" and len(node.args) > 1:
                int_exprs.append(node.args[1])
            if name == "store" and len(node.args) > 2:
                int_exprs.append(node.args[2])
            if name == "make_block_ptr":  # shape, strides, offsets, block_shape: integers
                int_exprs.extend([*node.args[1:], *(kw.value for kw in node.keywords)])
        elif name == "advance":
            int_exprs.extend(node.args[1:])
        elif name in _INT_ARG_FUNCS or (isinstance(node.func, ast.Name) and node.func.id == "range"):
            int_exprs.extend(node.args)
    for node in ast.walk(fn.node):
        if isinstance(node, ast.For):
            int_exprs.append(node.iter)
    # arguments passed to a helper's pointer (integer) parameters: pointer (integer) expressions here too
    for node in ast.walk(fn.node):
        callee = module.jit.get(node.func.id) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) else None
        if callee is None or callee is fn or depth >= 4:
            continue
        sub_ptrs, sub_kinds = classify(module, callee, depth + 1)
        bound = dict(zip((q.name for q in callee.params), node.args, strict=False))
        bound |= {kw.arg: kw.value for kw in node.keywords if kw.arg}
        for name, arg in bound.items():
            if name in sub_ptrs:
                ptr_exprs.append(arg)
                int_exprs.append(arg)
            elif sub_kinds.get(name) is Kind.INT:
                int_exprs.append(arg)
    # pointers: additive bases of pointer expressions, followed through local assignments
    pointers: set[str] = set()
    todo = [n for e in ptr_exprs for n in _additive_names(e)]
    seen: set[str] = set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        pointers.add(n)
        for rhs in assigns.get(n, []):
            todo.extend(_additive_names(rhs))
    # integer context: everything flowing into addresses, masks, ranges and aranges
    ints: set[str] = set()
    todo = [n for e in int_exprs for n in _names(e)]
    seen = set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        ints.add(n)
        for rhs in assigns.get(n, []):
            todo.extend(_names(rhs))
    params = [p.name for p in fn.params]
    constexprs = {p.name for p in fn.params if p.constexpr}  # a constexpr is never a pointer (`start += BLOCK`)
    pointers -= constexprs
    ptrs = [p for p in params if p in pointers]
    kinds: dict[str, Kind] = {}
    used = _names(ast.Module(body=fn.node.body, type_ignores=[]))
    for p in fn.params:
        if p.name in pointers:
            continue
        declared = _annotated_kind(p.annotation)
        if declared is not None:  # `n: tl.int64`, `eps: tl.float32`: the launch converts the argument
            kinds[p.name] = declared
            continue
        unused_int = p.name not in used and _INT_NAME.search(p.name) is not None
        kinds[p.name] = Kind.INT if (p.name in ints or p.constexpr or unused_int) else Kind.REAL
    return ptrs, kinds


def grid_rank(module: SourceModule, fn: JitFunction) -> int:
    axes = [0]
    for node in ast.walk(fn.node):
        if isinstance(node, ast.Call) and tl_function(qualname(node.func, module.aliases) or "") in (
            "program_id", "num_programs",
        ):
            a = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "axis"), None)
            if isinstance(a, ast.Constant) and isinstance(a.value, int):
                axes.append(a.value)
    # helpers called from the kernel may read program ids too
    for node in ast.walk(fn.node):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in module.jit:
            callee = module.jit[node.func.id]
            if callee is not fn:
                axes.append(grid_rank(module, callee) - 1)
    return max(axes) + 1
