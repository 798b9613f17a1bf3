"""Notifications as nova 12.0.0 sends them: which saves send ``compute.instance.update`` and with
which states, what a usage notification carries, and who publishes each.

- ``Instance.save`` calls ``notifications.send_update`` after every save that issues an UPDATE
  (nova/objects/instance.py ``Instance.save``); a save that writes only object fields (flavors,
  migration_context) returns before it and sends nothing. ``send_update`` sends nothing when
  ``notify_on_state_change`` is unset; otherwise it sends one update per UPDATE, carrying the
  transition when vm_state changed (or, under ``vm_and_task_state``, task_state) and the current
  states otherwise (nova/notifications.py ``send_update``). ``_compute_states_payload`` reads a
  state given as None as the instance's current one: an old task_state of None is reported as
  the new task_state.
- The publisher is ``compute.<CONF.host>`` of the process that runs the code
  (nova/rpc.py ``get_notifier``): nova-api for its own saves, nova-conductor for every
  compute-side save (nova/cmd/compute.py routes remotable calls through conductor unless
  ``[conductor] use_local``) and for its own, the compute host for the compute manager's usage
  notifications (nova/manager.py ``Manager.__init__``, nova/compute/utils.py
  ``notify_about_instance_usage``).

Notifications are output of a step (:attr:`StepResult.notifications`), never part of a world:
the checker's state space does not depend on them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .tx import UPDATE, Notification, WFrame, get_local
from .world import Instance

if TYPE_CHECKING:
    from .tables import Tables

IN_PLACE_FIELDS: frozenset[str] = frozenset({"old_vm_state"})
"""Fields that stand for a system_metadata key set in place (``sys_meta[k] = v``): Nova's
object sees a change only if the value differs, so setting the same value issues no UPDATE
(rows that assign the whole dict declare ``system_metadata`` in ``SaveInstance.columns``)."""

SET_FLAVOR_ONLY: frozenset[str] = frozenset({"flavor"})
"""Fields whose change alone issues no UPDATE: ``set_flavor`` changes the flavor object
(instance_extra) only; the flavor columns (instance_type_id, memory_mb...) are written by
``_set_instance_info``, whose rows declare them in ``SaveInstance.columns``."""

PREP_END = "compute.instance.resize.prep.end"
"""prep_resize's ``finally`` adds ``new_instance_type`` to this one's payload."""

SERVICES = ("api", "conductor")


def process_host(tb: Tables, service: str) -> str:
    """``CONF.host`` of the process a frame's service stands for."""
    if service == "api":
        return str(tb.option("api_host"))
    if service == "conductor":
        return str(tb.option("conductor_host"))
    return service


def save_publisher(tb: Tables, service: str) -> str:
    """The publisher_id of the update sent by an ``Instance.save`` made by ``service``: a
    compute host's save runs in nova-conductor unless ``conductor_use_local``."""
    if service not in SERVICES and not tb.option("conductor_use_local"):
        return f"compute.{tb.option('conductor_host')}"
    return f"compute.{process_host(tb, service)}"


def usage_publisher(tb: Tables, service: str) -> str:
    """The publisher_id of a usage notification sent by ``service`` (its own notifier)."""
    return f"compute.{process_host(tb, service)}"


def issues_update(cols: list[str], before: Instance, after: Instance,
                  columns: tuple[str, ...]) -> bool:
    """Whether a save writing the modelled columns ``cols`` (from ``before`` to ``after``) and
    the unmodelled ``columns`` issues an UPDATE in Nova."""
    if columns:
        return True
    return any(f not in SET_FLAVOR_ONLY
               and (f not in IN_PLACE_FIELDS or getattr(before, f) != getattr(after, f))
               for f in cols)


def update_notification(tb: Tables, service: str, row: str, before: Instance,
                        after: Instance) -> Notification | None:
    """The ``compute.instance.update`` an UPDATE from ``before`` to ``after`` sends (None when
    ``notify_on_state_change`` is unset)."""
    mode = tb.option("notify_on_state_change")
    if not mode:
        return None
    with_states = before.vm_state != after.vm_state or (
        str(mode).lower() == "vm_and_task_state" and before.task_state != after.task_state)
    vm, task = after.vm_state, after.task_state
    if with_states:
        old_vm, old_task = before.vm_state, before.task_state
    else:
        old_vm, old_task = None, None
    # _compute_states_payload: a state given as None reads as the instance's current one
    return Notification(
        UPDATE, service, row, after.name,
        vm if old_vm is None else old_vm, vm,
        task if old_task is None else old_task, task,
        publisher_id=save_publisher(tb, service), host=after.host, flavor=after.flavor)


def usage_notification(tb: Tables, event_type: str, fr: WFrame, row: str) -> Notification:
    """A usage notification (``compute.instance.<suffix>``) about the frame's instance as its
    handler holds it (``info_from_instance`` of the in-memory object)."""
    i = fr.instance
    new_flavor = get_local(fr, "flavor") if event_type == PREP_END else None
    priority = "ERROR" if event_type.endswith("error") else "INFO"
    return Notification(event_type, fr.service, row, i.name, i.vm_state, i.vm_state,
                        i.task_state, i.task_state, publisher_id=usage_publisher(tb, fr.service),
                        priority=priority, host=i.host, flavor=i.flavor,
                        new_flavor=new_flavor if isinstance(new_flavor, str) else None)


__all__ = ["IN_PLACE_FIELDS", "PREP_END", "SET_FLAVOR_ONLY", "issues_update", "process_host",
           "save_publisher", "update_notification", "usage_notification", "usage_publisher"]
