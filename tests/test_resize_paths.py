"""Scenario tests: the resize family's normal paths, given/when/then."""

import pytest
from conftest import cloud


def test_resize_then_confirm():
    # given an ACTIVE instance on host1 with flavor small
    c = cloud()
    # when a resize to medium is requested and everything runs
    assert c.api.resize("vm", "medium").outcome == "accepted"
    c.run_until_quiescent()
    # then it waits for confirmation on host2 with the new flavor, the upsize committed
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host, vm.flavor) == ("resized", None, "host2", "medium")
    assert (vm.old_flavor, vm.new_flavor, vm.old_vm_state) == ("small", "medium", "active")
    assert c.migration("vm").status == "finished"
    assert c.quota_usage == {"instances": 1, "cores": 2, "ram": 2048}
    assert c.quota_reserved == {"instances": 0, "cores": 0, "ram": 0}
    # libvirt moved the source's instance directory aside (<path>_resize) and copied the disks
    assert "vm" in c.host("host1").resize_disks and "vm" not in c.host("host1").disks
    assert "vm" in c.host("host2").disks
    assert "vm" in c.host("host2").running and "vm" not in c.host("host1").running
    # when the user confirms
    assert c.api.confirm_resize("vm").outcome == "accepted"
    c.run_until_quiescent()
    # then the source copy is gone, the stashed flavors are cleared, ACTIVE again
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host) == ("active", None, "host2")
    assert (vm.old_flavor, vm.new_flavor, vm.old_vm_state) == (None, None, None)
    assert c.migration("vm").status == "confirmed"
    assert "vm" not in c.host("host1").disks and "vm" not in c.host("host1").resize_disks
    assert c.quota_usage == {"instances": 1, "cores": 2, "ram": 2048}
    assert all(r.status == "committed" for r in c.reservations)
    # and every step was attributed to a spec row
    assert "compute.confirm_resize.confirm_migration" in c.rows()


def test_resize_then_revert():
    # given an instance resized from small to medium, waiting for confirmation
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    # when the user reverts
    assert c.api.revert_resize("vm").outcome == "accepted"
    c.run_until_quiescent()
    # then it is back on host1 with flavor small, ACTIVE, the upsize given back
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host, vm.flavor) == ("active", None, "host1", "small")
    assert (vm.old_flavor, vm.new_flavor) == (None, None)
    mig = c.migration("vm")
    assert mig.status == "reverted"
    # and Nova rewrote the migration's dest_compute to the source (bug 1625462)
    assert mig.dest_compute == "host1"
    assert "vm" not in c.host("host2").disks and "vm" in c.host("host1").running
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}
    assert c.quota_reserved == {"instances": 0, "cores": 0, "ram": 0}


def test_revert_shows_revert_resize_status_while_in_flight():
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.revert_resize("vm")
    # nova-api has set resize_reverting and cast to the destination
    assert c.status("vm") == ("REVERT_RESIZE", "resize_reverting")
    assert c.migration("vm").status == "reverting"


def test_migrate_keeps_the_flavor_and_reserves_no_quota():
    # given an ACTIVE instance on host1
    c = cloud()
    # when an admin cold-migrates it (resize without a flavor)
    assert c.api.migrate("vm").outcome == "accepted"
    c.run_until_quiescent()
    # then it moves to host2 with the same flavor, as a 'migration' type record
    vm = c.instance("vm")
    assert (vm.vm_state, vm.host, vm.flavor) == ("resized", "host2", "small")
    mig = c.migration("vm")
    assert (mig.migration_type, mig.old_flavor, mig.new_flavor) == ("migration", "small", "small")
    assert c.reservations == ()
    # and it needs a confirm like a resize
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    assert c.instance("vm").vm_state == "active"
    assert c.reservations == ()


def test_downsize_commits_at_confirm():
    # given an instance on medium
    c = cloud(flavor="medium")
    # when resized down to small: no upsize to reserve
    c.api.resize("vm", "small")
    c.run_until_quiescent()
    # then usage still counts medium until the confirm commits the negative delta
    assert c.quota_usage["cores"] == 2 and c.quota_usage["ram"] == 2048
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    assert c.quota_usage["cores"] == 1 and c.quota_usage["ram"] == 512


def test_resize_of_a_stopped_instance_stays_stopped_after_confirm():
    # given a STOPPED instance
    c = cloud(vm_state="stopped")
    # when it is resized: the guest is not powered on at the destination
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert c.instance("vm").old_vm_state == "stopped"
    assert "vm" not in c.host("host2").running
    # and confirmed: the DB power_state is SHUTDOWN, so vm_state becomes stopped
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    assert (c.instance("vm").vm_state, c.instance("vm").task_state) == ("stopped", None)


def test_resize_of_a_stopped_instance_stays_stopped_after_revert():
    c = cloud(vm_state="stopped")
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    # when reverted: finish_revert_resize sets powering-off and calls stop_instance
    c.api.revert_resize("vm")
    c.run_until_quiescent()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host) == ("stopped", None, "host1")
    assert "compute.finish_revert_resize.stop_already_off" in c.rows()
    assert "vm" not in c.host("host1").running


def test_resize_to_the_same_host_when_allowed():
    # given one host and allow_resize_to_same_host
    c = cloud(hosts=1, options={"allow_resize_to_same_host": True})
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    # then the resize happens in place
    vm = c.instance("vm")
    assert (vm.vm_state, vm.host, vm.flavor) == ("resized", "host1", "medium")
    mig = c.migration("vm")
    assert mig.source_compute == mig.dest_compute == "host1"


def test_migrate_to_the_same_host_is_refused_by_the_driver():
    # given one host, allow_resize_to_same_host, and a driver without
    # supports_migrate_to_same_host (libvirt)
    c = cloud(hosts=1, options={"allow_resize_to_same_host": True, "scheduler_max_attempts": 1})
    # when the instance is cold-migrated
    c.api.migrate("vm")
    c.run_until_quiescent()
    # then prep_resize raises UnableToMigrateToSelf; with no retry it errors out
    assert "compute.prep_resize.same_host_unsupported" in c.rows()
    assert (c.instance("vm").vm_state, c.instance("vm").task_state) == ("error", None)


@pytest.mark.parametrize("then", ["confirm", "revert"])
def test_a_same_host_resize_keeps_its_disk_through_confirm_and_revert(then):
    # given one host, allow_resize_to_same_host, and a resize in place
    c = cloud(hosts=1, options={"allow_resize_to_same_host": True})
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    host = c.host("host1")
    assert "vm" in host.disks and "vm" in host.resize_disks
    # when the resize is confirmed or reverted
    getattr(c.api, f"{then}_resize")("vm")
    c.run_until_quiescent()
    # then (libvirt 12.0.0: _cleanup_resize removes only <path>_resize and keeps a guest on its
    # own host; a same-host revert finds its storage shared and destroys no disk) the instance
    # is active on host1 with its disk and running, and the copy is gone
    vm, host = c.instance("vm"), c.host("host1")
    assert (vm.vm_state, vm.task_state, vm.host) == ("active", None, "host1")
    assert "vm" in host.disks and "vm" in host.running and "vm" not in host.resize_disks
    assert vm.flavor == ("medium" if then == "confirm" else "small")
