"""Scenario tests: scheduling failures, refused claims, and each driver call failing."""

from conftest import cloud
from nova_resize.spec.states import SHUTDOWN


def resized(**kw):
    c = cloud(**kw)
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert c.instance("vm").vm_state == "resized"
    return c


def test_no_valid_host_at_the_first_scheduling():
    # given one host (the instance's own host is ignored)
    c = cloud(hosts=1)
    # when a resize is requested
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    # then the conductor rolls the reservation back and resets the instance
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host) == ("active", None, "host1")
    assert [r.status for r in c.reservations] == ["rolled_back"]
    assert c.quota_reserved["ram"] == 0
    assert c.migrations() == []
    assert "conductor.cold_migrate.no_valid_host" in c.rows()


def test_injected_no_valid_host_keeps_a_stopped_instance_stopped():
    c = cloud(vm_state="stopped")
    c.api.resize("vm", "medium")
    c.deliver("migrate_server")
    c.fail("conductor.migrate_server.no_valid_host")
    c.run_until_quiescent()
    assert (c.instance("vm").vm_state, c.instance("vm").task_state) == ("stopped", None)


def test_claim_refused_is_rescheduled_to_another_host():
    # given three hosts; the scheduler picks host2 first
    c = cloud(hosts=3)
    c.api.resize("vm", "medium")
    # when host2's resize claim is refused
    c.fail("compute.prep_resize.claim_refused_injected")
    c.run_until_quiescent()
    # then prep_resize reschedules through the conductor and host3 completes the resize
    vm = c.instance("vm")
    assert (vm.vm_state, vm.host) == ("resized", "host3")
    assert "reschedule.call_conductor" in c.rows() and "reschedule.rescheduled" in c.rows()
    # and host2's migration row is left behind in pre-migrating
    statuses = [(m.dest_compute, m.status) for m in c.migrations()]
    assert statuses == [("host2", "pre-migrating"), ("host3", "finished")]
    assert [r.status for r in c.reservations] == ["committed"]


def test_claim_refused_without_retry_errors_the_instance():
    # given rescheduling disabled (scheduler_max_attempts = 1)
    c = cloud(hosts=3, options={"scheduler_max_attempts": 1})
    c.api.resize("vm", "medium")
    c.fail("compute.prep_resize.claim_refused_injected")
    c.run_until_quiescent()
    # then the instance goes to ERROR and the reservation is rolled back
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host) == ("error", None, "host1")
    assert [r.status for r in c.reservations] == ["rolled_back"]


def test_a_failed_reschedule_ends_in_error():
    # given two hosts: after host2 refuses there is nowhere else to go
    c = cloud(hosts=2)
    c.api.resize("vm", "medium")
    c.fail("compute.prep_resize.claim_refused_injected")
    c.run_until_quiescent()
    # then the conductor resets the instance, but prep_resize's handler then sets ERROR
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state) == ("error", None)
    assert "reschedule.failed" in c.rows() and "conductor.cold_migrate.no_valid_host" in c.rows()
    assert [r.status for r in c.reservations] == ["rolled_back"]


def test_claim_refused_for_real_when_the_host_is_full():
    # given hosts with room for small but not for large
    c = cloud(hosts=2, host_ram=2048, options={"scheduler_max_attempts": 1})
    # then the scheduler already filters host2 out: NoValidHost
    c.api.resize("vm", "large")
    c.run_until_quiescent()
    assert c.instance("vm").vm_state == "active"
    assert "conductor.cold_migrate.no_valid_host" in c.rows()


def test_migrate_disk_and_power_off_fails():
    # given a resize under way
    c = cloud()
    c.api.resize("vm", "medium")
    # when the driver's migrate_disk_and_power_off raises
    c.fail("compute.resize_instance.migrate_disk_fails")
    c.run_until_quiescent()
    # then the instance is ERROR on the source, the migration 'error', the upsize rolled back
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host, vm.flavor) == ("error", None, "host1", "small")
    assert c.migration("vm").status == "error"
    assert [r.status for r in c.reservations] == ["rolled_back"]
    # and the destination still holds the claim until its next audit
    assert c.host("host2").usage == (2, 2048, 20)
    c.periodic("update_available_resource", "host2")
    assert c.host("host2").usage == (0, 0, 0)


def test_migrate_disk_instance_fault_rollback_makes_a_stopped_instance_active():
    # given a STOPPED instance being resized
    c = cloud(vm_state="stopped")
    c.api.resize("vm", "medium")
    # when libvirt raises InstanceFaultRollback (e.g. a disk shrink)
    c.fail("compute.resize_instance.migrate_disk_rollback")
    c.run_until_quiescent()
    # then _error_out_instance_on_exception writes ACTIVE, even though it was stopped
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state) == ("active", None)
    assert vm.power_state == SHUTDOWN
    assert c.migration("vm").status == "error"
    assert "error_out.fault_rollback" in c.rows()


def test_finish_migration_fails():
    c = cloud()
    c.api.resize("vm", "medium")
    c.fail("compute.finish_resize.finish_migration_fails")
    c.run_until_quiescent()
    # then finish_resize's handler rolls back and sets ERROR; the old flavor is restored
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host, vm.flavor) == ("error", None, "host2", "small")
    assert c.migration("vm").status == "error"
    assert [r.status for r in c.reservations] == ["rolled_back"]


def test_confirm_migration_fails():
    c = resized()
    c.api.confirm_resize("vm")
    c.fail("compute.confirm_resize.confirm_migration_fails")
    c.run_until_quiescent()
    # then ERROR, no errors_out_migration on confirm: the migration stays 'confirming'
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state) == ("error", None)
    assert c.migration("vm").status == "confirming"
    assert [r.status for r in c.reservations] == ["committed"]  # the downsize was empty


def test_revert_destroy_fails():
    c = resized()
    c.api.revert_resize("vm")
    c.fail("compute.revert_resize.destroy_fails")
    c.run_until_quiescent()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host) == ("error", None, "host2")
    assert c.migration("vm").status == "reverting"
    assert [r.status for r in c.reservations] == ["committed", "rolled_back"]


def test_finish_revert_migration_fails():
    c = resized()
    c.api.revert_resize("vm")
    c.fail("compute.finish_revert_resize.finish_revert_migration_fails")
    c.run_until_quiescent()
    # then the instance is already back on host1 with its old flavor, but ERROR
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host, vm.flavor) == ("error", None, "host1", "small")
    assert c.migration("vm").status == "reverted"
    assert "vm" not in c.host("host2").disks and "vm" not in c.host("host1").running


def test_terminate_shutdown_fails():
    c = cloud()
    c.api.delete("vm")
    c.fail("compute.terminate_instance.shutdown_fails")
    c.run_until_quiescent()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.deleted) == ("error", None, False)
    assert [r.status for r in c.reservations] == ["rolled_back"]
