"""What the predicates share: the :class:`Context` they receive (the Nova model is one), the
condition of the quiescent checks, and how keys name a state, a role and a migration."""

from __future__ import annotations

from nova_resize.engine.core import Engine
from nova_resize.engine.world import Instance, Migration, World, quiescent
from nova_resize.spec import Spec
from nova_resize.spec.model import MigrationEdge
from nova_resize.spec.states import (
    CONFIRMING,
    DELETED,
    FINISHED,
    MIGRATING,
    POST_MIGRATING,
    PRE_MIGRATING,
    REVERTING,
)

TRANSIENT = (PRE_MIGRATING, MIGRATING, POST_MIGRATING, CONFIRMING, REVERTING)
UNRESOLVED = (PRE_MIGRATING, MIGRATING, POST_MIGRATING, FINISHED, CONFIRMING, REVERTING)


class Context:
    """What the predicates need besides a state: the engine and its spec."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.spec: Spec = engine.spec
        self.legal = {(p.vm_state, p.task_state) for p in engine.spec.state_pairs
                      if not p.transient}
        self.transient = {(p.vm_state, p.task_state) for p in engine.spec.state_pairs
                          if p.transient}
        self.edges: dict[str, list[MigrationEdge]] = {}
        for e in engine.spec.migration_edges:
            self.edges.setdefault(e.row, []).append(e)

    def live(self, w: World) -> list[Instance]:
        return [i for i in w.instances if not i.deleted and i.vm_state != DELETED]

    @staticmethod
    def latest_migration(w: World, name: str) -> Migration | None:
        migs = [m for m in w.migrations if m.instance == name]
        return migs[-1] if migs else None

    @staticmethod
    def requests(w: World, name: str) -> tuple[str | None, bool]:
        """(vm_state before the last resize, a delete was requested while resizing)."""
        for r in w.requests:
            if r.name == name:
                return r.pre_resize_vm_state, r.delete_requested
        return None, False

    @staticmethod
    def delete_any(w: World, name: str) -> bool:
        return any(r.name == name and r.delete_any for r in w.requests)


def pair(i: Instance) -> str:
    return f"{i.vm_state}/{i.task_state or 'None'}"


def role(host: str, i: Instance, mig: Migration | None) -> str:
    if mig is not None:
        if host == mig.source_compute and host == mig.dest_compute:
            return "migration's source and destination"
        if host == mig.source_compute:
            return "migration's source"
        if host == mig.dest_compute:
            return "migration's destination"
    if host == i.host:
        return "instance's host"
    return "other host"


def mig_text(m: Migration | None) -> str:
    return f"migration {m.status}" if m is not None else "no migration"


def at_quiescence(ctx: Context, w: World) -> bool:
    """The condition of the quiescent checks."""
    return quiescent(w)


__all__ = ["TRANSIENT", "UNRESOLVED", "Context", "at_quiescence", "mig_text", "pair", "role"]
