"""How a compute host's resource tracker counts instances and migrations
(nova/compute/resource_tracker.py).

``update_available_resource`` (the periodic audit, also run when a compute service starts)
rebuilds the host's usage from the database: every instance whose ``host`` is this host and
whose vm_state is not deleted counts with its current flavor; then every in-progress migration
touching the host (status not in confirmed, reverted, error) whose instance is in a resize state
counts by :data:`USAGE_RULES`, the most recent migration per instance only.
Between audits, ``resize_claim`` adds the incoming flavor at once, ``drop_move_claim`` removes a
tracked migration (and its usage only when the flavor it is given matches the tracked one), and
``update_usage`` (from ``_instance_update`` and the delete path) acts only on an instance the
tracker already tracks: it removes a deleted one; an instance it does not track changes nothing
until the next audit. Which migration counts when an instance has several, and the other rules
Nova's later patches changed, are :data:`TRACKER_RULES`.
"""

from __future__ import annotations

from .model import TrackerRules, UsageRule
from .states import (
    ACTIVE,
    CONFIRMED,
    MIG_ERROR,
    RESIZE_FINISH,
    RESIZE_MIGRATED,
    RESIZE_MIGRATING,
    RESIZE_PREP,
    RESIZED,
    REVERTED,
    STOPPED,
)

_RT = "nova/compute/resource_tracker.py:"

# _instance_in_resize_state: vm_state resized (any task), or active/stopped with a resize task.
# (REBUILDING is in Nova's list too; rebuild is outside this model.)
RESIZE_STATES: tuple[tuple[str, tuple[str | None, ...] | None], ...] = (
    (RESIZED, None),
    (ACTIVE, (RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH)),
    (STOPPED, (RESIZE_PREP, RESIZE_MIGRATING, RESIZE_MIGRATED, RESIZE_FINISH)),
)

USAGE_RULES: tuple[UsageRule, ...] = (
    UsageRule(
        "same_node",
        False,
        "other",
        _RT + "ResourceTracker._update_usage_from_migration",
        "same-node resize: hold the flavor the instance is not in (new while its flavor is the "
        "migration's old one, old after finish_resize switched it)",
    ),
    UsageRule(
        "incoming",
        True,
        "new_",
        _RT + "ResourceTracker._update_usage_from_migration",
        "incoming and not yet an instance of this host: the new flavor",
    ),
    UsageRule(
        "outbound",
        True,
        "old_",
        _RT + "ResourceTracker._update_usage_from_migration",
        "outbound and no longer an instance of this host: the old flavor, held for a revert",
    ),
)

# _is_trackable_migration
TRACKABLE_MIGRATION_TYPES: tuple[str, ...] = ("resize", "migration", "evacuation")

# _get_instance_type: ``migration.migration_type in ('resize')`` -- a substring test on the string
# 'resize', which only 'resize' passes among the types that occur. Other types count
# instance.flavor instead of the stashed flavor.
STASHED_FLAVOR_MIGRATION_TYPES: tuple[str, ...] = ("resize",)

TRACKER_RULES = TrackerRules(
    # migration_get_in_progress_by_host_and_node (nova/db/sqlalchemy/api.py): 'failed' is still
    # "in progress" in 12.0.0 (3bc45979f1, bug 1543123, removed it in 12.0.4)
    in_progress_excluded=(CONFIRMED, REVERTED, MIG_ERROR),
    # _update_usage_from_migrations: `migration.updated_at >= other.updated_at` on Python 2.7
    latest_migration="updated_at_py27",
    # update_usage: "don't update usage for this instance unless it submitted a resource claim
    # first"
    update_usage_tracked_only=True,
    # drop_move_claim: `instance_type.id == itype['id']` (25bc5a6639, bug 1647370, dropped it)
    drop_needs_flavor_match=True,
    # MoveClaim._claim_test and the RamFilter/DiskFilter: memory and disk; vcpus are not limited
    # by default (cpu_allocation_ratio with no vcpus limit in the claim)
    claim_resources=("memory_mb", "root_gb"),
    cite=_RT + "ResourceTracker._update_usage_from_migrations",
)
