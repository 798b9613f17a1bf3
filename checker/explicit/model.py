"""The Nova engine as a model for the generic explorer.

The model's states are the engine's worlds, its actions the engine's typed actions, its steps
the engine's step results (the properties' transition checks read their events), its own steps
those Nova takes by itself, and its properties Nova's (:mod:`.properties`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nova_resize.engine.actions import Action
from nova_resize.engine.core import Engine, StepResult
from nova_resize.engine.symmetry import FINGERPRINT_MASK, HostSymmetry, world_fingerprint
from nova_resize.engine.world import World

from ..explorer.model import Property
from ..explorer.stable import stable_hash
from .properties import PROPERTIES, Context
from .properties.where import projection
from .reduction import PartialOrder


class NovaModel(Context):
    """The explorer's view of an :class:`Engine`."""

    def __init__(self, engine: Engine, properties: Sequence[Property] = PROPERTIES,
                 symmetry: bool = True, por: bool = False) -> None:
        super().__init__(engine)
        self.name = engine.config.name
        self._properties = tuple(properties)
        self.symmetry = HostSymmetry(engine.config, engine.initial(), engine.tables.fifo)
        self._interned: dict[Any, Any] = {}
        # the ids of the objects in that table: they live as long as it does, so an id found
        # here is that very object's, and the parts a step left alone are found by id alone
        self._interned_ids: set[int] = set()
        self._symmetric = symmetry and self.symmetry.active
        # one world per orbit of interchangeable hosts (engine/symmetry.py)
        # called on every step: the engine's own functions, without a method of this class
        # in between (compiled, they run without an interpreted frame)
        self.fingerprint: Callable[[World], int] = (
            self.symmetry.orbit_fingerprint if self._symmetric else world_fingerprint)
        self.step = engine.explore_step  # type: ignore[assignment]  # the method, bound
        self.is_own: Callable[[World, Action], bool] = engine.is_own_step
        # partial-order reduction (reduction.py): a handler's local step alone where one is
        # enabled
        self.reduction = PartialOrder(engine) if por else None
        if self.reduction is not None:
            self.actions = self.reduction.actions  # type: ignore[method-assign,assignment]
        self.step_kinds: Callable[[StepResult], frozenset[str]] = StepResult.kinds

    # Fingerprints are 60 bits wide (engine/symmetry.py). Two of a million states share one
    # with a probability of about 1e-6 (TLC's 64-bit fingerprints: 3e-8).

    def world_fingerprint(self, w: World) -> int:
        """A world's fingerprint: Python's hash, 60 bits of it."""
        return world_fingerprint(w)

    def orbit_fingerprint(self, w: World) -> int:
        """The fingerprint of a world's orbit under host symmetry, 60 bits of it."""
        return self.symmetry.orbit_fingerprint(w)

    def stable_fingerprint(self, w: World) -> int:
        """The fingerprint, equal in every process (for workers that are not forked: see
        :mod:`~nova_resize.checker.explorer.stable`)."""
        if self._symmetric:
            return self.symmetry.fingerprint(w, stable_hash) & FINGERPRINT_MASK
        return stable_hash(w) & FINGERPRINT_MASK

    def init_states(self) -> list[World]:
        return [self.engine.initial()]

    def actions(self, state: World) -> list[Action]:
        return self.engine.enabled(state)

    def step(self, state: World, action: Action) -> StepResult | None:
        """The engine's step (:meth:`Engine.explore_step`; an instance runs that directly). A
        request nova-api turns down (a refusal, or an error before anything changed) comes
        back to ``state`` itself: a self-loop, counted, its rows covered and its answer seen
        by the properties, with no new state (a user's request is never Nova's own step, so
        liveness is not fooled by it). Any other step that changes nothing is None."""
        return self.engine.explore_step(state, action)

    def intern(self, w: World) -> World:
        """An equal world whose records (and the tuples of them) are the ones seen before. A
        parallel worker interns every state it keeps: one received from another process gets
        its sharing back, and one it reached itself shares what siblings reached by other paths
        have in common (less memory where the frontier is most of it, and cheaper copies and
        hashes of the parts steps leave alone). A part already in the table is known by its id,
        without hashing it."""
        ids = self._interned_ids
        parts: list[Any] = []
        same = True
        for x in w:
            if id(x) not in ids:
                x2 = self._intern_part(x)
                same = same and x2 is x
                x = x2
            parts.append(x)
        return w if same else World(*parts)

    def _intern_part(self, x: Any) -> Any:
        ids = self._interned_ids
        get = self._interned.setdefault
        if type(x) is tuple:
            rs = []
            for r in x:
                if id(r) not in ids:
                    r = get(r, r)
                    ids.add(id(r))
                rs.append(r)
            x = tuple(rs)
        x = get(x, x)
        ids.add(id(x))
        return x


    def format_action(self, state: World, action: Action) -> str:
        return self.engine.describe(state, action)

    def properties(self) -> tuple[Property, ...]:
        return self._properties

    def locate(self, state: World, subject: str | None) -> str:
        """Where a violation happened: its instance's vm_state/task_state, latest migration
        status and where instance.host stands to that migration -- or every live instance's
        when it names none."""
        insts = [i for i in state.instances if subject is None or i.name == subject]
        if subject is None:
            insts = [i for i in insts if not i.deleted]
        return "; ".join(sorted(projection(state, i) for i in insts))

    def cause(self, actions: Sequence[Action], subject: str | None) -> str:
        """The row that caused a violation seen at the end of ``actions``: the last row on the
        trace that wrote the subject's instance or one of its migrations (any instance's, when
        the violation names none); else the last step's last row."""
        eng = self.engine
        w = eng.initial()
        last = "initial state"
        writer = ""
        for a in actions:
            res = eng.step(w, a)
            for ev in res.events:
                if ev.kind not in ("instance_write", "migration_write") or not ev.row:
                    continue
                obj = ev.data[1] if ev.data[1] is not None else ev.data[0]
                name = getattr(obj, "name", None) if ev.kind == "instance_write" else \
                    getattr(obj, "instance", None)
                if subject is None or name == subject:
                    writer = ev.row
            rows = [r for r in res.rows if not r.startswith("rpc.")] or res.rows
            if rows:
                last = rows[-1]
            w = res.world
        return writer or last


__all__ = ["NovaModel"]
