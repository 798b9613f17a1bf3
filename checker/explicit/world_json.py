"""The whole world as JSON data, with units: what a report stores after each step of a trace.

:func:`world_json` extends the summary that reports always carried (``instances``,
``migrations``, ``quota``, ``reservations``, ``hosts``, ``in_flight``: their keys keep their
shapes, since users' scripts read them) with every field of every record: each instance's
fields and its ``nova list`` Status, each migration's flavors and type, the quota and each
reservation by resource with units, each host's usage as vcpus / memory_mb / root_gb with the
instances and migrations its resource tracker tracks, its disks and running guests, the
messages in flight with their payload, the running handlers, the remaining budgets of
requests and faults, and the flavors an admin deleted.

Units: quota ``cores`` are vCPUs and ``ram`` MB (Nova's quota resources); a host's usage is
``vcpus`` (vCPUs), ``memory_mb`` (MB) and ``root_gb`` (GB).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nova_resize.engine.world import Frame, Message, World
from nova_resize.spec.states import api_status

QUOTA_RESOURCES = ("instances", "cores", "ram")
"""The quota resources, in the order of ``Quota.in_use`` and ``Quota.reserved``."""

QUOTA_UNITS = {"instances": "instances", "cores": "vCPUs", "ram": "MB"}
"""The unit of each quota resource."""

HOST_RESOURCES = ("vcpus", "memory_mb", "root_gb")
"""A host's usage, in the order of ``Host.usage``."""

HOST_UNITS = {"vcpus": "vCPUs", "memory_mb": "MB", "root_gb": "GB"}
"""The unit of each host resource."""


def _plain(v: Any) -> Any:
    """A value as JSON data (tuples and frozensets as sorted lists where unordered)."""
    if isinstance(v, frozenset):
        return sorted((_plain(x) for x in v), key=repr)
    if isinstance(v, tuple):
        return [_plain(x) for x in v]
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return str(v)


def usage_text(usage: Sequence[int]) -> str:
    """A host usage with its units: ``1 vCPU, 512 MB, 10 GB``."""
    c, mem, disk = usage
    return f"{c} vCPU{'s' if c != 1 else ''}, {mem} MB, {disk} GB"


def quota_text(values: Sequence[int]) -> str:
    """Quota values with their units: ``1 instance, 1 vCPU, 512 MB``."""
    n, c, ram = values
    return (f"{n} instance{'s' if n != 1 else ''}, {c} vCPU{'s' if c != 1 else ''}, "
            f"{ram} MB")


def _message(msg: Message) -> dict[str, Any]:
    return {
        "kind": msg.kind,
        "method": msg.method,
        "target": msg.target,
        "instance": msg.instance.name,
        "instance_task_state": msg.instance.task_state,
        "migration": msg.migration.id if msg.migration is not None else None,
        "args": {k: _plain(v) for k, v in msg.args},
        "reply_to": msg.reply_to,
    }


def _frame(fr: Frame) -> dict[str, Any]:
    return {
        "id": fr.id,
        "service": fr.service,
        "method": fr.method,
        "handler": fr.handler,
        "label": fr.label,
        "instance": fr.instance.name or None,
        "instance_copy": {"vm_state": fr.instance.vm_state,
                          "task_state": fr.instance.task_state,
                          "host": fr.instance.host} if fr.instance.name else None,
        "dirty": sorted(fr.dirty),
        "seen_task_state": fr.seen_task,
        "migration": fr.migration.id if fr.migration is not None else None,
        "exception": fr.exc,
        "waiting": fr.waiting,
        "reply_to": fr.reply_to,
        "holds_lock": fr.lock,
        "usage_started": list(fr.usage),
    }


def world_json(w: World) -> dict[str, Any]:
    """Every field of ``w`` as JSON data (see the module docstring for the keys)."""
    instances = {}
    for i in w.instances:
        instances[i.name] = {
            "vm_state": i.vm_state,
            "task_state": i.task_state,
            "host": i.host,
            "flavor": i.flavor,
            "deleted": i.deleted,
            "status": "DELETED" if i.deleted else api_status(i.vm_state, i.task_state),
            "power_state": i.power_state,
            "old_flavor": i.old_flavor,
            "new_flavor": i.new_flavor,
            "old_vm_state": i.old_vm_state,
            "launched": i.launched,
            "locked": i.locked,
        }
    migrations = [{
        "id": m.id, "instance": m.instance, "status": m.status, "source": m.source_compute,
        "dest": m.dest_compute, "old_flavor": m.old_flavor, "new_flavor": m.new_flavor,
        "migration_type": m.migration_type,
    } for m in w.migrations]
    q = w.quota
    quota = {
        "in_use": list(q.in_use),
        "reserved": list(q.reserved),
        "by_resource": {r: {"in_use": q.in_use[k], "reserved": q.reserved[k],
                            "unit": QUOTA_UNITS[r]}
                        for k, r in enumerate(QUOTA_RESOURCES)},
    }
    hosts = {}
    for h in w.hosts:
        hosts[h.name] = {
            "status": h.status,
            "usage": list(h.usage),
            "disks": sorted(h.disks),
            "used": {r: h.usage[k] for k, r in enumerate(HOST_RESOURCES)},
            "usage_text": usage_text(h.usage),
            "tracked_instances": sorted(h.tracked_instances),
            "tracked_migrations": [{"instance": i, "flavor": f, "migration": mid}
                                   for i, f, mid in sorted(h.tracked_migrations)],
            "running": sorted(h.running),
        }
    return {
        "instances": instances,
        "migrations": migrations,
        "quota": quota,
        "reservations": [[r.id, r.status] for r in w.reservations],
        "reservation_details": [{"id": r.id, "status": r.status, "row": r.row,
                                 "deltas": dict(r.deltas)} for r in w.reservations],
        "hosts": hosts,
        "in_flight": [f"{m.kind} {m.method} -> {m.target}" for m in w.messages],
        "messages": [_message(m) for m in w.messages],
        "handlers": [_frame(f) for f in w.frames],
        "budgets": dict(w.budgets),
        "deleted_flavors": sorted(w.deleted_flavors),
    }


__all__ = ["HOST_RESOURCES", "HOST_UNITS", "QUOTA_RESOURCES", "QUOTA_UNITS", "quota_text",
           "usage_text", "world_json"]
