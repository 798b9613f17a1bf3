"""The hypervisor against the database: whether a guest runs where, and only where, the
instance's vm_state says.

`nova list` shows ACTIVE for a server whose guest should be running on its host, SHUTOFF for one
whose guest should not (and SOFT_DELETED, powered off by the soft delete), VERIFY_RESIZE for one
whose guest runs on the destination when it ran before the resize (finish_resize powers it on
unless the stashed ``old_vm_state`` is ``stopped``). Nova's ``_sync_power_states`` periodic
task, which is not modelled, eventually brings vm_state in line with the hypervisor (stopping
an ACTIVE server whose guest is off, say); a finding is a window in which the API and the
hypervisor disagree, and the situation that periodic task then acts on.
"""

from __future__ import annotations

from nova_resize.engine.world import World
from nova_resize.spec.states import ACTIVE, RESIZED, SOFT_DELETED, STOPPED

from ...explorer.model import Property, Violation
from .context import Context, at_quiescence, role


def guest_matches_state(ctx: Context, w: World) -> list[Violation]:
    """At quiescence, each live instance with no task runs its guest on its host exactly when
    its vm_state says it should, and on no other host."""
    out: list[Violation] = []
    hosts = {h.name: h for h in w.hosts}
    for i in w.instances:
        if i.deleted or i.task_state is not None:
            continue
        if i.vm_state not in (ACTIVE, STOPPED, RESIZED, SOFT_DELETED):
            continue
        mig = ctx.latest_migration(w, i.name)
        for o in w.hosts:
            if o.name != i.host and i.name in o.running and o.status == "up":
                where = role(o.name, i, mig)
                out.append((f"{i.vm_state}, guest also running on the {where}",
                            f"{i.name} is {i.vm_state} on {i.host} and its guest also runs on "
                            f"{o.name} ({where})", i.name))
        h = hosts.get(i.host or "")
        if h is None or h.status != "up":
            continue
        running = i.name in h.running
        if i.vm_state == ACTIVE:
            should, what = True, "active"
        elif i.vm_state == STOPPED:
            should, what = False, "stopped"
        elif i.vm_state == SOFT_DELETED:
            # soft_delete_instance powers the guest off (libvirt has no soft_delete of its
            # own), and restore_instance powers it on again
            should, what = False, "soft-deleted"
        else:
            should = i.old_vm_state != STOPPED
            what = f"resized from {'stopped' if not should else 'active'}"
        if running != should:
            state = "running" if running else "not running"
            out.append((f"{what}, guest {state} on its host",
                        f"{i.name} is {what} and its guest is {state} on {h.name}", i.name))
    return out


GUEST_MATCHES_STATE: Property = Property(
    "guest-matches-state",
    "At quiescence, a live instance with no task has its guest running on its host exactly "
    "when its vm_state says so (ACTIVE yes, SHUTOFF and SOFT_DELETED no, VERIFY_RESIZE as "
    "before the resize), "
    "and on no other host.",
    always=guest_matches_state,
    when=at_quiescence,
)


__all__ = ["GUEST_MATCHES_STATE", "guest_matches_state"]
