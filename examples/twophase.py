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
        """Every (action, next state) of ``s`` at once: the explorer's fast path when nothing
        looks at the steps themselves."""
        nxt = self.next_state
        return [(a, nxt(s, a)) for a in self.actions(s)]

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
