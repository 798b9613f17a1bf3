"""Confirm and revert on the compute hosts: ``confirm_resize`` on the source, ``revert_resize``
on the destination, ``finish_revert_resize`` on the source (nova/compute/manager.py)."""

from __future__ import annotations

from .compute_resize import FLAVOR_COLUMNS
from .model import (
    Claim,
    Cond,
    Driver,
    Handler,
    Lock,
    NotEq,
    Quota,
    Raise,
    Ref,
    Reread,
    Row,
    SaveInstance,
    SaveMigration,
    Send,
    Set,
)
from .states import (
    ACTIVE,
    CONFIRMED,
    CONFIRMING,
    DELETING,
    FINISHED,
    POWERING_OFF,
    RESIZE_REVERTING,
    REVERTED,
    SHUTDOWN,
    STOPPED,
)

MGR = "nova/compute/manager.py:ComputeManager."
CHAIN_FULL = ("error_out", "errors_out_migration", "reverts_task_state")

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "confirm_resize",
        "compute",
        MGR + "confirm_resize",
        "start",
        scopes=(("body", ("error_out",)), ("lookup", ())),
        summary="source: under the instance lock, re-read the migration, destroy the source "
        "copy, confirmed, active/stopped, commit",
    ),
    Handler(
        "revert_resize",
        "compute",
        MGR + "revert_resize",
        "start",
        scopes=(("body", CHAIN_FULL),),
        summary="destination: destroy the new guest, reverted, drop the claim, cast "
        "finish_revert_resize",
    ),
    Handler(
        "finish_revert_resize",
        "compute",
        MGR + "finish_revert_resize",
        "start",
        scopes=(("body", CHAIN_FULL),),
        summary="source: restore the old flavor and host, start the old guest, commit",
    ),
)

ROWS: tuple[Row, ...] = (
    # ---- confirm_resize (source) -------------------------------------------------------------
    Row(
        "compute.confirm_resize.lock",
        "confirm_resize",
        "start",
        MGR + "confirm_resize",
        "@utils.synchronized(instance.uuid) around do_confirm_resize",
        when=(Cond("self.lock", "falsy"),),
        effects=(Lock("acquire"),),
        then="reread",
        scope="lookup",
    ),
    Row(
        "compute.confirm_resize.reread",
        "confirm_resize",
        "reread",
        MGR + "confirm_resize",
        "Migration.get_by_id and Instance.get_by_uuid: work on the rows as they are now",
        effects=(Reread("migration"), Reread("instance")),
        then="check",
        scope="lookup",
    ),
    Row(
        "compute.confirm_resize.already_confirmed",
        "confirm_resize",
        "check",
        MGR + "confirm_resize",
        "status confirmed: quotas.rollback(), return",
        when=(Cond("migration.status", "==", CONFIRMED),),
        effects=(Quota("rollback"),),
        scope="lookup",
    ),
    Row(
        "compute.confirm_resize.unexpected_status",
        "confirm_resize",
        "check",
        MGR + "confirm_resize",
        "status not finished/confirming: quotas.rollback(), return",
        when=(Cond("migration.status", "not in", (FINISHED, CONFIRMING, CONFIRMED)),),
        effects=(Quota("rollback"),),
        scope="lookup",
    ),
    Row(
        "compute.confirm_resize.instance_not_found",
        "confirm_resize",
        "check",
        MGR + "confirm_resize",
        "the instance is gone: quotas.rollback(), return",
        when=(
            Cond("migration.status", "in", (FINISHED, CONFIRMING)),
            Cond("local.instance_found", "falsy"),
        ),
        effects=(Quota("rollback"),),
        scope="lookup",
    ),
    Row(
        "compute.confirm_resize.cleanup_stored_flavors",
        "confirm_resize",
        "check",
        MGR + "_confirm_resize",
        "_cleanup_stored_instance_types: delete_flavor('old'), delete_flavor('new'), pop "
        "old_vm_state; unguarded saves (three in Nova, one step here)",
        when=(
            Cond("migration.status", "in", (FINISHED, CONFIRMING)),
            Cond("local.instance_found", "truthy"),
        ),
        effects=(
            Set("local", "old_flavor", Ref("instance.old_flavor")),
            Set("instance", "old_flavor", None),
            Set("instance", "new_flavor", None),
            Set("instance", "old_vm_state", None),
            SaveInstance(None, columns=("system_metadata",)),
        ),
        notify_before=("compute.instance.resize.confirm.start",),
        then="confirm_migration",
        note="delete_flavor() saves at once, twice, then the sysmeta save: three consecutive "
        "unguarded saves of one thread that only clear the stashed values, modelled as one step.",
    ),
    Row(
        "compute.confirm_resize.confirm_migration",
        "confirm_resize",
        "confirm_migration",
        "nova/virt/driver.py:ComputeDriver.confirm_migration",
        "network teardown on the source; the driver destroys the source guest and its disk",
        effects=(Driver("destroy_guest", host="migration.source_compute"),),
        then="confirmed",
    ),
    Row(
        "compute.confirm_resize.confirm_migration_fails",
        "confirm_resize",
        "confirm_migration",
        "nova/virt/driver.py:ComputeDriver.confirm_migration",
        "injected: confirm_migration raises",
        fault="driver",
        effects=(Raise("Exception"),),
    ),
    Row(
        "compute.confirm_resize.confirmed",
        "confirm_resize",
        "confirmed",
        MGR + "_confirm_resize",
        "migration.status = 'confirmed'; save; rt(source_node).drop_move_claim(old flavor)",
        effects=(
            Set("migration", "status", CONFIRMED),
            SaveMigration(),
            Claim(
                "drop_move_claim",
                host="migration.source_compute",
                flavor="local.old_flavor",
                prefix="old_",
            ),
        ),
        then="vm_state",
    ),
    Row(
        "compute.confirm_resize.save_stopped",
        "confirm_resize",
        "vm_state",
        MGR + "_confirm_resize",
        "DB power_state SHUTDOWN: vm_state stopped, task_state None, "
        "save(expected_task_state=[None, deleting])",
        when=(Cond("instance.power_state", "==", SHUTDOWN),),
        effects=(
            Set("instance", "vm_state", STOPPED),
            Set("instance", "task_state", None),
            SaveInstance((None, DELETING)),
        ),
        notify=("compute.instance.resize.confirm.end",),
        then="commit",
    ),
    Row(
        "compute.confirm_resize.save_active",
        "confirm_resize",
        "vm_state",
        MGR + "_confirm_resize",
        "otherwise: vm_state active, task_state None, save(expected_task_state=[None, "
        "deleting])",
        otherwise=True,
        effects=(
            Set("instance", "vm_state", ACTIVE),
            Set("instance", "task_state", None),
            SaveInstance((None, DELETING)),
        ),
        notify=("compute.instance.resize.confirm.end",),
        then="commit",
    ),
    Row(
        "compute.confirm_resize.commit",
        "confirm_resize",
        "commit",
        MGR + "_confirm_resize",
        "quotas.commit() of the downsize",
        effects=(Quota("commit"),),
    ),
    # ---- revert_resize (destination) ---------------------------------------------------------
    Row(
        "compute.revert_resize.destroy",
        "revert_resize",
        "start",
        MGR + "revert_resize",
        "network teardown; _is_instance_storage_shared asks the source (a call); "
        "driver.destroy removes the new guest and, storage not shared, its disk",
        when=(Cond("migration.source_compute", "up"), Cond("config.shared_storage", "falsy")),
        effects=(Driver("destroy_guest"), SaveInstance(None, columns=("system_metadata",))),
        notify_before=("compute.instance.exists",),
        then="reverted",
        note="With destroy_disks, libvirt's cleanup() counts system_metadata['clean_attempts'] "
        "and saves the instance (nova/virt/libvirt/driver.py:LibvirtDriver.cleanup): an UPDATE "
        "that changes no modelled field.",
    ),
    Row(
        "compute.revert_resize.destroy_keep_disk",
        "revert_resize",
        "start",
        MGR + "_is_instance_storage_shared",
        "the source cannot answer (or storage is shared): shared is assumed, the guest is "
        "destroyed and its files kept",
        otherwise=True,
        effects=(Driver("destroy_guest", keep_disk=True),),
        notify_before=("compute.instance.exists",),
        then="reverted",
    ),
    Row(
        "compute.revert_resize.destroy_fails",
        "revert_resize",
        "start",
        "nova/virt/driver.py:ComputeDriver.destroy",
        "injected: driver.destroy raises",
        fault="driver",
        effects=(Raise("Exception"),),
    ),
    Row(
        "compute.revert_resize.reverted",
        "revert_resize",
        "reverted",
        MGR + "revert_resize",
        "migration.status = 'reverted'; migration.save()",
        effects=(Set("migration", "status", REVERTED), SaveMigration()),
        then="drop_claim",
    ),
    Row(
        "compute.revert_resize.drop_claim",
        "revert_resize",
        "drop_claim",
        MGR + "revert_resize",
        "revert_migration_context, unguarded save; rt(instance.node).drop_move_claim (new "
        "flavor); cast finish_revert_resize to migration.source_compute",
        effects=(
            SaveInstance(None),
            Claim("drop_move_claim", host="instance.host", prefix="new_"),
            Send(
                "cast",
                "finish_revert_resize",
                "migration.source_compute",
                (("reservations", Ref("local.reservations")),),
            ),
        ),
    ),
    # ---- finish_revert_resize (source) -------------------------------------------------------
    Row(
        "compute.finish_revert_resize.restore_flavor",
        "finish_revert_resize",
        "start",
        MGR + "_cleanup_stored_instance_types",
        "set_flavor(old_flavor), delete_flavor('old'), delete_flavor('new'): unguarded saves "
        "(three in Nova, one step here)",
        when=(Cond("instance.old_flavor", "truthy"),),
        effects=(
            Set("local", "power_on", NotEq("instance.old_vm_state", STOPPED)),
            Set("instance", "flavor", Ref("instance.old_flavor")),
            Set("instance", "old_flavor", None),
            Set("instance", "new_flavor", None),
            SaveInstance(None),
        ),
        notify_before=("compute.instance.resize.revert.start",),
        then="set_host",
        note="old_vm_state = sys_meta.pop('old_vm_state', ACTIVE): power_on unless it was "
        "stopped.",
    ),
    Row(
        "compute.finish_revert_resize.no_old_flavor",
        "finish_revert_resize",
        "start",
        MGR + "_cleanup_stored_instance_types",
        "old_flavor is gone (a confirm removed it): set_flavor(None) raises TypeError",
        when=(Cond("instance.old_flavor", "falsy"),),
        effects=(Raise("TypeError"),),
        notify_before=("compute.instance.resize.revert.start",),
    ),
    Row(
        "compute.finish_revert_resize.set_host",
        "finish_revert_resize",
        "set_host",
        MGR + "finish_revert_resize",
        "system_metadata without old_vm_state, resources of the old flavor, host and node = "
        "migration.source_compute; unguarded save",
        effects=(
            Set("instance", "old_vm_state", None),
            Set("instance", "host", Ref("migration.source_compute")),
            SaveInstance(None, columns=("system_metadata", "node", *FLAVOR_COLUMNS)),
        ),
        then="migration_dest",
    ),
    Row(
        "compute.finish_revert_resize.migration_dest",
        "finish_revert_resize",
        "migration_dest",
        MGR + "finish_revert_resize",
        "migration.dest_compute = migration.source_compute; migration.save()",
        effects=(
            Set("migration", "dest_compute", Ref("migration.source_compute")),
            SaveMigration(),
        ),
        then="finish_revert_migration",
    ),
    Row(
        "compute.finish_revert_resize.finish_revert_migration",
        "finish_revert_resize",
        "finish_revert_migration",
        "nova/virt/driver.py:ComputeDriver.finish_revert_migration",
        "driver restarts the old guest from the source disk (powered on unless it was stopped)",
        effects=(Driver("spawn", power_on=Ref("local.power_on")),),
        then="launched",
    ),
    Row(
        "compute.finish_revert_resize.finish_revert_migration_fails",
        "finish_revert_resize",
        "finish_revert_migration",
        "nova/virt/driver.py:ComputeDriver.finish_revert_migration",
        "injected: finish_revert_migration raises",
        fault="driver",
        effects=(Raise("Exception"),),
    ),
    Row(
        "compute.finish_revert_resize.launched",
        "finish_revert_resize",
        "launched",
        MGR + "finish_revert_resize",
        "launched_at now, save(expected_task_state=resize_reverting): the only guarded save of "
        "the revert on the computes",
        effects=(Set("instance", "launched", True), SaveInstance((RESIZE_REVERTING,))),
        then="restore_state",
    ),
    Row(
        "compute.finish_revert_resize.active",
        "finish_revert_resize",
        "restore_state",
        MGR + "finish_revert_resize",
        "power_on: vm_state active, task_state None, unguarded save",
        when=(Cond("local.power_on", "truthy"),),
        effects=(
            Set("instance", "vm_state", ACTIVE),
            Set("instance", "task_state", None),
            SaveInstance(None),
        ),
        then="commit",
    ),
    Row(
        "compute.finish_revert_resize.powering_off",
        "finish_revert_resize",
        "restore_state",
        MGR + "finish_revert_resize",
        "old_vm_state stopped: task_state powering-off, unguarded save; then stop_instance",
        when=(Cond("local.power_on", "falsy"),),
        effects=(Set("instance", "task_state", POWERING_OFF), SaveInstance(None)),
        then="stop",
    ),
    Row(
        "compute.finish_revert_resize.stop_instance",
        "finish_revert_resize",
        "stop",
        MGR + "stop_instance",
        "self.stop_instance (a direct call): the guest is already off, so power_state from the "
        "driver, vm_state stopped, task_state None, save(expected_task_state=[powering-off, "
        "None])",
        effects=(
            Set("instance", "power_state", SHUTDOWN),
            Set("instance", "vm_state", STOPPED),
            Set("instance", "task_state", None),
            SaveInstance((POWERING_OFF, None)),
        ),
        notify_before=("compute.instance.power_off.start",),
        notify=("compute.instance.power_off.end",),
        then="commit",
    ),
    Row(
        "compute.finish_revert_resize.commit",
        "finish_revert_resize",
        "commit",
        MGR + "finish_revert_resize",
        "quotas.commit() of the reverse upsize",
        effects=(Quota("commit"),),
        notify_before=("compute.instance.resize.revert.end",),
    ),
)
