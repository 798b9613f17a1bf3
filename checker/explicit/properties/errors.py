"""ERROR has a cause: Nova puts an instance into vm_state ERROR only while handling a failure
that concerned it."""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.world import World
from nova_resize.spec.states import ERROR

from ...explorer.model import Property, Violation
from .context import Context


def error_handlers(ctx: Context) -> frozenset[str]:
    """The handlers that run only while an exception propagates: every handler some scope's
    error chain names."""
    return frozenset(name for h in ctx.spec.handlers for _, chain in h.scopes for name in chain)


def _raising(w: World, name: str) -> bool:
    """A frame of instance ``name`` is handling an exception in ``w``."""
    return any(f.instance.name == name and (f.exc is not None or f.chain is not None)
               for f in w.frames)


def error_has_cause(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """A step that moves an instance into vm_state ERROR is one of: a row of an error handler
    (the instance's own step raised: an injected fault, a refused save or claim, a failed or
    timed-out call); a step of a frame already handling an exception; the restart recovery of
    a host that went down (init_instance). Anything else put the instance into ERROR although
    nothing that concerned it failed."""
    out: list[Violation] = []
    handlers = getattr(ctx, "_error_handlers", None)
    if handlers is None:
        handlers = error_handlers(ctx)
        ctx._error_handlers = handlers  # type: ignore[attr-defined]
    if "compute.service.restart" in res.rows:
        return out  # init_host: restart recovery after the host went down
    raised: set[str] = set()
    for ev in res.events:
        if ev.kind == "raise":
            raised.add(ev.data[0])
            continue
        if ev.kind != "instance_write" or not ev.row:
            continue
        a, b = ev.data
        if b.vm_state != ERROR or a.vm_state == ERROR:
            continue
        try:
            row = ctx.spec.row(ev.row)
        except KeyError:
            continue
        if row.handler in handlers or b.name in raised or _raising(before, b.name):
            continue
        out.append((f"{ev.row} set ERROR with no failure",
                    f"{ev.row} ({row.handler}) put {b.name} into ERROR in a step where nothing "
                    f"that concerned it had failed", b.name))
    return out


ERROR_HAS_CAUSE: Property = Property(
    "error-has-cause",
    "An instance enters vm_state ERROR only while Nova handles a failure that concerned it: a "
    "fault in one of its steps, a refused save or claim, a failed call, or its host's restart.",
    transition=error_has_cause,
    triggers=frozenset({"instance_write"}),
)


def task_cleared_on_failure(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """When a compute handler gives up on an instance (an exception leaves its last error
    handler: the engine's ``frame_end`` event with ok False) and nothing else is running or in
    flight for that instance, the instance holds no task_state. Nova's ``reverts_task_state``
    and ``_error_out_instance_on_exception`` exist to clear it; a task left behind keeps the
    server busy (every action but delete refused) until an operator resets it."""
    out: list[Violation] = []
    w = res.world
    for ev in res.events:
        if ev.kind != "frame_end":
            continue
        service, name, ok, exc = ev.data
        if ok or not name or service in ("api", "conductor"):
            continue
        inst = next((i for i in w.instances if i.name == name), None)
        if inst is None or inst.deleted or inst.task_state is None:
            continue
        if any(f.instance.name == name for f in w.frames) or \
                any(m.instance.name == name for m in w.messages):
            continue  # another handler or message may still settle it
        out.append((f"{ev.row} raised {exc}: left {inst.vm_state}/{inst.task_state}",
                    f"{ev.row} on {service} gave up on {name} with {exc} and nothing else is "
                    f"running for it, but it still holds task_state {inst.task_state}", name))
    return out


TASK_CLEARED_ON_FAILURE: Property = Property(
    "task-cleared-on-failure",
    "When a compute handler gives up on an instance (an exception leaves its last error "
    "handler) and nothing else is running or in flight for it, the instance holds no "
    "task_state (reverts_task_state and _error_out_instance_on_exception clear it); a task "
    "left behind keeps the server busy until an operator resets it.",
    transition=task_cleared_on_failure,
    triggers=frozenset({"frame_end"}),
)


__all__ = ["ERROR_HAS_CAUSE", "TASK_CLEARED_ON_FAILURE", "error_handlers", "error_has_cause",
           "task_cleared_on_failure"]
