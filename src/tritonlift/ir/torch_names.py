"""The names a lifted `torch` function reads that nothing binds: a formula still naming a value chosen at
launch (an autotuned constexpr, say) that is not a parameter of the lifted function has no closed form, and
its code would raise NameError when run."""

from __future__ import annotations

import builtins
import dis
import types


def unbound_names(code: str) -> list[str]:
    """Global names the code loads that it neither defines nor imports, and that are not builtins."""
    try:
        compiled = compile(code, "<lifted>", "exec")
    except SyntaxError:
        return []
    loads: set[str] = set()
    defined: set[str] = set()

    def walk(co: types.CodeType) -> None:
        for ins in dis.get_instructions(co):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                loads.add(str(ins.argval))
            elif ins.opname in ("STORE_NAME", "STORE_GLOBAL"):
                defined.add(str(ins.argval))
        for c in co.co_consts:
            if isinstance(c, types.CodeType):
                walk(c)

    walk(compiled)
    return sorted(n for n in loads - defined if not hasattr(builtins, n))


__all__ = ["unbound_names"]
