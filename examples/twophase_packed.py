"""The two-phase commit model of :mod:`examples.twophase` with every state packed into one
Python int: the same states, actions, transitions and property, in the representation a
compact explicit-state checker keeps (Spin's state vector, TLC's fingerprints of values).

Why an int: the explorer identifies a state by its hash, and a non-negative int below
2**61 - 1 is its own hash in CPython, so the fingerprint is exact (no two states share one) and
costs nothing; a successor is ``s ^ delta``, one machine-word operation instead of copying a
tuple of 3 + 4N items; a frontier of ints is a tenth of the memory of a frontier of tuples.

Layout, low bits first::

    tm (2 bits) | nfail | nlost | participant 0 | participant 1 | ...

with ``nfail`` and ``nlost`` as wide as ``max_fail`` and ``max_lost`` need, and each participant
seven bits: ``rm`` (3), ``tmp`` (1), ``mp`` (1), ``md`` (2).

The per-participant steps are not written a second time. For every participant, every value of
its seven bits and every value of (tm, nfail, nlost), the table of (action, xor delta) pairs is
computed once from the tuple model's own ``actions`` and ``next_state`` on a representative
state (a participant's actions read and write only its own fields and the counters). The two
actions of the transaction manager, which read every participant, are computed per state. A
subclass that redefines ``actions`` or ``next_state`` of the tuple model, which this class
derives from, gets successors built from those instead (as the tuple model does).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nova_resize.checker.explorer import Outcome, Property
from nova_resize.checker.explorer.model import Violation

from .twophase import (
    ABORT,
    ABORTED,
    COMMIT,
    COMMITTED,
    INIT,
    NONE,
    T_ABORTED,
    T_COMMITTED,
    WORKING,
    Action,
    State,
    TwoPhaseCommit,
)

FINGERPRINT_BITS = 61
"""CPython hashes a non-negative int below 2**61 - 1 to itself: states that fit are exact."""

_GROUP = 7
_TM_COMMIT: Action = ("TMCommit", -1)
_TM_ABORT: Action = ("TMAbort", -1)


@dataclass(frozen=True)
class Layout:
    """Where each field of the tuple state lives in the packed int."""

    n: int
    fail_bits: int
    lost_bits: int

    @property
    def fail_at(self) -> int:
        return 2

    @property
    def lost_at(self) -> int:
        return 2 + self.fail_bits

    @property
    def rm_at(self) -> int:
        """The first participant's seven bits."""
        return 2 + self.fail_bits + self.lost_bits

    @property
    def bits(self) -> int:
        return self.rm_at + _GROUP * self.n

    def at(self, i: int) -> int:
        return self.rm_at + _GROUP * i

    def pack(self, s: State) -> int:
        n = self.n
        x = s[0] | (s[1] << self.fail_at) | (s[2] << self.lost_at)
        for i in range(n):
            g = s[3 + i] | (s[3 + n + i] << 3) | (s[3 + 2 * n + i] << 4) | (s[3 + 3 * n + i] << 5)
            x |= g << self.at(i)
        return x

    def unpack(self, x: int) -> State:
        n = self.n
        rm, tmp, mp, md = [], [], [], []
        for i in range(n):
            g = (x >> self.at(i)) & 0x7F
            rm.append(g & 7)
            tmp.append((g >> 3) & 1)
            mp.append((g >> 4) & 1)
            md.append(g >> 5)
        fail = (x >> self.fail_at) & ((1 << self.fail_bits) - 1)
        lost = (x >> self.lost_at) & ((1 << self.lost_bits) - 1)
        return (x & 3, fail, lost, *rm, *tmp, *mp, *md)


@dataclass(frozen=True)
class TwoPhaseCommitPacked(TwoPhaseCommit):
    """:class:`~examples.twophase.TwoPhaseCommit` over packed states (the module says how)."""

    rm_mask: int = field(init=False, default=0, repr=False, compare=False)
    disagree: dict[int, bool] = field(init=False, default_factory=dict, repr=False,
                                      compare=False)

    def __post_init__(self) -> None:
        if self.n < 1 or self.max_fail < 0 or self.max_lost < 0:
            raise ValueError("n must be at least 1, max_fail and max_lost at least 0")
        if self.layout.bits > FINGERPRINT_BITS:
            raise ValueError(f"{self.layout.bits} bits per state: the packed model takes at most "
                             f"{FINGERPRINT_BITS} (use TwoPhaseCommit for larger N)")
        # bound once: the property reads them on every new state
        object.__setattr__(self, "rm_mask", _rm_mask(self.layout))
        object.__setattr__(self, "disagree", _disagree(self.n, self.max_fail, self.max_lost))

    states_are_fingerprints: ClassVar[bool] = True

    @property
    def name(self) -> str:
        return f"two-phase commit, packed (N={self.n}, F={self.max_fail}, L={self.max_lost})"

    @property
    def layout(self) -> Layout:
        return _layout(self.n, self.max_fail, self.max_lost)

    def pack(self, s: State) -> int:
        return self.layout.pack(s)

    def unpack(self, x: int) -> State:
        return self.layout.unpack(x)

    def init_states(self) -> list[Any]:
        return [self.pack(s) for s in super().init_states()]

    def actions(self, s: Any) -> Iterator[Action]:
        return super().actions(self.unpack(s))

    def step(self, s: Any, action: Action) -> Outcome[Any]:
        return Outcome(self.next_state(s, action))

    def next_state(self, s: Any, action: Action) -> Any:
        return self.pack(super().next_state(self.unpack(s), action))

    def successors(self, s: Any) -> list[tuple[Action, Any]]:
        """Every (action, next state) of ``s``, in the order of :meth:`actions`."""
        if _redefined_packed(type(self)):
            nxt = self.next_state
            return [(a, nxt(s, a)) for a in self.actions(s)]
        tables, ctx_shift, commit_mask, tmp_all, md_all = _fast(self.n, self.max_fail,
                                                               self.max_lost)
        out: list[tuple[Action, Any]] = []
        app = out.append
        ctx = (s & ctx_shift[0]) << 7
        at = ctx_shift[1]
        for i, tab in enumerate(tables):
            for a, d in tab[ctx | ((s >> at[i]) & 0x7F)]:
                app((a, s ^ d))
        if s & 3 == INIT:
            base = s & ~md_all
            if s & tmp_all == tmp_all:
                app((_TM_COMMIT, base | T_COMMITTED | commit_mask[0]))
            app((_TM_ABORT, base | T_ABORTED | commit_mask[1]))
        return out

    def properties(self) -> list[Property]:
        return [CONSISTENT_PACKED]

    def describe(self, s: Any) -> str:
        return super().describe(self.unpack(s))

    def format_action(self, s: Any, action: Action) -> str:
        return super().format_action(s, action)

    def is_own(self, s: Any, action: Action) -> bool:
        return super().is_own(s, action)


@functools.cache
def _redefined_packed(cls: Any) -> bool:
    """A subclass that changes the semantics the fast tables were computed from."""
    return (cls.next_state is not TwoPhaseCommitPacked.next_state
            or cls.actions is not TwoPhaseCommitPacked.actions)


@functools.cache
def _layout(n: int, max_fail: int, max_lost: int) -> Layout:
    return Layout(n, max(1, max_fail.bit_length()), max(1, max_lost.bit_length()))


@functools.cache
def _fast(n: int, max_fail: int, max_lost: int) -> tuple[
        tuple[tuple[tuple[tuple[Action, int], ...], ...], ...], tuple[int, tuple[int, ...]],
        tuple[int, int], int, int]:
    """The per-participant tables, indexed by ``(tm, nfail, nlost) << 7 | participant bits``,
    and the masks of the transaction manager's two actions."""
    base = TwoPhaseCommit(n, max_fail, max_lost)
    lay = _layout(n, max_fail, max_lost)
    ctx_bits = lay.rm_at
    tables = []
    for i in range(n):
        tab: list[tuple[tuple[Action, int], ...]] = []
        for key in range(1 << (ctx_bits + 7)):
            g, ctx = key & 0x7F, key >> 7
            tm, fail = ctx & 3, (ctx >> lay.fail_at) & ((1 << lay.fail_bits) - 1)
            lost = (ctx >> lay.lost_at) & ((1 << lay.lost_bits) - 1)
            rm, tmp, mp, md = g & 7, (g >> 3) & 1, (g >> 4) & 1, g >> 5
            if tm > T_ABORTED or rm > 4 or md > ABORT or fail > max_fail or lost > max_lost:
                tab.append(())
                continue
            rep = [tm, fail, lost] + [WORKING] * n + [0] * (3 * n)
            rep[3 + i], rep[3 + n + i], rep[3 + 2 * n + i], rep[3 + 3 * n + i] = rm, tmp, mp, md
            s = tuple(rep)
            x = lay.pack(s)
            tab.append(tuple((a, lay.pack(base.next_state(s, a)) ^ x)
                             for a in base.actions(s) if a[1] == i))
        tables.append(tuple(tab))
    commit = sum(COMMIT << (lay.at(i) + 5) for i in range(n))
    abort = sum(ABORT << (lay.at(i) + 5) for i in range(n))
    tmp_all = sum(1 << (lay.at(i) + 3) for i in range(n))
    md_all = 3 | sum(3 << (lay.at(i) + 5) for i in range(n))
    at = tuple(lay.at(i) for i in range(n))
    return tuple(tables), ((1 << ctx_bits) - 1, at), (commit, abort), tmp_all, md_all


def _consistent_packed(model: Any, s: Any) -> list[Violation]:
    if model.disagree[s & model.rm_mask]:
        return [("committed and aborted", f"participants disagree: {model.describe(s)}")]
    return []


@functools.cache
def _rm_mask(lay: Layout) -> int:
    """The bits of every participant's ``rm``."""
    return sum(7 << lay.at(i) for i in range(lay.n))


class _Disagree(dict[int, bool]):
    """Whether the participants' ``rm`` bits (a state masked by :func:`_rm_mask`) hold both a
    committed and an aborted participant, computed once per combination."""

    def __init__(self, lay: Layout) -> None:
        super().__init__()
        self.lay = lay

    def __missing__(self, bits: int) -> bool:
        rms = [(bits >> self.lay.at(i)) & 7 for i in range(self.lay.n)]
        got = self[bits] = COMMITTED in rms and ABORTED in rms
        return got


@functools.cache
def _disagree(n: int, max_fail: int, max_lost: int) -> _Disagree:
    return _Disagree(_layout(n, max_fail, max_lost))


CONSISTENT_PACKED = Property(
    "consistent",
    "No participant has committed while another has aborted.",
    always=_consistent_packed,
)
"""TCConsistent on packed states."""

assert NONE == 0  # a participant's md bits are zero when nothing is in flight

__all__ = ["CONSISTENT_PACKED", "Layout", "TwoPhaseCommitPacked"]
