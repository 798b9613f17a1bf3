"""Writes the Liberty notification streams of tests/data (``python tests/data/liberty_streams.py``).

The messages are built by hand from nova 12.0.0's code, not from the engine: the sequence of a
fault-free resize of ``test-cirros-1`` from ``compute-1`` to ``compute-2`` (m1.tiny to
m1.small), then a confirm or a revert, with nova-api and nova-conductor on ``controller1`` and
``notify_on_state_change = vm_and_task_state`` (or ``vm_state``). tests/data/README.md cites the
code behind each message; in short:

- ``compute.instance.update`` after every ``Instance.save`` that issues an UPDATE
  (nova/objects/instance.py ``Instance.save``, nova/notifications.py ``send_update``), published
  as ``compute.<CONF.host>`` of the process that saved: nova-api for the API's saves,
  nova-conductor for the compute hosts' (nova/cmd/compute.py, nova/rpc.py ``get_notifier``);
  states as ``_compute_states_payload`` reports them (an old task_state of None reads as the
  current one);
- usage notifications from the compute manager that sends them (``compute.<compute host>``,
  nova/compute/utils.py ``notify_about_instance_usage``), payload ``info_from_instance`` plus
  ``fixed_ips`` where a network_info is passed, ``exists``'s audit fields and
  ``resize.prep.end``'s ``new_instance_type``;
- the message oslo.messaging 2.5.0 builds (notify/notifier.py ``Notifier._notify``: message_id,
  publisher_id, event_type, priority in capitals, payload, ``timestamp`` as
  ``str(utcnow())``) and, in the envelope files, the AMQP driver's ``_unique_id``, one
  ``_context_<key>`` per request-context key, and the 2.0 envelope
  ``{"oslo.version": "2.0", "oslo.message": "<JSON>"}`` (_drivers/amqpdriver.py ``_send``,
  _drivers/amqp.py ``pack_context``, _drivers/common.py ``serialize_msg``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

UUID = "21015376-8c4f-4fad-a834-245b57f23dcc"
TENANT = "52b09594cf604d45ae3a12e44da8eac9"
USER = "082ef596bad842d180cc5f9326b1fd35"
IMAGE = "3e9d2a5b-7b4a-4f1c-9f0a-2b8e9b8f6a11"
CONTROLLER = "controller1"
FLAVORS = {
    # instance_type_id (the flavors table's id) is illustrative; instance_flavor_id is the API id
    "m1.tiny": {"instance_type_id": 2, "instance_flavor_id": "1", "memory_mb": 512, "vcpus": 1,
                "root_gb": 1, "ephemeral_gb": 0},
    "m1.small": {"instance_type_id": 5, "instance_flavor_id": "2", "memory_mb": 2048, "vcpus": 1,
                 "root_gb": 20, "ephemeral_gb": 0},
}
FIXED_IPS = [{"address": "192.168.0.26", "floating_ips": [], "label": "NetworkA", "meta": {},
              "type": "fixed", "version": 4, "vif_mac": "fa:16:3e:5c:2b:91"}]
T0 = datetime(2016, 4, 17, 13, 30, 0, 250412)
AUDIT_BEGIN = datetime(2016, 4, 17, 13, 0, 0)

UPDATE = "update"
# (event: "update" or a usage suffix, publisher host, vm_state, task_state, host, flavor,
#  old_vm_state, old_task_state as sent to send_update (None: not a transition), extra)
# old_task_state "=" means: the update's old task_state is the current one (no transition or
# the None quirk), shown as in the payload.
RESIZE: list[tuple[Any, ...]] = [
    # API.resize: instance.task_state = RESIZE_PREP; save(expected_task_state=[None])
    (UPDATE, CONTROLLER, "active", "resize_prep", "compute-1", "m1.tiny", "active", "="),
    # prep_resize on compute-2: notify_usage_exists, resize.prep.start
    ("exists", "compute-2", "active", "resize_prep", "compute-1", "m1.tiny"),
    ("resize.prep.start", "compute-2", "active", "resize_prep", "compute-1", "m1.tiny"),
    # _prep_resize: set_flavor(new, 'new') saves an object field only (no message); the
    # system_metadata['old_vm_state'] save is an UPDATE without a state change
    (UPDATE, CONTROLLER, "active", "resize_prep", "compute-1", "m1.tiny", "active", "="),
    # the RT claim's migration_context save: object field only; then the cast, then finally:
    ("resize.prep.end", "compute-2", "active", "resize_prep", "compute-1", "m1.tiny",
     None, None, {"new_instance_type": "m1.small", "new_instance_type_id": 5}),
    # resize_instance on compute-1
    (UPDATE, CONTROLLER, "active", "resize_migrating", "compute-1", "m1.tiny", "active",
     "resize_prep"),
    ("resize.start", "compute-1", "active", "resize_migrating", "compute-1", "m1.tiny",
     None, None, {"fixed_ips": FIXED_IPS}),
    (UPDATE, CONTROLLER, "active", "resize_migrated", "compute-2", "m1.tiny", "active",
     "resize_migrating"),
    ("resize.end", "compute-1", "active", "resize_migrated", "compute-2", "m1.tiny",
     None, None, {"fixed_ips": FIXED_IPS}),
    # _finish_resize on compute-2: set_flavor(old, 'old') object only; _set_instance_info's
    # save writes the flavor columns (an UPDATE, no state change)
    (UPDATE, CONTROLLER, "active", "resize_migrated", "compute-2", "m1.small", "active", "="),
    (UPDATE, CONTROLLER, "active", "resize_finish", "compute-2", "m1.small", "active",
     "resize_migrated"),
    ("finish_resize.start", "compute-2", "active", "resize_finish", "compute-2", "m1.small",
     None, None, {"fixed_ips": FIXED_IPS}),
    (UPDATE, CONTROLLER, "resized", None, "compute-2", "m1.small", "active", "resize_finish",
     {"launched_at": "2016-04-17T13:30:09.000000"}),
    ("finish_resize.end", "compute-2", "resized", None, "compute-2", "m1.small",
     None, None, {"fixed_ips": FIXED_IPS}),
]
CONFIRM: list[tuple[Any, ...]] = [
    # API.confirm_resize saves the migration only; _confirm_resize on compute-1:
    ("resize.confirm.start", "compute-1", "resized", None, "compute-2", "m1.small"),
    # two delete_flavor saves (object fields only), then the system_metadata save (UPDATE)
    (UPDATE, CONTROLLER, "resized", None, "compute-2", "m1.small", "resized", "="),
    (UPDATE, CONTROLLER, "active", None, "compute-2", "m1.small", "resized", "="),
    ("resize.confirm.end", "compute-1", "active", None, "compute-2", "m1.small",
     None, None, {"fixed_ips": FIXED_IPS}),
]
REVERT: list[tuple[Any, ...]] = [
    # API.revert_resize: task_state RESIZE_REVERTING, save(expected_task_state=[None])
    (UPDATE, CONTROLLER, "resized", "resize_reverting", "compute-2", "m1.small", "resized",
     "="),
    # revert_resize on compute-2: notify_usage_exists; driver.destroy(destroy_disks=True):
    # libvirt cleanup() counts system_metadata['clean_attempts'] and saves (UPDATE)
    ("exists", "compute-2", "resized", "resize_reverting", "compute-2", "m1.small"),
    (UPDATE, CONTROLLER, "resized", "resize_reverting", "compute-2", "m1.small", "resized",
     "="),
    # revert_migration_context save: object field only; finish_revert_resize on compute-1:
    ("resize.revert.start", "compute-1", "resized", "resize_reverting", "compute-2",
     "m1.small"),
    # set_flavor(old) and two delete_flavor: object fields only; then the save of sysmeta, the
    # old flavor's columns, host and node (UPDATE)
    (UPDATE, CONTROLLER, "resized", "resize_reverting", "compute-1", "m1.tiny", "resized",
     "="),
    # launched_at, save(expected_task_state=RESIZE_REVERTING)
    (UPDATE, CONTROLLER, "resized", "resize_reverting", "compute-1", "m1.tiny", "resized",
     "=", {"launched_at": "2016-04-17T13:31:05.000000"}),
    (UPDATE, CONTROLLER, "active", None, "compute-1", "m1.tiny", "resized",
     "resize_reverting", {"launched_at": "2016-04-17T13:31:05.000000"}),
    ("resize.revert.end", "compute-1", "active", None, "compute-1", "m1.tiny",
     None, None, {"launched_at": "2016-04-17T13:31:05.000000"}),
]


def _payload(vm: str, task: str | None, host: str, flavor: str, launched: str) -> dict[str, Any]:
    """nova/notifications.py info_from_instance for test-cirros-1."""
    f = FLAVORS[flavor]
    return {
        "tenant_id": TENANT, "user_id": USER, "instance_id": UUID,
        "display_name": "test-cirros-1", "reservation_id": "r-a30b0e7o",
        "hostname": "test-cirros-1", "instance_type": flavor,
        "instance_type_id": f["instance_type_id"], "instance_flavor_id": f["instance_flavor_id"],
        "architecture": None, "memory_mb": f["memory_mb"],
        "disk_gb": f["root_gb"] + f["ephemeral_gb"], "vcpus": f["vcpus"],
        "root_gb": f["root_gb"], "ephemeral_gb": f["ephemeral_gb"], "host": host, "node": host,
        "availability_zone": "nova", "cell_name": "", "created_at": "2016-04-17 13:21:40+00:00",
        "terminated_at": "", "deleted_at": "", "launched_at": launched,
        "image_ref_url": f"http://192.168.0.10:9292/images/{IMAGE}", "os_type": None,
        "kernel_id": "", "ramdisk_id": "", "state": vm, "state_description": task or "",
        "progress": "", "access_ip_v4": None, "access_ip_v6": None,
        "image_meta": {"base_image_ref": IMAGE, "container_format": "bare",
                       "disk_format": "qcow2", "min_disk": "1", "min_ram": "0"},
    }


def _uuid4(seed: str) -> str:
    """A fixed uuid in uuid4's form (the files stay the same from one run to the next)."""
    return str(uuid.UUID(bytes=hashlib.md5(seed.encode()).digest(), version=4))


def _strtime(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f")


def messages(seq: list[tuple[Any, ...]], mode: str = "vm_and_task_state",
             start: datetime = T0) -> list[dict[str, Any]]:
    """The bare messages of a sequence, one every 0.25 s from ``start``."""
    out = []
    launched = "2016-04-17T13:21:54.000000"
    for n, row in enumerate(seq):
        event, pub, vm, task, host, flavor = row[:6]
        old_vm = row[6] if len(row) > 6 else None
        old_task = row[7] if len(row) > 7 else None
        extra = dict(row[8]) if len(row) > 8 else {}
        launched = extra.pop("launched_at", launched)
        now = start + timedelta(milliseconds=250 * n, microseconds=n * 1013)
        payload = _payload(vm, task, host, flavor, launched)
        if event == UPDATE:
            prev_task = task if old_task == "=" else old_task
            transition = old_vm != vm or (mode == "vm_and_task_state" and prev_task != task)
            if transition:
                # send_update_with_states: None reads as the current task_state
                states = {"old_state": old_vm, "state": vm,
                          "old_task_state": task if prev_task is None else prev_task,
                          "new_task_state": task}
            else:
                states = {"old_state": vm, "state": vm, "old_task_state": task,
                          "new_task_state": task}
            payload.update(states)
            payload["audit_period_beginning"] = _strtime(AUDIT_BEGIN)
            payload["audit_period_ending"] = _strtime(now)
            payload["bandwidth"] = {}
            event_type = "compute.instance.update"
        else:
            if event == "exists":
                payload["audit_period_beginning"] = str(AUDIT_BEGIN)
                payload["audit_period_ending"] = str(now)
                payload["bandwidth"] = {}
            payload.update(extra)
            event_type = f"compute.instance.{event}"
        out.append({
            "message_id": _uuid4(f"{start}/{n}"),
            "publisher_id": f"compute.{pub}",
            "event_type": event_type,
            "priority": "ERROR" if event_type.endswith("error") else "INFO",
            "payload": payload,
            "timestamp": str(now),
        })
    return out


def envelope(msg: dict[str, Any], request_id: str, n: int) -> dict[str, Any]:
    """The message as the AMQP driver of oslo.messaging 2.5.0 sends it (version 2.0)."""
    inner = dict(msg)
    inner["_unique_id"] = uuid.UUID(_uuid4(f"{request_id}/{n}")).hex
    context = {
        # oslo_context 0.6.0 RequestContext.to_dict
        "user": USER, "tenant": TENANT, "domain": None, "user_domain": None,
        "project_domain": None, "is_admin": False, "read_only": False, "show_deleted": False,
        "auth_token": "4a0d52f5c8c84bd5b4eb1cf0c0c6b0c1", "request_id": request_id,
        "resource_uuid": None, "user_identity": f"{USER} {TENANT} - - -",
        # nova/context.py RequestContext.to_dict
        "user_id": USER, "project_id": TENANT, "read_deleted": "no",
        "roles": ["admin", "_member_"], "remote_address": "192.168.0.10",
        "timestamp": "2016-04-17T13:30:00.101233", "quota_class": None, "user_name": "admin",
        "service_catalog": [], "project_name": "admin", "instance_lock_checked": False,
    }
    inner.update((f"_context_{k}", v) for k, v in context.items())
    return {"oslo.version": "2.0", "oslo.message": json.dumps(inner)}


def write_jsonl(name: str, records: list[dict[str, Any]]) -> None:
    (HERE / name).write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def main() -> None:
    confirm = messages(RESIZE + CONFIRM)
    revert = messages(RESIZE + REVERT)
    write_jsonl("notifications-resize-confirm.jsonl", confirm)
    write_jsonl("notifications-resize-revert.jsonl", revert)
    write_jsonl("notifications-resize-confirm-vm_state.jsonl",
                messages(RESIZE + CONFIRM, "vm_state"))
    (HERE / "notifications-resize-confirm-envelope.json").write_text(json.dumps(
        [envelope(m, "req-6c8b1c0e-0c6e-4d3f-9a40-3fb1e2f0b0a1", n)
         for n, m in enumerate(confirm)], indent=1) + "\n", encoding="utf-8")
    write_jsonl("notifications-resize-revert-envelope.jsonl",
                [envelope(m, "req-0d9f7d3a-8f7e-4b2a-9f39-5a7c0e2b6d44", n)
                 for n, m in enumerate(revert)])
    # resize.end (compute-1, after the finish_resize cast) seen after compute-2 began
    # finish_resize: the two hosts race
    late = [dict(m) for m in confirm]
    i = next(n for n, m in enumerate(late) if m["event_type"] == "compute.instance.resize.end")
    j = next(n for n, m in enumerate(late)
             if m["event_type"] == "compute.instance.finish_resize.start")
    moved = late.pop(i)
    late.insert(j, moved)
    for n, m in enumerate(late):
        m["timestamp"] = str(T0 + timedelta(milliseconds=250 * n))
    write_jsonl("notifications-resize-end-late.jsonl", late)
    # tampered: a second finish_resize.start with no new resize in between
    second = [dict(m) for m in confirm]
    k = next(n for n, m in enumerate(second)
             if m["event_type"] == "compute.instance.resize.confirm.start")
    again = dict(second[j])
    assert again["event_type"] == "compute.instance.finish_resize.start"
    second.insert(k, again)
    for n, m in enumerate(second):
        m["timestamp"] = str(T0 + timedelta(milliseconds=250 * n))
    write_jsonl("notifications-second-finish.jsonl", second)


if __name__ == "__main__":
    main()
