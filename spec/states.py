"""States: vm_state, task_state, power_state, migration status, and the API status map.

Values are Nova's strings (nova/compute/vm_states.py, nova/compute/task_states.py,
nova/compute/power_state.py, the migration status literals in nova/compute/manager.py and
nova/compute/api.py). ``None`` is "no task".
"""

from __future__ import annotations

from .model import StatePair

# nova/compute/vm_states.py (the values these paths take)
ACTIVE = "active"
STOPPED = "stopped"
RESIZED = "resized"
ERROR = "error"
DELETED = "deleted"
SOFT_DELETED = "soft-delete"

VM_STATES: tuple[str, ...] = (ACTIVE, STOPPED, RESIZED, ERROR, DELETED, SOFT_DELETED)

# nova/compute/task_states.py (resize family and the operations that race with it)
RESIZE_PREP = "resize_prep"
RESIZE_MIGRATING = "resize_migrating"
RESIZE_MIGRATED = "resize_migrated"
RESIZE_FINISH = "resize_finish"
RESIZE_REVERTING = "resize_reverting"
RESIZE_CONFIRMING = "resize_confirming"  # defined in task_states.py, never assigned in 12.0.0
POWERING_OFF = "powering-off"
POWERING_ON = "powering-on"
DELETING = "deleting"
SOFT_DELETING = "soft-deleting"
RESTORING = "restoring"

TASK_STATES: tuple[str | None, ...] = (
    None,
    RESIZE_PREP,
    RESIZE_MIGRATING,
    RESIZE_MIGRATED,
    RESIZE_FINISH,
    RESIZE_REVERTING,
    RESIZE_CONFIRMING,
    POWERING_OFF,
    POWERING_ON,
    DELETING,
    SOFT_DELETING,
    RESTORING,
)

RESIZE_TASK_STATES: tuple[str, ...] = (
    RESIZE_PREP,
    RESIZE_MIGRATING,
    RESIZE_MIGRATED,
    RESIZE_FINISH,
    RESIZE_REVERTING,
)

# nova/compute/power_state.py
NOSTATE = 0
RUNNING = 1
PAUSED = 3
SHUTDOWN = 4
CRASHED = 6
SUSPENDED = 7

POWER_STATES: tuple[tuple[str, int], ...] = (
    ("NOSTATE", NOSTATE),
    ("RUNNING", RUNNING),
    ("PAUSED", PAUSED),
    ("SHUTDOWN", SHUTDOWN),
    ("CRASHED", CRASHED),
    ("SUSPENDED", SUSPENDED),
)

# `nova list` shows power_state by name (nova/api/openstack/compute/... via novaclient).
POWER_STATE_NAMES: dict[int, str] = {
    NOSTATE: "NOSTATE",
    RUNNING: "Running",
    PAUSED: "Paused",
    SHUTDOWN: "Shutdown",
    CRASHED: "Crashed",
    SUSPENDED: "Suspended",
}

# Migration.status literals on these paths (docs/liberty-reference.md §1.4).
PRE_MIGRATING = "pre-migrating"
MIGRATING = "migrating"
POST_MIGRATING = "post-migrating"
FINISHED = "finished"
CONFIRMING = "confirming"
CONFIRMED = "confirmed"
REVERTING = "reverting"
REVERTED = "reverted"
MIG_ERROR = "error"
FAILED = "failed"

MIGRATION_STATUSES: tuple[str, ...] = (
    PRE_MIGRATING,
    MIGRATING,
    POST_MIGRATING,
    FINISHED,
    CONFIRMING,
    CONFIRMED,
    REVERTING,
    REVERTED,
    MIG_ERROR,
    FAILED,
)

# nova/db/sqlalchemy/api.py:migration_get_in_progress_by_host_and_node excludes only these.
MIGRATION_NOT_IN_PROGRESS: tuple[str, ...] = (CONFIRMED, REVERTED, MIG_ERROR)

# Statuses nothing moves on by itself: at quiescence a migration in any other status is stuck.
MIGRATION_TERMINAL: tuple[str, ...] = (FINISHED, CONFIRMED, REVERTED, MIG_ERROR, FAILED)

# nova/api/openstack/common.py:_STATE_MAP, restricted to the vm_states above. A task_state not
# listed for a vm_state maps to that vm_state's 'default'.
STATE_MAP: dict[str, dict[str | None, str]] = {
    ACTIVE: {
        "default": "ACTIVE",
        RESIZE_PREP: "RESIZE",
        RESIZE_MIGRATING: "RESIZE",
        RESIZE_MIGRATED: "RESIZE",
        RESIZE_FINISH: "RESIZE",
    },
    STOPPED: {
        "default": "SHUTOFF",
        RESIZE_PREP: "RESIZE",
        RESIZE_MIGRATING: "RESIZE",
        RESIZE_MIGRATED: "RESIZE",
        RESIZE_FINISH: "RESIZE",
    },
    RESIZED: {
        "default": "VERIFY_RESIZE",
        RESIZE_REVERTING: "REVERT_RESIZE",
    },
    ERROR: {"default": "ERROR"},
    DELETED: {"default": "DELETED"},
    SOFT_DELETED: {"default": "SOFT_DELETED"},
}

_C = "nova/api/openstack/common.py:status_from_state"

# The (vm_state, task_state) pairs the resize family and its racing operations are designed to
# pass through. legal-state checks every reachable pair against this table; a pair Nova reaches
# that is not here (such as ('error', 'resize_migrating'), written by an error save that carries a
# failed save's dirty task_state) is a finding, not an engine error.
STATE_PAIRS: tuple[StatePair, ...] = (
    StatePair(ACTIVE, None, "ACTIVE", _C),
    StatePair(STOPPED, None, "SHUTOFF", _C),
    StatePair(ACTIVE, RESIZE_PREP, "RESIZE", _C),
    StatePair(STOPPED, RESIZE_PREP, "RESIZE", _C),
    StatePair(ACTIVE, RESIZE_MIGRATING, "RESIZE", _C),
    StatePair(STOPPED, RESIZE_MIGRATING, "RESIZE", _C),
    StatePair(ACTIVE, RESIZE_MIGRATED, "RESIZE", _C),
    StatePair(STOPPED, RESIZE_MIGRATED, "RESIZE", _C),
    StatePair(ACTIVE, RESIZE_FINISH, "RESIZE", _C),
    StatePair(STOPPED, RESIZE_FINISH, "RESIZE", _C),
    StatePair(RESIZED, None, "VERIFY_RESIZE", _C),
    StatePair(RESIZED, RESIZE_REVERTING, "REVERT_RESIZE", _C),
    StatePair(RESIZED, POWERING_OFF, "VERIFY_RESIZE", _C),
    StatePair(ACTIVE, POWERING_OFF, "ACTIVE", _C),
    StatePair(ERROR, POWERING_OFF, "ERROR", _C),
    StatePair(STOPPED, POWERING_ON, "SHUTOFF", _C),
    StatePair(ACTIVE, DELETING, "ACTIVE", _C),
    StatePair(STOPPED, DELETING, "SHUTOFF", _C),
    StatePair(RESIZED, DELETING, "VERIFY_RESIZE", _C),
    StatePair(ERROR, DELETING, "ERROR", _C),
    StatePair(ERROR, None, "ERROR", _C),
    StatePair(DELETED, None, "DELETED", _C),
    # soft delete (reclaim_instance_interval > 0): API.soft_delete accepts any vm_state, and
    # API.restore a soft-deleted instance with no task
    StatePair(ACTIVE, SOFT_DELETING, "ACTIVE", _C),
    StatePair(STOPPED, SOFT_DELETING, "SHUTOFF", _C),
    StatePair(RESIZED, SOFT_DELETING, "VERIFY_RESIZE", _C),
    StatePair(ERROR, SOFT_DELETING, "ERROR", _C),
    StatePair(SOFT_DELETED, SOFT_DELETING, "SOFT_DELETED", _C),
    StatePair(SOFT_DELETED, None, "SOFT_DELETED", _C),
    StatePair(SOFT_DELETED, RESTORING, "SOFT_DELETED", _C),
    # API.force_delete: any vm_state with no task, a soft-deleted one included
    StatePair(SOFT_DELETED, DELETING, "SOFT_DELETED", _C),
    StatePair(ERROR, RESIZE_PREP, "ERROR", _C, transient=True),
    StatePair(ERROR, RESIZE_MIGRATING, "ERROR", _C, transient=True),
    StatePair(ERROR, RESIZE_MIGRATED, "ERROR", _C, transient=True),
    StatePair(ERROR, RESIZE_FINISH, "ERROR", _C, transient=True),
    StatePair(ERROR, RESIZE_REVERTING, "ERROR", _C, transient=True),
)

# Which operation a task_state belongs to: the handlers of that operation may overwrite it;
# an unguarded save by any other handler overwriting it is reported by no-lost-update.
TASK_OWNERS: dict[str, tuple[str, ...]] = {
    RESIZE_PREP: ("resize", "migrate", "migrate_server", "prep_resize", "resize_instance"),
    RESIZE_MIGRATING: ("resize_instance",),
    RESIZE_MIGRATED: ("resize_instance", "finish_resize"),
    RESIZE_FINISH: ("finish_resize",),
    RESIZE_REVERTING: ("revert_resize", "finish_revert_resize"),
    POWERING_OFF: ("stop", "stop_instance", "finish_revert_resize"),
    POWERING_ON: ("start", "start_instance"),
    DELETING: ("delete", "force_delete", "terminate_instance", "init_instance"),
    SOFT_DELETING: ("delete", "soft_delete_instance"),
    RESTORING: ("restore", "restore_instance"),
}


def api_status(vm_state: str, task_state: str | None) -> str:
    """What ``nova list`` shows in the Status column (``status_from_state``)."""
    by_task = STATE_MAP.get(vm_state)
    if by_task is None:
        return "UNKNOWN"
    return by_task.get(task_state, by_task["default"])


# Every value Liberty defines, for telling a value Nova can write (but the model's paths do not
# reach) from one it never writes (a typo in an observation file, a made-up state).
# nova/compute/vm_states.py
LIBERTY_VM_STATES: tuple[str, ...] = (
    "active", "building", "paused", "suspended", "stopped", "rescued", "resized", "soft-delete",
    "deleted", "error", "shelved", "shelved_offloaded",
)
# nova/compute/task_states.py
LIBERTY_TASK_STATES: tuple[str, ...] = (
    "scheduling", "block_device_mapping", "networking", "spawning", "image_snapshot",
    "image_snapshot_pending", "image_pending_upload", "image_uploading", "image_backup",
    "updating_password", "resize_prep", "resize_migrating", "resize_migrated", "resize_finish",
    "resize_reverting", "resize_confirming", "rebooting", "reboot_pending", "reboot_started",
    "rebooting_hard", "reboot_pending_hard", "reboot_started_hard", "pausing", "unpausing",
    "suspending", "resuming", "powering-off", "powering-on", "rescuing", "unrescuing",
    "rebuilding", "rebuild_block_device_mapping", "rebuild_spawning", "migrating", "deleting",
    "soft-deleting", "restoring", "shelving", "shelving_image_pending_upload",
    "shelving_image_uploading", "shelving_offloading", "unshelving",
)
# nova/api/openstack/common.py:_STATE_MAP (every status it maps to) and status_from_state's
# 'UNKNOWN'
LIBERTY_STATUSES: tuple[str, ...] = (
    "ACTIVE", "BUILD", "CONFIRMING_RESIZE", "DELETED", "ERROR", "HARD_REBOOT", "MIGRATING",
    "PASSWORD", "PAUSED", "REBOOT", "REBUILD", "RESCUE", "RESIZE", "REVERT_RESIZE", "SHELVED",
    "SHELVED_OFFLOADED", "SHUTOFF", "SOFT_DELETED", "SUSPENDED", "UNKNOWN", "VERIFY_RESIZE",
)
