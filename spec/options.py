"""nova.conf options and driver capabilities the resize family reads, with Liberty's defaults."""

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
)

DEFAULTS: dict[str, object] = {o.name: o.default for o in OPTIONS}
