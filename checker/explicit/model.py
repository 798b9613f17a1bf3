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
from nova_resize.engine.symmetry import HostSymmetry
from nova_resize.engine.world import Instance, Migration, World

from ..explorer.model import Property
from ..explorer.stable import stable_hash
from .properties import PROPERTIES, Context

FINGERPRINT_MASK = (1 << 60) - 1


class NovaModel(Context):
    """The explorer's view of an :class:`Engine`."""

    def __init__(self, engine: Engine, properties: Sequence[Property] = PROPERTIES,
                 symmetry: bool = True) -> None:
        super().__init__(engine)
        self.name = engine.config.name
        self._properties = tuple(properties)
        self.symmetry = HostSymmetry(engine.config, engine.initial(), engine.tables.fifo)
        self._interned: dict[Any, Any] = {}
        self._symmetric = symmetry and self.symmetry.active
        # one world per orbit of interchangeable hosts (engine/symmetry.py)
        self.fingerprint: Callable[[World], int] = (
            self.orbit_fingerprint if self._symmetric else self.world_fingerprint)

    # Fingerprints are 60 bits wide: Python stores an int below 2**60 in 32 bytes and a wider
    # one in 36, and the fingerprint table holds one per distinct state. Two of a million
    # states share one with a probability of about 1e-6 (TLC's 64-bit fingerprints: 3e-8).

    def world_fingerprint(self, w: World) -> int:
        """A world's fingerprint: Python's hash, 60 bits of it."""
        return hash(w) & FINGERPRINT_MASK

    def orbit_fingerprint(self, w: World) -> int:
        """The fingerprint of a world's orbit under host symmetry, 60 bits of it."""
        return self.symmetry.fingerprint(w) & FINGERPRINT_MASK

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
        """The engine's step. A request nova-api turns down (a refusal, or an error before
        anything changed) comes back to ``state`` itself: a self-loop, counted, its rows
        covered and its answer seen by the properties, with no new state (a user's request is
        never Nova's own step, so liveness is not fooled by it). Any other step that changes
        nothing is None."""
        res = self.engine.step(state, action)
        if res.world is state and res.api is None:
            return None
        return res

    def intern(self, w: World) -> World:
        """An equal world whose records (and the tuples of them) are the ones seen before: a
        parallel worker gives each state it receives from another process back its sharing
        (less memory, cheaper copies and hashes of the parts steps leave alone)."""
        table = self._interned
        get = table.setdefault

        def part(x: Any) -> Any:
            if type(x) is tuple:
                t = tuple([get(r, r) for r in x])
                return get(t, t)
            return get(x, x)

        return World(*[part(x) for x in w])

    def step_kinds(self, res: StepResult) -> frozenset[str]:
        """The kinds of the step's events (what the properties' ``triggers`` name)."""
        return frozenset([e.kind for e in res.events])

    def format_action(self, state: World, action: Action) -> str:
        return self.engine.describe(state, action)

    def is_own(self, state: World, action: Action) -> bool:
        return self.engine.is_own_step(state, action)

    def properties(self) -> tuple[Property, ...]:
        return self._properties

    def locate(self, state: World, subject: str | None) -> str:
        """Where a violation happened: its instance's vm_state/task_state, latest migration
        status and where instance.host stands to that migration -- or every live instance's
        when it names none."""
        insts = [i for i in state.instances if subject is None or i.name == subject]
        if subject is None:
            insts = [i for i in insts if not i.deleted]
        return "; ".join(sorted(_projection(state, i) for i in insts))

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


def _projection(w: World, i: Instance) -> str:
    if i.deleted:
        return "destroyed"
    migs = [m for m in w.migrations if m.instance == i.name]
    mig = migs[-1] if migs else None
    if mig is None:
        place = "no migration"
    elif i.host == mig.source_compute == mig.dest_compute:
        place = "on its source and destination"
    elif i.host == mig.source_compute:
        place = "on the source"
    elif i.host == mig.dest_compute:
        place = "on the destination"
    else:
        place = "elsewhere"
    status = f"migration {mig.status}, " if mig is not None else ""
    # a second resize started while an earlier one is still on its way (restart recovery or an
    # error save cleared the task the API guards on): name the earlier one's status, since the
    # properties judge the instance by its newest migration
    scheduling, live = _resizes_under_way(w, i.name)
    earlier = [m.status for m in migs[:-1] if m.id in live]
    if earlier:
        also = f", an earlier migration {earlier[-1]}"
    elif scheduling + (1 if mig is not None and mig.id in live else 0) >= 2:
        also = ", another resize scheduling"
    elif _null_beside_updated(migs):
        also = ", an earlier migration never updated"
    elif scheduling and mig is not None and mig.id not in live and mig.status == "pre-migrating":
        # the newest migration is a refused claim's, and the conductor is placing the resize
        # again: until a new destination claims, it stands for a resize that moved on
        also = ", rescheduling"
    else:
        also = ""
    return f"{i.vm_state}/{i.task_state or 'None'}, {status}{place}{also}"


def _resizes_under_way(w: World, name: str) -> tuple[int, set[str]]:
    """The resizes of ``name`` on their way: how many are being scheduled (the conductor's call
    or task, a prep_resize before its claim or unwinding a refused one), and which migrations
    are live (under way, or carried by a message or by a handler outside an error chain)."""
    scheduling = 0
    live = {m.id for m in w.migrations if m.instance == name and m.status in _UNDER_WAY}
    for m in w.messages:
        if m.instance.name != name:
            continue
        if ((m.method == "migrate_server" and m.kind == "call")
                or (m.method == "prep_resize" and m.migration is None)):
            scheduling += 1
        elif m.migration is not None:
            live.add(m.migration.id)
    for f in w.frames:
        if f.instance.name != name:
            continue
        if f.service == "conductor" or (f.method == "prep_resize" and (
                f.migration is None or f.chain is not None)):
            scheduling += 0 if f.waiting else 1
        elif f.migration is not None and f.chain is None:
            live.add(f.migration.id)
    return scheduling, live


def _null_beside_updated(migs: list[Migration]) -> bool:
    """Two of the instance's in-progress migrations, one never updated (updated_at NULL: a
    refused claim's, or one whose resize went no further) and one updated: the audit's
    most-recent-migration comparison meets NULL there (a TypeError on Python 2.7)."""
    going = [m for m in migs if m.status not in _RESOLVED]
    return (any(m.updated_at is None for m in going)
            and any(m.updated_at is not None for m in going))


_RESOLVED = ("confirmed", "reverted", "error", "failed")

# an earlier migration past its claim and not yet resolved ('pre-migrating' alone is what a
# refused or rescheduled claim leaves behind, and nothing moves it on)
_UNDER_WAY = ("migrating", "post-migrating", "finished", "confirming", "reverting")


__all__ = ["NovaModel"]
