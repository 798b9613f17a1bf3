"""Soft delete, restore and reclaim, when ``reclaim_instance_interval`` is set (0, Liberty's
default, turns all of it off).

nova-api's side of a soft delete is the ``api.delete`` handler (``API._delete`` serves both, with
a callback: see nova_resize.spec.api); this module has what the soft delete leads to: the
compute host's ``soft_delete_instance``, the ``restore`` request and its ``restore_instance``,
and the periodic ``_reclaim_queued_deletes`` that deletes soft-deleted instances for good
(nova/compute/api.py, nova/compute/manager.py, nova/api/openstack/compute/deferred_delete.py).

libvirt implements neither ``soft_delete`` nor ``restore``: the manager falls back to powering
the guest off and on.
"""

from __future__ import annotations

from .model import (
    ApiOperation,
    Cond,
    Driver,
    Goto,
    Handler,
    Quota,
    Raise,
    Refuse,
    Row,
    SaveInstance,
    Send,
    Set,
    Spawn,
)
from .states import (
    ACTIVE,
    RESTORING,
    RUNNING,
    SHUTDOWN,
    SOFT_DELETED,
    SOFT_DELETING,
)

API = "nova/compute/api.py:API."
MGR = "nova/compute/manager.py:ComputeManager."

OPERATIONS: tuple[ApiOperation, ...] = (
    ApiOperation(
        name="restore",
        cite=API + "restore",
        handler="api.restore",
        lock_check=True,
        vm_states=(SOFT_DELETED,),
        task_states=(None,),
        must_have_launched=True,
        quota="restore",
        sends="cast compute.restore_instance to instance.host",
        summary="POST /servers/{id}/action {restore: null} (os-deferred-delete)",
        instance_action="restore",
    ),
    ApiOperation(
        name="force_delete",
        cite=API + "force_delete",
        handler="api.delete",
        lock_check=True,
        vm_states=None,
        task_states=(None,),
        must_have_launched=False,
        quota="delete",
        sends="cast compute.terminate_instance to instance.host (_do_force_delete), with no "
        "reservation for a soft-deleted instance",
        summary="POST /servers/{id}/action {forceDelete: null} (os-deferred-delete): _delete "
        "with task_state deleting whatever reclaim_instance_interval says; any vm_state, no "
        "task",
        instance_action="delete",
        hands=(("force", True),),
    ),
)

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "api.restore",
        "api",
        API + "restore",
        "start",
        scopes=(("body", ("api.restore.except",)), ("save", ("api.restore.save_failed",))),
        summary="reserve one instance again, restoring (or active without a host), cast, "
        "commit",
    ),
    Handler(
        "api.restore.except",
        "api",
        API + "_check_num_instances_quota",
        "start",
        summary="OverQuota from the reservation becomes TooManyInstances (HTTP 403)",
    ),
    Handler(
        "api.restore.save_failed",
        "api",
        API + "restore",
        "start",
        summary="the save (or the cast) raised: roll the reservation back, re-raise",
    ),
    Handler(
        "soft_delete_instance",
        "compute",
        MGR + "soft_delete_instance",
        "start",
        scopes=(("body", ("soft_delete_instance.except", "reverts_task_state")),),
        summary="power the guest off, soft-delete, commit the delete reservation",
    ),
    Handler(
        "soft_delete_instance.except",
        "compute",
        MGR + "soft_delete_instance",
        "start",
        summary="its own except: quotas.rollback(), re-raise",
    ),
    Handler(
        "restore_instance",
        "compute",
        MGR + "restore_instance",
        "start",
        scopes=(("body", ("reverts_task_state",)),),
        summary="power the guest on, active",
    ),
    Handler(
        "reclaim_queued_deletes",
        "compute",
        MGR + "_reclaim_queued_deletes",
        "start",
        summary="this host's soft-deleted instances with no task: _delete_instance each",
    ),
    Handler(
        "reclaim_instance",
        "compute",
        MGR + "_reclaim_queued_deletes",
        "start",
        summary="one instance of the reclaim's query: _delete_instance with empty quotas",
    ),
    Handler(
        "reclaim_instance.except",
        "compute",
        MGR + "_reclaim_queued_deletes",
        "start",
        summary="a failed reclaim is logged; the instance stays soft-deleted",
    ),
)

ROWS: tuple[Row, ...] = (
    # ---- API.restore -----------------------------------------------------------------------
    Row(
        "api.restore.reserve",
        "api.restore",
        "start",
        API + "_check_num_instances_quota",
        "reserve instances +1, cores and ram of the instance's flavor (the stashed one); "
        "OverQuota refuses the request",
        effects=(Quota("reserve", "restore"),),
        then="save",
    ),
    Row(
        "api.restore.restoring",
        "api.restore",
        "save",
        API + "restore",
        "with a host: task_state restoring, deleted_at None, save(expected_task_state=[None]); "
        "cast restore_instance to instance.host",
        when=(Cond("instance.host", "truthy"),),
        effects=(
            Set("instance", "task_state", RESTORING),
            SaveInstance((None,)),
            Send("cast", "restore_instance", "instance.host"),
        ),
        then="commit",
        scope="save",
    ),
    Row(
        "api.restore.no_host",
        "api.restore",
        "save",
        API + "restore",
        "without a host: vm_state active, task_state None, deleted_at None, "
        "save(expected_task_state=[None])",
        when=(Cond("instance.host", "falsy"),),
        effects=(
            Set("instance", "vm_state", ACTIVE),
            Set("instance", "task_state", None),
            SaveInstance((None,)),
        ),
        then="commit",
        scope="save",
    ),
    Row(
        "api.restore.commit",
        "api.restore",
        "commit",
        API + "restore",
        "quotas.commit() at once, in nova-api (restore_instance may not have run yet)",
        effects=(Quota("commit"),),
    ),
    Row(
        "api.restore.except.over_quota",
        "api.restore.except",
        "start",
        "nova/api/openstack/compute/deferred_delete.py:DeferredDeleteController._restore",
        "OverQuota: TooManyInstances, a QuotaError, HTTP 403; nothing was written",
        when=(Cond("exc", "==", "OverQuota"),),
        effects=(Refuse("TooManyInstances", 403),),
    ),
    Row(
        "api.restore.except.other",
        "api.restore.except",
        "start",
        API + "restore",
        "anything else propagates",
        otherwise=True,
        then="<raise>",
    ),
    Row(
        "api.restore.save_failed.rollback",
        "api.restore.save_failed",
        "start",
        API + "restore",
        "the save raised (UnexpectedTaskStateError, InstanceNotFound): quotas.rollback(), "
        "re-raise",
        effects=(Quota("rollback"),),
        then="<raise>",
    ),
    # ---- soft_delete_instance ----------------------------------------------------------------
    Row(
        "compute.soft_delete_instance.power_off",
        "soft_delete_instance",
        "start",
        MGR + "soft_delete_instance",
        "soft_delete.start; driver.soft_delete raises NotImplementedError (libvirt), so "
        "power_off; power_state from the driver, vm_state soft-delete, task_state None, "
        "save(expected_task_state=[soft-deleting])",
        effects=(
            Driver("power_off"),
            Set("instance", "power_state", SHUTDOWN),
            Set("instance", "vm_state", SOFT_DELETED),
            Set("instance", "task_state", None),
            SaveInstance((SOFT_DELETING,)),
        ),
        notify_before=("compute.instance.soft_delete.start",),
        then="commit",
        note="The driver call and the save are one step here, as in stop_instance; no lock "
        "is taken.",
    ),
    Row(
        "compute.soft_delete_instance.power_off_fails",
        "soft_delete_instance",
        "start",
        "nova/virt/driver.py:ComputeDriver.power_off",
        "injected: power_off raises",
        fault="driver",
        effects=(Raise("Exception"),),
    ),
    Row(
        "compute.soft_delete_instance.commit",
        "soft_delete_instance",
        "commit",
        MGR + "soft_delete_instance",
        "quotas.commit() of the delete reservation (none when the API rolled it back); "
        "soft_delete.end",
        effects=(Quota("commit"),),
        notify=("compute.instance.soft_delete.end",),
    ),
    Row(
        "soft_delete_instance.except.rollback",
        "soft_delete_instance.except",
        "start",
        MGR + "soft_delete_instance",
        "quotas.rollback() of the delete reservation, re-raise",
        effects=(Quota("rollback"),),
        then="<raise>",
    ),
    # ---- restore_instance ----------------------------------------------------------------------
    Row(
        "compute.restore_instance.power_on",
        "restore_instance",
        "start",
        MGR + "restore_instance",
        "restore.start; driver.restore raises NotImplementedError (libvirt), so _power_on; "
        "power_state from the driver, vm_state active, task_state None, "
        "save(expected_task_state=restoring)",
        effects=(
            Driver("spawn", power_on=True),
            Set("instance", "power_state", RUNNING),
            Set("instance", "vm_state", ACTIVE),
            Set("instance", "task_state", None),
            SaveInstance((RESTORING,)),
        ),
        notify_before=("compute.instance.restore.start",),
        notify=("compute.instance.restore.end",),
        note="A missing disk (a soft delete that overtook a resize) makes the power-on raise: "
        "reverts_task_state leaves the instance soft-deleted, its quota counted again.",
    ),
    Row(
        "compute.restore_instance.power_on_fails",
        "restore_instance",
        "start",
        MGR + "_power_on",
        "injected: the power-on raises",
        fault="driver",
        effects=(Raise("Exception"),),
    ),
    # ---- _reclaim_queued_deletes (periodic) -------------------------------------------------
    Row(
        "compute.reclaim_queued_deletes.query",
        "reclaim_queued_deletes",
        "start",
        MGR + "_reclaim_queued_deletes",
        "reclaim_instance_interval > 0: InstanceList.get_by_filters(vm_state soft-delete, "
        "task_state None, host this host) from the slave database; each instance in turn",
        effects=(Spawn("reclaim_instance"),),
        note="The instances of the query are taken up by handlers of their own; Nova takes "
        "them one after another in one thread.",
    ),
    Row(
        "compute.reclaim_instance.delete",
        "reclaim_instance",
        "start",
        MGR + "_reclaim_queued_deletes",
        "soft-deleted with no task (and deleted_at old enough: time is not modelled, so some "
        "run finds it so): _delete_instance with empty quotas, called directly: no lock, no "
        "decorators, no task_state guard",
        when=(
            Cond("instance.vm_state", "==", SOFT_DELETED),
            Cond("instance.task_state", "==", None),
        ),
        effects=(
            Set("local", "reservations", None),
            Goto(
                "terminate_instance",
                "delete_instance",
                chain=("delete_instance.except", "reclaim_instance.except"),
            ),
        ),
        note="_delete_instance's first step rolls back the quotas of a soft-deleted instance "
        "(compute.terminate_instance.soft_deleted): the reclaim's are empty, so nothing "
        "happens, and its final commit commits nothing.",
    ),
    Row(
        "compute.reclaim_instance.skip",
        "reclaim_instance",
        "start",
        MGR + "_reclaim_queued_deletes",
        "any other instance on this host: not selected by the query",
        otherwise=True,
    ),
    Row(
        "reclaim_instance.except.logged",
        "reclaim_instance.except",
        "start",
        MGR + "_reclaim_queued_deletes",
        "'Periodic reclaim failed to delete instance' is logged; the instance stays as it is",
        then="<end>",
    ),
)
