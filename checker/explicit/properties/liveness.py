"""no-stuck-resize: from every state, Nova by itself can still end every resize."""

from __future__ import annotations

from nova_resize.engine.world import Instance, World, quiescent
from nova_resize.spec.states import (
    RESIZE_TASK_STATES,
)

from ...explorer.model import Property, Recoverable
from .context import Context


def _resizing(w: World) -> list[Instance]:
    return [i for i in w.instances if not i.deleted and i.task_state in RESIZE_TASK_STATES]


def resize_settled(ctx: Context, w: World) -> bool:
    """Quiescent, and no instance holds a resize task_state."""
    return quiescent(w) and not _resizing(w)


def stuck_resize_key(ctx: Context, w: World, has_own_step: bool) -> str | None:
    """A quiescent state's resizing instances, or the handlers of a state in which Nova can take
    no step by itself; None for other states (on the way to one of those)."""
    if quiescent(w):
        bad = _resizing(w)
        if not bad:
            return None
        return "; ".join(f"{i.vm_state}/{i.task_state} ({_mig_status(w, i.name)})" for i in bad)
    if has_own_step:
        return None
    blocked = "; ".join(f"{f.service}:{f.handler}:{f.label}" for f in w.frames)
    return f"blocked: {blocked or 'messages nobody takes'}"


def _mig_status(w: World, name: str) -> str:
    migs = [m for m in w.migrations if m.instance == name]
    return f"migration {migs[-1].status}" if migs else "no migration"


def _stuck_message(key: str) -> str:
    if key.startswith("blocked: "):
        return f"handlers wait forever: {key.removeprefix('blocked: ')}"
    return f"quiescent with {key}: nothing Nova does by itself ends the resize"


NO_STUCK_RESIZE: Property = Property(
    "no-stuck-resize",
    "From every reachable state a quiescent state is reachable, through Nova's own steps, in "
    "which no instance holds a resize task_state.",
    recoverable=Recoverable(resize_settled, stuck_resize_key, _stuck_message),
)


__all__ = ["NO_STUCK_RESIZE", "resize_settled", "stuck_resize_key"]
