"""Ported from nova 12.0.0 nova/tests/unit/test_notifications.py: when an instance save sends
compute.instance.update and which states its payload carries. Nova's NotificationsTestCase sets
notify_on_state_change = vm_and_task_state (setUp, L62-65); so do these ports."""

from __future__ import annotations

from typing import Any

from conftest import UPDATE, Oracle, nova, one, oracle
from nova_resize.engine.tx import Notification

NT = "nova/tests/unit/test_notifications.py::NotificationsTestCase::"


def notifying(**kw: Any) -> Oracle:
    """An oracle with notify_on_state_change = vm_and_task_state, as NotificationsTestCase."""
    return oracle(options={"notify_on_state_change": "vm_and_task_state"}, **kw)


def _update_of(o: Oracle, row: str) -> Notification:
    """The compute.instance.update sent by the step that ran ``row``."""
    step = next(s for s in o.steps if row in s.result.rows)
    return one(n for n in step.result.notifications if n.event_type == UPDATE and n.row == row)


@nova(NT + "test_task_notif", NT + "test_send_on_task_change")
def test_a_task_state_change_sends_an_update():
    # given an ACTIVE instance
    o = notifying()
    # when nova-api saves task_state resize_prep (vm_state unchanged)
    o.api.resize("vm", "medium")
    # then exactly one compute.instance.update was sent, for that save
    n = one(o.updates())
    assert (n.row, n.service) == ("api.resize.save", "api")
    # published by nova-api's host (rpc.get_notifier('compute') with CONF.host)
    assert n.publisher_id == "compute.controller"


@nova(NT + "test_send_on_vm_change")
def test_a_vm_state_change_sends_an_update_from_the_saving_host():
    # given a resize that reaches finish_resize on host2
    o = notifying()
    o.api.resize("vm", "medium")
    o.run_until_quiescent()
    # then the save that writes vm_state resized sent an update, from host2's compute service
    n = _update_of(o, "compute.finish_resize.resized")
    assert n.service == "host2"
    # host2's save runs in nova-conductor (nova/cmd/compute.py: indirection_api), whose host
    # publishes it; the payload's host is the instance's
    assert (n.publisher_id, n.host) == ("compute.controller", "host2")
    assert (n.old_state, n.state) == ("active", "resized")


@nova(NT + "test_vm_update_with_states")
def test_update_payload_for_a_vm_state_change():
    # given resize_instance failing in the driver on host1 (task_state resize_migrating)
    o = notifying()
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
    o = notifying()
    o.api.resize("vm", "medium")
    o.run_until("compute.resize_instance.task_migrating")
    # then the save of resize_migrating carried the same vm_state twice and the old and new
    # task_state
    n = _update_of(o, "compute.resize_instance.task_migrating")
    assert (n.old_state, n.state, n.old_task_state, n.new_task_state) == (
        "active", "active", "resize_prep", "resize_migrating")


@nova(NT + "test_send_no_state_change", NT + "test_send_access_ip_update",
      NT + "test_send_name_update")
def test_a_save_without_a_state_change_still_sends_an_update():
    """nova/objects/instance.py Instance.save calls notifications.send_update after every
    UPDATE (L689; it returns early only with no column to write, L633-636), and send_update's
    else branch (nova/notifications.py L148-162) sends a compute.instance.update when no state
    changed."""
    # given a resize reaching prep_resize on host2
    o = notifying()
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


@nova(NT + "test_notif_disabled")
def test_no_update_is_sent_with_the_option_unset():
    # given Liberty's default, notify_on_state_change unset
    o = oracle()
    # when a resize runs to VERIFY_RESIZE
    o.api.resize("vm", "medium")
    o.run_until_quiescent()
    # then send_update returned at once on every save: no compute.instance.update at all
    assert o.updates() == []
    assert o.usage_events()  # while the compute managers' usage notifications were sent


@nova(NT + "test_task_notif")
def test_a_task_state_change_under_vm_state_is_a_plain_update():
    # given notify_on_state_change = vm_state
    o = oracle(options={"notify_on_state_change": "vm_state"})
    o.api.resize("vm", "medium")
    # when resize_instance saves task_state resize_migrating (vm_state unchanged)
    o.run_until("compute.resize_instance.task_migrating")
    # then send_update does not report it as a transition: one update with the current states
    n = _update_of(o, "compute.resize_instance.task_migrating")
    assert (n.old_state, n.state, n.old_task_state, n.new_task_state) == (
        "active", "active", "resize_migrating", "resize_migrating")
    # while under vm_and_task_state the same save carries its transition
    o2 = notifying()
    o2.api.resize("vm", "medium")
    o2.run_until("compute.resize_instance.task_migrating")
    n2 = _update_of(o2, "compute.resize_instance.task_migrating")
    assert (n2.old_task_state, n2.new_task_state) == ("resize_prep", "resize_migrating")


@nova(NT + "test_update_no_service_name")
def test_updates_are_published_by_the_saving_process():
    # given nova-api on apihost and nova-conductor on condhost (CONF.host of each process)
    o = oracle(options={"notify_on_state_change": "vm_and_task_state",
                        "api_host": "apihost", "conductor_host": "condhost"})
    # when a resize runs to VERIFY_RESIZE
    o.api.resize("vm", "medium")
    o.run_until_quiescent()
    # then send_update's notifier (service 'compute', no host) publishes as compute.<CONF.host>
    # of the process that saved: nova-api for its own save, nova-conductor for host1's and
    # host2's saves (remoted through it)
    pubs = [(n.row, n.publisher_id) for n in o.updates()]
    assert pubs[0] == ("api.resize.save", "compute.apihost")
    assert {p for _, p in pubs[1:]} == {"compute.condhost"}
    # and the compute managers' usage notifications come from the compute hosts
    usage = {(n.event_type, n.publisher_id) for n in o.notifications() if not n.is_update}
    assert ("compute.instance.resize.prep.start", "compute.host2") in usage
    assert ("compute.instance.resize.start", "compute.host1") in usage
    assert ("compute.instance.finish_resize.end", "compute.host2") in usage


@nova("nova/tests/unit/test_notifications.py::NotificationsFormatTestCase::test_state_computation")
def test_states_payload_defaults_to_the_current_states():
    # given updates on
    o = notifying()
    # when nova-api saves task_state resize_prep from None
    o.api.resize("vm", "medium")
    # then _compute_states_payload replaced the old task_state None by the current one
    n = one(o.updates())
    assert (n.old_state, n.state, n.old_task_state, n.new_task_state) == (
        "active", "active", "resize_prep", "resize_prep")
    # and a save that changes no state reports the current states as old and new
    o.run_until("compute.prep_resize.stash_old_vm_state")
    n = _update_of(o, "compute.prep_resize.stash_old_vm_state")
    assert (n.old_state, n.old_task_state) == (n.state, n.new_task_state) == (
        "active", "resize_prep")
