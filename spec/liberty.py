"""The Liberty (nova 12.0.0) specification, assembled from the tables."""

from __future__ import annotations

from . import (
    api,
    compute_confirm_revert,
    compute_lifecycle,
    compute_resize,
    conductor,
    errors,
    flavors,
    periodic,
    recovery,
    soft_delete,
)
from .faults import FAULTS
from .migration import MIGRATION_EDGES
from .model import Spec
from .options import OPTIONS
from .quota import QUOTA_DELTAS
from .resource_tracker import (
    RESIZE_STATES,
    STASHED_FLAVOR_MIGRATION_TYPES,
    TRACKABLE_MIGRATION_TYPES,
    TRACKER_RULES,
    USAGE_RULES,
)
from .states import MIGRATION_STATUSES, POWER_STATES, STATE_PAIRS, TASK_STATES, VM_STATES

_TABLES = (api, conductor, compute_resize, compute_confirm_revert, compute_lifecycle, errors,
           recovery, periodic, soft_delete, flavors)

LIBERTY = Spec(
    name="nova 12.0.0 (Liberty)",
    vm_states=VM_STATES,
    task_states=TASK_STATES,
    power_states=POWER_STATES,
    migration_statuses=MIGRATION_STATUSES,
    state_pairs=STATE_PAIRS,
    operations=api.OPERATIONS + soft_delete.OPERATIONS + flavors.OPERATIONS,
    handlers=tuple(h for t in _TABLES for h in t.HANDLERS),
    rows=tuple(r for t in _TABLES for r in t.ROWS),
    migration_edges=MIGRATION_EDGES,
    scheduler_filters=conductor.SCHEDULER_FILTERS,
    options=OPTIONS,
    faults=FAULTS,
    quota_deltas=QUOTA_DELTAS,
    resize_states=RESIZE_STATES,
    usage_rules=USAGE_RULES,
    trackable_migration_types=TRACKABLE_MIGRATION_TYPES,
    stashed_flavor_migration_types=STASHED_FLAVOR_MIGRATION_TYPES,
    tracker=TRACKER_RULES,
)
