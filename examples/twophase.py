"""Two-phase commit over a bag of messages, with participant crashes and message loss: a second
model for the generic explorer, and the anchor the benchmarks compare against TLC and Spin.

N resource managers (RMs) and a transaction manager (TM). At most F RM crashes and L lost
messages. The state is one flat tuple of small integers::

    (tm, nfail, nlost, rm[0..N), tmp[0..N), mp[0..N), md[0..N))

``tm``: init, committed, aborted. ``rm[i]``: working, prepared, committed, aborted, crashed.
``tmp[i]``: the TM has received Prepared(i). ``mp[i]``: a Prepared(i) message is in flight (a bag:
delivered in any order). ``md[i]``: none, Commit(i) or Abort(i) in flight.

Actions (each one atomic step): RMPrepare(i), RMChooseAbort(i), TMRcvPrepared(i), TMCommit,
TMAbort, RMRcvCommit(i), RMRcvAbort(i), RMCrash(i), LosePrepared(i), LoseDecision(i). The
property: no participant has committed while another has aborted. With F = L = 1 the reachable
states are 3,101 / 28,942 / 262,959 / 2,329,612 for N = 3 / 4 / 5 / 6, and the generated states
(transitions + 1) 10,656 / 126,166 / 1,386,626 / 14,395,740: the counts TLC and Spin report for
the same model (``tests/test_twophase_example.py`` holds them).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from nova_resize.checker.explorer import Outcome, Property

# tm
INIT, T_COMMITTED, T_ABORTED = 0, 1, 2
# rm
WORKING, PREPARED, COMMITTED, ABORTED, CRASHED = 0, 1, 2, 3, 4
RM_NAMES = ("working", "prepared", "committed", "aborted", "crashed")
# md
NONE, COMMIT, ABORT = 0, 1, 2

State = tuple[int, ...]
Action = tuple[str, int]


@dataclass(frozen=True)
class TwoPhaseCommit:
    """The model for ``n`` participants, ``max_fail`` crashes and ``max_lost`` lost messages."""

    n: int = 3
    max_fail: int = 1
    max_lost: int = 1

    @property
    def name(self) -> str:
        return f"two-phase commit (N={self.n}, F={self.max_fail}, L={self.max_lost})"

    # layout of the flat state
    def _rm(self, i: int) -> int:
        return 3 + i

    def _tmp(self, i: int) -> int:
        return 3 + self.n + i

    def _mp(self, i: int) -> int:
        return 3 + 2 * self.n + i

    def _md(self, i: int) -> int:
        return 3 + 3 * self.n + i

    def init_states(self) -> list[State]:
        return [(INIT, 0, 0) + (WORKING,) * self.n + (0,) * (3 * self.n)]

    def actions(self, s: State) -> Iterator[Action]:
        n = self.n
        tm, nfail, nlost = s[0], s[1], s[2]
        for i in range(n):
            rm = s[3 + i]
            if rm == WORKING:
                yield ("RMPrepare", i)
                yield ("RMChooseAbort", i)
            if tm == INIT and s[3 + 2 * n + i]:
                yield ("TMRcvPrepared", i)
            md = s[3 + 3 * n + i]
            if md == COMMIT and rm != CRASHED:
                yield ("RMRcvCommit", i)
            if md == ABORT and rm != CRASHED:
                yield ("RMRcvAbort", i)
            if rm in (WORKING, PREPARED) and nfail < self.max_fail:
                yield ("RMCrash", i)
            if s[3 + 2 * n + i] and nlost < self.max_lost:
                yield ("LosePrepared", i)
            if md != NONE and nlost < self.max_lost:
                yield ("LoseDecision", i)
        if tm == INIT:
            if all(s[3 + n + i] for i in range(n)):
                yield ("TMCommit", -1)
            yield ("TMAbort", -1)

    def step(self, s: State, action: Action) -> Outcome[State]:
        return Outcome(self.next_state(s, action))

    def successors(self, s: State) -> list[tuple[Action, State]]:
        """Every (action, next state) of ``s`` at once, in the order of :meth:`actions`: the
        explorer's fast path when nothing looks at the steps themselves. One pass over the
        participants builds each successor from a list copy of the flat tuple, with the same
        guards as :meth:`actions` and the same effects as :meth:`next_state` (a test holds the
        two equal on every reachable state). A subclass that redefines either of those gets the
        pairs built from them instead."""
        if type(self) is not TwoPhaseCommit and _redefined(type(self)):
            nxt = self.next_state
            return [(a, nxt(s, a)) for a in self.actions(s)]
        n = self.n
        out: list[tuple[Action, State]] = []
        app = out.append
        tm, nfail, nlost = s[0], s[1], s[2]
        crash_ok = nfail < self.max_fail
        lose_ok = nlost < self.max_lost
        tm_init = tm == INIT
        acts = _actions(n)
        tmp0, mp0, md0 = 3 + n, 3 + 2 * n, 3 + 3 * n
        for i in range(n):
            a = acts[i]
            r, p, d = 3 + i, mp0 + i, md0 + i
            rm = s[r]
            mp = s[p]
            md = s[d]
            if rm == WORKING:
                x = list(s)
                x[r] = PREPARED
                x[p] = 1
                app((a[0], tuple(x)))
                x = list(s)
                x[r] = ABORTED
                app((a[1], tuple(x)))
            if tm_init and mp:
                x = list(s)
                x[tmp0 + i] = 1
                x[p] = 0
                app((a[2], tuple(x)))
            if md == COMMIT and rm != CRASHED:
                x = list(s)
                x[r] = COMMITTED
                x[d] = NONE
                app((a[3], tuple(x)))
            if md == ABORT and rm != CRASHED:
                x = list(s)
                x[r] = ABORTED
                x[d] = NONE
                app((a[4], tuple(x)))
            if crash_ok and (rm == WORKING or rm == PREPARED):
                x = list(s)
                x[r] = CRASHED
                x[1] = nfail + 1
                app((a[5], tuple(x)))
            if lose_ok:
                if mp:
                    x = list(s)
                    x[p] = 0
                    x[2] = nlost + 1
                    app((a[6], tuple(x)))
                if md != NONE:
                    x = list(s)
                    x[d] = NONE
                    x[2] = nlost + 1
                    app((a[7], tuple(x)))
        if tm_init:
            if all(s[tmp0:mp0]):
                x = list(s)
                x[0] = T_COMMITTED
                x[md0:] = (COMMIT,) * n
                app((_TM_COMMIT, tuple(x)))
            x = list(s)
            x[0] = T_ABORTED
            x[md0:] = (ABORT,) * n
            app((_TM_ABORT, tuple(x)))
        return out

    def next_state(self, s: State, action: Action) -> State:
        """The state ``action`` leads to from ``s``."""
        name, i = action
        n = self.n
        x = list(s)
        if name == "RMPrepare":
            x[3 + i] = PREPARED
            x[3 + 2 * n + i] = 1
        elif name == "RMChooseAbort":
            x[3 + i] = ABORTED
        elif name == "TMRcvPrepared":
            x[3 + n + i] = 1
            x[3 + 2 * n + i] = 0
        elif name == "TMCommit":
            x[0] = T_COMMITTED
            for j in range(n):
                x[3 + 3 * n + j] = COMMIT
        elif name == "TMAbort":
            x[0] = T_ABORTED
            for j in range(n):
                x[3 + 3 * n + j] = ABORT
        elif name == "RMRcvCommit":
            x[3 + i] = COMMITTED
            x[3 + 3 * n + i] = NONE
        elif name == "RMRcvAbort":
            x[3 + i] = ABORTED
            x[3 + 3 * n + i] = NONE
        elif name == "RMCrash":
            x[3 + i] = CRASHED
            x[1] += 1
        elif name == "LosePrepared":
            x[3 + 2 * n + i] = 0
            x[2] += 1
        elif name == "LoseDecision":
            x[3 + 3 * n + i] = NONE
            x[2] += 1
        else:
            raise ValueError(f"unknown action {action!r}")
        return tuple(x)

    def format_action(self, s: State, action: Action) -> str:
        name, i = action
        return name if i < 0 else f"{name}({i})"

    def is_own(self, s: State, action: Action) -> bool:
        return action[0] not in ("RMCrash", "LosePrepared", "LoseDecision")

    def properties(self) -> list[Property]:
        return [CONSISTENT]

    def describe(self, s: State) -> str:
        """The state for a person: the TM and each RM."""
        tm = ("init", "committed", "aborted")[s[0]]
        rms = ", ".join(RM_NAMES[s[3 + i]] for i in range(self.n))
        return f"tm {tm}; rm {rms}; crashes {s[1]}, lost {s[2]}"


_PER_RM = ("RMPrepare", "RMChooseAbort", "TMRcvPrepared", "RMRcvCommit", "RMRcvAbort", "RMCrash",
           "LosePrepared", "LoseDecision")
_TM_COMMIT: Action = ("TMCommit", -1)
_TM_ABORT: Action = ("TMAbort", -1)


@functools.cache
def _redefined(cls: type) -> bool:
    """Whether a subclass redefines the actions or their effects (then the fused successors,
    written for the base model, do not apply)."""
    return (cls.actions is not TwoPhaseCommit.actions
            or cls.next_state is not TwoPhaseCommit.next_state)


@functools.cache
def _actions(n: int) -> tuple[tuple[Action, ...], ...]:
    """Each participant's actions, built once per N and shared by every successor."""
    return tuple(tuple((name, i) for name in _PER_RM) for i in range(n))


def _consistent(model: Any, s: State) -> list[tuple[str, str]]:
    rms = s[3:3 + model.n]
    if COMMITTED in rms and ABORTED in rms:
        return [("committed and aborted", f"participants disagree: {model.describe(s)}")]
    return []


CONSISTENT = Property(
    "consistent",
    "No participant has committed while another has aborted.",
    always=_consistent,
)
"""The two-phase commit's safety property (TLA+'s TCConsistent)."""


__all__ = ["CONSISTENT", "TwoPhaseCommit"]
