"""Operations that race with a resize on the compute hosts: ``terminate_instance`` (delete),
``stop_instance`` and ``start_instance`` (nova/compute/manager.py)."""

from __future__ import annotations

from .model import (
    Claim,
    Cond,
    Destroy,
    Driver,
    Handler,
    Lock,
    Quota,
    Raise,
    Row,
    SaveInstance,
    Set,
)
from .states import (
    ACTIVE,
    DELETED,
    NOSTATE,
    POWERING_OFF,
    POWERING_ON,
    RUNNING,
    SHUTDOWN,
    SOFT_DELETED,
    STOPPED,
)

MGR = "nova/compute/manager.py:ComputeManager."

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "terminate_instance",
        "compute",
        MGR + "terminate_instance",
        "start",
        scopes=(
            ("body", ("delete_instance.except", "terminate.except", "reverts_task_state")),
            ("lock", ()),
        ),
        summary="the host the API read: under the instance lock, destroy this host's copy, "
        "deleted, destroy the row, commit",
    ),
    Handler(
        "stop_instance",
        "compute",
        MGR + "stop_instance",
        "start",
        scopes=(("body", ("reverts_task_state",)), ("lock", ())),
        summary="power off, vm_state stopped",
    ),
    Handler(
        "start_instance",
        "compute",
        MGR + "start_instance",
        "start",
        scopes=(("body", ("reverts_task_state",)),),
        summary="power on, vm_state active",
    ),
)

ROWS: tuple[Row, ...] = (
    # ---- terminate_instance -> do_terminate_instance -> _delete_instance ----------------------
    Row(
        "compute.terminate_instance.lock",
        "terminate_instance",
        "start",
        MGR + "terminate_instance",
        "@utils.synchronized(instance.uuid) around do_terminate_instance",
        when=(Cond("self.lock", "falsy"),),
        effects=(Lock("acquire"),),
        then="delete_instance",
        scope="lock",
    ),
    Row(
        "compute.terminate_instance.soft_deleted",
        "terminate_instance",
        "delete_instance",
        MGR + "_delete_instance",
        "the instance as the handler got it is soft-deleted, its quota given back then: "
        "quotas.rollback() first (reservations None after it, so nothing is committed at the "
        "end)",
        when=(Cond("instance.vm_state", "==", SOFT_DELETED),),
        effects=(Quota("rollback"), Set("local", "reservations", None)),
        then="shutdown",
    ),
    Row(
        "compute.terminate_instance.delete_instance",
        "terminate_instance",
        "delete_instance",
        MGR + "_delete_instance",
        "not soft-deleted: on to the shutdown",
        otherwise=True,
        then="shutdown",
    ),
    Row(
        "compute.terminate_instance.shutdown",
        "terminate_instance",
        "shutdown",
        MGR + "_shutdown_instance",
        "delete.start; the driver destroys the guest and disk on this host only",
        effects=(Driver("destroy_guest"),),
        notify_before=("compute.instance.delete.start",),
        then="save_deleted",
    ),
    Row(
        "compute.terminate_instance.shutdown_fails",
        "terminate_instance",
        "shutdown",
        "nova/virt/driver.py:ComputeDriver.destroy",
        "injected: the driver raises while destroying the guest",
        fault="driver",
        effects=(Raise("Exception"),),
    ),
    Row(
        "compute.terminate_instance.save_deleted",
        "terminate_instance",
        "save_deleted",
        MGR + "_delete_instance",
        "vm_state deleted, task_state None, power_state NOSTATE, unguarded save; resource "
        "tracker update_usage",
        effects=(
            Set("instance", "vm_state", DELETED),
            Set("instance", "task_state", None),
            Set("instance", "power_state", NOSTATE),
            SaveInstance(None),
            Claim("update_usage"),
        ),
        then="destroy",
    ),
    Row(
        "compute.terminate_instance.destroy",
        "terminate_instance",
        "destroy",
        MGR + "_delete_instance",
        "instance.destroy()",
        effects=(Destroy(),),
        then="commit",
    ),
    Row(
        "compute.terminate_instance.commit",
        "terminate_instance",
        "commit",
        MGR + "_complete_deletion",
        "quotas.commit() of the delete reservation; delete.end",
        effects=(Quota("commit"),),
        notify=("compute.instance.delete.end",),
    ),
    # ---- stop_instance ------------------------------------------------------------------------
    Row(
        "compute.stop_instance.lock",
        "stop_instance",
        "start",
        MGR + "stop_instance",
        "@utils.synchronized(instance.uuid) around do_stop_instance",
        when=(Cond("self.lock", "falsy"),),
        effects=(Lock("acquire"),),
        then="power_off",
        scope="lock",
    ),
    Row(
        "compute.stop_instance.power_off",
        "stop_instance",
        "power_off",
        MGR + "stop_instance",
        "guest running: power off; power_state from the driver, vm_state stopped, task_state "
        "None, save(expected_task_state=[powering-off])",
        when=(Cond("self.guest_running", "truthy"),),
        effects=(
            Driver("power_off"),
            Set("instance", "power_state", SHUTDOWN),
            Set("instance", "vm_state", STOPPED),
            Set("instance", "task_state", None),
            SaveInstance((POWERING_OFF,)),
        ),
        notify_before=("compute.instance.power_off.start",),
        notify=("compute.instance.power_off.end",),
        note="The driver call and the save are one step here.",
    ),
    Row(
        "compute.stop_instance.already_off",
        "stop_instance",
        "power_off",
        MGR + "stop_instance",
        "guest already off: the same with expected_task_state=[powering-off, None]",
        when=(Cond("self.guest_running", "falsy"),),
        effects=(
            Set("instance", "power_state", SHUTDOWN),
            Set("instance", "vm_state", STOPPED),
            Set("instance", "task_state", None),
            SaveInstance((POWERING_OFF, None)),
        ),
        notify_before=("compute.instance.power_off.start",),
        notify=("compute.instance.power_off.end",),
    ),
    # ---- start_instance -----------------------------------------------------------------------
    Row(
        "compute.start_instance.power_on",
        "start_instance",
        "start",
        MGR + "start_instance",
        "power on; power_state from the driver, vm_state active, task_state None, "
        "save(expected_task_state=powering-on)",
        effects=(
            Driver("spawn", power_on=True),
            Set("instance", "power_state", RUNNING),
            Set("instance", "vm_state", ACTIVE),
            Set("instance", "task_state", None),
            SaveInstance((POWERING_ON,)),
        ),
        notify_before=("compute.instance.power_on.start",),
        notify=("compute.instance.power_on.end",),
    ),
)
