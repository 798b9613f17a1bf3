"""Unrolling the transition relation k steps, and the cross-check of its reachable
(vm_state, task_state, migration status) combinations against the explicit explorer's."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import z3
from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.spec import LIBERTY, Spec

from .atoms import WIDTH, Projection
from .encoding import Encoding


class Unrolling:
    """``init(s0) /\\ T(s0, s1) /\\ ... /\\ T(sk-1, sk)``, one step at a time, with stuttering so
    that the last step's projections are those reachable within k steps."""

    def __init__(self, enc: Encoding) -> None:
        self.enc = enc
        self.solver = z3.SolverFor("QF_BV", ctx=enc.ctx)
        self.states = [enc.variables(0)]
        self.solver.add(enc.initial(self.states[0]))
        self.stutter = len(enc.actions)
        self._template: tuple[dict[str, Any], dict[str, Any], Any, Any] | None = None
        self.unknown: str | None = None  # z3's reason when a query of the last depth was unknown

    def _relation(self, s: dict[str, Any], s2: dict[str, Any], sel: Any) -> list[Any]:
        """T(s, s2), the action chosen by ``sel``."""
        enc = self.enc
        guards = []
        nxt: dict[str, list[tuple[Any, Any]]] = {}
        for i, (kind, detail) in enumerate(enc.actions):
            paths = enc._apply(s, kind, detail)
            if not paths:
                continue
            guards.append(z3.And(sel == i, z3.Or([p.pc for p in paths])))
            names = set().union(*(p.upd for p in paths))
            for n in names:
                val = s[n]
                for p in reversed(paths):
                    if n in p.upd:
                        val = z3.If(p.pc, p.upd[n], val)
                nxt.setdefault(n, []).append((sel == i, val))
        out = [z3.Or(sel == self.stutter, *guards)]
        for n in enc.layout.names:
            val = s[n]
            for c, v in nxt.get(n, []):
                val = z3.If(c, v, val)
            out.append(s2[n] == val)
        return out

    def step(self) -> None:
        """Add T(s_t, s_t+1). The relation is built once, between two generic states, and each
        step renames its variables (z3.substitute): building it costs seconds a step, renaming
        it milliseconds."""
        t = len(self.states) - 1
        s2 = self.enc.variables(t + 1)
        ctx = self.enc.ctx
        if self._template is None:
            a, b = self.enc.variables(-1), self.enc.variables(-2)
            sel = z3.BitVec("sel@-1", WIDTH, ctx=ctx)
            self._template = (a, b, sel, z3.And(self._relation(a, b, sel)))
        a, b, sel, rel = self._template
        pairs = [(a[n], self.states[t][n]) for n in a] + [(b[n], s2[n]) for n in b]
        pairs.append((sel, z3.BitVec(f"sel@{t}", WIDTH, ctx=ctx)))
        self.solver.add(z3.substitute(rel, *pairs))
        self.states.append(s2)

    def projections(self) -> set[Projection]:
        """Every (vm_state, task_state, migration status) of the last state, by enumeration
        with blocking clauses."""
        enc = self.enc
        proj = enc.projection(self.states[-1])
        out: set[Projection] = set()
        self.solver.push()
        try:
            while True:
                verdict = self.solver.check()
                if verdict == z3.unsat:
                    break
                if verdict != z3.sat:  # unknown: the enumeration is incomplete
                    self.unknown = str(self.solver.reason_unknown()) or "no reason given"
                    break
                model = self.solver.model()
                vals = tuple(model.eval(x, model_completion=True).as_long() for x in proj)
                out.add((enc.a.value(vals[0]), enc.a.value(vals[1]), enc.a.value(vals[2])))
                self.solver.add(z3.Or([x != v for x, v in zip(proj, vals, strict=True)]))
        finally:
            self.solver.pop()
        return out

    def overflow(self) -> bool:
        s = self.states[-1]
        self.solver.push()
        self.solver.add(s["overflow"] == self.enc.a(True))
        verdict = self.solver.check()
        if verdict != z3.sat and verdict != z3.unsat:
            self.unknown = str(self.solver.reason_unknown()) or "no reason given"
        self.solver.pop()
        return bool(verdict == z3.sat)


def explicit_projections(config: Config, k: int, spec: Spec = LIBERTY) -> list[set[Projection]]:
    """The explicit-state explorer's side: for each depth d <= k, the combinations reachable
    within d steps (breadth-first over the engine's step function)."""
    eng = Engine(config, spec)
    w0 = eng.initial()
    seen = {w0}
    frontier = [w0]

    def proj(w: Any) -> Projection:
        i = w.instances[0]
        return (i.vm_state, i.task_state, w.migrations[-1].status if w.migrations else None)

    out = [{proj(w0)}]
    for _ in range(k):
        nxt = []
        for w in frontier:
            for act in eng.enabled(w):
                w2 = eng.step(w, act).world
                if w2 not in seen:
                    seen.add(w2)
                    nxt.append(w2)
        frontier = nxt
        out.append(out[-1] | {proj(w) for w in nxt})
    return out


@dataclass
class CrossCheck:
    depth: int
    symbolic: set[Projection]
    explicit: set[Projection]
    seconds: float
    overflow: bool = False
    unknown: str | None = None  # z3 answered unknown (its reason): the z3 side is incomplete

    @property
    def agree(self) -> bool:
        return self.symbolic == self.explicit and not self.overflow and self.unknown is None


def iter_cross_check(enc: Encoding, k: int) -> Iterator[CrossCheck]:
    """For each depth 0..k, the z3 side and the explicit side, and whether they agree."""
    explicit = explicit_projections(enc.config, k, enc.spec)
    un = Unrolling(enc)
    for d in range(k + 1):
        t0 = time.monotonic()
        if d:
            un.step()
        un.unknown = None
        sym = un.projections()
        overflow = un.overflow()
        yield CrossCheck(d, sym, explicit[d], time.monotonic() - t0, overflow, un.unknown)


def cross_check(config: Config, k: int, spec: Spec = LIBERTY) -> list[CrossCheck]:
    return list(iter_cross_check(Encoding(config, spec), k))


def format_projection(p: Projection) -> str:
    vm, task, status = p
    return f"({vm}, {task or '-'}, {status or '-'})"

__all__ = [
    "CrossCheck",
    "Unrolling",
    "cross_check",
    "explicit_projections",
    "format_projection",
    "iter_cross_check",
]
