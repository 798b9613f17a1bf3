"""The generic explorer on a second model: two-phase commit over a bag of messages
(examples/twophase.py), whose state counts must equal those TLC and Spin report for the same
model with one crash and one lost message."""

from __future__ import annotations

import pytest
from nova_resize.checker.explorer import Property, explore, replay, trace_of

from examples.twophase import COMMITTED, TwoPhaseCommit

# (N, distinct states, generated states = transitions + 1), F = L = 1
REFERENCE = [(3, 3_101, 10_656), (4, 28_942, 126_166), (5, 262_959, 1_386_626)]


@pytest.mark.parametrize(("n", "distinct", "generated"), REFERENCE)
def test_state_counts_equal_the_reference(n, distinct, generated):
    ex = explore(TwoPhaseCommit(n), "bfs", liveness=False)
    assert ex.complete
    assert (ex.distinct_states, ex.transitions + 1) == (distinct, generated)
    assert ex.findings == {}


def test_depth_first_reaches_the_same_states():
    ex = explore(TwoPhaseCommit(3), "dfs", liveness=False)
    assert (ex.distinct_states, ex.transitions + 1) == (3_101, 10_656)


class _CommitWithoutAllPrepared(TwoPhaseCommit):
    """A broken TM: it commits as soon as one participant has prepared."""

    def actions(self, s):
        yield from super().actions(s)
        if s[0] == 0 and any(s[3 + self.n + i] for i in range(self.n)) and not all(
                s[3 + self.n + i] for i in range(self.n)):
            yield ("TMCommit", -1)


def test_the_property_fires_on_a_broken_tm_with_a_shortest_replayable_trace():
    model = _CommitWithoutAllPrepared(3)
    ex = explore(model, "bfs", liveness=False)
    f = ex.findings[("consistent", "committed and aborted", "")]
    actions = trace_of(ex, f)
    # RMPrepare, TMRcvPrepared, TMCommit, RMRcvCommit, RMChooseAbort: the shortest way
    assert len(actions) == 5 == f.depth
    last = replay(model, actions)[-1][2].state
    rms = last[3:6]
    assert COMMITTED in rms and 3 in rms


def test_a_recoverable_property_finds_the_states_that_cannot_finish():
    # every participant decided, or crashed: reachable from every state by the protocol's own
    # steps only when no decision message can be lost
    def done(model, s):
        return all(r in (2, 3, 4) for r in s[3:3 + model.n])

    from nova_resize.checker.explorer import Recoverable

    class WithLiveness(TwoPhaseCommit):
        def properties(self):
            return [Property("terminates", "every participant can still decide",
                             recoverable=Recoverable(done, lambda m, s, own: "undecided"
                                                     if not done(m, s) else None))]

    lossless = explore(WithLiveness(3, 1, 0))
    assert not lossless.findings
    lossy = explore(WithLiveness(3, 1, 1))
    assert ("terminates", "undecided", "") in lossy.findings


def test_the_fused_successors_equal_actions_then_next_state_on_every_reachable_state():
    for n in (3, 4):
        model = TwoPhaseCommit(n)
        seen = set(model.init_states())
        level = list(seen)
        while level:
            nxt = []
            for s in level:
                fused = model.successors(s)
                assert fused == [(a, model.next_state(s, a)) for a in model.actions(s)], s
                for _, t in fused:
                    if t not in seen:
                        seen.add(t)
                        nxt.append(t)
            level = nxt
        assert len(seen) == {3: 3_101, 4: 28_942}[n]
