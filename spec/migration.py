"""Migration status transitions (docs/liberty-reference.md §1.4, §2.2).

Every write of ``migration.status`` is an unconditional ``migration.save()``: the last writer
wins and no writer checks what it overwrites. ``source`` lists the statuses each writing row is
designed to move from; migration-status-legal reports a write that lands on any other status
(such as the API's ``confirming`` over a concurrent ``reverting``).
"""

from __future__ import annotations

from .model import MigrationEdge
from .states import (
    CONFIRMED,
    CONFIRMING,
    FAILED,
    FINISHED,
    MIG_ERROR,
    MIGRATING,
    POST_MIGRATING,
    PRE_MIGRATING,
    REVERTED,
    REVERTING,
)

MGR = "nova/compute/manager.py:ComputeManager."
API = "nova/compute/api.py:API."

MIGRATION_EDGES: tuple[MigrationEdge, ...] = (
    MigrationEdge(
        "compute.prep_resize.resize_claim",
        PRE_MIGRATING,
        (),
        "nova/compute/resource_tracker.py:ResourceTracker._create_migration",
    ),
    MigrationEdge(
        "compute.prep_resize.claim_refused",
        PRE_MIGRATING,
        (),
        "nova/compute/resource_tracker.py:ResourceTracker._create_migration",
    ),
    MigrationEdge(
        "compute.prep_resize.claim_refused_injected",
        PRE_MIGRATING,
        (),
        "nova/compute/resource_tracker.py:ResourceTracker._create_migration",
    ),
    MigrationEdge(
        "compute.resize_instance.migrating", MIGRATING, (PRE_MIGRATING,), MGR + "resize_instance"
    ),
    MigrationEdge(
        "compute.resize_instance.post_migrating",
        POST_MIGRATING,
        (MIGRATING,),
        MGR + "resize_instance",
    ),
    MigrationEdge(
        "compute.finish_resize.finished", FINISHED, (POST_MIGRATING,), MGR + "_finish_resize"
    ),
    MigrationEdge(
        "api.confirm_resize.confirming", CONFIRMING, (FINISHED,), API + "confirm_resize"
    ),
    MigrationEdge(
        "compute.confirm_resize.confirmed",
        CONFIRMED,
        (FINISHED, CONFIRMING),
        MGR + "_confirm_resize",
    ),
    MigrationEdge("api.revert_resize.reverting", REVERTING, (FINISHED,), API + "revert_resize"),
    MigrationEdge("compute.revert_resize.reverted", REVERTED, (REVERTING,), MGR + "revert_resize"),
    MigrationEdge(
        "errors_out_migration.error",
        MIG_ERROR,
        (MIGRATING, POST_MIGRATING),
        "nova/compute/manager.py:errors_out_migration",
    ),
    MigrationEdge(
        "errors_out_migration.instance_not_found",
        MIG_ERROR,
        None,
        "nova/compute/manager.py:errors_out_migration",
    ),
    MigrationEdge(
        "compute.poll_unconfirmed_resizes.instance_not_found",
        MIG_ERROR,
        (FINISHED,),
        MGR + "_poll_unconfirmed_resizes",
    ),
    MigrationEdge(
        "compute.poll_unconfirmed_resizes.instance_error",
        MIG_ERROR,
        (FINISHED,),
        MGR + "_poll_unconfirmed_resizes",
    ),
    MigrationEdge(
        "compute.poll_unconfirmed_resizes.not_resized",
        MIG_ERROR,
        (FINISHED,),
        MGR + "_poll_unconfirmed_resizes",
    ),
    MigrationEdge(
        "compute.poll_unconfirmed_resizes.task_not_none",
        MIG_ERROR,
        (FINISHED,),
        MGR + "_poll_unconfirmed_resizes",
    ),
    MigrationEdge(
        "compute.cleanup_incomplete_migrations.failed",
        FAILED,
        (MIG_ERROR,),
        MGR + "_cleanup_incomplete_migrations",
    ),
)
