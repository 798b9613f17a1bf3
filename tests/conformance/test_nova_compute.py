"""Ported from nova 12.0.0 nova/tests/unit/compute/test_compute.py: the compute manager's resize,
confirm and revert handlers driven one after another, and the API's flavor checks."""

from __future__ import annotations

from typing import Any

from conftest import (
    Oracle,
    migration_of,
    nova,
    oracle,
    resized,
    resized_down,
    spec_with_faults,
)
from nova_resize.engine.world import Instance, World
from nova_resize.spec.states import RUNNING, SHUTDOWN

TC = "nova/tests/unit/compute/test_compute.py::ComputeTestCase::"


def db(world: World, name: str = "vm") -> Instance:
    """The instance row in ``world``."""
    return next(i for i in world.instances if i.name == name)


# ---- test_state_revert: a failing handler puts task_state back to None ----------------------

STATE_REVERT_FAULTS = spec_with_faults(
    {"id": "conformance.stop_instance.raises", "handler": "stop_instance", "at": "power_off",
     "cite": "nova/compute/manager.py:ComputeManager.stop_instance",
     "effects": [{"type": "Raise", "exc": "Exception"}]},
    {"id": "conformance.start_instance.raises", "handler": "start_instance", "at": "start",
     "cite": "nova/compute/manager.py:ComputeManager.start_instance",
     "effects": [{"type": "Raise", "exc": "Exception"}]},
)


@nova(TC + "test_state_revert")
def test_state_revert_prep_resize():
    # given a resize whose request carries no retry information (nova's filter_properties={})
    o = oracle(options={"scheduler_max_attempts": 1})
    o.api.resize("vm", "medium")
    assert o.instance("vm").task_state == "resize_prep"
    # when prep_resize fails on the destination
    o.fail("compute.prep_resize.claim_refused_injected")
    o.run_until_quiescent()
    # then reverts_task_state has cleared the task
    assert o.instance("vm").task_state is None
    assert "reverts_task_state.revert" in o.rows()


@nova(TC + "test_state_revert")
def test_state_revert_resize_instance():
    # given a resize that reached the source host
    o = oracle()
    o.api.resize("vm", "medium")
    # when resize_instance fails there
    o.fail("compute.resize_instance.migrate_disk_fails")
    o.run_until_quiescent()
    # then the task is cleared
    assert o.instance("vm").task_state is None
    assert "reverts_task_state.revert" in o.rows()


@nova(TC + "test_state_revert")
def test_state_revert_revert_resize():
    # given a revert requested (task_state resize_reverting)
    o = resized()
    o.api.revert_resize("vm")
    assert o.instance("vm").task_state == "resize_reverting"
    # when revert_resize fails on the destination
    o.fail("compute.revert_resize.destroy_fails")
    o.run_until_quiescent()
    # then the task is cleared
    assert o.instance("vm").task_state is None


@nova(TC + "test_state_revert")
def test_state_revert_terminate_instance():
    # given a delete in progress (task_state deleting)
    o = oracle()
    o.api.delete("vm")
    assert o.instance("vm").task_state == "deleting"
    # when terminate_instance fails
    o.fail("compute.terminate_instance.shutdown_fails")
    o.run_until_quiescent()
    # then the instance is ERROR with no task (the only operation nova checks vm_state for)
    vm = o.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.deleted) == ("error", None, False)


@nova(TC + "test_state_revert")
def test_state_revert_stop_instance():
    # given a stop in progress (task_state powering-off)
    o = oracle(spec=STATE_REVERT_FAULTS)
    o.api.stop("vm")
    assert o.instance("vm").task_state == "powering-off"
    # when stop_instance raises (nova stubs the usage notification to raise)
    o.fail("conformance.stop_instance.raises")
    o.run_until_quiescent()
    # then the task is cleared and the instance stays ACTIVE
    assert (o.instance("vm").vm_state, o.instance("vm").task_state) == ("active", None)


@nova(TC + "test_state_revert")
def test_state_revert_start_instance():
    # given a start in progress (task_state powering-on)
    o = oracle(spec=STATE_REVERT_FAULTS, vm_state="stopped")
    o.api.start("vm")
    assert o.instance("vm").task_state == "powering-on"
    # when start_instance raises
    o.fail("conformance.start_instance.raises")
    o.run_until_quiescent()
    # then the task is cleared and the instance stays STOPPED
    assert (o.instance("vm").vm_state, o.instance("vm").task_state) == ("stopped", None)


# ---- finish_resize ------------------------------------------------------------------------------

def _finish_resize(vm_state: str, new_flavor: str = "medium", **kw: Any) -> Oracle:
    # given an instance in vm_state resized through prep_resize and resize_instance
    o = oracle(vm_state=vm_state, **kw)
    o.api.resize("vm", new_flavor)
    o.run_until("compute.resize_instance.task_migrated")
    assert o.instance("vm").old_vm_state == vm_state  # prep_resize stashed it
    # when finish_resize runs on the destination
    o.run_until_quiescent()
    # then its rows ran in nova's order: stash the old flavor, switch to the new one (both
    # unguarded), resize_finish guarded by resize_migrated, the driver, the migration
    # finished, RESIZED guarded by resize_finish, and the quota commit last
    rows = [r for r in o.rows() if r.startswith("compute.finish_resize.")]
    assert rows == [
        "compute.finish_resize.stash_old_flavor",
        "compute.finish_resize.set_instance_info",
        "compute.finish_resize.task_finish",
        "compute.finish_resize.finish_migration",
        "compute.finish_resize.finished",
        "compute.finish_resize.resized",
        "compute.finish_resize.commit",
    ]
    assert o.guard_of("compute.finish_resize.stash_old_flavor") is None
    assert o.guard_of("compute.finish_resize.set_instance_info") is None
    assert db(o.world_after_row("compute.finish_resize.set_instance_info")).flavor == new_flavor
    saves = o.saves(prefix="compute.finish_resize.")
    # _set_instance_info's save writes the flavor columns: an unguarded UPDATE (manager.py
    # L3834-3841), then the two guarded saves
    assert [(s.guard, s.before[1], s.after) for s in saves] == [
        (None, "resize_migrated", (vm_state, "resize_migrated")),
        (("resize_migrated",), "resize_migrated", (vm_state, "resize_finish")),
        (("resize_finish",), "resize_finish", ("resized", None)),
    ]
    # the migration is finished while the instance is still (vm_state, resize_finish)
    at_finished = o.world_after_row("compute.finish_resize.finished")
    assert (db(at_finished).vm_state, db(at_finished).task_state) == (vm_state, "resize_finish")
    # finish_resize.start comes after the resize_finish save, finish_resize.end after RESIZED
    assert o.usage_events(service="host2")[-2:] == [
        "compute.instance.finish_resize.start", "compute.instance.finish_resize.end"]
    # the reservation is still pending when RESIZED is written, committed at the end
    assert o.world_after_row("compute.finish_resize.resized").reservations[0].status == "pending"
    assert o.reservation_states() == ["committed"]
    return o


@nova(TC + "test_finish_resize_from_active")
def test_finish_resize_from_active():
    o = _finish_resize("active")
    # and the driver was asked to power the guest on
    assert "vm" in o.host("host2").running


@nova(TC + "test_finish_resize_from_stopped")
def test_finish_resize_from_stopped():
    o = _finish_resize("stopped")
    # and the driver was asked to leave the guest off
    assert "vm" not in o.host("host2").running


SAME_DISK_FLAVORS = [
    {"name": "small", "id": 1, "vcpus": 1, "memory_mb": 512, "root_gb": 10},
    {"name": "wide", "id": 2, "vcpus": 2, "memory_mb": 2048, "root_gb": 10},
]


@nova(TC + "test_finish_resize_without_resize_instance")
def test_finish_resize_without_a_disk_change():
    # the new flavor has the old flavor's disk (nova's resize_instance=False to the driver)
    o = _finish_resize("active", new_flavor="wide", flavors=SAME_DISK_FLAVORS)
    assert o.instance("vm").flavor == "wide"
    assert "vm" in o.host("host2").running


@nova(TC + "test_finish_resize_handles_error")
def test_finish_resize_handles_error():
    # given a resize from small to medium
    o = oracle()
    o.api.resize("vm", "medium")
    # when the driver's finish_migration raises
    o.fail("compute.finish_resize.finish_migration_fails")
    o.run_until_quiescent()
    # then the instance is ERROR (not left in RESIZE) with the old flavor restored
    vm = o.instance("vm")
    assert vm.vm_state == "error"
    assert vm.flavor == "small"
    # and the reservation was rolled back, not committed
    assert o.reservation_states() == ["rolled_back"]
    assert o.quota_usage == {"instances": 1, "cores": 1, "ram": 512}


@nova(TC + "test_finish_resize_instance_notification")
def test_finish_resize_notifications():
    # given a resize that got through resize_instance
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.resize_instance.task_migrated")
    start = o.mark()
    # when finish_resize runs
    o.run_until_quiescent()
    # then it emits finish_resize.start then finish_resize.end, and nothing else
    assert o.usage_events(start) == ["compute.instance.finish_resize.start",
                                     "compute.instance.finish_resize.end"]
    assert {n.service for n in o.notifications(start)} == {"host2"}
    # and the end notification describes the instance with its new flavor
    assert db(o.world_after("compute.instance.finish_resize.end")).flavor == "medium"


@nova(TC + "test_resize_instance_notification")
def test_prep_resize_notifications():
    # given a resize request
    o = oracle()
    o.api.resize("vm", "medium")
    start = o.mark()
    # when prep_resize runs on the destination
    o.run_until("compute.prep_resize.end")
    # then it emits exists, resize.prep.start and resize.prep.end, in that order
    assert o.usage_events(start) == ["compute.instance.exists",
                                     "compute.instance.resize.prep.start",
                                     "compute.instance.resize.prep.end"]
    # and the end notification still describes the instance with its old flavor
    assert db(o.world_after("compute.instance.resize.prep.end")).flavor == "small"
    assert migration_of(o).status == "pre-migrating"


@nova(TC + "test_prep_resize_instance_migration_error_on_none_host")
def test_prep_resize_with_no_source_host():
    # given a resize whose instance has lost its host by the time prep_resize runs (nova's
    # test writes host=None before calling prep_resize; no retry information)
    o = oracle(options={"scheduler_max_attempts": 1})
    o.api.resize("vm", "medium")
    o.deliver("migrate_server")
    o.run("migrate_server")  # the conductor casts prep_resize
    o.poke("vm", host=None)
    start = o.mark()
    # when prep_resize runs
    o.run_until_quiescent()
    # then it raised MigrationError and the reservation was rolled back
    assert "compute.prep_resize.no_source_host" in o.rows_since(start)
    end = next(e for e in o.ends(start) if e.method == "prep_resize")
    assert (end.ok, end.exc) == (False, "MigrationError")
    assert o.reservation_states() == ["rolled_back"]
    assert o.migrations() == []


def _driver_error(row: str, vm_state: str = "active") -> Oracle:
    # given a resize that reached resize_instance on the source
    o = oracle(vm_state=vm_state)
    o.api.resize("vm", "medium")
    # when the driver's migrate_disk_and_power_off raises
    o.fail(row)
    o.run_until_quiescent()
    # then the reservation is rolled back
    assert o.reservation_states() == ["rolled_back"]
    return o


@nova(TC + "test_resize_instance_driver_error",
      TC + "test_resize_instance_handles_migration_error")
def test_resize_instance_driver_error():
    o = _driver_error("compute.resize_instance.migrate_disk_fails")
    # and the instance is ERROR
    assert o.instance("vm").vm_state == "error"


@nova(TC + "test_resize_instance_driver_rollback")
def test_resize_instance_driver_rollback():
    o = _driver_error("compute.resize_instance.migrate_disk_rollback")
    # and InstanceFaultRollback leaves it ACTIVE with no task
    vm = o.instance("vm")
    assert (vm.vm_state, vm.task_state) == ("active", None)


@nova(TC + "test_resize_instance")
def test_resize_instance():
    # given an ACTIVE instance
    o = oracle()
    o.api.resize("vm", "medium")
    # when prep_resize has run
    o.run_until("compute.prep_resize.end")
    # then old_vm_state is stashed as active
    assert o.instance("vm").old_vm_state == "active"
    # when resize_instance runs
    o.run_until("compute.resize_instance.task_migrated")
    # then the instance's host is the migration's destination
    assert o.instance("vm").host == migration_of(o).dest_compute == "host2"


def _confirm(vm_state: str, power: int) -> Oracle:
    # given an instance in vm_state (power state power), resized on its own host (down from
    # medium to small, so that the confirm has a reservation of its own to commit)
    o = oracle(hosts=1, vm_state=vm_state, flavor="medium",
               options={"allow_resize_to_same_host": True})
    assert o.instance("vm").power_state == power
    o.api.resize("vm", "small")
    o.run_until_quiescent()
    assert o.instance("vm").old_vm_state == vm_state
    assert o.instance("vm").flavor == "small"
    # when the resize is confirmed
    o.api.confirm_resize("vm")
    o.run_until_quiescent()
    # then the instance keeps the new flavor and gets its old vm_state back, no task
    vm = o.instance("vm")
    assert vm.flavor == "small"
    assert (vm.vm_state, vm.task_state) == (vm_state, None)
    assert vm.power_state == power
    assert migration_of(o).source_compute == "host1"
    # and confirm_resize committed the confirm's reservation
    confirm_r = o.reservations[-1]
    assert (confirm_r.row, confirm_r.status) == ("api.confirm_resize.reserve_downsize",
                                                 "committed")
    assert "compute.confirm_resize.commit" in o.rows()
    assert o.quota_usage == {"instances": 1, "cores": 1, "ram": 512}
    return o


@nova(TC + "test_confirm_resize_from_active")
def test_confirm_resize_from_active():
    _confirm("active", RUNNING)


@nova(TC + "test_confirm_resize_from_stopped")
def test_confirm_resize_from_stopped():
    _confirm("stopped", SHUTDOWN)


def _finish_revert(vm_state: str, drop_old_vm_state: bool = False) -> Oracle:
    # given an instance in vm_state resized from small to medium
    o = resized(vm_state=vm_state)
    assert o.instance("vm").old_vm_state == vm_state
    # when the user reverts and revert_resize runs on the destination
    o.api.revert_resize("vm")
    o.run_until("compute.revert_resize.drop_claim")
    if drop_old_vm_state:
        # (nova's test removes old_vm_state from system_metadata at this point)
        o.poke("vm", old_vm_state=None)
    # and finish_revert_resize runs on the source
    o.run_until_quiescent()
    # then the old flavor is back, on the source host, with no task
    vm = o.instance("vm")
    mig = migration_of(o)
    assert vm.task_state is None
    assert vm.flavor == "small"
    assert vm.host == mig.source_compute == "host1"
    # and the migration's dest_compute was rewritten to its source_compute
    assert mig.dest_compute == mig.source_compute
    # and the driver restarted the old guest with the old flavor in place
    assert db(o.world_after_row(
        "compute.finish_revert_resize.finish_revert_migration")).flavor == "small"
    # and finish_revert_resize committed the revert's reservation
    revert_r = o.reservations[-1]
    assert (revert_r.row, revert_r.status) == ("api.revert_resize.reserve_reverse_upsize",
                                               "committed")
    assert o.world_after_row("compute.finish_revert_resize.launched").reservations[-1].status \
        == "pending"
    assert o.quota_usage == {"instances": 1, "cores": 1, "ram": 512}
    return o


@nova(TC + "test_finish_revert_resize_from_active")
def test_finish_revert_resize_from_active():
    o = _finish_revert("active")
    assert o.instance("vm").vm_state == "active"
    assert "vm" in o.host("host1").running


@nova(TC + "test_finish_revert_resize_from_stopped")
def test_finish_revert_resize_from_stopped():
    o = _finish_revert("stopped")
    assert o.instance("vm").vm_state == "stopped"
    assert "vm" not in o.host("host1").running


@nova(TC + "test_finish_revert_resize_from_stopped_remove_old_vm_state")
def test_finish_revert_resize_without_old_vm_state():
    # a stopped instance whose old_vm_state is gone comes back ACTIVE (the default)
    o = _finish_revert("stopped", drop_old_vm_state=True)
    assert o.instance("vm").vm_state == "active"
    assert "vm" in o.host("host1").running


# ---- _cleanup_stored_instance_types: which flavor is kept, which is dropped -------------------

@nova(TC + "test_cleanup_stored_instance_types_for_resize")
def test_confirm_keeps_the_new_flavor_and_drops_the_old():
    # given a resize from small to medium waiting for confirmation, audited on the source so
    # that its tracker holds the old flavor for the migration (not for the instance)
    o = resized()
    assert o.audit("host1").tracked_migrations == {("vm", "small", migration_of(o).id)}
    assert o.usage("host1") == (1, 512, 10)
    # when it is confirmed
    o.api.confirm_resize("vm")
    o.run_until_quiescent()
    # then the flavor kept is the new one, the stashed flavors and old_vm_state are gone
    vm = o.instance("vm")
    assert (vm.flavor, vm.old_flavor, vm.new_flavor, vm.old_vm_state) == (
        "medium", None, None, None)
    # and the flavor dropped is the old one: the source's claim for it is released
    assert o.usage("host1") == (0, 0, 0)


@nova(TC + "test_cleanup_stored_instance_types_for_resize_with_update")
def test_revert_keeps_the_old_flavor_and_drops_the_new():
    # given a resize from small to medium waiting for confirmation
    o = resized()
    # when it is reverted
    o.api.revert_resize("vm")
    o.run_until_quiescent()
    # then the flavor kept is the old one and the stashed flavors are gone
    vm = o.instance("vm")
    assert (vm.flavor, vm.old_flavor, vm.new_flavor, vm.old_vm_state) == (
        "small", None, None, None)
    # and the flavor dropped is the new one: the destination holds nothing any more
    assert o.usage("host2") == (0, 0, 0)


@nova(TC + "test_cleanup_stored_instance_types_for_migration")
def test_confirm_of_a_cold_migration_keeps_the_flavor():
    # given a cold migration (old and new flavor are the same) waiting for confirmation
    o = resized(to=None)
    assert (o.instance("vm").old_flavor, o.instance("vm").new_flavor) == ("small", "small")
    # when it is confirmed
    o.api.confirm_resize("vm")
    o.run_until_quiescent()
    # then the flavor is unchanged and the stashed copies are gone
    vm = o.instance("vm")
    assert (vm.flavor, vm.old_flavor, vm.new_flavor) == ("small", None, None)


@nova(TC + "test_cleanup_stored_instance_types_for_migration_with_update")
def test_revert_of_a_cold_migration_keeps_the_flavor():
    # given a cold migration waiting for confirmation
    o = resized(to=None)
    # when it is reverted
    o.api.revert_resize("vm")
    o.run_until_quiescent()
    # then the flavor is unchanged and the stashed copies are gone
    vm = o.instance("vm")
    assert (vm.flavor, vm.old_flavor, vm.new_flavor, vm.host) == ("small", None, None, "host1")


# ---- the periodic auto-confirm ---------------------------------------------------------------

def _poll(**poke: Any) -> Oracle:
    # given a finished resize whose instance row is then set as nova's fixture has it
    o = resized(options={"resize_confirm_window": 60})
    if poke:
        o.poke("vm", **poke)
    # when host2's _poll_unconfirmed_resizes finds the migration
    o.periodic("poll_unconfirmed_resizes", "host2", migration_of(o).id)
    o.run_until_quiescent()
    return o


@nova(TC + "test_poll_unconfirmed_resizes")
def test_poll_unconfirmed_resizes_confirms_a_resized_instance():
    o = _poll()
    # then (resized, None) is confirmed
    assert migration_of(o).status == "confirmed"
    assert o.instance("vm").vm_state == "active"


@nova(TC + "test_poll_unconfirmed_resizes")
def test_poll_unconfirmed_resizes_errors_a_vanished_instance():
    o = _poll(deleted=True)
    # then the migration of an instance that is not found is set to error
    assert migration_of(o).status == "error"


@nova(TC + "test_poll_unconfirmed_resizes")
def test_poll_unconfirmed_resizes_errors_an_error_instance():
    o = _poll(vm_state="error")
    assert migration_of(o).status == "error"


@nova(TC + "test_poll_unconfirmed_resizes")
def test_poll_unconfirmed_resizes_errors_an_instance_no_longer_resized():
    # nova's fixtures: (active, rebooting) and (active, None); the model has no rebooting, so
    # (active, powering-off) stands for "active with some other task"
    for task in (None, "powering-off"):
        o = _poll(vm_state="active", task_state=task)
        assert migration_of(o).status == "error", task


@nova(TC + "test_poll_unconfirmed_resizes")
def test_poll_unconfirmed_resizes_leaves_busy_instances_alone():
    # (resized, deleting) and (active, resize_finish) are skipped: the migration is untouched
    for vm_state, task in (("resized", "deleting"), ("active", "resize_finish")):
        o = _poll(vm_state=vm_state, task_state=task)
        assert migration_of(o).status == "finished", (vm_state, task)
        assert "compute.poll_unconfirmed_resizes.busy" in o.rows()


# ---- confirm_resize's early returns roll the reservation back --------------------------------

def _confirm_delivered_after(change: str) -> Oracle:
    # given a confirm requested (the downsize reserved, the cast in flight)
    o = resized_down()
    o.api.confirm_resize("vm")
    assert o.reservations[-1].status == "pending"
    if change == "instance_gone":
        o.poke("vm", deleted=True)
    elif change == "already_confirmed":
        o.poke_migration("vm", status="confirmed")
    elif change == "unexpected_status":
        o.poke_migration("vm", status="error")
    # when confirm_resize runs on the source
    o.run_until_quiescent()
    # then it returned early and rolled the reservation back
    assert o.reservations[-1].status == "rolled_back"
    assert "compute.confirm_resize.confirm_migration" not in o.rows()
    return o



@nova(TC + "test_confirm_resize_roll_back_quota_instance_not_found")
def test_confirm_resize_rolls_back_when_the_instance_is_gone():
    o = _confirm_delivered_after("instance_gone")
    assert "compute.confirm_resize.instance_not_found" in o.rows()


@nova(TC + "test_confirm_resize_roll_back_quota_status_confirmed")
def test_confirm_resize_rolls_back_when_already_confirmed():
    o = _confirm_delivered_after("already_confirmed")
    assert "compute.confirm_resize.already_confirmed" in o.rows()


@nova(TC + "test_confirm_resize_roll_back_quota_status_dummy")
def test_confirm_resize_rolls_back_on_an_unexpected_status():
    # nova's fixture uses a nonsense status; 'error' is one the model has
    o = _confirm_delivered_after("unexpected_status")
    assert "compute.confirm_resize.unexpected_status" in o.rows()


@nova(TC + "test_allow_confirm_resize_on_instance_in_deleting_task_state")
def test_confirm_resize_while_deleting():
    # given a resized instance being deleted: the API sets deleting, then calls confirm_resize
    o = resized()
    o.api.delete("vm")
    assert o.instance("vm").task_state == "deleting"
    # when the confirm runs on the source
    o.deliver("confirm_resize")
    o.run_until("compute.confirm_resize.commit")
    # then its save, guarded by [None, deleting], succeeds: the instance is ACTIVE again
    assert o.instance("vm").vm_state == "active"
    save = o.saves(prefix="compute.confirm_resize.save_")[-1]
    assert save.guard == (None, "deleting")
    assert save.before == ("resized", "deleting")


# ---- disabled flavors ----------------------------------------------------------------------------

DT = "nova/tests/unit/compute/test_compute.py::DisabledInstanceTypesTestCase::"


@nova(DT + "test_can_resize_to_visible_instance_type")
def test_can_resize_to_an_enabled_flavor():
    o = oracle()
    assert o.api.resize("vm", "medium").outcome == "accepted"
    assert o.instance("vm").task_state == "resize_prep"


@nova(DT + "test_cannot_resize_to_disabled_instance_type")
def test_cannot_resize_to_a_disabled_flavor():
    o = oracle()
    res = o.api.resize("vm", "retired")
    assert res.outcome is not None and res.outcome.startswith("refused: FlavorNotFound")
    assert o.instance("vm").task_state is None


# ---- prep_resize's reschedule ------------------------------------------------------------------

@nova("nova/tests/unit/compute/test_compute.py::ComputeRescheduleResizeOrReraiseTestCase::"
      "test_reschedule_resize_or_reraise_called")
def test_prep_resize_failure_goes_to_the_reschedule_logic():
    # given three hosts and a resize whose request carries retry information
    o = oracle(hosts=3)
    o.api.resize("vm", "medium")
    # when prep_resize fails while creating the claim
    o.fail("compute.prep_resize.claim_refused_injected")
    o.run_until_quiescent()
    # then _reschedule_resize_or_reraise handled it: the request went back to the conductor
    rows = o.rows()
    assert rows.index("compute.prep_resize.claim_refused_injected") < rows.index(
        "reschedule.call_conductor")
    assert "reschedule.rescheduled" in rows
    assert o.instance("vm").vm_state == "resized"
