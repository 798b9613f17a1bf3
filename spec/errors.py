"""Error handlers: the decorators and context managers that run when a compute or conductor step
raises (nova/compute/manager.py, docs/liberty-reference.md §2.4 and §3).

A handler's scope names a chain of these, innermost first. Each row is a step of its own (its
saves are separate database transactions). ``<raise>`` passes the exception to the next handler
in the chain; ``<end>`` swallows it and the method returns normally. The notification-only
decorators (wrap_exception, wrap_instance_event, wrap_instance_fault) change no state and have no
rows.
"""

from __future__ import annotations

from .model import (
    Claim,
    Cond,
    Handler,
    Quota,
    Raise,
    Ref,
    Row,
    SaveInstance,
    SaveMigration,
    Send,
    Set,
)
from .states import ACTIVE, ERROR, MIG_ERROR, MIGRATING, POST_MIGRATING, RESIZE_PREP

MGR = "nova/compute/manager.py:ComputeManager."

UNEXPECTED_TASK_STATE = ("UnexpectedTaskStateError", "UnexpectedDeletingTaskStateError")

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "error_out",
        "compute",
        MGR + "_error_out_instance_on_exception",
        "start",
        summary="roll the quota back; ACTIVE for NotImplementedError/InstanceFaultRollback, "
        "else ERROR (task_state kept)",
    ),
    Handler(
        "errors_out_migration",
        "compute",
        "nova/compute/manager.py:errors_out_migration",
        "start",
        summary="migration 'error' if the in-memory status is migrating/post-migrating",
    ),
    Handler(
        "reverts_task_state",
        "compute",
        "nova/compute/manager.py:reverts_task_state",
        "start",
        summary="task_state None (unguarded) unless the failure was UnexpectedTaskStateError",
    ),
    Handler(
        "reschedule_or_reraise",
        "compute",
        MGR + "_reschedule_resize_or_reraise",
        "start",
        summary="prep_resize failures: reschedule through the conductor, or re-raise",
    ),
    Handler(
        "finish_resize.except",
        "compute",
        MGR + "finish_resize",
        "start",
        summary="finish_resize's own except: rollback, ERROR",
    ),
    Handler(
        "delete_instance.except",
        "compute",
        MGR + "_delete_instance",
        "start",
        summary="_delete_instance's except: quotas.rollback()",
    ),
    Handler(
        "terminate.except",
        "compute",
        MGR + "terminate_instance",
        "start",
        summary="do_terminate_instance: InstanceNotFound is ignored, anything else ERROR",
    ),
)

ROWS: tuple[Row, ...] = (
    # ---- _error_out_instance_on_exception ------------------------------------------------------
    Row(
        "error_out.rollback",
        "error_out",
        "start",
        MGR + "_error_out_instance_on_exception",
        "quotas.rollback() (every branch does it first)",
        effects=(Quota("rollback"),),
        then="state",
    ),
    Row(
        "error_out.not_implemented",
        "error_out",
        "state",
        MGR + "_error_out_instance_on_exception",
        "NotImplementedError: _instance_update(vm_state=ACTIVE, task_state=None), unguarded",
        when=(Cond("exc", "==", "NotImplementedError"),),
        effects=(
            Set("instance", "vm_state", ACTIVE),
            Set("instance", "task_state", None),
            SaveInstance(None),
            Claim("update_usage"),
        ),
        then="<raise>",
    ),
    Row(
        "error_out.fault_rollback",
        "error_out",
        "state",
        MGR + "_error_out_instance_on_exception",
        "InstanceFaultRollback: _instance_update(vm_state=ACTIVE, task_state=None) -- ACTIVE "
        "even for a stopped instance; raise the inner exception",
        when=(Cond("exc", "==", "InstanceFaultRollback"),),
        effects=(
            Set("instance", "vm_state", ACTIVE),
            Set("instance", "task_state", None),
            SaveInstance(None),
            Claim("update_usage"),
            Raise("ResizeError"),
        ),
        then="<raise>",
    ),
    Row(
        "error_out.error_state",
        "error_out",
        "state",
        MGR + "_set_instance_obj_error_state",
        "any other exception (UnexpectedTaskStateError included): vm_state ERROR, task_state "
        "kept, unguarded save that also writes the fields a failed save left dirty; "
        "InstanceNotFound swallowed",
        otherwise=True,
        effects=(Set("instance", "vm_state", ERROR), SaveInstance(None)),
        then="<raise>",
        on_fail="<raise>",
    ),
    # ---- errors_out_migration ------------------------------------------------------------------
    Row(
        "errors_out_migration.error",
        "errors_out_migration",
        "start",
        "nova/compute/manager.py:errors_out_migration",
        "in-memory migration.status migrating or post-migrating: status 'error', unguarded save",
        when=(
            Cond("exc", "!=", "InstanceNotFound"),
            Cond("migration.status", "in", (MIGRATING, POST_MIGRATING)),
        ),
        effects=(Set("migration", "status", MIG_ERROR), SaveMigration()),
        then="<raise>",
    ),
    Row(
        "errors_out_migration.instance_not_found",
        "errors_out_migration",
        "start",
        "nova/compute/manager.py:errors_out_migration",
        "InstanceNotFound: status 'error' whatever it was",
        when=(Cond("exc", "==", "InstanceNotFound"),),
        effects=(Set("migration", "status", MIG_ERROR), SaveMigration()),
        then="<raise>",
    ),
    Row(
        "errors_out_migration.keep",
        "errors_out_migration",
        "start",
        "nova/compute/manager.py:errors_out_migration",
        "any other status (pre-migrating, finished, reverting, reverted...): left as it is",
        otherwise=True,
        then="<raise>",
    ),
    # ---- reverts_task_state --------------------------------------------------------------------
    Row(
        "reverts_task_state.preempted",
        "reverts_task_state",
        "start",
        "nova/compute/manager.py:reverts_task_state",
        "UnexpectedTaskStateError: 'Task possibly preempted', task_state left alone",
        when=(Cond("exc", "in", UNEXPECTED_TASK_STATE),),
        then="<raise>",
    ),
    Row(
        "reverts_task_state.revert",
        "reverts_task_state",
        "start",
        "nova/compute/manager.py:reverts_task_state",
        "any other exception: _instance_update(task_state=None), unguarded; its own failures "
        "swallowed",
        otherwise=True,
        effects=(Set("instance", "task_state", None), SaveInstance(None), Claim("update_usage")),
        then="<raise>",
        on_fail="<raise>",
    ),
    # ---- _reschedule_resize_or_reraise -> _reschedule -----------------------------------------
    Row(
        "reschedule.no_retry",
        "reschedule_or_reraise",
        "start",
        MGR + "_reschedule",
        "no retry in filter_properties (scheduler_max_attempts == 1): not rescheduled, "
        "re-raise the original exception",
        when=(Cond("local.attempts", "falsy"),),
        then="<raise>",
    ),
    Row(
        "reschedule.call_conductor",
        "reschedule_or_reraise",
        "start",
        MGR + "_reschedule",
        "_instance_update(task_state=resize_prep), unguarded; call conductor migrate_server "
        "with the same reservations and the retry record, and wait",
        when=(Cond("local.attempts", "truthy"),),
        effects=(
            Set("instance", "task_state", RESIZE_PREP),
            SaveInstance(None),
            Claim("update_usage"),
            Send(
                "call",
                "migrate_server",
                "conductor",
                (
                    ("flavor", Ref("local.flavor")),
                    ("reservations", Ref("local.reservations")),
                    ("attempts", Ref("local.attempts")),
                    ("tried", Ref("local.tried")),
                    ("ignore_hosts", Ref("local.ignore_hosts")),
                ),
                wait=True,
            ),
        ),
        then="reply",
        on_fail="<raise>",
    ),
    Row(
        "reschedule.rescheduled",
        "reschedule_or_reraise",
        "reply",
        MGR + "_reschedule_resize_or_reraise",
        "the conductor took the request elsewhere: fault recorded, resize.error; prep_resize "
        "returns normally",
        when=(Cond("local.reply", "==", "ok"),),
        notify=("compute.instance.resize.error", "compute.instance.resize.prep.end"),
        then="<end>",
    ),
    Row(
        "reschedule.failed",
        "reschedule_or_reraise",
        "reply",
        MGR + "_reschedule_resize_or_reraise",
        "the reschedule raised (NoValidHost, MaxRetriesExceeded, a timeout): resize.error, "
        "re-raise the original exception",
        when=(Cond("local.reply", "!=", "ok"),),
        notify=("compute.instance.resize.error", "compute.instance.resize.prep.end"),
        then="<raise>",
    ),
    # ---- finish_resize's except ----------------------------------------------------------------
    Row(
        "finish_resize.except.rollback",
        "finish_resize.except",
        "start",
        MGR + "finish_resize",
        "quotas.rollback() of the upsize (its own failure is logged)",
        effects=(Quota("rollback"),),
        then="error_state",
    ),
    Row(
        "finish_resize.except.error_state",
        "finish_resize.except",
        "error_state",
        MGR + "_set_instance_obj_error_state",
        "vm_state ERROR, unguarded save (dirty fields included), re-raise",
        effects=(Set("instance", "vm_state", ERROR), SaveInstance(None)),
        then="<raise>",
        on_fail="<raise>",
    ),
    # ---- _delete_instance / terminate_instance excepts -----------------------------------------
    Row(
        "delete_instance.except.rollback",
        "delete_instance.except",
        "start",
        MGR + "_delete_instance",
        "quotas.rollback() of the delete reservation, re-raise",
        effects=(Quota("rollback"),),
        then="<raise>",
    ),
    Row(
        "terminate.except.instance_not_found",
        "terminate.except",
        "start",
        MGR + "terminate_instance",
        "InstanceNotFound: 'Instance disappeared during terminate', return",
        when=(Cond("exc", "==", "InstanceNotFound"),),
        then="<end>",
    ),
    Row(
        "terminate.except.error_state",
        "terminate.except",
        "start",
        MGR + "terminate_instance",
        "anything else: _set_instance_obj_error_state, re-raise",
        otherwise=True,
        effects=(Set("instance", "vm_state", ERROR), SaveInstance(None)),
        then="<raise>",
        on_fail="<raise>",
    ),
)
