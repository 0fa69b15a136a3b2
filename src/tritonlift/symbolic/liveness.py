"""Which names a loop body reads before it writes them: the loop-carried ones.

A name the body assigns on every path before any read (`mask = offs < N` at the top of the body, though
`mask` was also set before the loop) is dead at the loop's entry: each iteration computes it afresh, so
it is not loop-carried and needs no invariant pattern. The analysis is conservative: a read anywhere in a
statement that comes before a definite assignment (including a nested loop's body, or one branch of an
`if`) makes the name live.
"""

from __future__ import annotations

import ast


def _reads(node: ast.AST, name: str) -> bool:
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for n in ast.walk(node)
    )


def _binds(target: ast.expr, name: str) -> bool:
    """The assignment target binds `name` itself (a plain name, or inside a tuple/list target)."""
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_binds(t, name) for t in target.elts)
    return False


def live_at_entry(body: list[ast.stmt], name: str) -> bool:
    """Whether some path through `body` may read `name` before assigning it."""
    return _live(body, name) is True


def _live(body: list[ast.stmt], name: str) -> bool | None:
    """True: may be read before written; False: definitely written first; None: neither (not mentioned)."""
    for st in body:
        match st:
            case ast.Assign(targets=targets, value=value):
                if _reads(value, name) or any(_reads(t, name) for t in targets):
                    return True
                if any(_binds(t, name) for t in targets):
                    return False
            case ast.AnnAssign(target=target, value=value):
                if (value is not None and _reads(value, name)) or _reads(target, name):
                    return True
                if value is not None and _binds(target, name):
                    return False
            case ast.AugAssign(target=target):
                if _binds(target, name) or _reads(st, name):
                    return True
            case ast.If(test=test, body=then, orelse=other):
                if _reads(test, name):
                    return True
                a, b = _live(then, name), _live(other, name)
                if a is True or b is True:
                    return True
                if a is False and b is False:
                    return False
            case _:
                if _reads(st, name):
                    return True
    return None
