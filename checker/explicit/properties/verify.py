"""A server shown as VERIFY_RESIZE keeps the two promises the API makes about it: it can be
confirmed and it can be reverted."""

from __future__ import annotations

from nova_resize.engine.actions import ApiRequest
from nova_resize.engine.core import Engine
from nova_resize.engine.world import World
from nova_resize.spec.states import RESIZED

from ...explorer.model import Property, Violation
from .context import Context, at_quiescence, mig_text


def verify_resize_actionable(ctx: Context, w: World) -> list[Violation]:
    """At quiescence, every live instance in (resized, None) -- status VERIFY_RESIZE in
    ``nova list`` -- is one for which nova-api would carry out both confirmResize and
    revertResize (its lock aside, which is the user's own doing): each request is tried on the
    state and its API handler run to its end. A refusal or an error leaves the server in
    VERIFY_RESIZE with no API way out but a reset-state. The key names the failed operations
    and why."""
    out: list[Violation] = []
    eng = ctx.engine
    for i in ctx.live(w):
        if i.vm_state != RESIZED or i.task_state is not None:
            continue
        unlocked = w if not i.locked else _unlocked(w, i.name)
        refused = []
        for op in ("confirm_resize", "revert_resize"):
            why = api_attempt(eng, unlocked, op, i.name)
            if why is not None:
                refused.append(f"{op} refused ({why})")
        if refused:
            mig = ctx.latest_migration(w, i.name)
            out.append(("VERIFY_RESIZE but " + ", ".join(refused),
                        f"{i.name} shows VERIFY_RESIZE with {mig_text(mig)}, but "
                        + "; ".join(refused), i.name))
    return out


def api_attempt(eng: Engine, w: World, op: str, name: str, max_steps: int = 50) -> str | None:
    """Why nova-api would fail ``op`` on ``name`` in ``w`` -- refuse it, or raise in its handler
    (run alone to its end) -- or None when it would carry it out."""
    res = eng.step(w, ApiRequest(op, name))
    out = res.outcome or ""
    for _ in range(max_steps):
        if out.startswith("refused: ") or out.startswith("error: "):
            return out.split(": ", 1)[1]
        w = res.world
        fr = next((f for f in w.frames if f.service == "api" and f.instance.name == name
                   and f.method == op), None)
        if fr is None:
            return None
        runs = [a for a in eng.enabled(w) if a[0] == "run" and a[1] == fr.id]
        if not runs:
            return None  # waiting on something else: accepted so far
        res = eng.step(w, runs[0])
        out = res.outcome or ""
    return None


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
