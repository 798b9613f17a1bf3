"""Ported from nova 12.0.0 nova/tests/unit/conductor/test_conductor.py and
nova/tests/unit/conductor/tasks/test_migrate.py: the conductor's cold-migrate task and what its
failures leave behind."""

from __future__ import annotations

from conftest import Oracle, arg, nova, one, oracle, spec_with_faults

CT = "nova/tests/unit/conductor/test_conductor.py::ConductorTaskTestCase::"
MT = "nova/tests/unit/conductor/tasks/test_migrate.py::MigrationTaskTestCase::"

CONDUCTOR_FAULTS = spec_with_faults(
    {"id": "conformance.conductor.unsupported_policy", "handler": "conductor.migrate_server",
     "at": "select", "cite": "nova/scheduler/utils.py:setup_instance_group",
     "effects": [{"type": "Raise", "exc": "UnsupportedPolicyException"}]},
    {"id": "conformance.conductor.prep_resize_cast_fails", "handler": "conductor.migrate_server",
     "at": "select", "cite": "nova/conductor/tasks/migrate.py:MigrationTask._execute",
     "effects": [{"type": "SelectDestination"}, {"type": "Raise", "exc": "Exception"}]},
)


def _at_the_conductor(o: Oracle, flavor: str | None) -> int:
    # a resize (flavor given) or migrate request delivered to the conductor
    if flavor is None:
        o.api.migrate("vm")
    else:
        o.api.resize("vm", flavor)
    start = o.mark()
    o.deliver("migrate_server")
    return start


@nova(CT + "test_cold_migrate")
def test_conductor_runs_the_cold_migrate_task():
    # given a migrate (same flavor) request at the conductor
    o = oracle()
    start = _at_the_conductor(o, None)
    # when the conductor handles it
    o.run("migrate_server")
    # then the cold-migrate task picked a host and cast prep_resize there with the flavor
    assert "conductor.migrate_server.select_destinations" in o.rows_since(start)
    cast = one(o.sent(start))
    assert (cast.kind, cast.method, cast.target) == ("cast", "prep_resize", "host2")
    assert arg(cast, "flavor") == "small"
    end = one(o.ends(start))
    assert (end.method, end.ok) == ("migrate_server", True)


@nova(MT + "test_execute")
def test_migration_task_execute():
    # given a resize request with its reservation, at the conductor
    o = oracle()
    start = _at_the_conductor(o, "medium")
    # when the task executes
    o.run("migrate_server")
    # then the retry information was populated (first attempt), the scheduler chose host2, and
    # prep_resize was cast there with the flavor, the reservations and the retry record
    rows = o.rows_since(start)
    assert rows.index("conductor.migrate_server.populate_retry") < rows.index(
        "conductor.migrate_server.select_destinations")
    cast = one(o.sent(start))
    assert (cast.kind, cast.method, cast.target) == ("cast", "prep_resize", "host2")
    assert arg(cast, "flavor") == "medium"
    assert arg(cast, "reservations") == (o.reservations[0].id,)
    assert (arg(cast, "attempts"), arg(cast, "tried")) == (1, ("host2",))
    # and the reservation is left pending for the compute hosts
    assert o.reservation_states() == ["pending"]


def _no_valid_host(vm_state: str) -> Oracle:
    # given an instance in vm_state and a resize request at the conductor
    o = oracle(vm_state=vm_state)
    start = _at_the_conductor(o, "medium")
    # when the scheduler finds no valid host
    o.fail("conductor.migrate_server.no_valid_host")
    o.run_until_quiescent()
    # then the task rolled the reservation back, and afterwards the conductor wrote the
    # instance's own vm_state back with no task, with a save that expects nothing
    rows = o.rows_since(start)
    assert rows.index("conductor.task_rollback.rollback") < rows.index(
        "conductor.cold_migrate.no_valid_host")
    assert o.reservation_states() == ["rolled_back"]
    save = one(o.saves(start))
    assert (save.row, save.guard, save.after) == ("conductor.cold_migrate.no_valid_host", None,
                                                  (vm_state, None))
    # and NoValidHost is what the conductor raises; no migration was created
    end = one(o.ends(start))
    assert (end.ok, end.exc) == (False, "NoValidHost")
    assert o.migrations() == []
    return o


@nova(CT + "test_cold_migrate_no_valid_host_back_in_active_state")
def test_no_valid_host_leaves_an_active_instance_active():
    _no_valid_host("active")


@nova(CT + "test_cold_migrate_no_valid_host_back_in_stopped_state")
def test_no_valid_host_leaves_a_stopped_instance_stopped():
    _no_valid_host("stopped")


def _conductor_raises(row: str, exc: str) -> Oracle:
    # given a STOPPED instance and a migrate request at the conductor
    o = oracle(spec=CONDUCTOR_FAULTS, vm_state="stopped")
    start = _at_the_conductor(o, "medium")
    # when the task raises exc
    o.fail(row)
    o.run_until_quiescent()
    # then the instance keeps vm_state stopped with no task, the reservation is rolled back,
    # and the exception is re-raised as it was
    vm = o.instance("vm")
    assert (vm.vm_state, vm.task_state) == ("stopped", None)
    assert o.reservation_states() == ["rolled_back"]
    save = one(o.saves(start))
    assert (save.row, save.guard) == ("conductor.cold_migrate.other", None)
    end = one(o.ends(start))
    assert (end.ok, end.exc) == (False, exc)
    return o


@nova(CT + "test_cold_migrate_no_valid_host_in_group")
def test_unsupported_policy_leaves_the_vm_state():
    _conductor_raises("conformance.conductor.unsupported_policy", "UnsupportedPolicyException")


@nova(CT + "test_cold_migrate_exception_host_in_error_state_and_raise")
def test_failed_prep_resize_cast_leaves_the_vm_state():
    o = _conductor_raises("conformance.conductor.prep_resize_cast_fails", "Exception")
    # and nothing reached a compute host
    assert o.world.messages == () and o.migrations() == []


@nova(MT + "test_rollback")
def test_migration_task_rollback():
    # given a resize with a pending reservation at the conductor
    o = oracle()
    _at_the_conductor(o, "medium")
    assert o.reservation_states() == ["pending"]
    # when the task fails
    o.fail("conductor.migrate_server.no_valid_host")
    o.run_until_quiescent()
    # then its rollback rolled the reservation back
    assert "conductor.task_rollback.rollback" in o.rows()
    assert o.reservation_states() == ["rolled_back"]
    assert o.quota_reserved == {"instances": 0, "cores": 0, "ram": 0}
