"""Compute service restart: ``init_host`` -> ``_init_instance`` for each instance whose host is
this host, then ``update_available_resource`` (pre_start_hook) before the service takes RPC
messages again (nova/compute/manager.py, docs/liberty-reference.md §3.5).

Only the rules that concern the resize family and the operations the model races with it are
rows; ``_init_instance`` rules for building, rebuilding, snapshots and reboots do not apply to
states this model reaches. No rule touches a migration row or a reservation.
"""

from __future__ import annotations

from .model import (
    Claim,
    Cond,
    Destroy,
    Driver,
    Goto,
    Handler,
    NotEq,
    Quota,
    Row,
    SaveInstance,
    Service,
    Set,
    Spawn,
)
from .states import (
    DELETED,
    DELETING,
    ERROR,
    POWERING_OFF,
    POWERING_ON,
    RESIZE_MIGRATING,
    RESIZE_PREP,
    SOFT_DELETED,
    STOPPED,
)

MGR = "nova/compute/manager.py:ComputeManager."

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "init_host",
        "compute",
        MGR + "init_host",
        "start",
        summary="start: _init_instance for each instance on this host, then the resource audit, "
        "then RPC",
    ),
    Handler(
        "init_instance",
        "compute",
        MGR + "_init_instance",
        "start",
        summary="restart recovery of one instance",
    ),
)

ROWS: tuple[Row, ...] = (
    Row(
        "compute.init_host.instances",
        "init_host",
        "start",
        MGR + "init_host",
        "InstanceList.get_by_host(self.host): _init_instance for each",
        effects=(Spawn("init_instance"),),
        then="wait",
    ),
    Row(
        "compute.init_host.start_rpc",
        "init_host",
        "wait",
        MGR + "pre_start_hook",
        "every instance initialised: update_available_resource, then the service consumes RPC",
        when=(Cond("self.init_pending", "==", 0),),
        effects=(Claim("audit"), Service("up")),
    ),
    Row(
        "compute.init_instance.soft_deleted",
        "init_instance",
        "start",
        MGR + "_init_instance",
        "vm_state soft-delete: skipped",
        when=(Cond("instance.vm_state", "==", SOFT_DELETED),),
    ),
    Row(
        "compute.init_instance.error",
        "init_instance",
        "start",
        MGR + "_init_instance",
        "vm_state error and task_state not resize_migrating/deleting: skipped",
        when=(
            Cond("instance.vm_state", "==", ERROR),
            Cond("instance.task_state", "not in", (RESIZE_MIGRATING, DELETING)),
        ),
    ),
    Row(
        "compute.init_instance.partial_deletion",
        "init_instance",
        "start",
        MGR + "_complete_partial_deletion",
        "vm_state deleted but the row not destroyed: instance.destroy(), reserve a new delete "
        "(instances -1, cores, ram) and commit it",
        when=(Cond("instance.vm_state", "==", DELETED),),
        effects=(Destroy(), Quota("reserve", "delete"), Quota("commit")),
        notify=("compute.instance.delete.end",),
    ),
    Row(
        "compute.init_instance.resize_prep",
        "init_instance",
        "start",
        MGR + "_init_instance",
        "task_state resize_prep (vm_state not error): task_state None, unguarded save; the "
        "migration row, the reservation and any in-flight cast are left alone",
        when=(
            Cond("instance.vm_state", "not in", (ERROR, SOFT_DELETED, DELETED)),
            Cond("instance.task_state", "==", RESIZE_PREP),
        ),
        effects=(Set("instance", "task_state", None), SaveInstance(None)),
        then="task",
    ),
    Row(
        "compute.init_instance.continue",
        "init_instance",
        "start",
        MGR + "_init_instance",
        "otherwise: go on through the rules",
        otherwise=True,
        then="task",
    ),
    Row(
        "compute.init_instance.deleting",
        "init_instance",
        "task",
        MGR + "_init_instance",
        "task_state deleting: reserve the delete again and run _delete_instance (failure: "
        "ERROR)",
        when=(Cond("instance.task_state", "==", DELETING),),
        effects=(
            Quota("reserve", "delete"),
            Goto(
                "terminate_instance",
                "delete_instance",
                chain=("delete_instance.except", "init_instance.delete_failed"),
            ),
        ),
    ),
    Row(
        "compute.init_instance.powering_off",
        "init_instance",
        "task",
        MGR + "_init_instance",
        "task_state powering-off: self.stop_instance again, the decorated method (its lock and "
        "reverts_task_state); an exception is only logged",
        when=(Cond("instance.task_state", "==", POWERING_OFF),),
        effects=(Goto("stop_instance", "start", chain=("reverts_task_state",)),),
    ),
    Row(
        "compute.init_instance.powering_on",
        "init_instance",
        "task",
        MGR + "_init_instance",
        "task_state powering-on: self.start_instance again, the decorated method (its "
        "reverts_task_state); an exception is only logged",
        when=(Cond("instance.task_state", "==", POWERING_ON),),
        effects=(Goto("start_instance", "start", chain=("reverts_task_state",)),),
    ),
    Row(
        "compute.init_instance.resize_migrating",
        "init_instance",
        "task",
        MGR + "_init_instance",
        "task_state resize_migrating (the source died in migrate_disk_and_power_off): "
        "driver.finish_revert_migration, powered on unless old_vm_state is stopped; an "
        "exception (the disk missing) is only logged, and the finally clause runs anyway",
        when=(Cond("instance.task_state", "==", RESIZE_MIGRATING),),
        effects=(
            Set("local", "power_on", NotEq("instance.old_vm_state", STOPPED)),
            Driver("restore_resize_copy"),
            Driver("spawn", power_on=NotEq("instance.old_vm_state", STOPPED)),
        ),
        then="clear_migrating",
        on_fail="clear_migrating",
    ),
    Row(
        "compute.init_instance.clear_migrating",
        "init_instance",
        "clear_migrating",
        MGR + "_init_instance",
        "finally: task_state None, unguarded save; vm_state unchanged; the migration stays "
        "migrating and the reservation pending",
        effects=(Set("instance", "task_state", None), SaveInstance(None)),
    ),
    Row(
        "compute.init_instance.nothing",
        "init_instance",
        "task",
        MGR + "_init_instance",
        "any other state (resize_migrated, resize_finish, resize_reverting, resized, ...): "
        "nothing is done",
        otherwise=True,
    ),
    Row(
        "init_instance.delete_failed.error_state",
        "init_instance.delete_failed",
        "start",
        MGR + "_init_instance",
        "'Failed to complete a deletion': _set_instance_obj_error_state",
        effects=(Set("instance", "vm_state", ERROR), SaveInstance(None)),
        on_fail="<end>",
    ),
)

HANDLERS = (
    *HANDLERS,
    Handler(
        "init_instance.delete_failed",
        "compute",
        MGR + "_init_instance",
        "start",
        summary="a failed restarted deletion: ERROR",
    ),
)
