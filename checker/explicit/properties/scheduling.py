"""Scheduling: a resize or cold migration is tried on at most ``scheduler_max_attempts`` hosts.

``populate_retry`` counts the attempts in the request's retry record (``local.attempts``,
carried in every prep_resize cast and back to the conductor by ``_reschedule``) and raises
MaxRetriesExceeded once the count passes ``scheduler_max_attempts``; with the option at 1 there
is no retry record and no reschedule at all. A request scheduled more often than the operator
allowed keeps an instance in RESIZE and its quota reserved for as long as hosts keep refusing.
"""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.world import World

from ...explorer.model import Property, Violation
from .context import Context


def retries_bounded(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """No prep_resize is cast with a retry count above ``scheduler_max_attempts`` (the engine's
    ``send`` events)."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind != "send":
            continue
        msg = ev.data[0]
        if msg.method != "prep_resize":
            continue
        attempts = dict(msg.args).get("attempts")
        most = ctx.engine.config.option("scheduler_max_attempts")
        if isinstance(attempts, int) and isinstance(most, int) and attempts > most:
            out.append(("prep_resize cast beyond scheduler_max_attempts",
                        f"{msg.instance.name} is sent to {msg.target} on attempt {attempts}, "
                        f"past scheduler_max_attempts = {most}", msg.instance.name))
    return out


RETRIES_BOUNDED: Property = Property(
    "retries-bounded",
    "A resize or cold migration is tried on at most scheduler_max_attempts hosts: no "
    "prep_resize is cast with a retry count above it (populate_retry raises "
    "MaxRetriesExceeded first).",
    transition=retries_bounded,
    triggers=frozenset({"send"}),
)


__all__ = ["RETRIES_BOUNDED", "retries_bounded"]
