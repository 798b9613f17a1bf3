"""When a mutant is the same as Liberty: structurally (a proof), or on the configurations run (a
comparison of the whole reachable graphs, which is not a proof).

:class:`GraphSignature` is a visitor summing, over a complete run, a hash of every distinct
state, of every transition (source, action, target) and of what every transition shows the
outside (its notifications, without the row that sent them, and the API's answer). States are
identified by the explorer's own 64-bit fingerprints, so two runs with equal signatures reached
the same states by the same transitions with the same outputs, as surely as the explorer itself
tells states apart. Python's hashes of strings differ between processes: signatures are
compared within one process only.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from nova_resize.spec import Spec

from ..explorer import Visitor

MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Signature:
    """A complete run's reachable graph, summarised."""

    states: int
    transitions: int
    state_sum: int
    edge_sum: int
    output_sum: int

    def difference(self, other: Signature) -> str:
        """How ``other`` differs, in words ('' when it does not)."""
        if (self.states, self.state_sum) != (other.states, other.state_sum):
            return (f"different states ({other.states:,} against Liberty's {self.states:,})"
                    if other.states != self.states else "different states (as many)")
        if (self.transitions, self.edge_sum) != (other.transitions, other.edge_sum):
            return "the same states, different transitions"
        if self.output_sum != other.output_sum:
            return "the same graph, different notifications or API answers"
        return ""


class GraphSignature(Visitor):
    """Collects a :class:`Signature` while a run explores (see the module docstring)."""

    def __init__(self) -> None:
        self.states = 0
        self.transitions = 0
        self.state_sum = 0
        self.edge_sum = 0
        self.output_sum = 0
        self._before: Any = None
        self._before_hash = 0

    def on_state(self, state: Any, index: int, depth: int) -> None:
        self.states += 1
        self.state_sum += hash(state)

    def on_step(self, before: Any, action: Any, step: Any) -> None:
        if before is not self._before:
            self._before, self._before_hash = before, hash(before)
        hb = self._before_hash
        self.transitions += 1
        self.edge_sum += hash((hb, action, hash(step.state)))
        notes = tuple(n._replace(row="") for n in getattr(step, "notifications", ()))
        self.output_sum += hash((hb, action, notes, getattr(step, "outcome", None)))

    def signature(self) -> Signature:
        return Signature(self.states, self.transitions, self.state_sum & MASK,
                         self.edge_sum & MASK, self.output_sum & MASK)


def same_tables(a: Spec, b: Spec) -> bool:
    """Whether two specs have the same tables (their names aside): a mutant whose tables are
    Liberty's is equivalent, proved."""
    return dataclasses.replace(a, name=b.name, _index={}) == b


__all__ = ["MASK", "GraphSignature", "Signature", "same_tables"]
