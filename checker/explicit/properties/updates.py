"""Lost updates: an unguarded save overwriting a task_state another operation set."""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.world import World
from nova_resize.spec.states import (
    TASK_OWNERS,
)

from ...explorer.model import Property, Violation
from .context import Context


def no_lost_update(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """No unguarded save overwrites a task_state that another operation set: neither one set
    after the saver last read the instance (a lost update) nor one the saver's operation does
    not own."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind != "unguarded_task_write":
            continue
        old, new, seen, method, name = ev.data
        if old != seen:
            out.append((f"{ev.row} overwrote {old}",
                        f"{ev.row} ({method}) wrote task_state {new} over {old}, set after it "
                        f"had read {seen}", name))
        elif old is not None and method not in TASK_OWNERS.get(old, ()):
            out.append((f"{ev.row} overwrote {old}",
                        f"{ev.row} ({method}) wrote task_state {new} over {old}, which another "
                        f"operation set", name))
    return out


NO_LOST_UPDATE: Property = Property(
    "no-lost-update",
    "No unguarded save overwrites a task_state that another operation set since the saving "
    "handler last read the instance.",
    transition=no_lost_update,
    triggers=frozenset({"unguarded_task_write"}),
)


__all__ = ["NO_LOST_UPDATE", "no_lost_update"]
