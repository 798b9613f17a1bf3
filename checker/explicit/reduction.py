"""Partial-order reduction: in a state where some handler's next step is local (it reads and
writes that handler's own memory alone, engine/footprint.py), that step alone is explored.

Why every verdict is kept (the ample-set conditions of Peled, and of Spin's reduction):

* C0, C1 (the ample set is one enabled action, independent of every action outside it, now
  and on any path that does not take it): a local step reads nothing another action writes and
  writes nothing another action reads; it is the handler's only action (its row is the only
  one that applies, no destination to choose, no fault that can still be injected there, not
  waiting for a reply). Only a crash of the handler's host touches it, by removing the handler,
  and the crash's result does not depend on what the local step changed: taking the local step
  first and crashing gives the very state the crash gives.
* C2 (invisible): no property, no finding's location and no liveness key reads a handler's
  label, locals or copies' fields (only whether it waits, its exception and chain, which
  migration it holds, its method, service, instance name and usage history, which a local
  step leaves alone); a local step emits no event and no notification.
* C3 (the cycle proviso): the labels from which local steps go round a cycle are excluded, so
  every run of local steps is finite: no cycle of the reduced graph is made of reduced states
  alone, under breadth-first search as under depth-first.

Every state the full search reaches is then reached up to handlers standing later on their
local rows, and every quiescent or blocked state exactly; a finding's identity (property,
key, where) reads none of what differs, so the same findings come out, with the same
no-stuck-resize verdict. Shortest traces are shortest in the reduced graph: a trace may take
a local step earlier than the full search's shortest trace would.
"""

from __future__ import annotations

from nova_resize.engine.actions import Action
from nova_resize.engine.core import Engine
from nova_resize.engine.footprint import local_steps
from nova_resize.engine.world import World


class PartialOrder:
    """The reduction's choice of actions for an engine (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.local = local_steps(engine.tables)
        """The labels whose next step is local, with the fault kinds that must have no budget
        left there."""

    def ample(self, w: World, acts: list[Action]) -> Action | None:
        """The one action to explore in ``w`` (whose enabled actions are ``acts``) instead of
        all of them, or None when none qualifies."""
        local = self.local
        budgets: dict[str, int] | None = None
        for fr in w.frames:
            if fr.waiting:
                continue
            kinds = local.get((fr.handler, fr.label))
            if kinds is None:
                continue
            if kinds:
                if budgets is None:
                    budgets = dict(w.budgets)
                if any(budgets.get(f"fault:{k}", 0) > 0 for k in kinds):
                    continue
            fid = fr.id
            for a in acts:
                if a[0] == "run" and a[1] == fid:
                    return a
        return None

    def actions(self, w: World) -> list[Action]:
        """The actions the reduced search takes in ``w``."""
        acts = self.engine.enabled(w)
        if len(acts) > 1 and w.frames:
            a = self.ample(w, acts)
            if a is not None:
                return [a]
        return acts


__all__ = ["PartialOrder"]
