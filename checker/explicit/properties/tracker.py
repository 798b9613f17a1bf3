"""The resource tracker's live usage: what claims, drops and update_usage left on each host,
against what its audit would compute from the database."""

from __future__ import annotations

from nova_resize.engine.world import World

from ...explorer.model import Property, Violation
from .context import Context, at_quiescence, role


def tracker_matches_audit(ctx: Context, w: World) -> list[Violation]:
    """At quiescence, each up host's live usage (Host.usage, moved by claims, drops and
    update_usage between audits) equals what update_available_resource would compute from the
    database now. Between audits the scheduler places instances by the live figure, so a
    difference is capacity leaked (over) or overcommitted (under) until the next audit.
    The key names the direction and the roles, on that host, of the instances and migrations
    whose tracking differs; the subject is the first such instance."""
    eng = ctx.engine
    out: list[Violation] = []
    for h in w.hosts:
        if h.status != "up":
            continue
        stopped: list[str] = []
        usage, tracked, migs = eng.audit_view(w, h.name, None, stopped)
        if usage == h.usage:
            continue
        if stopped:
            i = next(x for x in w.instances if x.name == stopped[0])
            where = role(h.name, i, ctx.latest_migration(w, i.name))
            out.append((f"live usage against an audit stopped by TypeError: a NULL updated_at "
                        f"among the migrations of the {where}",
                        f"{h.name}'s tracker holds {_fmt(h.usage)}; an audit now would raise "
                        f"TypeError comparing {i.name}'s migrations (one never updated) after "
                        f"counting {_fmt(usage)}", i.name))
            continue
        sign = "over" if any(a > b for a, b in zip(h.usage, usage, strict=True)) else "under"
        names = sorted((set(tracked) ^ set(h.tracked_instances))
                       | {m[0] for m in set(migs) ^ set(h.tracked_migrations)})
        if not names:  # the same things tracked, counted with different flavors
            names = sorted(set(tracked) | {m[0] for m in migs})
        roles = []
        for name in names:
            i = next(x for x in w.instances if x.name == name)
            roles.append(role(h.name, i, ctx.latest_migration(w, name)))
        what = ", ".join(sorted(set(roles)))
        key = (f"live usage {sign}-counts the audit on the {what}" if what else
               f"live usage {sign}-counts the audit with nothing left to track")
        msg = (f"{h.name}'s tracker holds {_fmt(h.usage)} but an audit now would count "
               f"{_fmt(usage)}")
        out.append((key, msg, names[0]) if names else (key, msg))
    return out


def _fmt(u: tuple[int, int, int]) -> str:
    return f"{u[0]} vcpus, {u[1]} MB, {u[2]} GB"


TRACKER_MATCHES_AUDIT: Property = Property(
    "tracker-matches-audit",
    "Whenever Nova is quiescent, each up host's live resource-tracker usage equals what its "
    "audit (update_available_resource) would compute from the database.",
    always=tracker_matches_audit,
    when=at_quiescence,
)


__all__ = ["TRACKER_MATCHES_AUDIT", "tracker_matches_audit"]
