"""Scenario tests: soft delete (reclaim_instance_interval set), restore, and the reclaim periodic
task; the interplay with a resize (bug 1712480 included)."""

import re

import pytest
from conftest import cloud, config
from nova_resize.checker.explicit.properties import BY_NAME, Context
from nova_resize.engine.actions import Periodic
from nova_resize.engine.config import parse_config
from nova_resize.engine.core import Engine

from nova_resize.errors import ConfigError

SOFT = {"reclaim_instance_interval": 3600}


def soft_cloud(**kw):
    return cloud(options=SOFT, periodic={"reclaim_queued_deletes": True}, **kw)


def run_until(c, predicate, limit=200):
    for _ in range(limit):
        if predicate(c):
            return
        if c.step() is None:
            break
    assert predicate(c), "condition never reached"


def soft_deleted(**kw):
    """An instance the user deleted with reclaim_instance_interval set, now SOFT_DELETED."""
    c = soft_cloud(**kw)
    c.api.delete("vm")
    c.run_until_quiescent()
    assert c.status("vm") == ("SOFT_DELETED", "-")
    return c


def test_delete_soft_deletes_when_reclaim_instance_interval_is_set():
    # given reclaim_instance_interval > 0
    c = soft_cloud()
    # when the user deletes the instance
    res = c.api.delete("vm")
    # then nova-api saved soft-deleting (unguarded), reserved the delete and cast
    # soft_delete_instance to the instance's host, with the reservation
    assert res.outcome == "accepted"
    assert (c.instance("vm").vm_state, c.instance("vm").task_state) == ("active",
                                                                        "soft-deleting")
    assert c.status("vm") == ("ACTIVE", "soft-deleting")
    (msg,) = c.world.messages
    assert (msg.kind, msg.method, msg.target) == ("cast", "soft_delete_instance", "host1")
    assert dict(msg.args)["reservations"] == (c.reservations[0].id,)
    # and the compute host powers the guest off and soft-deletes it, committing the quota
    c.run_until_quiescent()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.deleted) == ("soft-delete", None, False)
    assert c.rows()[-2:] == ["compute.soft_delete_instance.power_off",
                             "compute.soft_delete_instance.commit"]
    assert c.quota_usage == {"instances": 0, "cores": 0, "ram": 0}
    # the disk stays, the guest is off, and the resource tracker still counts it
    host = c.host("host1")
    assert "vm" in host.disks and "vm" not in host.running
    assert host.usage == (1, 512, 10)
    assert [n.event_type for rec in c.history for n in rec.notifications
            if "soft_delete" in n.event_type] == ["compute.instance.soft_delete.start",
                                                  "compute.instance.soft_delete.end"]


def test_without_reclaim_instance_interval_delete_is_a_hard_delete():
    c = cloud()
    c.api.delete("vm")
    assert c.instance("vm").task_state == "deleting"
    c.run_until_quiescent()
    assert c.instance("vm").deleted
    assert "api.delete.set_soft_deleting" not in c.rows()


def test_a_never_launched_instance_is_deleted_for_good():
    # given an instance that never finished building (launched_at unset)
    c = soft_cloud()
    inst = c.instance("vm")._replace(launched=False)
    c.world = c.world._replace(instances=(inst,))
    # when the user deletes it: soft_delete refuses it, so the REST layer calls delete
    c.api.delete("vm")
    assert c.instance("vm").task_state == "deleting"
    c.run_until_quiescent()
    assert c.instance("vm").deleted


def test_soft_delete_failing_on_the_host_rolls_back_and_clears_the_task():
    c = soft_cloud()
    c.api.delete("vm")
    c.fail("compute.soft_delete_instance.power_off_fails")
    c.run_until_quiescent()
    # soft_delete_instance's except rolled the delete back; reverts_task_state cleared it
    assert [r.status for r in c.reservations] == ["rolled_back"]
    assert (c.instance("vm").vm_state, c.instance("vm").task_state) == ("active", None)
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}


def test_soft_delete_with_the_host_down_deletes_locally_and_destroys_the_row():
    c = soft_cloud()
    c.stay_down("host1")
    c.api.delete("vm")
    # _local_delete: _do_soft_delete(local=True) wrote soft-delete, then the row is destroyed
    assert [r for r in c.rows() if r.startswith("api.delete.local")] == [
        "api.delete.local_soft_delete", "api.delete.local_destroy", "api.delete.local_commit"]
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.deleted) == ("soft-delete", None, True)
    assert c.quota_usage == {"instances": 0, "cores": 0, "ram": 0}
    assert "vm" in c.host("host1").disks  # nothing touched the host


def test_deleting_a_soft_deleted_instance_again_rolls_the_new_reservation_back():
    # given a soft-deleted instance (its quota already given back)
    c = soft_deleted()
    # when the user deletes it again (soft_delete accepts any vm_state)
    c.api.delete("vm")
    # then nova-api rolls the new reservation back (bug 1333145) and casts without it
    assert [r.status for r in c.reservations] == ["committed", "rolled_back"]
    (msg,) = c.world.messages
    assert msg.method == "soft_delete_instance" and dict(msg.args)["reservations"] is None
    c.run_until_quiescent()
    assert c.quota_usage == {"instances": 0, "cores": 0, "ram": 0}
    assert c.status("vm") == ("SOFT_DELETED", "-")


def test_deleting_a_soft_deleted_instance_with_its_host_down_counts_it_twice():
    # given a soft-deleted instance whose compute service is now down
    c = soft_deleted()
    c.stay_down("host1")
    # when the user deletes it again: the local path commits a second -1 (the rollback of
    # bug 1333145's fix is only on the path that casts)
    c.api.delete("vm")
    assert c.instance("vm").deleted
    assert c.quota_usage == {"instances": -1, "cores": -1, "ram": -512}


# ---- restore -----------------------------------------------------------------------------------

def test_restore_reserves_casts_commits_and_powers_on():
    c = soft_deleted()
    start = len(c.history)
    res = c.api.restore("vm")
    assert res.outcome == "accepted"
    # nova-api reserved one instance and the flavor again, saved restoring under [None], cast
    # restore_instance and committed at once, before the host has done anything
    rows = [r for rec in c.history[start:] for r in rec.rows]
    assert rows == ["api.restore.reserve", "api.restore.restoring", "api.restore.commit"]
    assert dict(c.reservations[-1].deltas) == {"instances": 1, "cores": 1, "ram": 512}
    assert (c.instance("vm").vm_state, c.instance("vm").task_state) == ("soft-delete",
                                                                        "restoring")
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}
    assert [m.method for m in c.world.messages] == ["restore_instance"]
    c.run_until_quiescent()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state) == ("active", None)
    assert "vm" in c.host("host1").running


def test_restore_is_refused_unless_soft_deleted_and_over_quota():
    c = soft_cloud()
    assert c.api.restore("vm").outcome.startswith("refused: InstanceInvalidState: vm_state")
    c = soft_deleted(quota={"instances": 0})
    before = c.world
    res = c.api.restore("vm")
    assert res.outcome == "refused: TooManyInstances (HTTP 403)"
    assert c.world == before


def test_a_failed_power_on_leaves_the_instance_soft_deleted_but_counted():
    c = soft_deleted()
    c.api.restore("vm")
    c.fail("compute.restore_instance.power_on_fails")
    c.run_until_quiescent()
    assert c.status("vm") == ("SOFT_DELETED", "-")
    # the quota was committed by nova-api: a soft-deleted instance now counts (drift)
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}


# ---- reclaim -----------------------------------------------------------------------------------

def test_reclaim_deletes_this_hosts_soft_deleted_instances_for_good():
    c = soft_deleted()
    eng = c.engine
    assert eng.periodic_candidates(c.world, "reclaim_queued_deletes") == [
        Periodic("reclaim_queued_deletes", "host1", None)]
    assert Periodic("reclaim_queued_deletes", "host1", None) in eng.enabled(c.world)
    c.periodic("reclaim_queued_deletes", "host1")
    vm = c.instance("vm")
    assert vm.deleted and vm.vm_state == "deleted"
    # _delete_instance with empty quotas: nothing more is given back
    assert c.quota_usage == {"instances": 0, "cores": 0, "ram": 0}
    assert c.host("host1").disks == frozenset() and c.host("host1").usage == (0, 0, 0)
    rows = c.rows()
    assert rows[rows.index("compute.reclaim_queued_deletes.query"):] == [
        "compute.reclaim_queued_deletes.query", "compute.reclaim_instance.delete",
        "compute.terminate_instance.soft_deleted", "compute.terminate_instance.shutdown",
        "compute.terminate_instance.save_deleted", "compute.terminate_instance.destroy",
        "compute.terminate_instance.commit"]
    assert "compute.terminate_instance.lock" not in rows  # no lock, no decorators
    assert eng.periodic_candidates(c.world, "reclaim_queued_deletes") == []


def test_reclaim_leaves_live_and_restoring_instances_alone():
    c = soft_deleted(instances=2)
    c.api.restore("vm")
    # vm is restoring, vm2 is active: nothing for the reclaim to take
    assert c.engine.periodic_candidates(c.world, "reclaim_queued_deletes") == []
    c.run_until_quiescent()
    assert not c.instance("vm").deleted and not c.instance("vm2").deleted


def test_a_failed_reclaim_is_logged_and_the_instance_stays_soft_deleted():
    c = soft_deleted()
    c.fail("compute.terminate_instance.shutdown_fails")
    c.periodic("reclaim_queued_deletes", "host1")
    assert "reclaim_instance.except.logged" in c.rows()
    assert c.status("vm") == ("SOFT_DELETED", "-")
    assert not c.instance("vm").deleted
    assert c.world.frames == ()


def test_reclaim_racing_a_restore_destroys_the_restored_instance():
    # given the reclaim has read the soft-deleted instance (its query is one step)
    c = soft_deleted()
    c.do(Periodic("reclaim_queued_deletes", "host1", None))
    # when the user restores it meanwhile (restoring, the quota taken again)
    assert c.api.restore("vm").outcome == "accepted"
    # then _delete_instance, which guards nothing, deletes it all the same
    c.run_until_quiescent()
    assert c.instance("vm").deleted
    # and the restore's +1 stays committed: the project is charged for a deleted instance
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}
    assert "compute.terminate_instance.soft_deleted" in c.rows()


# ---- the interplay with a resize ---------------------------------------------------------------

def test_soft_deleting_a_resized_instance_ends_in_error_bug_1712480():
    # given a resize waiting for confirmation
    c = soft_cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert c.instance("vm").vm_state == "resized"
    # when the user deletes it (a soft delete): _delete calls confirm_resize on the source
    c.api.delete("vm")
    assert c.instance("vm").task_state == "soft-deleting"
    assert [m.method for m in c.world.messages] == ["confirm_resize"]
    c.run_until_quiescent()
    # then the confirm removed the source copy and confirmed the migration, but its final
    # save expects [None, deleting] and meets soft-deleting: the error handler writes ERROR
    # with the dirty task_state None over soft-deleting
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.deleted) == ("error", None, False)
    assert c.migration("vm").status == "confirmed"
    assert "error_out.error_state" in c.rows()
    assert not c.host("host1").disks and not c.host("host1").resize_disks
    assert "vm" in c.host("host2").running
    # the call raised back into _delete: the delete reservation rolled back, HTTP 500, and
    # no soft_delete_instance was ever cast
    assert c.history[-1].outcome == "error: UnexpectedTaskStateError"
    assert [r.status for r in c.reservations] == ["committed", "rolled_back"]
    assert "rpc.deliver.soft_delete_instance" not in c.rows()


def test_the_checker_reports_bug_1712480_as_a_lost_update():
    c = soft_cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.delete("vm")
    ctx = Context(c.engine)
    found = []
    for _ in range(50):
        before = c.world
        res = c.step()
        if res is None:
            break
        found += BY_NAME["no-lost-update"].transition(ctx, before, res)
    assert ("error_out.error_state overwrote soft-deleting",) == tuple(v[0] for v in found)


def test_soft_deleting_a_resizing_instance_overwrites_its_task():
    # given a resize whose source is copying the disk (resize_migrating)
    c = soft_cloud()
    c.api.resize("vm", "medium")
    run_until(c, lambda c: c.instance("vm").task_state == "resize_migrating")
    # when the user deletes it: the unguarded save overwrites the resize's task
    c.api.delete("vm")
    assert c.instance("vm").task_state == "soft-deleting"
    c.run_until_quiescent()
    # then the resize's next guarded save fails: ERROR with its dirty task, migration error,
    # upsize rolled back; soft_delete_instance's own guard [soft-deleting] fails as well
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.deleted) == ("error", "resize_migrated", False)
    assert c.migration("vm").status == "error"
    assert [r.status for r in c.reservations] == ["rolled_back", "rolled_back"]
    assert "soft_delete_instance.except.rollback" in c.rows()


# ---- configuration -----------------------------------------------------------------------------

def test_reclaim_needs_the_interval_and_the_keys_are_checked():
    with pytest.raises(ConfigError, match=re.escape("periodic.reclaim_queued_deletes: expected "
                       "options.reclaim_instance_interval > 0")):
        config(periodic={"reclaim_queued_deletes": True})
    with pytest.raises(ConfigError, match=re.escape("options.reclaim_instance_interval: expected a "
                       "non-negative integer")):
        config(options={"reclaim_instance_interval": -1})
    cfg = config(options=SOFT, actions={"delete": 1, "restore": 1})
    assert dict(cfg.actions) == {"delete": 1, "restore": 1}


def test_the_explorer_reaches_soft_deleted_restored_and_reclaimed_states():
    data = {
        "flavors": [{"name": "small", "vcpus": 1, "memory_mb": 512, "root_gb": 10}],
        "hosts": [{"name": "host1"}],
        "instances": [{"name": "vm", "host": "host1", "flavor": "small"}],
        "options": SOFT,
        "actions": {"delete": 1, "restore": 1},
        "periodic": {"reclaim_queued_deletes": True},
    }
    eng = Engine(parse_config(data, "<test>", "soft"))
    seen = {eng.initial()}
    todo = list(seen)
    while todo:
        w = todo.pop()
        for a in eng.enabled(w):
            nw = eng.step(w, a).world
            if nw not in seen:
                seen.add(nw)
                todo.append(nw)
    pairs = {(i.vm_state, i.task_state, i.deleted) for w in seen for i in w.instances}
    assert {("soft-delete", None, False), ("soft-delete", "restoring", False),
            ("deleted", None, True)} <= pairs
    assert ("active", None, False) in pairs  # restored


# ---- force_delete ----------------------------------------------------------------------------

def test_force_delete_of_a_soft_deleted_instance_terminates_it_and_rolls_its_reservation_back():
    # given a soft-deleted instance (its quota already released)
    c = soft_deleted()
    # when an admin force-deletes it
    res = c.api.force_delete("vm")
    # then _delete saves deleting (unguarded), reserves the delete, and, the instance being
    # soft-deleted, rolls that reservation back before casting terminate_instance with none
    # (bug 1333145)
    assert res.outcome == "accepted" and res.api.http == 202
    assert c.status("vm") == ("SOFT_DELETED", "deleting")
    c.run_until_quiescent()
    assert "api.delete.terminate_soft_deleted" in c.rows()
    assert c.instance("vm").deleted
    assert c.quota_usage == {"instances": 0, "cores": 0, "ram": 0}
    assert c.quota_reserved == {"instances": 0, "cores": 0, "ram": 0}
    assert "vm" not in c.host("host1").disks


def test_force_delete_of_a_busy_instance_is_http_500_and_a_locked_restore_too():
    # force_delete's controller catches only InstanceIsLocked: check_instance_state's
    # InstanceInvalidState leaves through expected_errors as HTTP 500 (Liberty v2.1)
    c = soft_cloud()
    c.api.stop("vm")
    res = c.api.force_delete("vm")
    assert (res.api.status, res.api.exception, res.api.http) == (
        "error", "InstanceInvalidState", 500)
    assert [e.kind for e in res.events] == ["api_error"]
    # restore's catches QuotaError and InstanceInvalidState, not InstanceIsLocked (no request
    # locks an instance, so the check is asked of a soft-deleted world with the lock set)
    c = soft_deleted()
    w = c.world
    w = w._replace(instances=tuple(i._replace(locked=True) for i in w.instances))
    got = c.engine.api_check(w, "restore", "vm")
    assert got is not None and (got.status, got.exception, got.http) == (
        "error", "InstanceIsLocked", 500)
    # while a delete of a locked instance is the controller's 409
    got = c.engine.api_check(w, "delete", "vm")
    assert got is not None and (got.status, got.exception, got.http) == (
        "refused", "InstanceIsLocked", 409)
