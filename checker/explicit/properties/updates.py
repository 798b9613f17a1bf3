"""Lost updates: an unguarded save overwriting a task_state another operation set, and a
handler returning with changes it never saved."""

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


def changes_saved(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """A handler that returns normally has saved what it changed on the instance and migration
    objects it holds; fields still differing from the database when it returns are lost."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind != "unsaved_changes":
            continue
        method, name, fields = ev.data
        out.append((f"returned at {ev.row} with {', '.join(fields)} unsaved",
                    f"{method} returned at {ev.row} without having saved {', '.join(fields)} of "
                    f"{name}: the change never reaches the database", name))
    return out


CHANGES_SAVED: Property = Property(
    "changes-saved",
    "A handler that returns normally has saved every change it made to its instance and "
    "migration objects: none is left only in the request's memory.",
    transition=changes_saved,
    triggers=frozenset({"unsaved_changes"}),
)


__all__ = ["CHANGES_SAVED", "NO_LOST_UPDATE", "changes_saved", "no_lost_update"]
