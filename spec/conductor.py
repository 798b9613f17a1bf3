"""nova-conductor's cold migration (``migrate_server`` -> ``_cold_migrate`` -> MigrationTask) and
the scheduler's ``select_destinations``.

The scheduler only reads; its choice among the hosts that pass the filters depends on weights the
model does not track, so every passing host is a possible choice. The conductor service itself is
not crashed by the model.
"""

from __future__ import annotations

from .model import (
    Cond,
    Default,
    FreshSave,
    Handler,
    Inc,
    Quota,
    Raise,
    Ref,
    Row,
    SelectDestination,
    Send,
    Set,
)
from .states import ACTIVE

COND = "nova/conductor/manager.py:ComputeTaskManager."
MTASK = "nova/conductor/tasks/migrate.py:MigrationTask."

# nova/scheduler/host_manager.py scheduler_default_filters, those that decide on this model's
# data, in the order the filter scheduler applies them (ignore_hosts is stripped first).
SCHEDULER_FILTERS: tuple[tuple[str, str, str], ...] = (
    (
        "ignore_hosts",
        "nova/scheduler/host_manager.py:HostManager.get_filtered_hosts",
        "drop the hosts in filter_properties['ignore_hosts'] (the instance's own host unless "
        "allow_resize_to_same_host)",
    ),
    (
        "RetryFilter",
        "nova/scheduler/filters/retry_filter.py:RetryFilter.host_passes",
        "drop the hosts already tried by this request (filter_properties['retry']['hosts'])",
    ),
    (
        "ComputeFilter",
        "nova/scheduler/filters/compute_filter.py:ComputeFilter.host_passes",
        "drop hosts whose compute service is not up",
    ),
    (
        "RamFilter",
        "nova/scheduler/filters/ram_filter.py:BaseRamFilter.host_passes",
        "keep hosts whose free RAM (limit minus the tracker's usage) holds the flavor's memory_mb",
    ),
    (
        "DiskFilter",
        "nova/scheduler/filters/disk_filter.py:DiskFilter.host_passes",
        "keep hosts whose free disk holds the flavor's root_gb",
    ),
)

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "conductor.migrate_server",
        "conductor",
        COND + "migrate_server",
        "start",
        scopes=(("body", ("conductor.task_rollback", "conductor.cold_migrate.except")),),
        summary="MigrationTask: populate_retry, select_destinations, cast prep_resize",
    ),
    Handler(
        "conductor.task_rollback",
        "conductor",
        "nova/conductor/tasks/base.py:rollback_wrapper",
        "start",
        summary="TaskBase.execute's rollback_wrapper: MigrationTask.rollback",
    ),
    Handler(
        "conductor.cold_migrate.except",
        "conductor",
        COND + "_cold_migrate",
        "start",
        summary="_cold_migrate's except clauses: set_vm_state_and_notify, re-raise",
    ),
)

ROWS: tuple[Row, ...] = (
    Row(
        "conductor.migrate_server.populate_retry",
        "conductor.migrate_server",
        "start",
        "nova/scheduler/utils.py:populate_retry",
        "scheduler_max_attempts > 1: retry['num_attempts'] += 1",
        when=(Cond("config.scheduler_max_attempts", ">", 1),),
        effects=(Set("local", "attempts", Inc("local.attempts")),),
        then="check_retry",
    ),
    Row(
        "conductor.migrate_server.retry_disabled",
        "conductor.migrate_server",
        "start",
        "nova/scheduler/utils.py:populate_retry",
        "scheduler_max_attempts == 1: no retry dict, so no reschedule later",
        otherwise=True,
        then="select",
    ),
    Row(
        "conductor.migrate_server.max_retries",
        "conductor.migrate_server",
        "check_retry",
        "nova/scheduler/utils.py:populate_retry",
        "num_attempts > scheduler_max_attempts: MaxRetriesExceeded (a NoValidHost)",
        when=(Cond("local.attempts", ">", Ref("config.scheduler_max_attempts")),),
        effects=(Raise("MaxRetriesExceeded"),),
    ),
    Row(
        "conductor.migrate_server.retry_ok",
        "conductor.migrate_server",
        "check_retry",
        "nova/scheduler/utils.py:populate_retry",
        "attempts left",
        otherwise=True,
        then="select",
    ),
    Row(
        "conductor.migrate_server.select_destinations",
        "conductor.migrate_server",
        "select",
        MTASK + "_execute",
        "Quotas.from_reservations; scheduler select_destinations (NoValidHost when no host "
        "passes); populate_filter_properties; cast prep_resize to the chosen host",
        effects=(
            SelectDestination(),
            Send(
                "cast",
                "prep_resize",
                "local.host",
                (
                    ("flavor", Ref("local.flavor")),
                    ("reservations", Ref("local.reservations")),
                    ("attempts", Ref("local.attempts")),
                    ("tried", Ref("local.tried")),
                    ("ignore_hosts", Ref("local.ignore_hosts")),
                ),
            ),
        ),
    ),
    Row(
        "conductor.migrate_server.no_valid_host",
        "conductor.migrate_server",
        "select",
        "nova/scheduler/filter_scheduler.py:FilterScheduler.select_destinations",
        "injected: the scheduler finds no valid host (weighers, filters the model does not "
        "track)",
        fault="no_valid_host",
        effects=(Raise("NoValidHost"),),
    ),
    Row(
        "conductor.task_rollback.rollback",
        "conductor.task_rollback",
        "start",
        MTASK + "rollback",
        "quotas.rollback() of the resize reservation, then the exception goes on",
        effects=(Quota("rollback"),),
        then="<raise>",
    ),
    Row(
        "conductor.cold_migrate.no_valid_host",
        "conductor.cold_migrate.except",
        "start",
        COND + "_cold_migrate",
        "NoValidHost: set_vm_state_and_notify writes vm_state (the conductor's copy) and "
        "task_state None with a fresh unguarded save; raise NoValidHost",
        when=(Cond("exc", "in", ("NoValidHost", "MaxRetriesExceeded")),),
        effects=(
            FreshSave(
                (("vm_state", Default("instance.vm_state", ACTIVE)), ("task_state", None))
            ),
            Raise("NoValidHost"),
        ),
        then="<raise>",
    ),
    Row(
        "conductor.cold_migrate.other",
        "conductor.cold_migrate.except",
        "start",
        COND + "_cold_migrate",
        "any other exception: the same fresh unguarded save, re-raise",
        otherwise=True,
        effects=(
            FreshSave((("vm_state", Ref("instance.vm_state")), ("task_state", None))),
        ),
        then="<raise>",
    ),
)
