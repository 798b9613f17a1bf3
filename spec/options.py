"""nova.conf options and driver capabilities the resize family reads, with Liberty's defaults.

The last four decide the notifications a step sends, not what the step does: whether
``compute.instance.update`` is sent and with which states, and the ``publisher_id`` each
notification carries (``compute.<CONF.host of the process that sent it>``, nova/rpc.py
get_notifier). Notifications are per-step output, never part of the state the checker explores.
"""

from __future__ import annotations

from .model import Option

OPTIONS: tuple[Option, ...] = (
    Option(
        "allow_resize_to_same_host",
        False,
        "nova/compute/api.py:API.resize",
        "When false the API puts the instance's host in ignore_hosts, so the scheduler never "
        "picks it.",
    ),
    Option(
        "resize_confirm_window",
        0,
        "nova/compute/manager.py:ComputeManager._poll_unconfirmed_resizes",
        "Seconds after which a finished resize is confirmed automatically; 0 disables it.",
    ),
    Option(
        "scheduler_max_attempts",
        3,
        "nova/scheduler/utils.py:populate_retry",
        "Scheduling attempts per request; 1 disables the retry dict and so rescheduling.",
    ),
    Option(
        "supports_migrate_to_same_host",
        False,
        "nova/compute/manager.py:ComputeManager._prep_resize",
        "Driver capability (libvirt: False): a migrate (same flavor) to the same host is refused "
        "with UnableToMigrateToSelf.",
    ),
    Option(
        "reclaim_instance_interval",
        0,
        "nova/api/openstack/compute/servers.py:ServersController._delete",
        "Seconds a soft-deleted instance is kept (nova/compute/manager.py defines it). When "
        "not 0, DELETE /servers/{id} soft-deletes (API.soft_delete) and each compute host's "
        "_reclaim_queued_deletes deletes its soft-deleted instances later; 0 deletes at once.",
    ),
    Option(
        "shared_storage",
        False,
        "nova/compute/manager.py:ComputeManager._is_instance_storage_shared",
        "Whether instance directories are on storage shared by the hosts (revert then keeps the "
        "files on the destination).",
    ),
    Option(
        "notify_on_state_change",
        None,
        "nova/notifications.py:notify_opts (read by send_update)",
        "Unset (Liberty's default): Instance.save sends no compute.instance.update. 'vm_state': "
        "every save that issues an UPDATE sends one, carrying old and new states when vm_state "
        "changed and the current states otherwise. 'vm_and_task_state': a task_state change "
        "carries its transition too.",
        choices=(None, "vm_state", "vm_and_task_state"),
    ),
    Option(
        "api_host",
        "controller",
        "nova/netconf.py:netconf_opts host (CONF.host of nova-api), nova/rpc.py:get_notifier",
        "The host nova-api runs on: its own Instance.save calls (resize, revert_resize, delete, "
        "stop, start) publish compute.instance.update as compute.<api_host>.",
    ),
    Option(
        "conductor_host",
        "controller",
        "nova/netconf.py:netconf_opts host (CONF.host of nova-conductor), nova/rpc.py:get_notifier",
        "The host nova-conductor runs on: its saves, and every compute-side Instance.save "
        "(remoted through conductor), publish compute.instance.update as compute.<conductor_host>.",
    ),
    Option(
        "conductor_use_local",
        False,
        "nova/conductor/api.py:conductor_opts use_local (read by nova/cmd/compute.py:main)",
        "[conductor] use_local: when true nova-compute saves instances itself, so its "
        "compute.instance.update notifications come from compute.<compute host>.",
    ),
)

DEFAULTS: dict[str, object] = {o.name: o.default for o in OPTIONS}
