"""Scenario tests: a compute service crashing in each resize task state, then restarting."""

from conftest import cloud


def run_until(c, predicate, limit=200):
    for _ in range(limit):
        if predicate(c):
            return
        if c.step() is None:
            break
    assert predicate(c), "condition never reached"


def test_source_crash_in_resize_prep_then_restart_errors_the_resize():
    # given a resize whose resize_instance cast is on its way to host1
    c = cloud()
    c.api.resize("vm", "medium")
    run_until(c, lambda c: any(m.method == "resize_instance" for m in c.world.messages))
    # when nova-compute on host1 crashes and restarts before it takes the message
    c.crash("host1")
    c.restart("host1")
    c.run_until_quiescent()
    # then init_instance cleared resize_prep (unguarded), so resize_instance's guarded save
    # fails: the error save writes ERROR together with the still-dirty resize_migrating
    assert "compute.init_instance.resize_prep" in c.rows()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state) == ("error", "resize_migrating")
    assert c.migration("vm").status == "error"
    assert [r.status for r in c.reservations] == ["rolled_back"]


def test_source_crash_in_resize_migrating_reverts_on_restart():
    c = cloud()
    c.api.resize("vm", "medium")
    run_until(c, lambda c: c.instance("vm").task_state == "resize_migrating")
    c.crash("host1")
    c.restart("host1")
    c.run_until_quiescent()
    # then init_instance restarts the guest on the source and clears the task
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.host) == ("active", None, "host1")
    assert "vm" in c.host("host1").running
    # and leaves the migration 'migrating' and the reservation pending (it would expire)
    assert c.migration("vm").status == "migrating"
    assert [r.status for r in c.reservations] == ["pending"]


def test_destination_crash_in_resize_migrated_completes_after_restart():
    # given the source has handed over (resize_migrated) and finish_resize is queued for host2
    c = cloud()
    c.api.resize("vm", "medium")
    run_until(c, lambda c: c.instance("vm").task_state == "resize_migrated")
    # when host2 crashes and restarts: _init_instance does nothing for resize_migrated
    c.crash("host2")
    c.restart("host2")
    # then the queued finish_resize is consumed after the restart and the resize finishes
    c.run_until_quiescent()
    assert "compute.init_instance.nothing" in c.rows()
    assert c.instance("vm").vm_state == "resized"


def test_destination_crash_in_resize_finish_is_stuck():
    c = cloud()
    c.api.resize("vm", "medium")
    run_until(c, lambda c: c.instance("vm").task_state == "resize_finish")
    c.crash("host2")
    c.restart("host2")
    c.run_until_quiescent()
    # then nothing recovers resize_finish: the instance stays RESIZE / resize_finish
    assert c.status("vm") == ("RESIZE", "resize_finish")
    assert c.migration("vm").status == "post-migrating"
    assert [r.status for r in c.reservations] == ["pending"]
    assert c.world.messages == () and c.world.frames == ()


def test_crash_in_resize_reverting_is_stuck():
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.revert_resize("vm")
    c.deliver("revert_resize")
    c.step()  # driver.destroy on host2
    c.crash("host2")
    c.restart("host2")
    c.run_until_quiescent()
    assert c.status("vm") == ("REVERT_RESIZE", "resize_reverting")
    assert c.migration("vm").status == "reverting"


def test_messages_to_a_down_host_wait_for_its_restart():
    c = cloud()
    c.crash("host1")
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    # resize_instance waits in host1's queue
    assert [m.method for m in c.world.messages] == ["resize_instance"]
    c.restart("host1")
    c.run_until_quiescent()
    # init cleared resize_prep first: the resize then fails as above
    assert c.instance("vm").vm_state == "error"


def test_a_crash_and_a_service_that_stays_down_are_told_apart_in_the_rows_and_hosts():
    # a crash (restarted later) and a service that never comes back each name their own row,
    # the one a report's trace shows and coverage counts, and leave the host down or gone
    c = cloud()
    res = c.crash("host1")
    assert res.rows == ["compute.service.crash"]
    assert c.host("host1").status == "down"
    res = c.stay_down("host2")
    assert res.rows == ["compute.service.stays_down"]
    assert c.host("host2").status == "gone"


def test_a_delete_whose_cast_is_lost_after_the_resize_errors_out_is_explained_by_the_baseline():
    # the large preset met this beyond 10 million states; 2 hosts, a resize, a delete, a crash
    # and a lost message reach it in 13,876 states
    from conftest import config
    from nova_resize.checker.explicit.baseline import load_baseline_reasons
    from nova_resize.checker.explicit.run import check

    cfg = config(actions={"resize": 1, "resize_flavors": ["medium"], "delete": 1},
                 faults={"crash": 1, "lose": 1})
    rep = check(cfg, [], load_baseline_reasons(None)).report
    assert rep.ex.complete
    hits = [(f, t, known, why) for f, t, known, why in rep.findings
            if f.prop == "task-cleared-on-failure"
            and f.key == "resize_instance raised UnexpectedTaskStateError: left error/deleting"]
    assert len(hits) == 1
    f, trace, known, why = hits[0]
    assert known and "terminate_instance cast was lost" in why
    rows = [r for s in trace for r in s.rows]
    # the resize errored out after init_instance cleared resize_prep, then a delete's cast
    # was lost before the handler's decorators ended
    for row in ("compute.init_instance.resize_prep", "error_out.error_state",
                "api.delete.terminate", "rpc.message_lost", "reverts_task_state.preempted"):
        assert row in rows, row
    assert rows.index("error_out.error_state") < rows.index("rpc.message_lost")
    assert f.where.startswith("error/deleting")
