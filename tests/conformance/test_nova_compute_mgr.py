"""Ported from nova 12.0.0 nova/tests/unit/compute/test_compute_mgr.py: restart recovery, the
error decorators, resize_instance/finish_resize failures and revert_resize's disks."""

from __future__ import annotations

from conftest import Oracle, migration_of, nova, oracle, resized

UT = "nova/tests/unit/compute/test_compute_mgr.py::ComputeManagerUnitTestCase::"
MT = "nova/tests/unit/compute/test_compute_mgr.py::ComputeManagerMigrationTestCase::"


# ---- _init_instance after a crash ---------------------------------------------------------------

def _crashed_while_migrating(vm_state: str, old_vm_state: str | None) -> Oracle:
    # given an instance whose source host crashed in resize_instance after the driver had
    # powered the guest off and copied its disk, task_state still resize_migrating; nova's
    # fixture has it in vm_state ERROR
    o = oracle(vm_state=vm_state)
    o.api.resize("vm", "medium")
    o.run_until("compute.resize_instance.migrate_disk_and_power_off")
    o.crash("host1")
    o.poke("vm", vm_state="error", old_vm_state=old_vm_state)
    assert (o.instance("vm").task_state, o.instance("vm").host) == ("resize_migrating", "host1")
    assert "vm" not in o.host("host1").running
    # when nova-compute starts again on host1
    start = o.mark()
    o.restart("host1")
    # then _init_instance asked the driver to restart the old guest, and cleared the task
    # with an unguarded save
    rows = o.rows_since(start)
    assert rows.index("compute.init_instance.resize_migrating") < rows.index(
        "compute.init_instance.clear_migrating")
    save = o.saves(start)[-1]
    assert (save.row, save.guard, save.after) == ("compute.init_instance.clear_migrating", None,
                                                  ("error", None))
    assert o.instance("vm").task_state is None
    return o


@nova(UT + "test_init_instance_reverts_crashed_migration_from_active")
def test_restart_reverts_a_crashed_migration_from_active():
    o = _crashed_while_migrating("active", "active")
    # and the guest is powered on (old_vm_state was active)
    assert "vm" in o.host("host1").running


@nova(UT + "test_init_instance_reverts_crashed_migration_from_stopped")
def test_restart_reverts_a_crashed_migration_from_stopped():
    o = _crashed_while_migrating("stopped", "stopped")
    # and the guest stays off (old_vm_state was stopped)
    assert "vm" not in o.host("host1").running


@nova(UT + "test_init_instance_reverts_crashed_migration_no_old_state")
def test_restart_reverts_a_crashed_migration_without_old_vm_state():
    o = _crashed_while_migrating("active", None)
    # and with no old_vm_state the guest is powered on (the default)
    assert "vm" in o.host("host1").running


@nova(UT + "test_init_instance_errors_when_not_migrating")
def test_restart_leaves_an_error_instance_alone():
    # given an ERROR instance with a task other than resize_migrating/deleting on host1 (nova's
    # fixture: image_uploading; here resize_prep, left by a crash right after the API's save)
    o = oracle()
    o.api.resize("vm", "medium")
    o.crash("host1")
    o.poke("vm", vm_state="error")
    before = o.instance("vm")
    start = o.mark()
    # when nova-compute starts on host1
    o.restart("host1")
    # then _init_instance returns at once: nothing about the instance changes
    assert "compute.init_instance.error" in o.rows_since(start)
    assert o.saves(start) == []
    assert o.instance("vm") == before


@nova(UT + "test_init_instance_resize_prep")
def test_restart_clears_resize_prep():
    # given an ACTIVE instance in resize_prep on host1 (the resize never got further)
    o = oracle()
    o.api.resize("vm", "medium")
    o.crash("host1")
    start = o.mark()
    # when nova-compute starts on host1
    o.restart("host1")
    # then the task is cleared, with one save and no expected_task_state
    saves = o.saves(start)
    assert [(s.row, s.guard, s.after) for s in saves] == [
        ("compute.init_instance.resize_prep", None, ("active", None))]
    assert o.instance("vm").task_state is None


# ---- the error decorators ---------------------------------------------------------------------

@nova(UT + "test_reverts_task_state_instance_not_found")
def test_reverts_task_state_survives_a_vanished_instance():
    # given resize_instance under way on the source (task resize_migrating)
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.resize_instance.task_migrating")
    # and the instance deleted meanwhile (terminate_instance ran to the end on host1)
    o.api.delete("vm")
    o.deliver("terminate_instance")
    while any(f.method == "terminate_instance" for f in o.world.frames):
        o.run("terminate_instance")
    assert o.instance("vm").deleted
    start = o.mark()
    # when the driver call then fails in resize_instance
    o.fail("compute.resize_instance.migrate_disk_fails")
    o.run_until_quiescent()
    # then reverts_task_state's own save hit InstanceNotFound, which it swallowed: the
    # handler ends with the driver's exception, not InstanceNotFound
    assert "reverts_task_state.revert" in o.rows_since(start)
    end = next(e for e in o.ends(start) if e.method == "resize_instance")
    assert (end.ok, end.exc) == (False, "Exception")


@nova(MT + "test_errors_out_migration_decorator")
def test_errors_out_migration_sets_error_once():
    # given resize_instance running with the migration 'migrating'
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.resize_instance.task_migrating")
    assert migration_of(o).status == "migrating"
    start = o.mark()
    # when the handler raises
    o.fail("compute.resize_instance.migrate_disk_fails")
    o.run_until_quiescent()
    # then errors_out_migration saved the migration once, as 'error'
    assert o.migration_writes(start) == [("errors_out_migration.error", "migrating", "error")]


@nova(MT + "test_finish_resize_failure")
def test_finish_resize_failure_errors_the_migration():
    # given a resize that reached finish_resize (migration post-migrating)
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.resize_instance.task_migrated")
    start = o.mark()
    # when finish_resize fails
    o.fail("compute.finish_resize.finish_migration_fails")
    o.run_until_quiescent()
    # then the migration is 'error', saved once (by errors_out_migration)
    assert o.migration_writes(start) == [("errors_out_migration.error", "post-migrating",
                                          "error")]
    assert migration_of(o).status == "error"


@nova(MT + "test_resize_instance_failure")
def test_resize_instance_failure_saves_the_migration_twice():
    # given a resize that reached resize_instance (migration pre-migrating)
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.prep_resize.end")
    start = o.mark()
    # when the driver fails in resize_instance
    o.fail("compute.resize_instance.migrate_disk_fails")
    o.run_until_quiescent()
    # then the migration was saved twice: 'migrating', then 'error'
    assert [w[2] for w in o.migration_writes(start)] == ["migrating", "error"]
    assert migration_of(o).status == "error"


# ---- revert_resize: the destination's disks and shared storage --------------------------------

def _revert_on_destination(shared: bool) -> Oracle:
    # given a resized instance, its files on both hosts
    o = resized(options={"shared_storage": shared})
    assert "vm" in o.host("host2").disks
    # when revert_resize runs on the destination
    o.api.revert_resize("vm")
    o.deliver("revert_resize")
    o.run_until("compute.revert_resize.drop_claim")
    # then the new guest is destroyed there
    assert "vm" not in o.host("host2").running
    return o


@nova(MT + "test_revert_resize_instance_destroy_disks_shared_storage")
def test_revert_resize_keeps_the_disks_on_shared_storage():
    o = _revert_on_destination(shared=True)
    # and with storage shared with the source, its disks are kept
    assert "compute.revert_resize.destroy_keep_disk" in o.rows()
    assert "vm" in o.host("host2").disks


@nova(MT + "test_revert_resize_instance_destroy_disks_non_shared_storage")
def test_revert_resize_destroys_the_disks_otherwise():
    o = _revert_on_destination(shared=False)
    # and with storage not shared (as the source answers), its disks are destroyed too
    assert "compute.revert_resize.destroy" in o.rows()
    assert "vm" not in o.host("host2").disks


# ---- _cleanup_incomplete_migrations ----------------------------------------------------------

# nova/compute/manager.py ComputeManager._cleanup_incomplete_migrations (L6513-6551), a periodic
# task: for each 'error' migration touching this host whose instance is deleted and whose
# instance.host is another host, driver.delete_instance_files, then status 'failed' (spec rows
# compute.cleanup_incomplete_migrations.*; [periodic] cleanup_incomplete_migrations).


def _deleted_during_resize_instance() -> Oracle:
    # given resize_instance that has copied the disk to host2, and a delete that completes on
    # host1 (instance.host) before resize_instance goes on
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.resize_instance.post_migrating")
    o.api.delete("vm")
    o.deliver("terminate_instance")
    while any(f.method == "terminate_instance" for f in o.world.frames):
        o.run("terminate_instance")
    o.run_until_quiescent()
    return o


@nova(UT + "test_cleanup_incomplete_migrations_dest_node")
def test_cleanup_incomplete_migrations_on_the_destination():
    o = _deleted_during_resize_instance()
    # the instance is gone, its row says host1, its files are left on host2, the migration is
    # 'error'
    vm = o.instance("vm")
    assert (vm.deleted, vm.host) == (True, "host1")
    assert migration_of(o).status == "error"
    assert "vm" in o.host("host2").disks
    # when host2 runs _cleanup_incomplete_migrations
    o.periodic("cleanup_incomplete_migrations", "host2")
    # then host2's files are deleted and the migration is 'failed'
    assert "vm" not in o.host("host2").disks
    assert migration_of(o).status == "failed"


@nova(UT + "test_cleanup_incomplete_migrations_source_node")
def test_cleanup_incomplete_migrations_on_the_source():
    # given a resize that failed in finish_resize (the instance ERROR on host2, the migration
    # 'error'), then deleted on host2: the source host1 still has the files
    o = oracle()
    o.api.resize("vm", "medium")
    o.fail("compute.finish_resize.finish_migration_fails")
    o.run_until_quiescent()
    o.api.delete("vm")
    o.run_until_quiescent()
    vm = o.instance("vm")
    assert (vm.deleted, vm.host) == (True, "host2")
    assert migration_of(o).status == "error"
    assert "vm" in o.host("host1").resize_disks  # the original disks, moved aside
    # when host1 runs _cleanup_incomplete_migrations
    o.periodic("cleanup_incomplete_migrations", "host1")
    # then host1's files are deleted and the migration is 'failed'
    assert "vm" not in o.host("host1").disks and "vm" not in o.host("host1").resize_disks
    assert migration_of(o).status == "failed"
