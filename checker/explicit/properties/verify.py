"""A server shown as VERIFY_RESIZE keeps the two promises the API makes about it: it can be
confirmed and it can be reverted."""

from __future__ import annotations

from nova_resize.engine.world import World
from nova_resize.spec.states import RESIZED

from ...explorer.model import Property, Violation
from .context import Context, at_quiescence, mig_text


def verify_resize_actionable(ctx: Context, w: World) -> list[Violation]:
    """At quiescence, every live instance in (resized, None) -- status VERIFY_RESIZE in
    ``nova list`` -- is one nova-api would accept both confirmResize and revertResize for (its
    lock aside, which is the user's own doing). A refusal leaves the server in VERIFY_RESIZE
    with no API way out but a reset-state. The key names the refused operations and the
    reasons."""
    out: list[Violation] = []
    eng = ctx.engine
    for i in ctx.live(w):
        if i.vm_state != RESIZED or i.task_state is not None:
            continue
        unlocked = w if not i.locked else _unlocked(w, i.name)
        refused = []
        for op in ("confirm_resize", "revert_resize"):
            why = eng.api_refusal(unlocked, op, i.name)
            if why is not None:
                refused.append(f"{op} refused ({why})")
        if refused:
            mig = ctx.latest_migration(w, i.name)
            out.append(("VERIFY_RESIZE but " + ", ".join(refused),
                        f"{i.name} shows VERIFY_RESIZE with {mig_text(mig)}, but "
                        + "; ".join(refused), i.name))
    return out


def _unlocked(w: World, name: str) -> World:
    insts = tuple(i._replace(locked=False) if i.name == name else i for i in w.instances)
    return w._replace(instances=insts)


VERIFY_RESIZE_ACTIONABLE: Property = Property(
    "verify-resize-actionable",
    "Whenever Nova is quiescent, a server in VERIFY_RESIZE (resized, no task) can be confirmed "
    "and can be reverted: nova-api accepts both requests.",
    always=verify_resize_actionable,
    when=at_quiescence,
)


__all__ = ["VERIFY_RESIZE_ACTIONABLE", "verify_resize_actionable"]
