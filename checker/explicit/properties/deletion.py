"""Deletion: a deleted instance leaves nothing behind, and a delete during a resize completes."""

from __future__ import annotations

from nova_resize.engine.world import World
from nova_resize.spec.states import SOFT_DELETED

from ...explorer.model import Property, Violation
from .context import Context, at_quiescence, pair, role


def no_orphan(ctx: Context, w: World) -> list[Violation]:
    """A deleted instance leaves no disk, guest or resource claim on any host."""
    out: list[Violation] = []
    for i in w.instances:
        if not i.deleted:
            continue
        mig = ctx.latest_migration(w, i.name)
        for h in w.hosts:
            where = role(h.name, i, mig)
            if i.name in h.resize_disks:
                out.append((f"resize copy left on the {where}",
                            f"deleted {i.name} still has its <path>_resize copy on {h.name} "
                            f"({where})", i.name))
            if i.name in h.disks or i.name in h.running:
                out.append((f"disk left on the {where}",
                            f"deleted {i.name} still has a disk or guest on {h.name} ({where})",
                            i.name))
            if i.name in h.tracked_instances or any(t[0] == i.name for t in h.tracked_migrations):
                out.append((f"claim left on the {where}",
                            f"deleted {i.name} is still counted by {h.name}'s resource tracker "
                            f"({where})", i.name))
    return out


def delete_completes(ctx: Context, w: World) -> list[Violation]:
    """A requested delete has deleted the instance by the time nothing is running (soft-deleted
    it, when reclaim_instance_interval turns deletes into soft deletes)."""
    out: list[Violation] = []
    for i in w.instances:
        _, deleting = ctx.requests(w, i.name)
        if deleting and not i.deleted and i.vm_state != SOFT_DELETED:
            out.append((f"{pair(i)}", f"{i.name} was asked to be deleted and is still "
                        f"({i.vm_state}, {i.task_state}) on {i.host}", i.name))
    return out


NO_ORPHAN: Property = Property(
    "no-orphan",
    "Once a deleted instance is quiescent, no host holds its disk, guest or any claim for "
    "it.",
    always=no_orphan,
    when=at_quiescence,
)


DELETE_COMPLETES: Property = Property(
    "delete-completes",
    "A delete request on a resizing or resized instance has deleted it (or soft-deleted it) "
    "by the time nothing is running.",
    always=delete_completes,
    when=at_quiescence,
)


__all__ = ["DELETE_COMPLETES", "NO_ORPHAN", "delete_completes", "no_orphan"]
