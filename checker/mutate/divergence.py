"""Where a surviving mutant first behaves differently from Liberty: the shortest trace after
which one step does something else (another next state, other notifications, another API
answer), and what differs.

Both models are stepped side by side, breadth first, over the mutant's reachable states; as long
as every step agrees, each state reached is Liberty's too, so the first disagreement is found at
the smallest depth. A survivor's divergence is what a user needs in order to write the property
or the regression preset that would have killed it: the situation the change matters in, and
what it does there that no property looks at.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.engine.world import World
from nova_resize.spec import LIBERTY, Spec

from ..explicit.model import NovaModel
from ..explorer import Control

MAX_DIFFERENCES = 4


@dataclass
class Divergence:
    """The shortest trace to a step the mutant takes differently."""

    configuration: str
    trace: list[str]  # the steps before the diverging one, as the model describes them
    step: str  # the diverging step
    liberty: list[str]  # what Liberty's step does there that the mutant's does not...
    mutant: list[str]  # ...and the other way round

    def to_json(self) -> dict[str, Any]:
        return {"configuration": self.configuration, "trace": self.trace, "step": self.step,
                "liberty": self.liberty, "mutant": self.mutant}

    def text(self) -> str:
        lead = f"after {len(self.trace)} steps" if self.trace else "from the initial state"
        return (f"first differs on {self.configuration} {lead}, at '{self.step}': Liberty "
                f"{'; '.join(self.liberty) or 'nothing else'}, the mutant "
                f"{'; '.join(self.mutant) or 'nothing else'}")


def _outputs(res: Any) -> tuple[Any, ...]:
    if res is None:
        return ()
    notes = tuple(n._replace(row="") for n in res.notifications)
    return notes, res.outcome


def _parts(w: World) -> dict[str, Any]:
    """A world as named parts, for saying what differs."""
    out: dict[str, Any] = {}
    for i in w.instances:
        out[f"instance {i.name}"] = i
    for mg in w.migrations:
        out[f"migration {mg.id}"] = mg
    for h in w.hosts:
        out[f"host {h.name}"] = h
    for r in w.reservations:
        out[f"reservation {r.id}"] = r
    out["quota"] = w.quota
    out["messages"] = tuple(sorted(f"{m.kind} {m.method} to {m.target}" for m in w.messages))
    for f in w.frames:
        out[f"handler {f.id} ({f.method})"] = f
    out["requests"] = w.requests
    out["deleted flavors"] = w.deleted_flavors
    return out


def _field_diff(a: Any, b: Any) -> str:
    """``a``'s fields that differ from ``b``'s (nested records by their own fields)."""
    fields = getattr(a, "_fields", None)
    if fields is None or type(a) is not type(b):
        return repr(a)
    parts = []
    for f in fields:
        x, y = getattr(a, f), getattr(b, f)
        if x != y:
            nested = hasattr(x, "_fields") and type(x) is type(y)
            parts.append(f"{f} ({_field_diff(x, y)})" if nested else f"{f} {x!r}")
    return ", ".join(parts)


def differences(lib: Any, mut: Any) -> tuple[list[str], list[str]]:
    """What Liberty's step result shows that the mutant's does not, and the other way round
    (the parts of the next state that differ, the notifications, the API's answer)."""
    if lib is None or mut is None:
        return (["changes nothing"] if lib is None else ["takes the step"],
                ["changes nothing"] if mut is None else ["takes the step"])
    a, b = _parts(lib.state), _parts(mut.state)
    left: list[str] = []
    right: list[str] = []
    for k in list(dict.fromkeys([*a, *b])):
        if a.get(k) == b.get(k):
            continue
        if k not in b:
            left.append(f"has {k}")
        elif k not in a:
            right.append(f"has {k}")
        elif hasattr(a[k], "_fields"):
            left.append(f"{k}: {_field_diff(a[k], b[k])}")
            right.append(f"{k}: {_field_diff(b[k], a[k])}")
        else:
            left.append(f"{k}: {a[k]}")
            right.append(f"{k}: {b[k]}")
    na = [n.event_type for n in lib.notifications]
    nb = [n.event_type for n in mut.notifications]
    if na != nb:
        left.append(f"sends {', '.join(na) or 'no notification'}")
        right.append(f"sends {', '.join(nb) or 'no notification'}")
    if lib.outcome != mut.outcome:
        left.append(f"answers {lib.outcome}")
        right.append(f"answers {mut.outcome}")
    return left[:MAX_DIFFERENCES], right[:MAX_DIFFERENCES]


def first_divergence(config: Config, spec: Spec, max_states: int = 200_000,
                     control: Control | None = None) -> Divergence | None:
    """The mutant's (``spec``'s) shortest divergence from Liberty on ``config``; None when
    none shows within ``max_states`` states (or the run was interrupted)."""
    lib = NovaModel(Engine(config, LIBERTY), properties=())
    mut = NovaModel(Engine(config, spec), properties=())
    fingerprint = getattr(mut, "fingerprint", None) or hash
    start = mut.init_states()[0]
    if start != lib.init_states()[0]:
        return Divergence(config.name, [], "the initial state", ["differs"], ["differs"])
    parent: dict[int, tuple[int | None, Any, World]] = {fingerprint(start): (None, None, start)}
    queue = deque([start])
    while queue and len(parent) < max_states:
        if control is not None and control.reason is not None:
            return None
        w = queue.popleft()
        on_mut, on_lib = list(mut.actions(w)), list(lib.actions(w))
        ok_mut, ok_lib = set(on_mut), set(on_lib)
        for a in dict.fromkeys([*on_mut, *on_lib]):
            # an action one side does not offer (a fault row the mutant removed, say) is not
            # taken there: its row may not even exist in that side's tables
            rm = mut.step(w, a) if a in ok_mut else None
            rl = lib.step(w, a) if a in ok_lib else None
            same = (rm is None and rl is None) or (
                rm is not None and rl is not None and rm.state == rl.state
                and _outputs(rm) == _outputs(rl))
            if not same:
                left, right = differences(rl, rm)
                return Divergence(config.name, _trace(parent, mut, fingerprint(w)),
                                  mut.format_action(w, a), left, right)
            if rm is None:
                continue
            h = fingerprint(rm.state)
            if h not in parent:
                parent[h] = (fingerprint(w), a, rm.state)
                queue.append(rm.state)
    return None


def _trace(parent: dict[int, tuple[int | None, Any, World]], model: NovaModel,
           h: int) -> list[str]:
    steps: list[tuple[Any, int]] = []
    cur: int | None = h
    while cur is not None:
        p, a, _ = parent[cur]
        if p is None:
            break
        steps.append((a, p))
        cur = p
    out = []
    for a, p in reversed(steps):
        out.append(model.format_action(parent[p][2], a))
    return out


def divergence_on(configs: Sequence[Config], spec: Spec,
                  control: Control | None = None) -> Divergence | None:
    """The first configuration's divergence, in the given order."""
    for c in configs:
        d = first_divergence(c, spec, control=control)
        if d is not None:
            return d
    return None


__all__ = ["Divergence", "differences", "divergence_on", "first_divergence"]
