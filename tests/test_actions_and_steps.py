"""Actions as data (typed tuples, JSON, their descriptions), which actions a state enables
(faults only within their budgets, messages only to services that are up), the history users'
requests leave, and the identifiers a step hands out."""

from __future__ import annotations

import pickle

import pytest
from conftest import cloud, config
from nova_resize.engine import history
from nova_resize.engine.actions import (
    ACTION_TYPES,
    ApiRequest,
    Crash,
    Deliver,
    Fail,
    Lose,
    Periodic,
    Restart,
    Run,
    Timeout,
    coerce,
    from_json,
    to_json,
)
from nova_resize.engine.core import Engine, describe
from nova_resize.engine.handlers import MAX_EAGER_ROWS
from nova_resize.engine.tx import Tx

from nova_resize.errors import InputError

EXAMPLES = [ApiRequest("resize", "vm", "medium"), ApiRequest("delete", "vm"), Deliver(2),
            Lose(0), Run("vm.0", 1), Fail("vm.1", "compute.x.fault"), Timeout("vm.0"),
            Crash("host1"), Restart("host2"), Periodic("poll_unconfirmed_resizes", "host2",
                                                       "vm#00")]


# ---- actions as data ---------------------------------------------------------------------------


@pytest.mark.parametrize("action", EXAMPLES, ids=repr)
def test_an_action_round_trips_through_json_tuples_and_pickle(action):
    assert from_json(to_json(action)) == action
    assert type(from_json(to_json(action))) is type(action)
    assert coerce(tuple(action)) == action and type(coerce(tuple(action))) is type(action)
    assert coerce(list(action)) == action
    assert pickle.loads(pickle.dumps(action)) == action
    assert eval(repr(action)) == action
    assert to_json(action)["kind"] == action[0]


def test_actions_of_different_kinds_never_compare_equal():
    assert Deliver(0) != Lose(0) and Deliver(0) == ("deliver", 0)
    assert Run("vm.0") == Run("vm.0", 0) and Run("vm.0", 1) != Run("vm.0", 0)
    assert sorted([Run("b"), Deliver(1), ApiRequest("stop", "a")])[0] == ApiRequest("stop", "a")
    assert set(ACTION_TYPES) >= {"api", "deliver", "lose", "run", "fail", "timeout", "crash",
                                 "restart", "periodic"}


@pytest.mark.parametrize("data,msg", [
    ([], "expected an object"),
    ({"kind": "teleport"}, r"\.kind: expected one of"),
    ({"kind": "deliver"}, r"\.message: expected a non-negative integer, found None"),
    ({"kind": "deliver", "message": -1}, "non-negative integer"),
    ({"kind": "deliver", "message": True}, "non-negative integer"),
    ({"kind": "run", "frame": "vm.0", "choice": 1.5}, r"\.choice: expected a non-negative"),
    ({"kind": "crash", "host": 3}, r"\.host: expected a string"),
    ({"kind": "crash"}, r"\.host: missing"),
    ({"kind": "crash", "host": "h", "colour": "red"}, r"\.colour: unknown field"),
])
def test_malformed_action_data_names_what_is_wrong(data, msg):
    with pytest.raises(InputError, match=msg):
        from_json(data, "trace[3]")


def test_optional_fields_may_be_missing_from_json():
    assert from_json({"kind": "api", "op": "delete", "instance": "vm"}) == ApiRequest("delete",
                                                                                     "vm")
    assert from_json({"kind": "periodic", "task": "t", "host": "h"}) == Periodic("t", "h")


@pytest.mark.parametrize("bad,msg", [
    ("deliver", "expected an action"),
    ((), "expected an action"),
    (("warp", 1), "unknown action kind"),
    ((3, 1), "unknown action kind"),
    (("deliver",), r"expected 1 values \(message\), found 0"),
    (("run", "vm.0", 0, 9), "expected 2 values"),
])
def test_coerce_refuses_what_is_not_an_action(bad, msg):
    with pytest.raises(InputError, match=msg):
        coerce(bad)


def test_each_action_is_described_in_one_line():
    c = cloud()
    c.api.resize("vm", "medium")
    w = c.world
    assert describe(w, ApiRequest("resize", "vm", "medium")) == "user: resize vm to medium"
    assert describe(w, ApiRequest("delete", "vm")) == "user: delete vm"
    assert describe(w, Deliver(0)) == "deliver cast migrate_server -> conductor" or \
        describe(w, Deliver(0)).startswith("deliver call migrate_server -> conductor")
    assert describe(w, Lose(0)).startswith("LOSE ")
    assert describe(w, Crash("host1")) == "CRASH nova-compute on host1"
    assert describe(w, Restart("host1")) == "restart nova-compute on host1"
    assert describe(w, Periodic("update_available_resource", "host2")) == (
        "periodic update_available_resource on host2")
    c.deliver("migrate_server")
    fr = c.world.frames[0]
    text = describe(c.world, Run(fr.id, 0))
    assert text == f"{fr.service}: {fr.method} [{fr.handler}:{fr.label}]"
    assert describe(c.world, Run(fr.id, 2)) == text + " choice 2"
    assert describe(c.world, Timeout(fr.id)).startswith("TIMEOUT ")
    assert describe(c.world, Fail(fr.id, "r")) == f"FAIL {text} (r)"


# ---- what a state enables --------------------------------------------------------------------


def _engine(**kw):
    eng = Engine(config(**kw))
    return eng, eng.initial()


def test_given_no_budget_then_no_fault_and_no_request_is_enabled():
    eng, w = _engine(actions={"resize": 0}, faults={"crash": 0, "lose": 0})
    assert eng.enabled(w) == []


def test_given_budgets_then_each_request_and_crash_is_enabled_once_per_target():
    eng, w = _engine(actions={"resize": 1, "resize_flavors": ["medium", "large"], "stop": 1},
                     faults={"crash": 1})
    acts = eng.enabled(w)
    assert ApiRequest("resize", "vm", "medium") in acts
    assert ApiRequest("resize", "vm", "large") in acts
    assert ApiRequest("stop", "vm", None) in acts
    assert [a for a in acts if isinstance(a, Crash)] == [Crash("host1"), Crash("host2")]
    assert not [a for a in acts if isinstance(a, Restart)]


def test_an_accepted_request_spends_its_budget_and_a_refused_one_does_not():
    eng, w = _engine(actions={"start": 1, "stop": 1})
    refused = eng.step(w, ApiRequest("start", "vm"))  # the instance is active already
    assert refused.world == w and refused.outcome.startswith("refused")
    accepted = eng.step(w, ApiRequest("stop", "vm"))
    assert accepted.outcome == "accepted"
    assert dict(accepted.world.budgets)["op:stop"] == 0
    assert ApiRequest("stop", "vm", None) not in eng.enabled(accepted.world)


def test_given_a_lose_budget_then_every_message_may_be_lost_once():
    eng, w = _engine(actions={"stop": 1}, faults={"lose": 1})
    w = eng.step(w, ApiRequest("stop", "vm")).world
    assert len(w.messages) == 1
    assert Lose(0) in eng.enabled(w) and Deliver(0) in eng.enabled(w)
    lost = eng.step(w, Lose(0))
    assert lost.world.messages == () and lost.rows == ["rpc.message_lost"]
    assert dict(lost.world.budgets)["fault:lose"] == 0
    assert not [a for a in eng.enabled(lost.world) if isinstance(a, Lose)]


def test_given_a_crashed_host_then_its_messages_wait_and_only_a_restart_brings_it_back():
    eng, w = _engine(actions={"stop": 1}, faults={"crash": 1})
    w = eng.step(w, ApiRequest("stop", "vm")).world
    down = eng.step(w, Crash("host1")).world
    assert {h.name: h.status for h in down.hosts} == {"host1": "down", "host2": "up"}
    acts = eng.enabled(down)
    assert Deliver(0) not in acts and Restart("host1") in acts
    assert not [a for a in acts if isinstance(a, Crash)]  # the budget is spent
    up = eng.step(down, Restart("host1")).world
    assert {h.name: h.status for h in up.hosts}["host1"] == "up"
    assert Deliver(0) in eng.enabled(up)


def test_a_timeout_is_enabled_by_its_budget_or_when_no_one_will_answer_the_call():
    # given: a resized instance being deleted; the API calls confirm_resize on the source and
    # waits for the answer
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.delete("vm")
    (caller,) = [f for f in c.world.frames if f.waiting]
    eng = c.engine
    no_budget = c.world._replace(budgets=(("fault:timeout", 0),))
    with_budget = c.world._replace(budgets=(("fault:timeout", 1),))
    # then: the call may time out only as an injected fault while the source can answer
    assert Timeout(caller.id) not in eng.enabled(no_budget)
    assert Timeout(caller.id) in eng.enabled(with_budget)
    # when the source is down, no one will answer: the timeout happens by itself
    hosts = tuple(h._replace(status="down") if h.name == "host1" else h
                  for h in no_budget.hosts)
    dead = no_budget._replace(hosts=hosts)
    assert Timeout(caller.id) in eng.enabled(dead)
    res = eng.step(dead, Timeout(caller.id))
    assert res.rows[0] == "rpc.call_timeout"
    assert dict(res.world.budgets)["fault:timeout"] == 0  # no budget spent on a dead call
    spent = eng.step(with_budget, Timeout(caller.id))
    assert dict(spent.world.budgets)["fault:timeout"] == 0


# ---- the users' history --------------------------------------------------------------------------


def test_the_history_records_the_vm_state_a_resize_found_and_deletes_while_resizing():
    h0 = history.initial(["vm", "other"])
    assert [(r.name, r.pre_resize_vm_state, r.delete_requested, r.delete_any) for r in h0] == [
        ("vm", None, False, False), ("other", None, False, False)]
    inst = cloud(vm_state="stopped").instance("vm")
    h1 = history.record(h0, "resize", inst)
    assert h1[0].pre_resize_vm_state == "stopped" and h1[1] == h0[1]
    assert history.record(h0, "migrate", inst)[0].pre_resize_vm_state == "stopped"
    # a stop or start forgets it; another operation leaves it
    assert history.record(h1, "stop", inst)[0].pre_resize_vm_state is None
    assert history.record(h1, "start", inst)[0].pre_resize_vm_state is None
    assert history.record(h1, "confirm_resize", inst)[0].pre_resize_vm_state == "stopped"
    # a delete: while resized (or in a resize task) it is a delete while resizing
    plain = history.record(h0, "delete", inst)[0]
    assert (plain.delete_requested, plain.delete_any) == (False, True)
    resized = history.record(h0, "delete", inst._replace(vm_state="resized"))[0]
    assert (resized.delete_requested, resized.delete_any) == (True, True)
    migrating = history.record(h0, "delete", inst._replace(task_state="resize_migrating"))[0]
    assert migrating.delete_requested is True
    # and it stays requested after a later delete of a quiet instance
    again = history.record((resized,), "delete", inst)[0]
    assert again.delete_requested is True
    # a restore takes the (soft) delete back; nothing else does
    back = history.record((resized,), "restore", inst)[0]
    assert (back.delete_requested, back.delete_any) == (False, False)
    for op in ("stop", "start", "confirm_resize", "revert_resize"):
        kept = history.record((resized,), op, inst)[0]
        assert (kept.delete_requested, kept.delete_any) == (True, True), op


def test_an_accepted_request_is_recorded_in_the_world_a_refused_one_is_not():
    eng, w = _engine(actions={"resize": 1, "resize_flavors": ["medium"], "start": 1})
    assert eng.step(w, ApiRequest("start", "vm")).world.requests == w.requests
    after = eng.step(w, ApiRequest("resize", "vm", "medium")).world
    assert after.requests[0].pre_resize_vm_state == "active"


# ---- identifiers ---------------------------------------------------------------------------------


def test_ids_are_numbered_per_owner_with_two_digits_so_they_sort_by_creation():
    tx = Tx.of(cloud().world)
    table: dict[str, int] = {}
    ids = []
    for _ in range(11):
        i = tx.new_id(table, "vm", "#")
        table[i] = 0
        ids.append(i)
    assert ids[:2] == ["vm#00", "vm#01"] and ids[-1] == "vm#10" and ids == sorted(ids)
    assert tx.new_id(table, "vm2", "#") == "vm2#00"
    assert tx.new_id({"vm/00": 0}, "vm", "/") == "vm/01"


def test_a_frame_takes_the_smallest_free_number_of_its_owner():
    c = cloud(instances=2)
    c.api.resize("vm", "medium")
    c.api.resize("vm2", "medium")
    ids = sorted(f.id for f in c.world.frames) + sorted(m.reply_to for m in c.world.messages
                                                        if m.reply_to)
    tx = Tx.of(c.world)
    fresh = tx.new_frame_id("vm")
    assert fresh.startswith("vm.") and fresh not in ids
    assert fresh == f"vm.{min(n for n in range(10) if f'vm.{n}' not in ids)}"
    assert tx.new_frame_id("host9") == "host9.0"


def test_a_step_that_changes_nothing_shares_the_parts_of_the_world():
    eng, w = _engine(actions={"stop": 1})
    after = eng.step(w, ApiRequest("stop", "vm")).world
    assert after.hosts is w.hosts and after.migrations is w.migrations
    assert after.instances is not w.instances
    assert Tx.of(w).freeze() == w


def test_the_runaway_guard_is_far_above_any_real_chain_of_rows():
    assert MAX_EAGER_ROWS >= 100


def test_the_audit_is_enabled_only_on_an_up_host_whose_tracker_it_would_change():
    # given: the audit periodic task on; a resize finished, so host2's tracker differs from
    # what an audit would compute
    c = cloud(periodic={"update_available_resource": True})
    audits = [a for a in c.engine.enabled(c.world) if isinstance(a, Periodic)]
    assert audits == []  # nothing to change anywhere yet
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    audits = [a for a in c.engine.enabled(c.world) if isinstance(a, Periodic)
              and a.task == "update_available_resource"]
    assert Periodic("update_available_resource", "host1") in audits
    # when host1 is down, its audit is not enabled
    hosts = tuple(h._replace(status="down") if h.name == "host1" else h
                  for h in c.world.hosts)
    down = c.world._replace(hosts=hosts)
    assert not [a for a in c.engine.enabled(down) if isinstance(a, Periodic)
                and a.host == "host1" and a.task == "update_available_resource"]
    # and after the audit ran, it would change nothing more: not enabled again
    c.do(Periodic("update_available_resource", "host1"))
    assert Periodic("update_available_resource", "host1") not in c.engine.enabled(c.world)
