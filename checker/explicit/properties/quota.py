"""Quota: each reservation resolved once and none left pending; usage matching the instances."""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.world import World
from nova_resize.spec.states import (
    RESIZED,
    SOFT_DELETED,
)

from ...explorer.model import Property, Violation
from .context import Context, at_quiescence, pair


def quota_pending(ctx: Context, w: World) -> list[Violation]:
    """At quiescence no reservation is left pending."""
    return [
        (f"pending from {r.row}", f"reservation {r.id} {dict(r.deltas)} made by {r.row} is "
         f"still pending (only reservation_expire would resolve it)", r.id.split("/")[0])
        for r in w.reservations
        if r.status == "pending"
    ]


def quota_usage(ctx: Context, w: World) -> list[Violation]:
    """At quiescence, in_use equals the live instances' flavors (a resized instance awaiting
    confirmation counts the larger of its old and new flavor; a soft-deleted one counts nothing,
    its quota having been given back by the soft delete and taken again by a restore)."""
    eng = ctx.engine
    cores = ram = 0
    live = [i for i in ctx.live(w) if i.vm_state != SOFT_DELETED]
    flavors = eng.flavors
    for i in live:
        # an instance whose flavor is missing (a broken variant can write None) adds nothing:
        # the usage the quota still holds for it shows as over-counted
        f = flavors.get(i.flavor) if i.flavor else None
        c, r = (f.vcpus, f.memory_mb) if f is not None else (0, 0)
        fo = flavors.get(i.old_flavor) if i.old_flavor else None
        fn = flavors.get(i.new_flavor) if i.new_flavor else None
        if i.vm_state == RESIZED and fo is not None and fn is not None:
            c, r = max(fo.vcpus, fn.vcpus), max(fo.memory_mb, fn.memory_mb)
        cores += c
        ram += r
    expected = (len(live), cores, ram)
    over, under = [], []
    for idx, res in enumerate(("instances", "cores", "ram")):
        diff = w.quota.in_use[idx] - expected[idx]
        if diff > 0:
            over.append(res)
        elif diff < 0:
            under.append(res)
    if not over and not under:
        return []
    where = ", ".join(pair(i) for i in w.instances) or "-"
    parts = []
    if over:
        parts.append(f"{'/'.join(over)} over-counted")
    if under:
        parts.append(f"{'/'.join(under)} under-counted")
    return [(f"{' and '.join(parts)} with {where}",
             f"quota in_use {w.quota.in_use} (instances/cores/ram), the instances account for "
             f"{expected}")]


def quota_resolved_once(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """No reservation is both committed and rolled back, and no handler ends holding the only
    reference to a pending one (the engine's ``quota_abandoned`` event: nothing is left that
    could commit or roll it back, so the key names the row it was abandoned on, which tells
    one leaking path from another where the pending reservation at quiescence cannot)."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind == "quota_abandoned":
            name, rid, made_by, last, ok, exc = ev.data
            how = "returned" if ok else f"raised {exc}"
            out.append((f"{made_by} abandoned at {last}",
                        f"{ev.row} {how} at {last} holding reservation {rid} (made by "
                        f"{made_by}) still pending, and no handler or message in flight holds "
                        f"it: only reservation_expire will resolve it", name))
        elif ev.kind == "quota_conflict":
            rid, status, wanted = ev.data
            made_by = next(r.row for r in res.world.reservations if r.id == rid)
            out.append((f"{ev.row} after {status} ({made_by})",
                        f"{ev.row} tried to leave reservation {rid} {wanted} but it was already "
                        f"{status}", rid.split("/")[0]))
    return out


QUOTA_RESOLVED_ONCE: Property = Property(
    "quota-resolved-once",
    "Each reservation is committed or rolled back at most once, no handler ends as the last "
    "holder of a pending one, and at quiescence none is pending.",
    always=quota_pending,
    when=at_quiescence,
    transition=quota_resolved_once,
    triggers=frozenset({"quota_abandoned", "quota_conflict"}),
    bugs=("1099729",),
)


QUOTA_USAGE_CONSISTENT: Property = Property(
    "quota-usage-consistent",
    "At quiescence, quota usage equals what the live instances' flavors add up to (a "
    "resized, unconfirmed instance counting the larger of its old and new flavor, a "
    "soft-deleted one nothing).",
    always=quota_usage,
    when=at_quiescence,
    bugs=("1099729",),
)


__all__ = [
    "QUOTA_RESOLVED_ONCE",
    "QUOTA_USAGE_CONSISTENT",
    "quota_pending",
    "quota_resolved_once",
    "quota_usage",
]
