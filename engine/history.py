"""The auxiliary history: what users asked of each instance, kept in the world for properties.

Nova keeps no such record, and no row reads it; it exists because some properties are about
what was asked, not only about what is (Stateright's actor model keeps a declared ``history``
value for the same reason). ``vm-state-restored`` needs the vm_state an instance had when its
last resize or migrate was accepted; ``delete-completes`` needs whether a delete was accepted
while it was resizing or resized; ``disk-never-lost`` excuses instances being deleted. A
restore takes a (soft) delete back. The engine updates it after every accepted API request,
and nowhere else.
"""

from __future__ import annotations

from nova_resize.spec.states import RESIZE_TASK_STATES, RESIZED

from .world import Instance, Requests


def record(history: tuple[Requests, ...], op: str, inst: Instance) -> tuple[Requests, ...]:
    """The history after a request was accepted for ``inst`` (as the API read it); ``op`` is
    the action Nova records for it (resize, migrate, delete, stop, start...)."""
    out = []
    for r in history:
        if r.name == inst.name:
            if op in ("resize", "migrate"):
                r = r._replace(pre_resize_vm_state=inst.vm_state)
            elif op in ("stop", "start"):
                r = r._replace(pre_resize_vm_state=None)
            elif op == "delete":
                resizing = inst.vm_state == RESIZED or inst.task_state in RESIZE_TASK_STATES
                r = r._replace(delete_requested=r.delete_requested or resizing, delete_any=True)
            elif op == "restore":
                # the user takes a (soft) delete back
                r = r._replace(delete_requested=False, delete_any=False)
        out.append(r)
    return tuple(out)


def initial(names: list[str]) -> tuple[Requests, ...]:
    return tuple(Requests(n, None, False, False) for n in names)


__all__ = ["initial", "record"]
