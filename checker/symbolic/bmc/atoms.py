"""The symbolic interpreter's vocabulary: interned atoms (every value a bit-vector), control
points, the per-step variable layout, and the paths an action forks into."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import z3
from nova_resize.spec import model as m
from nova_resize.spec.query import EXPRESSIONS

from nova_resize.errors import OutsideFragment

INSTANCE_FIELDS = ("vm_state", "task_state", "power_state", "host", "flavor", "old_flavor",
                   "new_flavor", "old_vm_state", "launched", "locked", "deleted", "progress")
FLAVOR_SLOTS = ("flavor", "old_flavor", "new_flavor")
OBJECT_FIELDS = FLAVOR_SLOTS  # instance_extra only: a bare set_flavor is no UPDATE
IN_PLACE_FIELDS = ("old_vm_state",)  # a sysmeta key set to its own value is no change
MIGRATION_FIELDS = ("source_compute", "dest_compute", "old_flavor", "new_flavor", "status",
                    "migration_type")
FLAVOR_ATTRS = ("id", "name", "vcpus", "memory_mb", "root_gb", "disabled")
UNSUPPORTED_FAULTS = ("crash", "lose", "timeout", "claim_refused")
UNSUPPORTED_OPS = ("restore", "delete_flavor")
"""Requests the encoding leaves out: restore's reservation, and a flavor's deletion (the
deleted flavors are not encoded). A soft delete (reclaim_instance_interval) is encoded."""

Projection = tuple[Any, Any, Any]
# Atoms and budgets are bit-vectors: the solver bit-blasts the unrolling (QF_BV), which is much
# faster than linear integer arithmetic on these equalities.
WIDTH = 12


# ---- atoms ------------------------------------------------------------------------------------


class Atoms:
    """Every value (strings, None, booleans, small integers, tuples of hosts) as an integer."""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx
        self.ids: dict[tuple[str, Any], int] = {}
        self.values: list[Any] = []

    def __call__(self, v: Any) -> z3.BitVecNumRef:
        return z3.BitVecVal(self.id(v), WIDTH, ctx=self.ctx)

    def id(self, v: Any) -> int:
        key = (type(v).__name__, v)
        i = self.ids.get(key)
        if i is None:
            i = self.ids[key] = len(self.values)
            self.values.append(v)
        return i

    def value(self, i: int) -> Any:
        return self.values[i]

    def ints(self) -> list[int]:
        return [v for v in self.values if type(v) is int]

    def tuples(self) -> list[tuple[Any, ...]]:
        """The tuples of hosts (ignore_hosts, tried)."""
        return [v for v in self.values if type(v) is tuple and all(type(e) is str for e in v)]


# ---- the symbolic state ---------------------------------------------------------------------


@dataclass(frozen=True)
class CtlKey:
    """A control point as an atom (not a tuple of hosts)."""

    parts: tuple[Any, ...]


@dataclass
class Ctl:
    """A running handler's control point, concrete."""

    handler: str
    label: str
    chain: tuple[str, ...] | None = None
    override: tuple[str, ...] | None = None
    exc: str | None = None
    inner_exc: str | None = None
    ended: bool = False
    refused: bool = False

    def key(self) -> CtlKey:
        return CtlKey((self.handler, self.label, self.chain, self.override, self.exc,
                       self.inner_exc))


@dataclass
class Path:
    """One path through an action: its condition, the variables it changed, its control."""

    pc: Any
    upd: dict[str, Any]
    ctl: Ctl
    slot: str
    choice: str | None = None

    def fork(self, cond: Any) -> Path:
        return Path(z3.And(self.pc, cond), dict(self.upd), Ctl(**vars(self.ctl)), self.slot,
                    self.choice)


class Raised(Exception):
    pass


@dataclass
class Layout:
    """The variables of one step and their values in the initial state."""

    names: list[str] = field(default_factory=list)
    ints: set[str] = field(default_factory=set)  # budgets: numbers, not atoms
    default: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, default: Any, is_int: bool = False) -> None:
        self.names.append(name)
        self.default[name] = default
        if is_int:
            self.ints.add(name)



def eager_row(row: m.Row) -> bool:
    return all(isinstance(e, (m.Set, m.Raise, m.Refuse, m.Goto, m.Lock)) for e in row.effects)


def const_of(x: Any) -> int:
    v = z3.simplify(x)
    if not z3.is_bv_value(v):
        raise OutsideFragment("bmc: an exception raised from a value the encoding cannot fix")
    return int(v.as_long())


def local_refs(*vals: Any) -> set[str]:
    out: set[str] = set()
    for v in vals:
        if isinstance(v, str) and v.startswith("local."):
            out.add(v.split(".")[1])
        elif isinstance(v, EXPRESSIONS):
            out.update(local_refs(getattr(v, "path", None), getattr(v, "value", None),
                                   getattr(v, "then", None), getattr(v, "orelse", None)))
        elif isinstance(v, tuple):
            out.update(local_refs(*v))
    return out



__all__ = [
    "FLAVOR_ATTRS",
    "FLAVOR_SLOTS",
    "INSTANCE_FIELDS",
    "IN_PLACE_FIELDS",
    "MIGRATION_FIELDS",
    "OBJECT_FIELDS",
    "UNSUPPORTED_FAULTS",
    "UNSUPPORTED_OPS",
    "WIDTH",
    "Atoms",
    "Ctl",
    "CtlKey",
    "Layout",
    "OutsideFragment",
    "Path",
    "Projection",
    "Raised",
    "const_of",
    "eager_row",
    "local_refs",
]
