"""The diagrams' data, as networkx graphs built from the spec and from the engine running it.

* :func:`instance_moves`: the (vm_state, task_state) moves the engine takes on a set of small
  clouds, each edge with the rows that take it, split into normal and error (fault or error
  handler) rows. Running the engine rather than reading the rows gives an unguarded save's real
  source states.
* :func:`migration_graph`: the spec's migration status edges.
* :func:`quota_graph`: which rows reserve, commit and roll back.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import networkx as nx
from nova_resize.engine.actions import Action
from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.engine.world import World
from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.query import error_handler_names
from nova_resize.spec.states import api_status

from ..explicit.model import NovaModel
from ..explorer import Visitor, explore

Pair = tuple[str, str | None]


class _Sequential(NovaModel):
    """Users wait for each request to finish: a request is enabled only when nothing runs."""

    def actions(self, state: World) -> list[Action]:
        acts = super().actions(state)
        if state.messages or state.frames:
            acts = [a for a in acts if a.kind != "api"]
        return acts


class _Moves(Visitor):
    def __init__(self) -> None:
        self.rows: dict[tuple[Pair, Pair], set[str]] = defaultdict(set)

    def on_step(self, before: Any, action: Any, step: Any) -> None:
        for ev in step.events:
            if ev.kind == "instance_write":
                a, b = ev.data
                pa, pb = (a.vm_state, a.task_state), (b.vm_state, b.task_state)
                if pa != pb:
                    self.rows[(pa, pb)].add(ev.row)


def pair_id(vm: str, task: str | None) -> str:
    return f"{vm}__{task or 'none'}".replace("-", "_")


def _pk(p: Pair) -> tuple[str, str]:
    return (p[0], p[1] or "")


def instance_moves(spec: Spec, clouds: tuple[Config, ...], sequential: bool = False
                   ) -> nx.MultiDiGraph:
    """Nodes: (vm_state, task_state) pairs with ``status`` and ``kind`` (designed, transient
    or undefined); edges keyed ``normal`` or ``error``, with their sorted ``rows``."""
    moves = _Moves()
    for cfg in clouds:
        eng = Engine(cfg, spec)
        model = _Sequential(eng, ()) if sequential else NovaModel(eng, ())
        explore(model, "bfs", visitors=[moves], liveness=False)
    errs = error_handler_names(spec)
    rows = {r.id: r for r in spec.rows}
    defined = {(p.vm_state, p.task_state): p for p in spec.state_pairs}

    def is_error(row_id: str) -> bool:
        r = rows.get(row_id)
        return r is not None and (r.fault is not None or r.handler in errs)

    g = nx.MultiDiGraph()
    items = sorted(moves.rows.items(), key=lambda kv: (_pk(kv[0][0]), _pk(kv[0][1])))
    nodes = sorted({p for (a, b), _ in items for p in (a, b)}, key=_pk)
    for vm, task in nodes:
        p = defined.get((vm, task))
        kind = "designed" if p is not None and not p.transient else (
            "transient" if p is not None else "undefined")
        g.add_node((vm, task), id=pair_id(vm, task), status=api_status(vm, task), kind=kind)
    for (a, b), rs in items:
        normal = sorted(r for r in rs if not is_error(r))
        bad = sorted(r for r in rs if is_error(r))
        if normal:
            g.add_edge(a, b, key="normal", rows=normal)
        if bad:
            g.add_edge(a, b, key="error", rows=bad)
    return g


def migration_graph(spec: Spec) -> nx.MultiDiGraph:
    """Nodes: ``new``, ``any`` and each status; an edge per (source, destination, written from
    any status) with its rows."""
    g = nx.MultiDiGraph()
    g.add_node("new", id="new", status="(created)", pseudo=True)
    g.add_node("any", id="any", status="(any status)", pseudo=True)
    for s in spec.migration_statuses:
        g.add_node(s, id=s.replace("-", "_"), status=s, pseudo=False)
    grouped: dict[tuple[str, str, bool], list[str]] = defaultdict(list)
    for e in spec.migration_edges:
        sources = ["any"] if e.source is None else (list(e.source) or ["new"])
        for src in sources:
            grouped[(src, e.dest, e.source is None)].append(e.row)
    for (src, dest, anyof), rs in sorted(grouped.items()):
        g.add_edge(src, dest, key=anyof, rows=sorted(rs), any_source=anyof)
    return g


def quota_graph(spec: Spec) -> nx.DiGraph:
    """The reservation life cycle; each edge lists the rows (with their delta) taking it."""
    groups: dict[str, list[str]] = defaultdict(list)
    for r in spec.rows:
        for e in r.effects:
            if isinstance(e, m.Quota):
                key = "reserve" if e.op == "reserve" else e.op
                groups[key].append(f"{r.id}" + (f" ({e.delta})" if e.delta else ""))
    g = nx.DiGraph()
    for n in ("none", "reserved", "committed", "rolled_back", "expired"):
        g.add_node(n, id=n)
    for key, src, dst in (("reserve", "none", "reserved"), ("commit", "reserved", "committed"),
                          ("rollback", "reserved", "rolled_back")):
        g.add_edge(src, dst, rows=sorted(groups.get(key, [])))
    g.add_edge("reserved", "expired", rows=[], note="(scheduler periodic)")
    return g


__all__ = ["instance_moves", "migration_graph", "pair_id", "quota_graph"]
