"""Periodic tasks: the automatic confirm (``_poll_unconfirmed_resizes``, on the destination),
the resource tracker's audit (``update_available_resource``), and the cleanup of deleted
instances' files left by a failed resize (``_cleanup_incomplete_migrations``)
(nova/compute/manager.py)."""

from __future__ import annotations

from .model import Claim, Cond, Driver, Goto, Handler, Ref, Reread, Row, SaveMigration, Set
from .states import DELETING, ERROR, FAILED, MIG_ERROR, RESIZE_FINISH, RESIZED, SOFT_DELETING

MGR = "nova/compute/manager.py:ComputeManager."

HANDLERS: tuple[Handler, ...] = (
    Handler(
        "poll_unconfirmed_resizes",
        "compute",
        MGR + "_poll_unconfirmed_resizes",
        "start",
        summary="for a finished migration to this host older than resize_confirm_window: "
        "confirm it through the API code, or set it to error",
    ),
    Handler(
        "update_available_resource",
        "compute",
        MGR + "update_available_resource",
        "start",
        summary="rebuild the host's usage from the instances and in-progress migrations",
    ),
    Handler(
        "cleanup_incomplete_migrations",
        "compute",
        MGR + "_cleanup_incomplete_migrations",
        "start",
        summary="for an 'error' migration touching this host whose instance was deleted on "
        "another host: delete the instance's files here, migration 'failed'",
    ),
)

_BUSY = (DELETING, SOFT_DELETING, RESIZE_FINISH)

ROWS: tuple[Row, ...] = (
    Row(
        "compute.poll_unconfirmed_resizes.read_instance",
        "poll_unconfirmed_resizes",
        "start",
        MGR + "_poll_unconfirmed_resizes",
        "for a migration from get_unconfirmed_by_dest_compute (status finished, dest this "
        "host): Instance.get_by_uuid",
        effects=(Reread("instance"),),
        then="check",
    ),
    Row(
        "compute.poll_unconfirmed_resizes.instance_not_found",
        "poll_unconfirmed_resizes",
        "check",
        MGR + "_poll_unconfirmed_resizes",
        "instance not found: migration 'error' (unguarded save)",
        when=(Cond("local.instance_found", "falsy"),),
        effects=(Set("migration", "status", MIG_ERROR), SaveMigration()),
    ),
    Row(
        "compute.poll_unconfirmed_resizes.instance_error",
        "poll_unconfirmed_resizes",
        "check",
        MGR + "_poll_unconfirmed_resizes",
        "vm_state error: migration 'error'",
        when=(Cond("local.instance_found", "truthy"), Cond("instance.vm_state", "==", ERROR)),
        effects=(Set("migration", "status", MIG_ERROR), SaveMigration()),
    ),
    Row(
        "compute.poll_unconfirmed_resizes.busy",
        "poll_unconfirmed_resizes",
        "check",
        MGR + "_poll_unconfirmed_resizes",
        "task_state deleting, soft-deleting or resize_finish: skipped",
        when=(
            Cond("local.instance_found", "truthy"),
            Cond("instance.vm_state", "!=", ERROR),
            Cond("instance.task_state", "in", _BUSY),
        ),
    ),
    Row(
        "compute.poll_unconfirmed_resizes.not_resized",
        "poll_unconfirmed_resizes",
        "check",
        MGR + "_poll_unconfirmed_resizes",
        "vm_state not resized: migration 'error'",
        when=(
            Cond("local.instance_found", "truthy"),
            Cond("instance.vm_state", "not in", (ERROR, RESIZED)),
            Cond("instance.task_state", "not in", _BUSY),
        ),
        effects=(Set("migration", "status", MIG_ERROR), SaveMigration()),
    ),
    Row(
        "compute.poll_unconfirmed_resizes.task_not_none",
        "poll_unconfirmed_resizes",
        "check",
        MGR + "_poll_unconfirmed_resizes",
        "resized with a task_state (resize_reverting, ...): migration 'error'",
        when=(
            Cond("local.instance_found", "truthy"),
            Cond("instance.vm_state", "==", RESIZED),
            Cond("instance.task_state", "not in", (None, *_BUSY)),
        ),
        effects=(Set("migration", "status", MIG_ERROR), SaveMigration()),
    ),
    Row(
        "compute.poll_unconfirmed_resizes.confirm",
        "poll_unconfirmed_resizes",
        "check",
        MGR + "_poll_unconfirmed_resizes",
        "resized, task None: self.compute_api.confirm_resize(instance, migration) with the "
        "admin context (no lock check); its errors are logged and retried next period",
        when=(
            Cond("local.instance_found", "truthy"),
            Cond("instance.vm_state", "==", RESIZED),
            Cond("instance.task_state", "==", None),
        ),
        effects=(Set("local", "auto", True), Goto("api.confirm_resize", "start", chain=())),
    ),
    Row(
        "compute.cleanup_incomplete_migrations.delete_files",
        "cleanup_incomplete_migrations",
        "start",
        MGR + "_cleanup_incomplete_migrations",
        "a migration of get_by_filters(host=this host, status='error') whose instance is "
        "deleted (read_deleted='yes') and whose instance.host is another host: "
        "driver.delete_instance_files",
        when=(Cond("instance.deleted", "truthy"),
              Cond("instance.host", "!=", Ref("self.host"))),
        effects=(Driver("delete_files"),),
        then="failed",
    ),
    Row(
        "compute.cleanup_incomplete_migrations.skip",
        "cleanup_incomplete_migrations",
        "start",
        MGR + "_cleanup_incomplete_migrations",
        "the instance is not deleted, or it was deleted on this host: left alone",
        otherwise=True,
    ),
    Row(
        "compute.cleanup_incomplete_migrations.failed",
        "cleanup_incomplete_migrations",
        "failed",
        MGR + "_cleanup_incomplete_migrations",
        "migration.status = 'failed'; migration.save() (as admin)",
        effects=(Set("migration", "status", FAILED), SaveMigration()),
    ),
    Row(
        "compute.update_available_resource.audit",
        "update_available_resource",
        "start",
        "nova/compute/resource_tracker.py:ResourceTracker._update_available_resource",
        "under COMPUTE_RESOURCE_SEMAPHORE: usage = instances on this host + in-progress "
        "migrations of instances in a resize state",
        effects=(Claim("audit"),),
    ),
)
