"""Traces: the actions that lead to a state, and replaying them."""

from __future__ import annotations

from typing import Any

from .exploration import Exploration, Finding


def path(ex: Exploration, idx: int) -> list[Any]:
    """The actions from an initial state to state ``idx`` along parent links."""
    acts: list[Any] = []
    while ex.parent[idx] >= 0:
        acts.append(ex.actions[ex.via[idx]])
        idx = ex.parent[idx]
    acts.reverse()
    return acts


def trace_of(ex: Exploration, f: Finding) -> list[Any]:
    """The actions of a finding's witness: to its state, plus the violating step for a
    transition check."""
    acts = path(ex, f.state)
    if f.action is not None:
        acts.append(ex.actions[f.action])
    return acts


def replay(model: Any, actions: list[Any], init: int = 0) -> list[tuple[Any, Any, Any]]:
    """Replay ``actions`` from the ``init``-th initial state: (action, state before, step) per
    action. An action that changes nothing yields a step of None and leaves the state."""
    w = list(model.init_states())[init]
    out = []
    for a in actions:
        st = model.step(w, a)
        out.append((a, w, st))
        if st is not None:
            w = st.state
    return out


__all__ = ["path", "replay", "trace_of"]
