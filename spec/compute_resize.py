"""The compute side of a resize or cold migrate: ``prep_resize`` on the destination,
``resize_instance`` on the source, ``finish_resize`` on the destination
(nova/compute/manager.py, nova/compute/resource_tracker.py)."""

from __future__ import annotations

from .model import (
    Claim,
    Cond,
    CreateMigration,
    Driver,
    Handler,
    NotEq,
    Quota,
    Raise,
    Ref,
    Row,
    SaveInstance,
    SaveMigration,
    Send,
    Set,
)
from .states import (
    ERROR,
    FINISHED,
    MIGRATING,
    POST_MIGRATING,
    RESIZE_FINISH,
    RESIZE_MIGRATED,
    RESIZE_MIGRATING,
    RESIZE_PREP,
    RESIZED,
    STOPPED,
)

MGR = "nova/compute/manager.py:ComputeManager."
RT = "nova/compute/resource_tracker.py:ResourceTracker."

# Decorator stacks, innermost error handler first (docs/liberty-reference.md §2.4).
CHAIN_FULL = ("error_out", "errors_out_migration", "reverts_task_state")

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "prep_resize",
        "compute",
        MGR + "prep_resize",
        "start",
        scopes=(
            ("body", ("reschedule_or_reraise", "error_out", "reverts_task_state")),
            ("outer", ("error_out", "reverts_task_state")),
        ),
        summary="destination: stash the new flavor and old_vm_state, claim, cast resize_instance",
    ),
    Handler(
        "resize_instance",
        "compute",
        MGR + "resize_instance",
        "start",
        scopes=(("body", CHAIN_FULL),),
        summary="source: power off and copy the disk, hand the instance to the destination",
    ),
    Handler(
        "finish_resize",
        "compute",
        MGR + "finish_resize",
        "start",
        scopes=(("body", ("finish_resize.except", "errors_out_migration", "reverts_task_state")),),
        summary="destination: switch the flavor, start the guest, RESIZED, commit the quota",
    ),
)

FLAVOR_COLUMNS = ("instance_type_id", "memory_mb", "vcpus", "root_gb", "ephemeral_gb")
"""The instance columns _set_instance_info writes besides the flavor object."""

ROWS: tuple[Row, ...] = (
    # ---- prep_resize (destination) -----------------------------------------------------------
    Row(
        "compute.prep_resize.start",
        "prep_resize",
        "start",
        MGR + "prep_resize",
        "Quotas.from_reservations; inside _error_out_instance_on_exception",
        notify=("compute.instance.exists", "compute.instance.resize.prep.start"),
        then="check",
        scope="outer",
    ),
    Row(
        "compute.prep_resize.no_source_host",
        "prep_resize",
        "check",
        MGR + "_prep_resize",
        "instance.host is not set: _set_instance_obj_error_state (unguarded), MigrationError",
        when=(Cond("instance.host", "falsy"),),
        effects=(Set("instance", "vm_state", ERROR), SaveInstance(None), Raise("MigrationError")),
    ),
    Row(
        "compute.prep_resize.same_host_unsupported",
        "prep_resize",
        "check",
        MGR + "_prep_resize",
        "same host, same flavor, driver without supports_migrate_to_same_host: "
        "UnableToMigrateToSelf",
        when=(
            Cond("instance.host", "truthy"),
            Cond("instance.host", "==", Ref("self.host")),
            Cond("local.flavor", "==", Ref("instance.flavor")),
            Cond("config.supports_migrate_to_same_host", "falsy"),
        ),
        effects=(Raise("UnableToMigrateToSelf"),),
    ),
    Row(
        "compute.prep_resize.stash_new_flavor",
        "prep_resize",
        "check",
        MGR + "_prep_resize",
        "instance.set_flavor(instance_type, 'new'): an unguarded save of new_flavor",
        otherwise=True,
        effects=(Set("instance", "new_flavor", Ref("local.flavor")), SaveInstance(None)),
        then="stash_vm_state",
    ),
    Row(
        "compute.prep_resize.stash_old_vm_state",
        "prep_resize",
        "stash_vm_state",
        MGR + "_prep_resize",
        "system_metadata['old_vm_state'] = vm_state; unguarded save",
        effects=(Set("instance", "old_vm_state", Ref("instance.vm_state")), SaveInstance(None)),
        then="claim",
    ),
    Row(
        "compute.prep_resize.resize_claim",
        "prep_resize",
        "claim",
        RT + "resize_claim",
        "_create_migration (status pre-migrating); MoveClaim holds the new flavor on this host; "
        "migration_context saved unguarded; cast resize_instance to instance.host",
        when=(Cond("local.flavor", "fits", Ref("self.host")),),
        effects=(
            CreateMigration("local.flavor"),
            Claim("resize_claim", flavor="local.flavor"),
            SaveInstance(None),
            Send(
                "cast",
                "resize_instance",
                "instance.host",
                (("flavor", Ref("local.flavor")), ("reservations", Ref("local.reservations"))),
            ),
        ),
        then="end",
        note="The cast is sent inside `with rt.resize_claim(...)`; the model does not fail the "
        "cast itself (MoveClaim.abort is not reached).",
    ),
    Row(
        "compute.prep_resize.claim_refused",
        "prep_resize",
        "claim",
        RT + "_move_claim",
        "the migration row is created, then MoveClaim's _claim_test refuses: "
        "ComputeResourcesUnavailable (the row stays pre-migrating)",
        otherwise=True,
        effects=(CreateMigration("local.flavor"), Raise("ComputeResourcesUnavailable")),
    ),
    Row(
        "compute.prep_resize.claim_refused_injected",
        "prep_resize",
        "claim",
        RT + "_move_claim",
        "injected: the claim test refuses (resources taken by something the model does not see)",
        fault="claim_refused",
        effects=(CreateMigration("local.flavor"), Raise("ComputeResourcesUnavailable")),
    ),
    Row(
        "compute.prep_resize.end",
        "prep_resize",
        "end",
        MGR + "prep_resize",
        "finally: resize.prep.end",
        notify=("compute.instance.resize.prep.end",),
        scope="outer",
    ),
    # ---- resize_instance (source) ------------------------------------------------------------
    Row(
        "compute.resize_instance.migrating",
        "resize_instance",
        "start",
        MGR + "resize_instance",
        "migration.status = 'migrating'; migration.save() (no status check)",
        effects=(Set("migration", "status", MIGRATING), SaveMigration()),
        then="task_migrating",
    ),
    Row(
        "compute.resize_instance.task_migrating",
        "resize_instance",
        "task_migrating",
        MGR + "resize_instance",
        "task_state resize_migrating, save(expected_task_state=resize_prep)",
        effects=(Set("instance", "task_state", RESIZE_MIGRATING), SaveInstance((RESIZE_PREP,))),
        notify=("compute.instance.resize.start",),
        then="migrate_disk",
    ),
    Row(
        "compute.resize_instance.migrate_disk_and_power_off",
        "resize_instance",
        "migrate_disk",
        "nova/virt/driver.py:ComputeDriver.migrate_disk_and_power_off",
        "driver powers the guest off and copies the disk to migration.dest_host; volume "
        "connections and network migrate_instance_start",
        effects=(Driver("power_off", to="migration.dest_compute"),),
        then="post_migrating",
    ),
    Row(
        "compute.resize_instance.migrate_disk_fails",
        "resize_instance",
        "migrate_disk",
        "nova/virt/driver.py:ComputeDriver.migrate_disk_and_power_off",
        "injected: the driver raises (before powering off)",
        fault="driver",
        effects=(Raise("Exception"),),
    ),
    Row(
        "compute.resize_instance.migrate_disk_rollback",
        "resize_instance",
        "migrate_disk",
        "nova/virt/libvirt/driver.py:LibvirtDriver.migrate_disk_and_power_off",
        "injected: the driver raises InstanceFaultRollback (libvirt: disk shrink, LVM, ssh "
        "mkdir failure)",
        fault="driver",
        effects=(Raise("InstanceFaultRollback"),),
    ),
    Row(
        "compute.resize_instance.post_migrating",
        "resize_instance",
        "post_migrating",
        MGR + "resize_instance",
        "migration.status = 'post-migrating'; migration.save()",
        effects=(Set("migration", "status", POST_MIGRATING), SaveMigration()),
        then="task_migrated",
    ),
    Row(
        "compute.resize_instance.task_migrated",
        "resize_instance",
        "task_migrated",
        MGR + "resize_instance",
        "host and node = migration.dest_compute, task_state resize_migrated, "
        "save(expected_task_state=resize_migrating); cast finish_resize to the destination",
        effects=(
            Set("instance", "host", Ref("migration.dest_compute")),
            Set("instance", "task_state", RESIZE_MIGRATED),
            SaveInstance((RESIZE_MIGRATING,)),
            Send(
                "cast",
                "finish_resize",
                "migration.dest_compute",
                (("reservations", Ref("local.reservations")),),
            ),
        ),
        notify_late=("compute.instance.resize.end",),
        note="resize.end is sent after the finish_resize cast: the destination may already be "
        "running finish_resize when it is seen.",
    ),
    # ---- finish_resize (destination) ---------------------------------------------------------
    Row(
        "compute.finish_resize.stash_old_flavor",
        "finish_resize",
        "start",
        MGR + "_finish_resize",
        "old_vm_state = system_metadata.get('old_vm_state', ACTIVE); "
        "instance.set_flavor(current, 'old'): unguarded save",
        effects=(
            Set("local", "power_on", NotEq("instance.old_vm_state", STOPPED)),
            Set("local", "old_flavor", Ref("instance.flavor")),
            Set("instance", "old_flavor", Ref("instance.flavor")),
            SaveInstance(None),
        ),
        then="set_info",
        note="old_vm_state defaults to ACTIVE when absent, so power_on is True then.",
    ),
    Row(
        "compute.finish_resize.set_instance_info",
        "finish_resize",
        "set_info",
        MGR + "_set_instance_info",
        "resize (flavor ids differ): instance_type_id, memory_mb, vcpus, root_gb and flavor = "
        "new flavor; unguarded save (task_state is still resize_migrated)",
        when=(Cond("migration.old_flavor", "!=", Ref("migration.new_flavor")),),
        effects=(
            Set("instance", "flavor", Ref("instance.new_flavor")),
            SaveInstance(None, columns=FLAVOR_COLUMNS),
        ),
        then="task_finish",
        note="The flavor columns make this save an UPDATE (and a compute.instance.update), unlike "
        "the object-only set_flavor saves around it.",
    ),
    Row(
        "compute.finish_resize.same_flavor",
        "finish_resize",
        "set_info",
        MGR + "_finish_resize",
        "cold migrate (same flavor): _set_instance_info skipped",
        when=(Cond("migration.old_flavor", "==", Ref("migration.new_flavor")),),
        then="task_finish",
    ),
    Row(
        "compute.finish_resize.task_finish",
        "finish_resize",
        "task_finish",
        MGR + "_finish_resize",
        "apply_migration_context; network setup; task_state resize_finish, "
        "save(expected_task_state=resize_migrated)",
        effects=(Set("instance", "task_state", RESIZE_FINISH), SaveInstance((RESIZE_MIGRATED,))),
        notify=("compute.instance.finish_resize.start",),
        then="finish_migration",
    ),
    Row(
        "compute.finish_resize.finish_migration",
        "finish_resize",
        "finish_migration",
        "nova/virt/driver.py:ComputeDriver.finish_migration",
        "driver sets up the guest from the copied disk, powered on unless old_vm_state was "
        "stopped",
        effects=(Driver("spawn", power_on=Ref("local.power_on")),),
        then="finished",
    ),
    Row(
        "compute.finish_resize.finish_migration_fails",
        "finish_resize",
        "finish_migration",
        MGR + "_finish_resize",
        "injected: finish_migration raises; for a resize _set_instance_info(old) restores the "
        "old flavor with an unguarded save; re-raise",
        fault="driver",
        when=(Cond("migration.old_flavor", "!=", Ref("migration.new_flavor")),),
        effects=(
            Set("instance", "flavor", Ref("local.old_flavor")),
            SaveInstance(None, columns=FLAVOR_COLUMNS),
            Raise("Exception"),
        ),
    ),
    Row(
        "compute.finish_resize.finish_migration_fails_migrate",
        "finish_resize",
        "finish_migration",
        MGR + "_finish_resize",
        "injected: finish_migration raises on a cold migrate (no flavor to restore)",
        fault="driver",
        when=(Cond("migration.old_flavor", "==", Ref("migration.new_flavor")),),
        effects=(Raise("Exception"),),
    ),
    Row(
        "compute.finish_resize.finished",
        "finish_resize",
        "finished",
        MGR + "_finish_resize",
        "migration.status = 'finished'; migration.save()",
        effects=(Set("migration", "status", FINISHED), SaveMigration()),
        then="resized",
    ),
    Row(
        "compute.finish_resize.resized",
        "finish_resize",
        "resized",
        MGR + "_finish_resize",
        "vm_state resized, task_state None, launched_at now, "
        "save(expected_task_state=resize_finish)",
        effects=(
            Set("instance", "vm_state", RESIZED),
            Set("instance", "task_state", None),
            Set("instance", "launched", True),
            SaveInstance((RESIZE_FINISH,)),
        ),
        notify=("compute.instance.finish_resize.end",),
        then="commit",
    ),
    Row(
        "compute.finish_resize.commit",
        "finish_resize",
        "commit",
        MGR + "finish_resize",
        "quotas.commit(): the upsize becomes usage (after RESIZED is already visible)",
        effects=(Quota("commit"),),
    ),
)
