"""Scenario tests: delete racing a resize, and the periodic tasks."""

from conftest import cloud


def run_until(c, predicate, limit=200):
    for _ in range(limit):
        if predicate(c):
            return
        if c.step() is None:
            break
    assert predicate(c), "condition never reached"


def test_delete_in_resized_confirms_first():
    # given an instance waiting for confirmation
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    # when the user deletes it
    assert c.api.delete("vm").outcome == "accepted"
    # then nova-api calls confirm_resize on the source and waits
    assert [m.method for m in c.world.messages] == ["confirm_resize"]
    c.run_until_quiescent()
    # and after the confirm, terminate_instance deletes it on the destination
    vm = c.instance("vm")
    assert vm.deleted and vm.vm_state == "deleted"
    assert c.migration("vm").status == "confirmed"
    assert not c.host("host1").disks and not c.host("host2").disks
    assert c.quota_usage == {"instances": 0, "cores": 0, "ram": 0}
    assert all(r.status == "committed" for r in c.reservations)


def test_delete_in_resized_while_the_source_is_down_fails_and_leaves_deleting():
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.crash("host1")
    c.api.delete("vm")
    # the confirm call cannot be answered: it times out
    waiting = [f for f in c.world.frames if f.waiting]
    assert waiting
    c.timeout(waiting[0].id)
    c.run_until_quiescent()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.deleted) == ("resized", "deleting", False)
    # the delete reservation was rolled back; the confirm's downsize reservation is empty
    assert [r.status for r in c.reservations] == ["committed", "rolled_back"]


def test_delete_during_resize_migrating():
    # given the source is powering off and copying (resize_migrating)
    c = cloud()
    c.api.resize("vm", "medium")
    run_until(c, lambda c: c.instance("vm").task_state == "resize_migrating")
    # when the user deletes it: task_state deleting, unguarded; terminate cast to host1
    c.api.delete("vm")
    assert c.instance("vm").task_state == "deleting"
    c.run_until_quiescent()
    # then the resize's guarded save fails (UnexpectedDeletingTaskStateError): its upsize is
    # rolled back and the migration errored; terminate deletes the instance
    assert "error_out.error_state" in c.rows()
    assert c.migration("vm").status == "error"
    vm = c.instance("vm")
    assert vm.deleted
    statuses = sorted(r.status for r in c.reservations)
    assert statuses == ["committed", "rolled_back"]
    assert c.quota_usage == {"instances": 0, "cores": 0, "ram": 0}
    # and the copy made on host2 is left behind (only _cleanup_incomplete_migrations, not
    # modelled, would remove it)
    assert "vm" in c.host("host2").disks


def test_delete_in_resize_prep_with_the_conductor_failing_clears_deleting():
    # given a resize still being scheduled
    c = cloud(hosts=1)
    c.api.resize("vm", "medium")
    # when the user deletes it and the conductor then finds no valid host
    c.api.delete("vm")
    c.deliver("migrate_server")
    # then set_vm_state_and_notify's fresh save wrote task_state None over deleting
    c.run_until_quiescent()
    assert "conductor.cold_migrate.no_valid_host" in c.rows()
    assert c.instance("vm").deleted  # terminate still ran


def test_automatic_confirm():
    # given resize_confirm_window > 0 and a finished resize
    c = cloud(options={"resize_confirm_window": 1})
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    mig = c.migration("vm")
    # when the destination's periodic task finds it
    c.periodic("poll_unconfirmed_resizes", "host2", mig.id)
    c.run_until_quiescent()
    # then it confirms through the API code
    assert c.instance("vm").vm_state == "active"
    assert c.migration("vm").status == "confirmed"
    assert "compute.poll_unconfirmed_resizes.confirm" in c.rows()


def test_automatic_confirm_errors_a_migration_whose_instance_is_reverting():
    c = cloud(options={"resize_confirm_window": 1})
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    mig = c.migration("vm")
    # the revert API has saved resize_reverting but not yet the migration (W5)
    c.do(("api", "revert_resize", "vm", None))
    c.step()  # the reserve
    c.step()  # the instance save
    assert c.instance("vm").task_state == "resize_reverting"
    assert c.migration("vm").status == "finished"
    c.periodic("poll_unconfirmed_resizes", "host2", mig.id)
    assert c.migration("vm").status == "error"
    c.run_until_quiescent()
    # the revert's own writes go on: 'reverting' then 'reverted' overwrite 'error'
    assert c.migration("vm").status == "reverted"


def test_audit_counts_the_outbound_migration_on_the_source():
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.periodic("update_available_resource", "host1")
    c.periodic("update_available_resource", "host2")
    # RESIZED: host1 holds the old flavor for a revert, host2 counts the instance
    assert c.host("host1").usage == (1, 512, 10)
    assert c.host("host2").usage == (2, 2048, 20)
    # and after the confirm, host1's tracked migration is dropped with the old flavor
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    assert c.host("host1").usage == (0, 0, 0)
