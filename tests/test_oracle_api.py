"""The engine as an oracle: its exported surface, structured answers, explicit stepping, database
writes, replay of a check report's trace, and worlds stored as JSON exactly."""

from __future__ import annotations

import inspect
import json
import pydoc
from pathlib import Path

import nova_resize.engine as engine
import pytest
from conftest import cloud as small_cloud
from conftest import config as small_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nova_resize.checker.cli import main
from nova_resize.checker.variants import build_spec
from nova_resize.engine import (
    UPDATE,
    Cloud,
    CloudError,
    Deliver,
    Engine,
    HostUsage,
    InputError,
    Periodic,
    Run,
    load_config,
    load_preset,
    trace_actions,
    world_from_json,
    world_to_json,
)

DATA = Path(__file__).parent / "data"


# ---- the surface ------------------------------------------------------------------------------


def _public_members(obj: object) -> list[tuple[str, object]]:
    out = []
    for name, member in vars(obj).items():
        if name.startswith("_") or not (inspect.isfunction(member) or
                                        isinstance(member, (property, classmethod,
                                                            staticmethod))):
            continue
        out.append((name, member))
    return out


def test_every_exported_name_exists_and_is_documented():
    missing = []
    for name in engine.__all__:
        obj = getattr(engine, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if not inspect.getdoc(obj):
                missing.append(name)
        if inspect.isclass(obj) and obj.__module__.startswith("nova_resize.engine"):
            for mname, member in _public_members(obj):
                fn = member.fget if isinstance(member, property) else member
                if not inspect.getdoc(fn):
                    missing.append(f"{name}.{mname}")
    assert not missing, missing


def test_help_of_cloud_is_readable():
    text = pydoc.render_doc(Cloud, renderer=pydoc.plaintext)
    # no default argument prints the whole spec
    assert "Spec(" not in text and "Row(" not in text
    assert len(text) < 30_000
    assert "set_instance(" in text and "replay(" in text


# ---- answers, stepping, records ------------------------------------------------------------------


def test_requests_answer_with_a_structured_outcome():
    c = small_cloud()
    ok = c.api.resize("vm", "medium").api
    assert (ok.status, ok.http, ok.exception) == ("accepted", 202, None)
    no = c.api.confirm_resize("vm").api
    assert (no.status, no.exception, no.http, no.detail) == (
        "refused", "InstanceInvalidState", 409, "vm_state active")
    assert str(no) == "refused: InstanceInvalidState: vm_state active (HTTP 409)"
    c.run_until_quiescent()
    assert c.api.confirm_resize("vm").api.http == 204
    # a refusal raised by a row of the handler (quota), not by the decorators
    q = small_cloud(quota={"cores": 1})
    over = q.api.resize("vm", "medium").api
    assert (over.status, over.exception, over.http) == ("refused", "TooManyInstances", 403)


def test_history_keeps_events_sent_messages_and_notifications():
    c = small_cloud(options={"notify_on_state_change": "vm_and_task_state",
                             "api_host": "api-1", "conductor_host": "cond-1"})
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    writes = c.events(kind="instance_write")
    guards = {ev.row: ev.expected_task_state for ev in writes}
    assert guards["compute.resize_instance.task_migrating"] == ("resize_prep",)
    assert guards["compute.finish_resize.resized"] == ("resize_finish",)
    assert guards["compute.prep_resize.stash_old_vm_state"] is None
    assert [(m.kind, m.method) for m in c.sent()] == [
        ("call", "migrate_server"), ("cast", "prep_resize"), ("cast", "resize_instance"),
        ("cast", "finish_resize")]
    rec = next(r for r in c.history if "compute.finish_resize.resized" in r.rows)
    assert rec.world is not None and rec.world.instances[0].vm_state == "resized"
    ups = [n for n in c.notifications() if n.event_type == UPDATE]
    assert ups[0].publisher_id == "compute.api-1"
    assert {n.publisher_id for n in ups[1:]} == {"compute.cond-1"}
    prep_end = next(n for n in c.notifications()
                    if n.event_type == "compute.instance.resize.prep.end")
    assert prep_end.publisher_id == "compute.host2"
    assert prep_end.payload()["new_instance_type"] == "medium"
    assert prep_end.message()["priority"] == "INFO"


def test_the_option_unset_sends_no_update_and_use_local_publishes_from_the_compute_host():
    c = small_cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert not any(n.is_update for n in c.notifications())
    local = small_cloud(options={"notify_on_state_change": "vm_state",
                                 "conductor_use_local": True})
    local.api.resize("vm", "medium")
    local.run_until_quiescent()
    pubs = {(n.row, n.publisher_id) for n in local.notifications() if n.is_update}
    assert ("compute.finish_resize.resized", "compute.host2") in pubs
    assert ("api.resize.save", "compute.controller") in pubs


def test_bad_option_values_are_config_errors():
    with pytest.raises(InputError, match="notify_on_state_change"):
        small_config(options={"notify_on_state_change": "always"})
    with pytest.raises(InputError, match="api_host"):
        small_config(options={"api_host": ""})
    with pytest.raises(InputError, match="unknown key"):
        load_preset("seed").with_options(notify=True)


def test_explicit_control_of_frames_and_messages():
    c = small_cloud(hosts=3)
    c.start_request("resize", "vm", "medium")
    assert [f.service for f in c.frames()] == ["api"]
    c.run(frame=c.frames()[0].id)
    assert [m.method for m in c.messages()] == ["migrate_server"]
    c.deliver(index=0)
    # the scheduler picks among host2 and host3: choice 1 takes the second
    conductor = next(f for f in c.frames() if f.service == "conductor")
    c.run(frame=conductor.id, choice=1)
    assert [(m.method, m.target) for m in c.messages()] == [("prep_resize", "host3")]
    with pytest.raises(CloudError, match="no in-flight message at index 5"):
        c.deliver(index=5)
    with pytest.raises(CloudError, match="no running handler nosuch"):
        c.run(frame="nosuch")


def test_periodic_takes_the_instance_name():
    c = small_cloud(options={"resize_confirm_window": 1},
                    periodic={"poll_unconfirmed_resizes": True})
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    res = c.periodic("poll_unconfirmed_resizes", "host2", "vm")
    assert res.rows[0].startswith("compute.poll_unconfirmed_resizes")
    c.run_until_quiescent()
    assert c.migration("vm").status == "confirmed"


def test_database_writes_like_nova_tests():
    c = small_cloud()
    row = c.set_instance("vm", vm_state="error", task_state="suspending")
    assert (row.vm_state, row.task_state) == ("error", "suspending")
    assert c.history == []  # outside any step
    with pytest.raises(CloudError, match="name"):
        c.set_instance("vm", name="other")
    with pytest.raises(CloudError, match="host"):
        c.set_instance("vm", host="nowhere")
    c2 = small_cloud()
    c2.api.resize("vm", "medium")
    c2.run_until_quiescent()
    assert c2.set_migration("vm", status="confirming").status == "confirming"
    assert c2.migrations("vm")[0].status == "confirming"
    # in_flight: the copies in undelivered messages change too
    c3 = small_cloud()
    c3.api.resize("vm", "medium")
    c3.set_instance("vm", in_flight=True, task_state=None)
    assert c3.messages()[0].instance.task_state is None


def test_named_quota_and_usage():
    c = small_cloud()
    c.api.resize("vm", "medium")
    assert c.quota.cores.reserved == 1 and c.quota.ram.reserved == 1536
    assert c.quota_reserved == {"instances": 0, "cores": 1, "ram": 1536}
    c.run_until_quiescent()
    assert c.host_usage("host2") == HostUsage(vcpus=2, memory_mb=2048, root_gb=20)
    assert c.quota.cores.in_use == 2 and c.quota.cores.limit == 20


def test_do_takes_typed_tuples_and_json_actions():
    a, b = small_cloud(), small_cloud()
    a.do(("api", "resize", "vm", "medium"))
    b.do({"kind": "api", "op": "resize", "instance": "vm", "arg": "medium"})
    assert a.world == b.world
    assert all(type(x).__module__ == "nova_resize.engine.actions" for x in a.enabled())


# ---- replay -----------------------------------------------------------------------------------


def test_a_check_report_trace_replays_in_a_cloud(tmp_path, capsys):
    report = tmp_path / "r.json"
    code = main(["check", "--config", str(DATA / "small.toml"), "--no-baseline", "--variant",
                 str(DATA / "break-guard.toml"), "--json", str(report), "--quiet"])
    capsys.readouterr()
    assert code == 1
    doc = json.loads(report.read_text())
    finding = next(f for f in doc["findings"] if f["property"] == "legal-state")
    spec, _ = build_spec([str(DATA / "break-guard.toml")])
    c = Cloud(load_config(DATA / "small.toml"), spec)
    results = c.replay(trace_actions(finding))
    assert [r.rows for r in results] == [s["rows"] for s in finding["trace"]]
    assert trace_actions({"trace": finding["trace"]}) == trace_actions(finding)
    inst = c.instance("vm1")
    assert f"{inst.vm_state}/{inst.task_state}" == finding["key"]


def test_replay_refuses_an_action_that_is_not_enabled():
    c = small_cloud()
    with pytest.raises(CloudError, match="replay step 2"):
        c.replay([("api", "resize", "vm", "medium"), Deliver(3)])
    with pytest.raises(InputError, match=r"finding\.trace"):
        trace_actions({"key": "x"})


# ---- worlds as JSON -----------------------------------------------------------------------------


FULL = load_preset("full")
FULL_ENGINE = Engine(FULL)


def _same(a: object, b: object) -> bool:
    """Equal and of the same types all the way down (a NamedTuple equals a plain tuple)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, frozenset):
        return a == b and all(any(_same(x, y) for y in b) for x in a)
    return a == b


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=5, max_size=80))
def test_worlds_reached_by_random_walks_round_trip_exactly(choices):
    w = FULL_ENGINE.initial()
    for c in choices:
        text = json.dumps(world_to_json(w))
        back = world_from_json(text)
        assert back == w and hash(back) == hash(w) and _same(back, w)
        acts = FULL_ENGINE.enabled(w)
        if not acts:
            break
        w = FULL_ENGINE.step(w, acts[c % len(acts)]).world
    # and the engine steps on from a restored world as from the original
    acts = FULL_ENGINE.enabled(w)
    if acts:
        back = world_from_json(json.dumps(world_to_json(w)))
        assert FULL_ENGINE.step(back, acts[0]).world == FULL_ENGINE.step(w, acts[0]).world


def test_bad_world_json_is_an_input_error():
    doc = world_to_json(Engine(load_preset("seed")).initial())
    with pytest.raises(InputError, match=r"world\.version"):
        world_from_json({**doc, "version": 99})
    broken = json.loads(json.dumps(doc))
    broken["instances"][0]["vm_state"] = 3
    with pytest.raises(InputError, match=r"world.instances\[0\].vm_state"):
        world_from_json(broken)
    with pytest.raises(InputError, match="not valid JSON"):
        world_from_json("{")


def test_periodic_and_run_actions_are_typed_values():
    assert Periodic("update_available_resource", "h") == ("periodic",
                                                          "update_available_resource", "h", None)
    assert Run("f") == ("run", "f", 0)
