"""Ported from nova 12.0.0's tests of soft delete, restore and the reclaim periodic task
(nova/tests/unit/compute/test_compute.py, test_compute_api.py, nova/tests/functional): with
``reclaim_instance_interval`` set, a DELETE is ``API.soft_delete``; ``restore`` takes it back;
``_reclaim_queued_deletes`` deletes soft-deleted instances for good."""

from __future__ import annotations

from typing import Any

from conftest import Oracle, arg, nova, one, oracle

TC = "nova/tests/unit/compute/test_compute.py::ComputeTestCase::"
API = "nova/tests/unit/compute/test_compute_api.py::ComputeAPIUnitTestCase::"
FS = "nova/tests/functional/test_servers.py::ServersTest::"
SAMPLE = ("nova/tests/functional/api_sample_tests/test_deferred_delete.py::"
          "DeferredDeleteSampleJsonTests::")

SOFT = {"reclaim_instance_interval": 3600}


def soft(**kw: Any) -> Oracle:
    """A cloud whose DELETE soft-deletes (reclaim_instance_interval set), the reclaim on."""
    return oracle(options=SOFT, periodic={"reclaim_queued_deletes": True}, **kw)


def soft_deleted(**kw: Any) -> Oracle:
    o = soft(**kw)
    o.api.delete("vm")
    o.run_until_quiescent()
    assert o.status("vm") == ("SOFT_DELETED", "-")
    return o


# ---- API._delete with the soft-delete callback ---------------------------------------------

@nova(API + "test_delete_soft")
def test_delete_soft():
    # given an active instance on an up host
    o = soft()
    start = o.mark()
    # when it is soft-deleted
    o.api.delete("vm")
    # then the one instance save is unguarded and writes soft-deleting
    save = one(o.saves(start))
    assert (save.row, save.guard, save.after) == ("api.delete.set_soft_deleting", None,
                                                  ("active", "soft-deleting"))
    # the delete is reserved (one instance less, the flavor's cores and ram)
    r = one(o.reservations)
    assert dict(r.deltas) == {"instances": -1, "cores": -1, "ram": -512}
    assert r.status == "pending"
    # and soft_delete_instance is cast to the host with that reservation (the manager
    # commits it)
    cast = one(o.sent(start))
    assert (cast.kind, cast.method, cast.target) == ("cast", "soft_delete_instance", "host1")
    assert arg(cast, "reservations") == (r.id,)


@nova(API + "test_delete_soft_with_down_host")
def test_delete_soft_with_down_host():
    # given the instance's compute service is down
    o = soft()
    o.stay_down("host1")
    start = o.mark()
    # when it is soft-deleted
    o.api.delete("vm")
    # then nothing is cast: _do_soft_delete(local=True) saves soft-delete with no task, the
    # row is destroyed and the reservation committed
    assert o.sent(start) == []
    saves = o.saves(start)
    assert [s.after for s in saves] == [("active", "soft-deleting"), ("soft-delete", None)]
    assert saves[1].row == "api.delete.local_soft_delete" and saves[1].guard is None
    assert o.instance("vm").deleted
    assert o.reservation_states() == ["committed"]


# ---- soft_delete_instance -----------------------------------------------------------------

@nova(TC + "test_quotas_successful_soft_delete")
def test_quotas_successful_soft_delete():
    # given a soft delete on its way to the host (task_state soft-deleting)
    o = soft()
    o.api.delete("vm")
    # when soft_delete_instance runs
    o.deliver("soft_delete_instance")
    o.run_until_quiescent()
    # then the reservation is committed
    assert o.reservation_states() == ["committed"]
    assert o.ends()[-1].ok


@nova(TC + "test_quotas_failed_soft_delete")
def test_quotas_failed_soft_delete():
    o = soft()
    o.api.delete("vm")
    # when the driver raises in soft_delete_instance
    o.fail("compute.soft_delete_instance.power_off_fails")
    o.run_until_quiescent()
    # then the reservation is rolled back and the exception propagates
    assert o.reservation_states() == ["rolled_back"]
    end = o.ends()[-1]
    assert (end.method, end.ok, end.exc) == ("soft_delete_instance", False, "Exception")


@nova(TC + "test_state_revert")
def test_state_revert_soft_delete_instance():
    # given a soft delete in progress (task_state soft-deleting)
    o = soft()
    o.api.delete("vm")
    # when soft_delete_instance fails
    o.fail("compute.soft_delete_instance.power_off_fails")
    o.run_until_quiescent()
    # then reverts_task_state has cleared the task
    assert o.instance("vm").task_state is None
    assert "reverts_task_state.revert" in o.rows()


@nova(TC + "test_state_revert")
def test_state_revert_restore_instance():
    # given a restore in progress (task_state restoring)
    o = soft_deleted()
    o.api.restore("vm")
    assert o.instance("vm").task_state == "restoring"
    # when restore_instance fails
    o.fail("compute.restore_instance.power_on_fails")
    o.run_until_quiescent()
    # then the task is cleared
    assert o.instance("vm").task_state is None
    assert "reverts_task_state.revert" in o.rows()


@nova(TC + "test_quotas_destroy_of_soft_deleted_instance")
def test_quotas_destroy_of_soft_deleted_instance():
    # given terminate_instance on its way for an instance that is SOFT_DELETED (nova creates
    # it so and calls terminate_instance with reservations)
    o = oracle()
    o.api.delete("vm")
    o.poke("vm", vm_state="soft-delete")
    # when terminate_instance runs
    o.run_until_quiescent()
    # then the instance is deleted but the reservation rolled back, not committed
    assert o.instance("vm").deleted
    assert o.reservation_states() == ["rolled_back"]
    assert "compute.terminate_instance.soft_deleted" in o.rows()


# ---- API.restore ---------------------------------------------------------------------------

@nova(API + "test_restore_by_admin", API + "test_restore_by_instance_owner")
def test_restore():
    # given a soft-deleted instance (admin and owner are the same request to the model)
    o = soft_deleted()
    start = o.mark()
    # when it is restored
    o.api.restore("vm")
    # then task_state is restoring, restore_instance is cast to its host
    assert o.instance("vm").task_state == "restoring"
    cast = one(o.sent(start))
    assert (cast.kind, cast.method, cast.target) == ("cast", "restore_instance", "host1")
    # and one instance with the flavor's cores and ram was reserved and committed once
    r = o.reservations[-1]
    assert dict(r.deltas) == {"instances": 1, "cores": 1, "ram": 512}
    assert r.status == "committed" and r.row == "api.restore.reserve"
    assert o.rows_since(start).count("api.restore.commit") == 1


# ---- _reclaim_queued_deletes ---------------------------------------------------------------

@nova(TC + "test_reclaim_queued_deletes")
def test_reclaim_queued_deletes():
    # given, on this host, a soft-deleted instance (vm), an active one (vm2) and a
    # soft-deleted one being restored (vm3)
    o = soft(instances=3, actions={"delete": 1})
    o.api.delete("vm")
    o.run_until_quiescent()
    o.poke("vm3", vm_state="soft-delete", task_state="restoring")
    # when the reclaim runs
    start = o.mark()
    o.periodic("reclaim_queued_deletes", "host1")
    # then only vm goes through _delete_instance
    assert o.instance("vm").deleted
    assert not o.instance("vm2").deleted and not o.instance("vm3").deleted
    assert o.rows_since(start).count("compute.reclaim_instance.delete") == 1
    assert o.rows_since(start).count("compute.reclaim_instance.skip") == 2


@nova(TC + "test_reclaim_queued_deletes_continue_on_error")
def test_reclaim_queued_deletes_continue_on_error():
    # given two soft-deleted instances on this host
    o = soft(instances=2)
    for name in ("vm", "vm2"):
        o.api.delete(name)
        o.run_until_quiescent()
    # when the reclaim runs and the first _delete_instance raises
    o.fail("compute.terminate_instance.shutdown_fails")
    o.periodic("reclaim_queued_deletes", "host1")
    # then the failure is logged and the other instance is still reclaimed
    assert "reclaim_instance.except.logged" in o.rows()
    states = sorted((o.instance(n).deleted, o.instance(n).vm_state) for n in ("vm", "vm2"))
    assert states == [(False, "soft-delete"), (True, "deleted")]


# ---- functional -----------------------------------------------------------------------------

@nova(FS + "test_deferred_delete")
def test_deferred_delete():
    # given an ACTIVE server
    o = soft()
    # a restore is refused while it is not deleted
    assert o.api.restore("vm").outcome.startswith("refused: InstanceInvalidState")
    # when it is deleted it becomes SOFT_DELETED
    o.api.delete("vm")
    o.run_until_quiescent()
    assert o.status("vm") == ("SOFT_DELETED", "-")
    # and the reclaim deletes it for good
    o.periodic("reclaim_queued_deletes", "host1")
    assert o.instance("vm").deleted


@nova(FS + "test_deferred_delete_restore")
def test_deferred_delete_restore():
    o = soft_deleted()
    o.api.restore("vm")
    o.run_until_quiescent()
    assert o.status("vm") == ("ACTIVE", "-")


@nova(SAMPLE + "test_restore")
def test_restore_sample():
    # the samples run every cast as a call: the soft delete has finished when restore comes
    o = soft_deleted()
    assert o.api.restore("vm").outcome == "accepted"  # HTTP 202
    o.run_until_quiescent()
    assert all(e.ok for e in o.ends())
