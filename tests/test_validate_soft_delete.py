"""validate on a cloud that soft-deletes (reclaim_instance_interval above 0): a trace that shows
a soft delete, a restore or a force delete is fitted with those operations, the option and the
periodic reclaim, whatever the base configuration leaves out."""

from __future__ import annotations

import pytest
from nova_resize.checker.traces.observe import Obs
from nova_resize.checker.traces.validate import soft_deletes, validate_observations
from nova_resize.engine.presets import load_preset

from nova_resize.errors import ObservationError


def srv(vm, status, host="host1", flavor="small", task=None):
    return {"server": {"name": "vm1", "id": "u1", "status": status, "OS-EXT-STS:vm_state": vm,
                       "OS-EXT-STS:task_state": task, "OS-EXT-SRV-ATTR:host": host,
                       "flavor": {"original_name": flavor}}}


RESIZED_THEN_RESTORED = [
    srv("active", "ACTIVE"),
    srv("resized", "VERIFY_RESIZE", "host2", "medium"),
    srv("active", "ACTIVE", "host2", "medium"),
    srv("soft-delete", "SOFT_DELETED", "host2", "medium"),
    srv("active", "ACTIVE", "host2", "medium"),
]


def test_a_soft_delete_and_a_restore_after_a_resize_fit_the_spec():
    v = validate_observations(RESIZED_THEN_RESTORED, "ci")
    assert v.accepted, (v.rejected_at, v.allowed)
    assert v.assumptions["reclaim_instance_interval"] > 0
    steps = [t for _, pairs in v.witness for t, _ in pairs]
    assert any("restore" in t for t in steps), steps


def test_a_soft_deleted_instance_is_not_resized():
    # nova-api's resize takes active or stopped instances only: the trace stops at the resize
    trace = [srv("active", "ACTIVE"), srv("soft-delete", "SOFT_DELETED"), srv("resized",
                                                                              "VERIFY_RESIZE")]
    v = validate_observations(trace, "ci")
    assert not v.accepted and v.rejected_at == 2


def test_a_soft_delete_reclaimed_by_the_periodic_task_fits():
    trace = [srv("active", "ACTIVE"), srv("soft-delete", "SOFT_DELETED"),
             srv("deleted", "DELETED")]
    v = validate_observations(trace, "ci")
    assert v.accepted, (v.rejected_at, v.allowed)


def test_an_interval_of_zero_given_explicitly_contradicts_the_trace():
    cfg = load_preset("ci").with_options(reclaim_instance_interval=0)
    with pytest.raises(ObservationError, match="reclaim_instance_interval is 0"):
        validate_observations(RESIZED_THEN_RESTORED, cfg)


def test_a_resize_trace_without_soft_deletes_keeps_the_hard_delete():
    v = validate_observations(RESIZED_THEN_RESTORED[:3], "ci")
    assert v.accepted and v.assumptions["reclaim_instance_interval"] == 0


@pytest.mark.parametrize(("kind", "fields", "want"), [
    ("notification", (("event_type", "compute.instance.soft_delete.start"),), True),
    ("notification", (("event_type", "compute.instance.restore.end"),), True),
    ("notification", (("event_type", "compute.instance.update"),
                      ("new_task_state", "restoring")), True),
    ("notification", (("event_type", "compute.instance.delete.start"),), False),
    ("action", (("action", "restore"),), True),
    ("action", (("action", "delete"),), False),
    ("snapshot", (("vm_state", "active"), ("status", "ACTIVE")), False),
])
def test_what_counts_as_evidence_of_soft_deletes(kind, fields, want):
    assert soft_deletes([Obs(kind, "f", "vm1", None, fields, 0)]) is want
