"""Ported from nova 12.0.0 nova/tests/unit/test_notifications.py: when an instance save sends
compute.instance.update (notify_on_state_change = vm_and_task_state, the setting the engine
models) and which states its payload carries."""

from __future__ import annotations

import pytest
from conftest import UPDATE, Oracle, nova, one, oracle
from nova_resize.engine.tx import Notification

NT = "nova/tests/unit/test_notifications.py::NotificationsTestCase::"


def _update_of(o: Oracle, row: str) -> Notification:
    """The compute.instance.update sent by the step that ran ``row``."""
    step = next(s for s in o.steps if row in s.result.rows)
    return one(n for n in step.result.notifications if n.event_type == UPDATE and n.row == row)


@nova(NT + "test_task_notif", NT + "test_send_on_task_change")
def test_a_task_state_change_sends_an_update():
    # given an ACTIVE instance
    o = oracle()
    # when nova-api saves task_state resize_prep (vm_state unchanged)
    o.api.resize("vm", "medium")
    # then exactly one compute.instance.update was sent, for that save
    n = one(o.updates())
    assert (n.row, n.service) == ("api.resize.save", "api")


@nova(NT + "test_send_on_vm_change")
def test_a_vm_state_change_sends_an_update_from_the_saving_host():
    # given a resize that reaches finish_resize on host2
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until_quiescent()
    # then the save that writes vm_state resized sent an update, from host2's compute service
    n = _update_of(o, "compute.finish_resize.resized")
    assert n.service == "host2"
    assert (n.old_state, n.state) == ("active", "resized")


@nova(NT + "test_vm_update_with_states")
def test_update_payload_for_a_vm_state_change():
    # given resize_instance failing in the driver on host1 (task_state resize_migrating)
    o = oracle()
    o.api.resize("vm", "medium")
    o.fail("compute.resize_instance.migrate_disk_fails")
    o.run_until_quiescent()
    # then the save that wrote vm_state error (task_state kept) carried the old and new
    # vm_state and the same task_state twice
    n = _update_of(o, "error_out.error_state")
    assert (n.old_state, n.state, n.old_task_state, n.new_task_state) == (
        "active", "error", "resize_migrating", "resize_migrating")


@nova(NT + "test_task_update_with_states")
def test_update_payload_for_a_task_state_change():
    # given a resize reaching resize_instance on host1
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.resize_instance.task_migrating")
    # then the save of resize_migrating carried the same vm_state twice and the old and new
    # task_state
    n = _update_of(o, "compute.resize_instance.task_migrating")
    assert (n.old_state, n.state, n.old_task_state, n.new_task_state) == (
        "active", "active", "resize_prep", "resize_migrating")


@nova(NT + "test_send_no_state_change", NT + "test_send_access_ip_update",
      NT + "test_send_name_update")
@pytest.mark.xfail(strict=True, reason="engine disagrees: an instance save that writes columns "
                   "but changes neither vm_state nor task_state sends no compute.instance.update")
def test_a_save_without_a_state_change_still_sends_an_update():
    """nova/objects/instance.py Instance.save calls notifications.send_update after every
    UPDATE (L689; it returns early only with no column to write, L633-636), and send_update's
    else branch (nova/notifications.py L148-162) sends a compute.instance.update when no state
    changed. The engine (effects._update_notification) notifies only state changes."""
    # given a resize reaching prep_resize on host2
    o = oracle()
    o.api.resize("vm", "medium")
    o.run_until("compute.prep_resize.stash_old_vm_state")
    # the save of system_metadata['old_vm_state'] wrote the row without changing the states
    save = one(s for s in o.saves() if s.row == "compute.prep_resize.stash_old_vm_state")
    assert save.before == save.after == ("active", "resize_prep")
    # then (Instance.save -> notifications.send_update, whose else branch sends a plain update)
    # it sent one compute.instance.update with old and new states equal
    n = _update_of(o, "compute.prep_resize.stash_old_vm_state")
    assert (n.old_state, n.state, n.old_task_state, n.new_task_state) == (
        "active", "active", "resize_prep", "resize_prep")
