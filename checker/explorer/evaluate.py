"""Evaluating a model's properties on the states and steps a strategy visits, the same way for
every strategy, and recording the first witness of each violation key."""

from __future__ import annotations

from array import array
from typing import Any

from .exploration import Exploration, Finding, LivenessData
from .model import Property, Violation


class Evaluator:
    """Evaluates ``props`` for one exploration ``ex`` of ``model``."""

    def __init__(self, model: Any, ex: Exploration, props: list[Property],
                 liveness: bool = True) -> None:
        self.model = model
        self.ex = ex
        self.always = [p for p in props if p.always is not None and p.when is None]
        # checks restricted by the same condition share one evaluation of it per state
        groups: dict[int, tuple[Any, list[Property]]] = {}
        for p in props:
            if p.always is not None and p.when is not None:
                groups.setdefault(id(p.when), (p.when, []))[1].append(p)
        self.when = list(groups.values())
        self.trans = [p for p in props if p.transition is not None]
        # steps whose transition checks ran since the last flush (each check counts every
        # step: added to the evaluation counts in bulk by flush)
        self.steps = 0
        # a step's kinds (the model's step_kinds), when some transition check declares which
        # kinds it can fire on: the others are skipped without a call
        kinds = getattr(model, "step_kinds", None)
        self.step_kinds = kinds if kinds is not None and any(
            p.triggers is not None for p in self.trans) else None
        # per set of kinds a step has, the transition checks that can fire on it (in order)
        self._checks_for: dict[Any, tuple[Property, ...]] = {}
        self.live = [p for p in props if p.recoverable is not None] if liveness else []
        self.locate = getattr(model, "locate", None)
        # a parallel worker's evaluation order (see .partition); None: the order of the calls
        self.order: tuple[int, int, int] | None = None
        self.first: dict[tuple[str, str, str], tuple[int, int, int]] = {}
        for p in self.live:
            ex.liveness.setdefault(p.name, LivenessData())

    def record(self, prop: str, kind: str, violations: list[Violation], state: int,
               action: int | None, depth: int, at: Any = None) -> None:
        """Note each violation: the first witness of its identity, and how often it was
        seen. ``at`` is the state it is about. With an ``order`` set (a parallel worker, which
        evaluates out of the sequential order), the witness of the smallest order wins."""
        findings = self.ex.findings
        locate = self.locate
        order = self.order
        for v in violations:
            key, msg = v[0], v[1]
            subject = v[2] if len(v) > 2 else None
            where = locate(at, subject) if locate is not None else ""
            k = (prop, key, where)
            f = findings.get(k)
            if f is None:
                findings[k] = Finding(prop, key, msg, state, action, depth, kind, 1, where,
                                      subject)
                if order is not None:
                    self.first[k] = order
            else:
                f.count += 1
                if order is not None and order < self.first[k]:
                    self.first[k] = order
                    f.message, f.state, f.action, f.depth, f.kind, f.subject = (
                        msg, state, action, depth, kind, subject)

    def on_state(self, state: Any, idx: int, depth: int) -> None:
        """A newly reached state: its always checks, and its liveness goodness."""
        model = self.model
        ev = self.ex.evaluations
        for p in self.always:
            ev[p.name] += 1
            v = p.always(model, state)  # type: ignore[misc]
            if v:
                self.record(p.name, "always", v, idx, None, depth, state)
        for cond, group in self.when:
            if cond(model, state):
                for p in group:
                    ev[p.name] += 1
                    v = p.always(model, state)  # type: ignore[misc]
                    if v:
                        self.record(p.name, "always", v, idx, None, depth, state)
        for p in self.live:
            data = self.ex.liveness[p.name]
            data.good.append(1 if p.recoverable.good(model, state) else 0)  # type: ignore[union-attr]

    def on_step(self, before: Any, step: Any, src: int, action_id: int, depth: int) -> None:
        """A step taken from ``before`` (index ``src``, at ``depth``)."""
        model = self.model
        self.steps += 1
        checks: Any = self.trans
        if self.step_kinds is not None:
            kinds = self.step_kinds(step)
            try:
                checks = self._checks_for[kinds]
            except TypeError:  # a model's kinds that do not hash: filter them here
                checks = self._checks(kinds)
            except KeyError:
                checks = self._checks_for[kinds] = self._checks(kinds)
        for p in checks:
            v = p.transition(model, before, step)
            if v:
                self.record(p.name, "transition", v, src, action_id, depth + 1, step.state)

    def _checks(self, kinds: Any) -> tuple[Property, ...]:
        """The transition checks that can fire on a step of these kinds: the others declare
        triggers none of which is among them."""
        return tuple(p for p in self.trans
                     if p.triggers is None or not p.triggers.isdisjoint(kinds))

    def flush(self) -> None:
        """Add the steps checked since the last flush to each transition check's evaluation
        count (the search flushes before anything reads the counts: its end, a checkpoint, a
        worker's final report)."""
        if self.steps:
            ev = self.ex.evaluations
            for p in self.trans:
                ev[p.name] += self.steps
            self.steps = 0

    def on_expanded(self, state: Any, idx: int, has_own: bool) -> None:
        """After every action of ``state`` was taken: name it for liveness in case it is
        stuck."""
        if not self.live:
            return
        model = self.model
        for p in self.live:
            data = self.ex.liveness[p.name]
            key = p.recoverable.stuck_key(model, state, has_own)  # type: ignore[union-attr]
            kid = -1
            if key is not None:
                kid = data.key_ids.get(key, -1)
                if kid < 0:
                    kid = data.key_ids[key] = len(data.keys)
                    data.keys.append(key)
            if len(data.key) <= idx:
                data.key.extend(array("i", [-1]) * (idx + 1 - len(data.key)))
            data.key[idx] = kid


__all__ = ["Evaluator"]
