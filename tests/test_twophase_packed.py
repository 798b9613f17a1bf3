"""The two-phase commit model over packed int states (examples/twophase_packed.py): the same
states, transitions and verdicts as the tuple model, and the explorer's use of int states as
their own fingerprints."""

from __future__ import annotations

import pytest
from nova_resize.checker.explorer import explore, replay, trace_of

from examples.twophase import ABORTED, COMMITTED, TwoPhaseCommit
from examples.twophase_packed import TwoPhaseCommitPacked

REFERENCE = [(3, 3_101, 10_656), (4, 28_942, 126_166), (5, 262_959, 1_386_626)]


@pytest.mark.parametrize(("n", "distinct", "generated"), REFERENCE)
def test_state_counts_equal_the_reference(n, distinct, generated):
    ex = explore(TwoPhaseCommitPacked(n), "bfs", liveness=False)
    assert ex.complete
    assert (ex.distinct_states, ex.transitions + 1) == (distinct, generated)
    assert ex.findings == {}


@pytest.mark.parametrize(("f", "lost"), [(1, 1), (2, 3), (0, 0)])
def test_the_packed_successors_are_the_tuple_models_on_every_reachable_state(f, lost):
    plain, packed = TwoPhaseCommit(3, f, lost), TwoPhaseCommitPacked(3, f, lost)
    seen = set(plain.init_states())
    level = list(seen)
    assert packed.init_states() == [packed.pack(s) for s in level]
    while level:
        nxt = []
        for s in level:
            x = packed.pack(s)
            assert packed.unpack(x) == s
            want = [(a, packed.pack(t)) for a, t in plain.successors(s)]
            assert packed.successors(x) == want, s
            assert list(packed.actions(x)) == list(plain.actions(s))
            for _, t in plain.successors(s):
                if t not in seen:
                    seen.add(t)
                    nxt.append(t)
        level = nxt
    assert len(seen) == explore(packed, "bfs", liveness=False).distinct_states


class _CommitWithoutAllPrepared(TwoPhaseCommitPacked):
    """A broken TM on packed states: it commits as soon as one participant has prepared."""

    def actions(self, s):
        yield from super().actions(s)
        t = self.unpack(s)
        tmp = t[3 + self.n:3 + 2 * self.n]
        if t[0] == 0 and any(tmp) and not all(tmp):
            yield ("TMCommit", -1)


def test_the_property_fires_on_a_broken_tm_with_a_shortest_replayable_trace():
    model = _CommitWithoutAllPrepared(3)
    ex = explore(model, "bfs", liveness=False)
    f = ex.findings[("consistent", "committed and aborted", "")]
    actions = trace_of(ex, f)
    assert len(actions) == 5 == f.depth
    last = model.unpack(replay(model, actions)[-1][2].state)
    assert COMMITTED in last[3:6] and ABORTED in last[3:6]


def test_the_property_reads_the_participants_of_a_packed_state():
    model = TwoPhaseCommitPacked(3)
    check = model.properties()[0].always
    base = list(TwoPhaseCommit(3).init_states()[0])
    both, one = list(base), list(base)
    both[3], both[5] = COMMITTED, ABORTED
    one[3], one[4] = COMMITTED, COMMITTED
    assert check(model, model.pack(tuple(both)))
    assert check(model, model.pack(tuple(one))) == []


def test_several_workers_reach_the_same_states_and_transitions():
    one = explore(TwoPhaseCommitPacked(4), "bfs", liveness=False)
    two = explore(TwoPhaseCommitPacked(4), "bfs", liveness=False, workers=2)
    assert (two.distinct_states, two.transitions) == (one.distinct_states, one.transitions)
    assert list(two.parent) == list(one.parent)


def test_a_model_whose_claim_of_int_states_is_false_is_refused():
    class Lying(TwoPhaseCommit):
        states_are_fingerprints = True

    with pytest.raises(ValueError, match="not an int"):
        explore(Lying(3), "bfs", liveness=False)


def test_a_state_wider_than_an_exact_fingerprint_is_refused():
    assert TwoPhaseCommitPacked(8).layout.bits <= 61
    with pytest.raises(ValueError, match="bits per state"):
        TwoPhaseCommitPacked(9)
