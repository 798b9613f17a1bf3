"""Properties of one instance's states: legal pairs, its host during a migration, its disk, and the
vm_state a resize leaves."""

from __future__ import annotations

from nova_resize.engine.world import World, quiescent
from nova_resize.spec.states import (
    DELETING,
    ERROR,
    RESIZE_TASK_STATES,
    RESIZED,
    SOFT_DELETING,
)

from ...explorer.model import Property, Violation
from .context import UNRESOLVED, Context, at_quiescence, pair


def legal_state(ctx: Context, w: World) -> list[Violation]:
    """Every live instance's (vm_state, task_state) is a pair Nova defines on these paths; a
    transient one (an error handler half done) only while handlers are still running."""
    out: list[Violation] = []
    quiet = quiescent(w)
    for i in ctx.live(w):
        states = (i.vm_state, i.task_state)
        if states in ctx.legal:
            continue
        if states in ctx.transient:
            if quiet:
                out.append((f"{pair(i)} left at quiescence",
                            f"{i.name} is left ({i.vm_state}, {i.task_state}): the error "
                            f"handlers did not clear the task_state", i.name))
            continue
        out.append((pair(i), f"{i.name} is ({i.vm_state}, {i.task_state}), a pair Nova does "
                    f"not define", i.name))
    return out


def task_settles(ctx: Context, w: World) -> list[Violation]:
    """At quiescence no live instance holds a task_state but a resize's (no-stuck-resize judges
    those on the graph): nothing Nova runs by itself would clear it."""
    out: list[Violation] = []
    for i in ctx.live(w):
        if i.task_state is None or i.task_state in RESIZE_TASK_STATES:
            continue
        out.append((f"{pair(i)} at quiescence",
                    f"{i.name} keeps task_state {i.task_state} with nothing running or in flight "
                    f"for it: the server stays busy until an operator resets it", i.name))
    return out


def host_consistent(ctx: Context, w: World) -> list[Violation]:
    """While a migration is unresolved the instance is on its source or destination."""
    out: list[Violation] = []
    for i in ctx.live(w):
        mig = ctx.latest_migration(w, i.name)
        if mig is None or mig.status not in UNRESOLVED:
            continue
        if i.host not in (mig.source_compute, mig.dest_compute):
            out.append(
                (f"{pair(i)} with migration {mig.status}: host elsewhere",
                 f"{i.name} is on {i.host}, neither source {mig.source_compute} nor destination "
                 f"{mig.dest_compute} of its {mig.status} migration", i.name)
            )
    return out


def disk_never_lost(ctx: Context, w: World) -> list[Violation]:
    """A live instance not being deleted has its disk on the host that runs it: its instance
    directory, or the original a resize moved aside there (``<path>_resize``, which a revert,
    a failure's cleanup or restart recovery moves back)."""
    out: list[Violation] = []
    hosts = {h.name: h for h in w.hosts}
    for i in ctx.live(w):
        if ctx.delete_any(w, i.name) or i.task_state in (DELETING, SOFT_DELETING):
            continue
        h = hosts.get(i.host or "")
        if h is not None and (i.name in h.disks or i.name in h.resize_disks):
            continue
        anywhere = any(i.name in x.disks or i.name in x.resize_disks for x in w.hosts)
        what = "has no disk on any host" if not anywhere else "has no disk on its host"
        out.append((f"{pair(i)}: {what}", f"{i.name} ({i.vm_state}, {i.task_state}) on "
                    f"{i.host} {what}", i.name))
    return out


def vm_state_restored(ctx: Context, w: World) -> list[Violation]:
    """A finished, failed, confirmed or reverted resize leaves the vm_state it found, or ERROR."""
    out: list[Violation] = []
    for i in ctx.live(w):
        pre, _ = ctx.requests(w, i.name)
        if pre is None or ctx.delete_any(w, i.name) or i.task_state is not None:
            continue
        if i.vm_state in (RESIZED, ERROR) or i.vm_state == pre:
            continue
        out.append((f"{pre} -> {i.vm_state}",
                    f"{i.name} was {pre} when its resize was requested and is now {i.vm_state}",
                    i.name))
    return out


LEGAL_STATE: Property = Property(
    "legal-state",
    "Every live instance's (vm_state, task_state) pair is one Nova defines on these paths; "
    "a transient pair (an error handler half done) only while handlers are still running.",
    always=legal_state,
)


TASK_SETTLES: Property = Property(
    "task-settles",
    "Whenever Nova is quiescent, no live instance holds a task_state other than a resize's "
    "(no-stuck-resize covers those): nothing Nova runs by itself would clear it, and the "
    "server would stay busy until an operator resets it.",
    always=task_settles,
    when=at_quiescence,
)


HOST_CONSISTENT: Property = Property(
    "host-consistent",
    "instance.host is the migration's source or destination while one is in progress.",
    always=host_consistent,
)


DISK_NEVER_LOST: Property = Property(
    "disk-never-lost",
    "A live instance not being deleted has its disk on the host that runs it.",
    always=disk_never_lost,
)


VM_STATE_RESTORED: Property = Property(
    "vm-state-restored",
    "A resize that fails, is reverted or is confirmed leaves the instance in the vm_state it "
    "had before, unless Nova deliberately sets ERROR.",
    always=vm_state_restored,
    when=at_quiescence,
)


__all__ = [
    "DISK_NEVER_LOST",
    "HOST_CONSISTENT",
    "LEGAL_STATE",
    "TASK_SETTLES",
    "VM_STATE_RESTORED",
    "disk_never_lost",
    "host_consistent",
    "legal_state",
    "task_settles",
    "vm_state_restored",
]
