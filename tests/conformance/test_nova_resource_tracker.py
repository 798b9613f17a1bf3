"""Ported from nova 12.0.0 nova/tests/unit/compute/test_tracker.py and test_resource_tracker.py:
what a host's resource tracker counts for instances and in-progress migrations, at its periodic
audit (update_available_resource) and at resize claims and their release."""

from __future__ import annotations

from conftest import Oracle, migration_of, nova, oracle, resized

TR = "nova/tests/unit/compute/test_tracker.py::"
RT = "nova/tests/unit/compute/test_resource_tracker.py::"

SMALL = (1, 512, 10)
MEDIUM = (2, 2048, 20)


def plus(*usages: tuple[int, int, int]) -> tuple[int, int, int]:
    return (sum(u[0] for u in usages), sum(u[1] for u in usages), sum(u[2] for u in usages))


@nova(TR + "TestUpdateAvailableResources::test_no_instances_no_migrations_no_reserved")
def test_audit_of_an_empty_host():
    # given host2 with no instance and no migration (the instance lives on host1)
    o = oracle()
    # when host2 audits
    h = o.audit("host2")
    # then nothing is used there
    assert (h.usage, h.tracked_instances, h.tracked_migrations) == ((0, 0, 0), set(), set())


@nova(TR + "TestUpdateAvailableResources::test_some_instances_no_migrations")
def test_audit_skips_deleted_instances():
    # given two instances on host1, one of them with vm_state deleted in the database (its row
    # not yet destroyed) without the tracker having been told
    o = oracle(instances=2)
    assert o.usage("host1") == plus(SMALL, SMALL)
    o.poke("vm2", vm_state="deleted")
    # when host1 audits
    h = o.audit("host1")
    # then only the live instance is counted
    assert h.usage == SMALL
    assert h.tracked_instances == {"vm"}


@nova(TR + "TestUpdateAvailableResources::test_no_instances_source_migration")
def test_audit_of_the_source_holds_the_old_flavor():
    # given a resize from small to medium past resize_instance, the instance now on host2,
    # its old flavor stashed, the migration still in progress (nova's fixture; the first
    # reachable such state is right after finish_resize stashed old_flavor: before that,
    # instance.old_flavor is None and nova's _get_instance_type('old_') finds nothing to hold)
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.finish_resize.stash_old_flavor")
    assert (o.instance("vm").host, o.instance("vm").old_flavor) == ("host2", "small")
    assert migration_of(o).status == "post-migrating"
    # when the source host1 audits
    h = o.audit("host1")
    # then it holds the old flavor for a possible revert, as a migration, not an instance
    assert h.usage == SMALL
    assert h.tracked_instances == set()
    assert h.tracked_migrations == {("vm", "small", migration_of(o).id)}


@nova(TR + "TestUpdateAvailableResources::test_no_instances_dest_migration")
def test_audit_of_the_destination_holds_the_new_flavor():
    # given a resize from small to medium claimed on host2, the instance still on host1
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.prep_resize.end")
    assert o.instance("vm").host == "host1"
    # when the destination host2 audits
    h = o.audit("host2")
    # then it holds the new flavor for the incoming instance
    assert h.usage == MEDIUM
    assert h.tracked_migrations == {("vm", "medium", migration_of(o).id)}


@nova(TR + "TestUpdateAvailableResources::test_some_instances_source_and_dest_migration")
def test_audit_of_a_same_host_resize_counts_both_flavors():
    # given three instances on one host, vm3's row marked deleted, and vm resized from small to
    # medium on that same host (its flavor already switched to medium)
    o = oracle(hosts=1, instances=3, options={"allow_resize_to_same_host": True})
    o.api.resize("vm", "medium")
    o.run_until_quiescent()
    assert (o.instance("vm").vm_state, o.instance("vm").flavor) == ("resized", "medium")
    o.poke("vm3", vm_state="deleted")
    # when the host audits
    h = o.audit("host1")
    # then it counts vm2, vm with its new flavor, and the old flavor held for a revert
    assert h.usage == plus(SMALL, MEDIUM, SMALL)
    assert h.tracked_instances == {"vm", "vm2"}
    assert h.tracked_migrations == {("vm", "small", migration_of(o).id)}


@nova(TR + "TestMoveClaim::test_revert_reserve_source")
def test_source_keeps_its_reservation_until_the_migration_completes():
    # given a resize from small to medium waiting for confirmation
    o = resized()
    # when the destination audits, then the instance is counted once (not once more for the
    # migration)
    h2 = o.audit("host2")
    assert h2.usage == MEDIUM
    assert h2.tracked_instances == {"vm"} and h2.tracked_migrations == set()
    # when the source audits, then it holds the old flavor
    assert o.audit("host1").usage == SMALL
    # when a revert is requested (RESIZED / resize_reverting) and the source audits again
    o.api.revert_resize("vm")
    assert (o.instance("vm").vm_state, o.instance("vm").task_state) == ("resized",
                                                                       "resize_reverting")
    # then the source still holds the old flavor
    assert o.audit("host1").usage == SMALL


def _resized_then_task(task: str | None, vm_state: str = "resized") -> Oracle:
    # given a resize waiting for confirmation, its instance row then set to (vm_state, task)
    o = resized()
    o.poke("vm", vm_state=vm_state, task_state=task)
    # when the source audits
    o.audit("host1")
    return o


def _holds_old_flavor(o: Oracle) -> bool:
    return o.host("host1").tracked_migrations == {("vm", "small", migration_of(o).id)}


@nova(TR + "TestInstanceInResizeState::test_resized_suspending")
def test_resized_with_any_task_is_in_a_resize_state():
    # then a RESIZED instance counts as resizing whatever its task (here nova's suspending)
    assert _holds_old_flavor(_resized_then_task("suspending"))
    # (control: an ACTIVE instance with no task does not)
    assert not _holds_old_flavor(_resized_then_task(None, vm_state="active"))


@nova(TR + "TestInstanceInResizeState::test_resized_resize_migrating")
def test_resized_resize_migrating_is_in_a_resize_state():
    assert _holds_old_flavor(_resized_then_task("resize_migrating"))


@nova(TR + "TestInstanceInResizeState::test_resized_resize_finish")
def test_resized_resize_finish_is_in_a_resize_state():
    assert _holds_old_flavor(_resized_then_task("resize_finish"))


@nova(RT + "InstanceClaimTestCase::test_deleted_instances_with_migrations")
def test_audit_ignores_migrations_of_deleted_instances():
    # given a resize claimed on host2 whose instance is then deleted (the row destroyed), the
    # migration left in progress
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.prep_resize.end")
    assert o.usage("host2") == MEDIUM
    o.api.delete("vm")
    o.deliver("terminate_instance")
    while any(f.method == "terminate_instance" for f in o.world.frames):
        o.run("terminate_instance")
    assert o.instance("vm").deleted and migration_of(o).status == "pre-migrating"
    # when host2 audits
    h = o.audit("host2")
    # then the migration of the missing instance counts for nothing
    assert (h.usage, h.tracked_migrations) == ((0, 0, 0), set())


@nova(RT + "ResizeClaimTestCase::test_revert")
def test_revert_drops_the_destination_claim():
    # given a resize claimed on host2 (no audit since), waiting for confirmation
    o = resized()
    assert o.usage("host2") == MEDIUM
    assert o.host("host2").tracked_migrations != set()
    # when revert_resize drops the claim there
    o.api.revert_resize("vm")
    o.deliver("revert_resize")
    o.run_until("compute.revert_resize.drop_claim")
    # then host2 tracks nothing and uses nothing
    h = o.host("host2")
    assert (h.usage, h.tracked_instances, h.tracked_migrations) == ((0, 0, 0), set(), set())


@nova(RT + "UpdateUsageFromMigrationsTestCase::test_no_migrations")
def test_audit_without_migrations_counts_only_instances():
    # given an instance on host1 and no migration anywhere
    o = oracle()
    # when host1 audits
    h = o.audit("host1")
    # then no migration is tracked and the usage is the instance's flavor
    assert (h.usage, h.tracked_migrations) == (SMALL, set())
