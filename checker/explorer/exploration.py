"""What a run found and measured, and the bounds that may stop it.

An :class:`Exploration` stores the reached graph compactly: every distinct state is an index
with its parent index, the action (by id) that first reached it and its depth, in typed arrays
(about 12 bytes a state besides the fingerprint table); whole states are not kept. A finding
keeps the index of its witness state, so its trace is rebuilt by walking parents and replaying
the actions from the initial state (:mod:`nova_resize.checker.explorer.traces`).
"""

from __future__ import annotations

import resource
from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Finding:
    """The first (under BFS: shortest) witness of one violation key of one property, and how
    many distinct states (or steps) showed the same key."""

    prop: str
    key: str
    message: str
    state: int  # index of the witness state (for a transition check, the step's source state)
    action: int | None  # the violating step's action id, for transition checks
    depth: int
    kind: str  # always | transition | liveness | hypothesis
    count: int = 1
    where: str = ""  # the state of what the violation is about
    subject: str | None = None  # what the violation is about (an instance's name), if named
    cause: str = ""  # what caused it on the witness trace (filled in by the report)

    @property
    def ident(self) -> tuple[str, str, str]:
        """What makes two findings the same: property, key, where."""
        return (self.prop, self.key, self.where)


@dataclass(frozen=True)
class Limits:
    """Bounds on a run. None: unbounded. A run that hits one is incomplete, and says which."""

    max_states: int | None = None
    max_depth: int | None = None
    max_seconds: float | None = None
    max_memory_bytes: int | None = None


@dataclass
class Exploration:
    """Everything a run found and measured."""

    model: str
    strategy: str
    distinct_states: int = 0
    transitions: int = 0
    diameter: int = 0
    seconds: float = 0.0
    complete: bool = True
    stop_reason: str = ""
    stop_kind: str = ""  # states | depth | seconds | memory | interrupt; "" when not stopped
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    evaluations: Counter[str] = field(default_factory=Counter)
    peak_rss_bytes: int = 0
    rss_start_bytes: int = 0
    # the reached graph: parent links for traces, own-step edges for liveness
    parent: array[int] = field(default_factory=lambda: array("i"))
    via: array[int] = field(default_factory=lambda: array("i"))
    depth: array[int] = field(default_factory=lambda: array("i"))
    actions: list[Any] = field(default_factory=list)
    own_src: array[int] = field(default_factory=lambda: array("i"))
    own_dst: array[int] = field(default_factory=lambda: array("i"))
    liveness: dict[str, LivenessData] = field(default_factory=dict)
    stuck_states: int = 0

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0

    def stop(self, reason: str, kind: str) -> None:
        """Mark the run stopped before it finished: ``kind`` is the bound that stopped it
        (states, depth, seconds, memory) or ``interrupt``; the first reason wins."""
        if not self.stop_kind:
            self.complete = False
            self.stop_reason = reason
            self.stop_kind = kind


@dataclass
class LivenessData:
    """Per recoverable property: which states are good, and a stuck key per state (-1: none)."""

    good: bytearray = field(default_factory=bytearray)
    key: array[int] = field(default_factory=lambda: array("i"))
    keys: list[str] = field(default_factory=list)
    key_ids: dict[str, int] = field(default_factory=dict)


def rss_bytes() -> int:
    """The process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def current_rss_bytes() -> int:
    """The process's resident memory now (Linux /proc; the peak where that is unavailable)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return rss_bytes()


__all__ = ["Exploration", "Finding", "Limits", "LivenessData", "current_rss_bytes", "rss_bytes"]
