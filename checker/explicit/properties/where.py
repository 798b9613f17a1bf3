"""Where a violation happened, as a finding's identity names it: an instance's vm_state and
task_state, its newest migration's status and where the instance stands to that migration,
and what else of its resizes is still on its way (a function of the world alone, so that the
same symptom in the same situation is one finding, whatever the trace)."""

from __future__ import annotations

from nova_resize.engine.world import Instance, Migration, World


def projection(w: World, i: Instance) -> str:
    """Instance ``i``'s situation in ``w``, in one line."""
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


__all__ = ["projection"]
