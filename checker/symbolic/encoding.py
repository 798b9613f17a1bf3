"""What the z3 proofs share: the encoding of the tables' conditions as formulas, the outcome of
a proof, and facts about the tables they all need.

A reference is a z3 String (None, True and False as marker strings) or, when it is used as a
number, an Int with a None flag. ``decide`` turns a solver's answer into an outcome, keeping
z3's ``unknown`` (a timeout, an incomplete theory) apart: it is never a proof.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import z3
from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.query import EXPRESSIONS, guarded, instance_writes, served_by

NONE = "<None>"
TRUE = "<True>"
FALSE = "<False>"
INT_ATTRS = ("vcpus", "memory_mb", "root_gb", "id")
INT_REFS = ("local.attempts", "config.scheduler_max_attempts", "config.resize_confirm_window",
            "instance.power_state", "db.instance.power_state",
            "self.init_pending")


TIMEOUT_MS = 5000
"""How long z3 may take on one query before it answers ``unknown`` (milliseconds)."""


def new_solver() -> Any:
    """A z3 solver with the proofs' timeout (tests replace this to force ``unknown``)."""
    s = z3.Solver()
    s.set("timeout", TIMEOUT_MS)
    return s


def decide(s: Any) -> str:
    """The solver's answer to its assertions: ``sat``, ``unsat`` or ``unknown`` (a timeout or
    an incomplete theory; never to be read as either of the others)."""
    r = s.check()
    if r == z3.sat:
        return "sat"
    if r == z3.unsat:
        return "unsat"
    return "unknown"


def why_unknown(s: Any) -> str:
    """z3's reason for an ``unknown`` answer."""
    try:
        return str(s.reason_unknown()) or "no reason given"
    except z3.Z3Exception:
        return "no reason given"


@dataclass
class Result:
    group: str
    name: str
    status: str  # proved | refuted | unknown
    detail: str = ""
    seconds: float = 0.0


def const(v: Any) -> Any:
    if v is None:
        return NONE
    if v is True:
        return TRUE
    if v is False:
        return FALSE
    return v


class Encoder:
    """Conditions as z3 formulas. A reference is a String (None, True and False as marker
    strings) or, when it is used as a number, an Int with a None flag."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.vars: dict[str, Any] = {}
        self.up = z3.Function("up", z3.StringSort(), z3.BoolSort())
        self.fits = z3.Function("fits", z3.StringSort(), z3.StringSort(), z3.BoolSort())
        self.unknown = z3.Function("unknown_flavor", z3.StringSort(), z3.BoolSort())

    @staticmethod
    def is_int(path: str) -> bool:
        return path in INT_REFS or path.split(".")[-1] in INT_ATTRS

    def var(self, path: str) -> Any:
        v = self.vars.get(path)
        if v is None:
            if self.is_int(path):
                v = (z3.Int(path), z3.Bool(path + "#none"))
            else:
                v = z3.String(path)
            self.vars[path] = v
        return v

    def domain(self) -> list[Any]:
        """What the references can be: the enumerations the spec defines."""
        out = []
        enums = {
            "instance.vm_state": self.spec.vm_states,
            "instance.task_state": self.spec.task_states,
            "db.instance.task_state": self.spec.task_states,
            "migration.status": self.spec.migration_statuses,
            "db.migration.status": self.spec.migration_statuses,
        }
        for path, values in enums.items():
            if path in self.vars:
                out.append(z3.Or([self.vars[path] == z3.StringVal(const(x)) for x in values]))
        return out

    def truthy(self, path: str) -> Any:
        v = self.var(path)
        if isinstance(v, tuple):
            x, none = v
            return z3.And(z3.Not(none), x != 0)
        return z3.And(v != z3.StringVal(NONE), v != z3.StringVal(FALSE), v != z3.StringVal(""))

    def value(self, v: Any, as_int: bool) -> Any:
        if isinstance(v, m.Ref):
            return self.var(v.path)
        if as_int:
            if v is None:
                return None
            return z3.IntVal(int(v))
        return z3.StringVal(const(v))

    def cond(self, c: m.Cond) -> Any:
        op = c.op
        if op == "truthy":
            return self.truthy(c.ref)
        if op == "falsy":
            return z3.Not(self.truthy(c.ref))
        if op == "up":
            return self.up(self.var(c.ref))
        if op == "down":
            return z3.Not(self.up(self.var(c.ref)))
        if op == "unknown_flavor":
            return self.unknown(self.var(c.ref))
        if op == "fits":
            rhs = self.var(c.value.path) if isinstance(c.value, m.Ref) else z3.StringVal(
                str(c.value))
            return self.fits(self.var(c.ref), rhs)
        lhs = self.var(c.ref)
        if isinstance(lhs, tuple):
            x, none = lhs
            if op in ("in", "not in"):
                alts = [none if v is None else z3.And(z3.Not(none), x == int(v))
                        for v in c.value]
                f = z3.Or(alts) if alts else z3.BoolVal(False)
                return f if op == "in" else z3.Not(f)
            rhs = self.value(c.value, True)
            if rhs is None:
                return none if op == "==" else z3.Not(none)
            if isinstance(rhs, tuple):
                y, ynone = rhs
                both = z3.And(z3.Not(none), z3.Not(ynone))
            else:
                y, both = rhs, z3.Not(none)
            rel = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y,
                   ">=": x >= y}[op]
            if op == "!=":
                return z3.Or(z3.Not(both), rel)
            return z3.And(both, rel)
        if op in ("in", "not in"):
            f = z3.Or([lhs == z3.StringVal(const(v)) for v in c.value]) if c.value else \
                z3.BoolVal(False)
            return f if op == "in" else z3.Not(f)
        rhs = self.value(c.value, False)
        if op == "==":
            return lhs == rhs
        if op == "!=":
            return lhs != rhs
        raise ValueError(f"cannot encode {c}")

    def when(self, conds: Iterable[m.Cond]) -> Any:
        return z3.And([self.cond(c) for c in conds]) if conds else z3.BoolVal(True)


def model_text(model: Any, enc: Encoder) -> str:
    parts = []
    for path, v in sorted(enc.vars.items()):
        if isinstance(v, tuple):
            x, none = v
            if model.eval(none, model_completion=True):
                parts.append(f"{path}=None")
            else:
                parts.append(f"{path}={model.eval(x, model_completion=True)}")
        else:
            parts.append(f"{path}={model.eval(v, model_completion=True)}")
    return ", ".join(parts)


def dirty_tasks_by_error_handler(spec: Spec) -> dict[str, set[str]]:
    """For each error handler, the task_state values a failed guarded save of a handler it
    serves can leave dirty (the error save then writes them)."""
    out: dict[str, set[str]] = {}
    for err, handlers in served_by(spec).items():
        vals: set[str] = set()
        for r in spec.rows:
            if r.handler in handlers and guarded(r):
                vals.update(const(v) for v in instance_writes(r, "task_state")
                            if not isinstance(v, m.Ref))
        out[err] = vals
    return out


def show(v: Any) -> str:
    text = str(v).strip('"')
    return "None" if text == NONE else text


def assigned(new: Any, old: Any, writes: list[Any], universe: Iterable[Any],
            dirty: list[Any], carry: bool) -> Any:
    if writes:
        last = writes[-1]
        if isinstance(last, EXPRESSIONS):
            return z3.Or([new == z3.StringVal(const(x)) for x in universe])
        return new == z3.StringVal(const(last))
    alts = [new == old]
    if carry:
        alts += [new == z3.StringVal(d) for d in dirty]
    return z3.Or(alts)


__all__ = [
    "FALSE",
    "NONE",
    "TIMEOUT_MS",
    "TRUE",
    "Encoder",
    "Result",
    "assigned",
    "const",
    "decide",
    "dirty_tasks_by_error_handler",
    "model_text",
    "new_solver",
    "show",
    "why_unknown",
]
