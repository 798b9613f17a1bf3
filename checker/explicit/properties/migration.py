"""Migration records: statuses along Nova's edges, none left transient, endpoints fixed."""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.world import World

from ...explorer.model import Property, Violation
from .context import TRANSIENT, Context, at_quiescence


def migration_settled(ctx: Context, w: World) -> list[Violation]:
    """At quiescence no migration is left in a transient status."""
    out = []
    for m in w.migrations:
        if m.status in TRANSIENT:
            latest = ctx.latest_migration(w, m.instance)
            which = "" if latest is not None and latest.id == m.id else " (an older migration)"
            out.append((f"left {m.status}{which}",
                        f"migration {m.id} of {m.instance} is left {m.status}{which}"))
    return out


def migration_status_legal(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """Every migration status write moves along one of Nova's designed edges."""
    out = []
    for ev in res.events:
        if ev.kind != "migration_write":
            continue
        a, b = ev.data
        if a is None or a.status == b.status:
            continue
        edges = [e for e in ctx.edges.get(ev.row, ()) if e.dest == b.status]
        if not edges:
            out.append((f"{ev.row}: {a.status} -> {b.status}",
                        f"{ev.row} moved migration {b.id} from {a.status} to {b.status}, which "
                        f"no edge declares"))
        elif not any(e.source is None or a.status in e.source for e in edges):
            sources = sorted({s for e in edges for s in e.source or ()})
            out.append((f"{ev.row}: {a.status} -> {b.status}",
                        f"{ev.row} wrote {b.status} over {a.status} (it is meant to move from "
                        f"{', '.join(sources)})"))
    return out


def migration_endpoints_fixed(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """A migration's source and destination never change."""
    out = []
    for ev in res.events:
        if ev.kind != "migration_write" or ev.data[0] is None:
            continue
        a, b = ev.data
        for field in ("source_compute", "dest_compute"):
            if getattr(a, field) != getattr(b, field):
                out.append((f"{ev.row} rewrote {field}",
                            f"{ev.row} changed migration {b.id}'s {field} from "
                            f"{getattr(a, field)} to {getattr(b, field)}"))
    return out


MIGRATION_STATUS_LEGAL: Property = Property(
    "migration-status-legal",
    "Migration statuses move only along Nova's designed edges, and at quiescence none is "
    "left in a transient status.",
    always=migration_settled,
    when=at_quiescence,
    transition=migration_status_legal,
)


MIGRATION_ENDPOINTS_FIXED: Property = Property(
    "migration-endpoints-fixed",
    "A migration's source and destination never change after it is created.",
    transition=migration_endpoints_fixed,
    bugs=("1625462",),
)


__all__ = [
    "MIGRATION_ENDPOINTS_FIXED",
    "MIGRATION_STATUS_LEGAL",
    "migration_endpoints_fixed",
    "migration_settled",
    "migration_status_legal",
]
