"""Every diagram drawn from the spec: name -> DOT."""

from __future__ import annotations

from nova_resize.spec import Spec

from .clouds import clouds
from .graphs import instance_moves
from .sequence import OPERATIONS, operation_sequence
from .states import (
    OPERATION_DIAGRAMS,
    diff_moves,
    instance_overview_dot,
    migration_status_dot,
    operation_states_dot,
    quota_dot,
)


def spec_diagrams(spec: Spec, changed: set[str] | frozenset[str] = frozenset(),
                  base: Spec | None = None) -> dict[str, str]:
    """instance-states (the overview), instance-states-<operation>, migration-status,
    quota-lifecycle and sequence-<operation>. With ``base`` (Liberty, for a variant's
    ``spec``), the moves and steps only one of them takes are drawn as added or gone."""
    moves = instance_moves(spec, clouds("edges"))
    if base is not None:
        moves = diff_moves(instance_moves(base, clouds("edges")), moves)
    out = {
        "instance-states": instance_overview_dot(spec, moves, changed),
        "migration-status": migration_status_dot(spec, changed, base),
        "quota-lifecycle": quota_dot(spec, changed, base),
    }
    for op in OPERATION_DIAGRAMS:
        out[f"instance-states-{op}"] = operation_states_dot(spec, moves, op, changed)
    for op in OPERATIONS:
        out[f"sequence-{op}"] = operation_sequence(spec, op, changed, base)
    return out


__all__ = ["spec_diagrams"]
