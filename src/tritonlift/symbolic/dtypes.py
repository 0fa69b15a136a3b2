"""Compile-time dispatch on a pointer's element type: `x.dtype.is_fp64()`, `x.dtype.element_ty == tl.float16`,
`x.dtype.primitive_bitwidth`.

Values are reals, so a pointer's element type is normally left open (`elem:x`, "a floating type of unknown
width"). A kernel that asks which floating type it is compiles one branch per type. The evaluator then raises
`ElementTypeNeeded`, and `per_element_type` evaluates the kernel again once for each floating element type
(fp16, bf16, fp32, fp64) of that pointer: a proof for every dtype when all of them compute the same values,
else the values of the fp32 variant (or of the largest group) with an assumption naming the element types
that result covers. Integer element types stay outside the real-number model, as everywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from tritonlift.errors import Unsupported

FLOAT_ELEMENT_TYPES = ("fp16", "bf16", "fp32", "fp64")
BITWIDTH = {
    "fp16": 16,
    "bf16": 16,
    "fp32": 32,
    "fp64": 64,
    "fp8e4nv": 8,
    "fp8e5": 8,
    "int1": 1,
    "int8": 8,
    "int16": 16,
    "int32": 32,
    "int64": 64,
    "uint8": 8,
    "uint16": 16,
    "uint32": 32,
    "uint64": 64,
}
MAX_VARIANTS = 16  # element-type combinations evaluated at most (two pointers asked about: 4 x 4)

T = TypeVar("T")


class ElementTypeNeeded(Unsupported):
    """The evaluation asked which floating type the elements of pointer `param` have."""

    def __init__(self, param: str, question: str, file: str, line: int):
        super().__init__(f"{question} on the element type of {param}: its width is not known", file, line)
        self.param = param
        self.question = question


@dataclass(frozen=True)
class Variant(Generic[T]):
    choice: tuple[tuple[str, str], ...]  # (pointer, element type), sorted by pointer
    value: T
    asked: tuple[str, ...]  # what the kernel asked, e.g. ".is_fp64() at line 20"


def per_element_type(run: Callable[[dict[str, str]], T]) -> list[Variant[T]]:
    """`run({})`; whenever it asks for the element type of a pointer not yet chosen, each floating element type
    of that pointer is tried. Every variant that completes is returned (an unrelated failure propagates)."""
    done: list[Variant[T]] = []
    todo: list[tuple[dict[str, str], tuple[str, ...]]] = [({}, ())]
    while todo:
        choice, asked = todo.pop(0)
        try:
            value = run(choice)
        except ElementTypeNeeded as e:
            if e.param in choice:  # the evaluator must answer for a chosen pointer: a bug, not a question
                raise
            if len(done) + len(todo) + len(FLOAT_ELEMENT_TYPES) > MAX_VARIANTS:
                raise Unsupported(
                    f"{e.question} on the element type of {e.param}: more than {MAX_VARIANTS} element-type "
                    "combinations to evaluate",
                    e.file,
                    e.line,
                ) from None
            where = f"{e.question} at line {e.line}"
            todo += [({**choice, e.param: t}, (*asked, where)) for t in FLOAT_ELEMENT_TYPES]
            continue
        done.append(Variant(tuple(sorted(choice.items())), value, asked))
    return done


def choose(variants: list[Variant[T]], key: Callable[[T], Hashable]) -> tuple[T, list[str]]:
    """One value for every variant when their keys agree (the values computed do not depend on the element
    type), else the fp32 variant's group (or the largest), with the assumption that restricts the result to
    the element types of that group."""
    first = variants[0]
    if len(variants) == 1 and not first.choice:
        return first.value, []
    groups: dict[Hashable, list[Variant[T]]] = {}
    for v in variants:
        groups.setdefault(key(v.value), []).append(v)
    asked = sorted({a for v in variants for a in v.asked})
    pointers = sorted({p for v in variants for p, _ in v.choice})
    why = f"the kernel tests the element type of {', '.join(pointers)} ({'; '.join(asked)})"
    if len(groups) == 1:
        return first.value, [
            f"{why}: evaluated for each floating element type ({', '.join(FLOAT_ELEMENT_TYPES)}), "
            "it computes the same values for every one"
        ]
    fp32 = [g for g in groups.values() if any(all(t == "fp32" for _, t in v.choice) for v in g)]
    group = fp32[0] if fp32 else max(groups.values(), key=len)
    covered = ", ".join(_choice_text(v.choice) for v in group)
    others = ", ".join(_choice_text(v.choice) for v in variants if v not in group)
    return group[0].value, [
        f"{why}: this result holds for {covered} only; the kernel computes other values for "
        f"{others} (not covered)"
    ]


def spec_key(spec: object) -> Hashable:
    """What a kernel computes: its stores (address, value, mask), storing loops and side conditions."""
    return (tuple(spec.stores), tuple(spec.loops), tuple(spec.side))  # type: ignore[attr-defined]


def evaluate_spec(run: Callable[[dict[str, str]], T]) -> T:
    """A KernelSpec for every element type the kernel tests (per_element_type, choose), the assumption added."""
    value, assumptions = choose(per_element_type(run), spec_key)
    value.notes.extend(assumptions)  # type: ignore[attr-defined]
    return value


def _choice_text(choice: tuple[tuple[str, str], ...]) -> str:
    return " and ".join(f"{p} of {t}" for p, t in choice)
