"""Usage notifications in pairs: what billing and auditing consumers of Nova's notifications
(Ceilometer, say) rely on when they match ``compute.instance.<op>.start`` with its ``.end``.

The engine keeps, for each running handler, the usage notifications it started and has not
ended (:attr:`nova_resize.engine.world.Frame.usage`, history that Nova's rows never read), and
reports two events: ``usage_unpaired`` when a handler sends ``<op>.end`` it never started, and
``usage_open`` when a handler returns or raises with some started. A handler that raises may
leave its start unanswered: Liberty sends no ``.end`` on a failure (an exception reaches the
instance's faults and, for prep_resize, ``resize.error``), so only a handler that returns is
held to the pairing.
"""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.world import World

from ...explorer.model import Property, Violation
from .context import Context


def notifications_paired(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """A handler that returns has ended every usage notification it started, and none ends
    one it did not start."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind == "usage_unpaired":
            name, event_type = ev.data
            op = event_type.rpartition(".")[0].removeprefix("compute.instance.")
            out.append((f"{ev.row} sent {op}.end without {op}.start",
                        f"{ev.row} sent {event_type} about {name} without having sent "
                        f"{op}.start", name))
        elif ev.kind == "usage_open":
            name, ok, exc, ops = ev.data
            if not ok:
                continue
            for op in ops:
                after = f" (after handling {exc})" if exc else ""
                out.append((f"{ev.row} returned with {op}.start unanswered",
                            f"{ev.row} returned{after} having sent {op}.start about {name} "
                            f"and neither {op}.end nor {op}.error", name))
    return out


NOTIFICATIONS_PAIRED: Property = Property(
    "notifications-paired",
    "A handler that returns has sent compute.instance.<op>.end (or .error) for every "
    "compute.instance.<op>.start it sent, and no handler sends an .end it did not start.",
    transition=notifications_paired,
    triggers=frozenset({"usage_unpaired", "usage_open"}),
)


__all__ = ["NOTIFICATIONS_PAIRED", "notifications_paired"]
