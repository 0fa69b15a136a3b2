"""The spec of a kernel launch: every guarded write it performs, for all program ids and lanes at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from tritonlift.ir.expr import Expr, Kind, Op


@dataclass(frozen=True)
class Store:
    """For every program id in the grid and lane in `shape` with `mask` true: mem[base][offset] := value.

    With `combine` (an atomic update, symbolic/atomics.py): mem[base][offset] := mem[base][offset] combine
    value, for every program id and lane at once, in some order; `combine` is Op.SUM (tl.atomic_add),
    Op.RMAX (tl.atomic_max) or Op.RMIN (tl.atomic_min), whose result does not depend on that order."""

    base: str
    offset: Expr  # INT expr over _pid*, _l*, symbols
    value: Expr
    mask: Expr
    shape: tuple[Expr, ...]
    line: int
    combine: Op | None = None  # None: a plain store; else the atomic update's reduction (symbolic/atomics.py)
    # 0: the store of a single launch; k >= 1: of the k-th of several launches writing one output, merged into
    # one spec by synth/split.py (a later launch's write wins: a refutation must not be overwritten later)
    launch: int = 0

    @property
    def atomic(self) -> bool:
        return self.combine is not None


@dataclass
class KernelSpec:
    name: str
    file: str
    line: int
    pointers: list[str]  # pointer parameters (tensors)
    scalars: dict[str, Kind]  # scalar parameters and their kinds (constexprs left symbolic included)
    grid: tuple[Expr, ...]  # program-id extents (IR exprs)
    stores: list[Store]
    facts: list[Expr] = field(default_factory=list)  # preconditions: block sizes >= 1, sizes >= 0, ...
    symbols: dict[str, Kind] = field(default_factory=dict)  # every free symbol and its kind
    notes: list[str] = field(default_factory=list)  # modelling choices the proof relies on (become assumptions)
    # loop invariants instantiated: "loop at line N: acc by accumulate-sum" (patterns proved in verify.patterns)
    invariants: list[str] = field(default_factory=list)
    # trip counts of the loops that store (symbolic trip count): loop n's iteration is the index variable
    # `_pid{len(grid) + n}`, like a program id; its range 0 <= t < trips is in the masks of its stores
    loops: list[Expr] = field(default_factory=list)
    # side conditions of invariant-pattern instantiations: (hypothesis, goal, what), proved by the verifier
    side: list[tuple[Expr, Expr, str]] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)  # preconditions the proof uses (heuristics chosen values)

    @property
    def axes(self) -> tuple[Expr, ...]:
        """The extents of every program-id-like index: the launch grid, then the storing loops."""
        return (*self.grid, *self.loops)
