"""Scenario tests: nova-api refusing bad requests before it writes anything."""

import pytest
from conftest import cloud


def _refused(c, result, exc):
    assert result.outcome is not None and result.outcome.startswith("refused"), result.outcome
    assert exc in result.outcome
    return c


def test_resize_in_the_wrong_state_is_refused():
    # given an instance waiting for its resize to be confirmed
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    before = c.world
    # when another resize is requested
    r = c.api.resize("vm", "large")
    # then check_instance_state refuses it and nothing changes
    _refused(c, r, "InstanceInvalidState")
    assert c.world == before


def test_resize_while_a_task_is_running_is_refused():
    c = cloud()
    c.api.resize("vm", "medium")
    assert c.status("vm") == ("RESIZE", "resize_prep")
    _refused(c, c.api.resize("vm", "large"), "task_state resize_prep")
    _refused(c, c.api.stop("vm"), "InstanceInvalidState")


def test_resize_to_the_same_flavor_is_refused():
    c = cloud()
    _refused(c, c.api.resize("vm", "small"), "CannotResizeToSameFlavor")


def test_resize_to_a_zero_disk_flavor_is_refused():
    c = cloud()
    _refused(c, c.api.resize("vm", "nodisk"), "CannotResizeDisk")


def test_resize_to_a_disabled_or_unknown_flavor_is_refused():
    c = cloud()
    _refused(c, c.api.resize("vm", "retired"), "FlavorNotFound")
    _refused(c, c.api.resize("vm", "no-such-flavor"), "FlavorNotFound")


def test_resize_over_quota_is_refused():
    # given a project allowed 2 cores, using 1
    c = cloud(quota={"cores": 2})
    # when a resize would need 3 more cores
    r = c.api.resize("vm", "large")
    # then the reservation fails and the API answers TooManyInstances (HTTP 403)
    _refused(c, r, "TooManyInstances")
    assert c.reservations == ()
    assert c.instance("vm").task_state is None


def test_locked_instance_is_refused():
    c = cloud(locked=True)
    for request in (lambda: c.api.resize("vm", "medium"), lambda: c.api.migrate("vm"),
                    lambda: c.api.delete("vm"), lambda: c.api.stop("vm")):
        _refused(c, request(), "InstanceIsLocked")


@pytest.mark.parametrize("op", ["confirm_resize", "revert_resize"])
def test_confirm_or_revert_without_a_resize_is_refused(op):
    c = cloud()
    _refused(c, c.request(op, "vm"), "InstanceInvalidState")


def test_revert_after_a_confirm_was_requested_finds_no_finished_migration():
    # given a resized instance whose confirm is in flight (migration 'confirming')
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.confirm_resize("vm")
    assert c.migration("vm").status == "confirming"
    # when the user asks to revert: vm_state/task_state still allow it
    r = c.api.revert_resize("vm")
    # then the lookup of a 'finished' migration fails: HTTP 400
    _refused(c, r, "MigrationNotFoundByStatus")
