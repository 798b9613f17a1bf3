"""How a compute host's resource tracker counts instances and migrations
(nova/compute/resource_tracker.py).

``update_available_resource`` (the periodic audit, also run when a compute service starts)
rebuilds the host's usage from the database: every instance whose ``host`` is this host and
whose vm_state is not deleted counts with its current flavor; then every in-progress migration
touching the host (status not in confirmed, reverted, error) whose instance is in a resize state
counts by :data:`USAGE_RULES`, the most recent migration per instance only.
Between audits, ``resize_claim`` adds the incoming flavor at once, ``drop_move_claim`` removes a
tracked migration (and its usage only when the flavor it is given matches the tracked one), and
``update_usage`` (from ``_instance_update`` and the delete path) adds an instance the tracker does
not know yet and removes a deleted one.
"""

from __future__ import annotations

from .model import UsageRule
from .states import (
    ACTIVE,
    RESIZE_FINISH,
    RESIZE_MIGRATED,
    RESIZE_MIGRATING,
    RESIZE_PREP,
    RESIZED,
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
