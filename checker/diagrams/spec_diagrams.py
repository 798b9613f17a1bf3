"""Every diagram drawn from the spec: name -> DOT."""

from __future__ import annotations

from nova_resize.spec import Spec

from .clouds import clouds
from .graphs import instance_moves
from .sequence import OPERATIONS, operation_sequence
from .states import instance_states_dot, migration_status_dot, quota_dot


def spec_diagrams(spec: Spec, changed: set[str] | frozenset[str] = frozenset()
                  ) -> dict[str, str]:
    """instance-states, instance-states-errors, migration-status, quota-lifecycle and
    sequence-<operation>."""
    normal = instance_moves(spec, clouds("normal"), sequential=True)
    edges = instance_moves(spec, clouds("edges"))
    out = {
        "instance-states": instance_states_dot(spec, normal, errors=False, changed=changed),
        "instance-states-errors": instance_states_dot(spec, edges, errors=True,
                                                      changed=changed),
        "migration-status": migration_status_dot(spec, changed),
        "quota-lifecycle": quota_dot(spec, changed),
    }
    for op in OPERATIONS:
        out[f"sequence-{op}"] = operation_sequence(spec, op)
    return out


__all__ = ["spec_diagrams"]
