"""Bounded model checking: k steps of the one-instance model as a z3 formula, and a cross-check
against the explicit-state explorer.

The formula is built by a second interpreter of the spec's tables, written against z3 rather
than Python values, and sharing nothing with the engine but the tables and the configuration.
Control is concrete and data symbolic: a running handler's control point (handler, label,
error chain, exception) is one atom of a finite set found by running this interpreter itself
over the tables; everything else (the instance and migration rows, the handlers' copies and
dirty fields, their locals, the messages in flight and their copies, the disks, the budgets) is
a z3 variable per step. One step is one of the engine's actions: a user request (with the
handler's first database step), a message delivery, the next step of a handler, or an injected
fault, each followed by the steps that touch only the handler's memory, as the engine runs
them.

What the encoding leaves out, and the fragment check enforces, so that leaving it out changes
no reachable (vm_state, task_state, migration status) combination: one instance and at most one
migration (one resize or migrate), at most one handler and one message of each kind at a time
(a sticky ``overflow`` variable records any attempt, and the cross-check fails if one is
reachable), no crash, lost message, timeout or periodic task, no restore and no flavor deletion
(a soft delete, with reclaim_instance_interval set, is in), and room for every flavor on every
host and in the quota (so claims and reservations never refuse; their bookkeeping is not
encoded).
"""

from .atoms import OutsideFragment, Projection
from .crosscheck import (
    CrossCheck,
    cross_check,
    explicit_projections,
    format_projection,
    iter_cross_check,
)
from .encoding import Encoding

__all__ = [
    "CrossCheck",
    "Encoding",
    "OutsideFragment",
    "Projection",
    "cross_check",
    "explicit_projections",
    "format_projection",
    "iter_cross_check",
]
