"""Migration records: statuses along Nova's edges, none left transient, endpoints fixed."""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.world import World
from nova_resize.spec.states import (
    ACTIVE,
    CONFIRMED,
    ERROR,
    FINISHED,
    RESIZED,
    REVERTED,
    STOPPED,
)

from ...explorer.model import Property, Violation
from .context import TRANSIENT, Context, at_quiescence, pair


def migration_settled(ctx: Context, w: World) -> list[Violation]:
    """At quiescence no migration is left in a transient status."""
    out: list[Violation] = []
    for m in w.migrations:
        if m.status in TRANSIENT:
            latest = ctx.latest_migration(w, m.instance)
            which = "" if latest is not None and latest.id == m.id else " (an older migration)"
            out.append((f"left {m.status}{which}",
                        f"migration {m.id} of {m.instance} is left {m.status}{which}",
                        m.instance))
    return out


def migration_status_legal(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """Every migration status write moves along one of Nova's designed edges."""
    out: list[Violation] = []
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
                        f"no edge declares", b.instance))
        elif not any(e.source is None or a.status in e.source for e in edges):
            sources = sorted({s for e in edges for s in e.source or ()})
            out.append((f"{ev.row}: {a.status} -> {b.status}",
                        f"{ev.row} wrote {b.status} over {a.status} (it is meant to move from "
                        f"{', '.join(sources)})", b.instance))
    return out


def migration_endpoints_fixed(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """A migration's source and destination never change."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind != "migration_write" or ev.data[0] is None:
            continue
        a, b = ev.data
        for field in ("source_compute", "dest_compute"):
            if getattr(a, field) != getattr(b, field):
                out.append((f"{ev.row} rewrote {field}",
                            f"{ev.row} changed migration {b.id}'s {field} from "
                            f"{getattr(a, field)} to {getattr(b, field)}", b.instance))
    return out


def migration_agrees(ctx: Context, w: World) -> list[Violation]:
    """At quiescence, each live instance with no task and its latest migration tell the same
    story -- what ``nova list`` and ``nova migration-list`` show an operator side by side:

    * VERIFY_RESIZE (resized) only with a finished migration, on its destination, with its new
      flavor;
    * ACTIVE or SHUTOFF never with a finished migration (one still waiting for a confirm or a
      revert the server no longer offers);
    * ERROR never with a finished migration (the failure came after Nova recorded the resize as
      done, so the record hides it);
    * a confirmed migration leaves the instance on its destination with the new flavor, a
      reverted one on its source with the old flavor, and either with no stashed old or new
      flavor (confirm_resize and finish_revert_resize clear them) -- unless it is in ERROR.
    The key names the instance's state, the migration's status and what disagrees."""
    out: list[Violation] = []
    for i in ctx.live(w):
        if i.task_state is not None or i.vm_state not in (ACTIVE, STOPPED, RESIZED, ERROR):
            continue
        m = ctx.latest_migration(w, i.name)
        if m is None or m.status in TRANSIENT:
            continue  # a transient status at quiescence is migration-status-legal's finding
        what = []
        if i.vm_state == RESIZED:
            if m.status != FINISHED:
                what.append("status")
            else:
                if i.host != m.dest_compute:
                    what.append("host")
                if i.flavor != m.new_flavor:
                    what.append("flavor")
        elif m.status == FINISHED:
            what.append("status")
        elif i.vm_state != ERROR and m.status in (CONFIRMED, REVERTED):
            host, flavor = ((m.dest_compute, m.new_flavor) if m.status == CONFIRMED
                            else (m.source_compute, m.old_flavor))
            if i.host != host:
                what.append("host")
            if i.flavor != flavor:
                what.append("flavor")
            if i.old_flavor is not None or i.new_flavor is not None:
                what.append("flavor stash")  # confirm and revert clear old/new_flavor
        if what:
            out.append((f"{pair(i)} with migration {m.status}: {' and '.join(what)} disagree",
                        f"{i.name} is {pair(i)} on {i.host} with flavor {i.flavor}, its "
                        f"migration {m.id} is {m.status} ({m.source_compute} -> "
                        f"{m.dest_compute}, {m.old_flavor} -> {m.new_flavor})", i.name))
    return out


MIGRATION_AGREES: Property = Property(
    "migration-agrees",
    "Whenever Nova is quiescent, an instance with no task and its latest migration agree: "
    "VERIFY_RESIZE only with a finished migration on its destination, no finished migration "
    "behind an ACTIVE, SHUTOFF or ERROR server, and a confirmed (reverted) migration leaves the "
    "instance on its destination (source) with the new (old) flavor and no stashed flavors.",
    always=migration_agrees,
    when=at_quiescence,
)


MIGRATION_STATUS_LEGAL: Property = Property(
    "migration-status-legal",
    "Migration statuses move only along Nova's designed edges, and at quiescence none is "
    "left in a transient status.",
    always=migration_settled,
    when=at_quiescence,
    transition=migration_status_legal,
    triggers=frozenset({"migration_write"}),
)


MIGRATION_ENDPOINTS_FIXED: Property = Property(
    "migration-endpoints-fixed",
    "A migration's source and destination never change after it is created.",
    transition=migration_endpoints_fixed,
    triggers=frozenset({"migration_write"}),
    bugs=("1625462",),
)


__all__ = [
    "MIGRATION_AGREES",
    "MIGRATION_ENDPOINTS_FIXED",
    "MIGRATION_STATUS_LEGAL",
    "migration_agrees",
    "migration_endpoints_fixed",
    "migration_settled",
    "migration_status_legal",
]
