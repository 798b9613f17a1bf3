"""Hypothesis: random interleavings through the pure step function."""

from __future__ import annotations

from conftest import config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nova_resize.engine.core import Engine
from nova_resize.engine.facade import Cloud
from nova_resize.engine.machines import Machines
from nova_resize.spec import LIBERTY
from nova_resize.spec.states import STATE_PAIRS

LEGAL = {(p.vm_state, p.task_state) for p in STATE_PAIRS if not p.transient}

CFG = config(
    hosts=3,
    actions={
        "resize": 2,
        "resize_flavors": ["medium", "large"],
        "migrate": 1,
        "confirm_resize": 1,
        "revert_resize": 1,
        "delete": 1,
        "stop": 1,
        "start": 1,
    },
    faults={"driver": 1, "crash": 1, "lose": 1, "timeout": 1, "claim_refused": 1},
    periodic={"update_available_resource": True},
)
ENGINE = Engine(CFG)
MACHINES = Machines(LIBERTY)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=60))
def test_random_interleavings_are_explained_by_the_spec(choices):
    # given any interleaving of requests, deliveries, steps, faults, crashes and audits
    w = ENGINE.initial()
    for c in choices:
        acts = ENGINE.enabled(w)
        if not acts:
            break
        action = acts[c % len(acts)]
        res = ENGINE.step(w, action)
        # then every instance and migration change is a transition of the row that made it
        MACHINES.check(w, res)
        # and the step function is pure: the same action from the same state, the same result
        again = ENGINE.step(w, action)
        assert again.world == res.world and again.rows == res.rows
        hash(res.world)
        w = res.world
        for inst in w.instances:
            assert inst.vm_state in LIBERTY.vm_states
            assert inst.task_state in LIBERTY.task_states


SEQ = config(hosts=3)
OPS = st.sampled_from(
    [
        ("resize", "medium"),
        ("resize", "large"),
        ("resize", "small"),
        ("migrate", None),
        ("confirm_resize", None),
        ("revert_resize", None),
        ("stop", None),
        ("start", None),
    ]
)


@settings(max_examples=100, deadline=None)
@given(st.lists(OPS, max_size=12))
def test_sequential_requests_stay_within_the_designed_state_pairs(ops):
    # given requests issued one at a time, each run to quiescence, with no faults
    c = Cloud.from_config(SEQ)
    for op, arg in ops:
        c.request(op, "vm", arg)
        c.run_until_quiescent()
        # then the instance is always in a pair Nova designs, and quota is settled
        vm = c.instance("vm")
        assert (vm.vm_state, vm.task_state) in LEGAL
        assert c.quota_reserved == {"instances": 0, "cores": 0, "ram": 0}
        assert all(r.status != "pending" for r in c.reservations)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=40))
def test_the_facade_and_the_pure_step_function_agree(choices):
    # given a cloud driven through the facade
    c = Cloud.from_config(CFG)
    for x in choices:
        acts = c.engine.enabled(c.world)
        if not acts:
            break
        c.do(acts[x % len(acts)])
    # when its history is replayed through Engine.step from the initial state
    w = c.engine.initial()
    for rec in c.history:
        res = c.engine.step(w, rec.action)
        assert res.rows == rec.rows
        w = res.world
    # then both end in the same world
    assert w == c.world
