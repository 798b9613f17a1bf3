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
from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.engine.world import World, frame_of
from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.query import error_handler_names
from nova_resize.spec.states import api_status

from ..explicit.model import NovaModel
from ..explorer import Visitor, explore

Pair = tuple[str, str | None]


METHOD_OPS = {
    "confirm_resize": "confirm", "poll_unconfirmed_resizes": "confirm",
    "revert_resize": "revert", "finish_revert_resize": "revert",
    "delete": "delete", "terminate_instance": "delete",
    "stop": "stop-start", "start": "stop-start", "stop_instance": "stop-start",
    "start_instance": "stop-start",
    "init_host": "recovery", "init_instance": "recovery",
}
"""The operation each handler's method serves; the resize path's methods (resize, migrate,
migrate_server, prep_resize, resize_instance, finish_resize...) serve the cloud's resize or
migrate request."""


def operation_of(method: str, resize_op: str) -> str:
    """The operation a step of a handler started for ``method`` serves."""
    return METHOD_OPS.get(method, resize_op)


class _Moves(Visitor):
    def __init__(self) -> None:
        self.rows: dict[tuple[Pair, Pair], set[str]] = defaultdict(set)
        self.ops: dict[tuple[Pair, Pair, str], set[str]] = defaultdict(set)
        self.resize_op = "resize"

    def on_step(self, before: Any, action: Any, step: Any) -> None:
        method = _method_of(before, action)
        for ev in step.events:
            if ev.kind == "instance_write":
                a, b = ev.data
                pa, pb = (a.vm_state, a.task_state), (b.vm_state, b.task_state)
                if pa != pb:
                    self.rows[(pa, pb)].add(ev.row)
                    self.ops[(pa, pb, ev.row)].add(operation_of(method, self.resize_op))


def _method_of(w: World, action: Any) -> str:
    """The method of the handler taking ``action`` (the request's op for a request)."""
    kind = action[0]
    if kind == "api":
        return str(action[1])
    if kind in ("run", "fail", "timeout"):
        return frame_of(w, action[1]).method
    if kind == "deliver":
        return str(w.messages[action[1]].method)
    if kind == "periodic":
        return str(action[1])
    return "init_host"


def pair_id(vm: str, task: str | None) -> str:
    return f"{vm}__{task or 'none'}".replace("-", "_")


def _pk(p: Pair) -> tuple[str, str]:
    return (p[0], p[1] or "")


def instance_moves(spec: Spec, clouds: tuple[Config, ...]) -> nx.MultiDiGraph:
    """Nodes: (vm_state, task_state) pairs with ``status`` and ``kind`` (designed, transient
    or undefined); edges keyed ``normal`` or ``error``, with their sorted ``rows`` and the
    rows of each operation taking them (``ops``: resize, migrate, confirm, revert, delete,
    stop-start, recovery)."""
    moves = _Moves()
    for cfg in clouds:
        moves.resize_op = "migrate" if dict(cfg.actions).get("migrate") else "resize"
        eng = Engine(cfg, spec)
        model = NovaModel(eng, ())
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
        for key, group in (("normal", normal), ("error", bad)):
            if group:
                by_op: dict[str, list[str]] = defaultdict(list)
                for r in group:
                    for op in sorted(moves.ops[(a, b, r)]):
                        by_op[op].append(r)
                g.add_edge(a, b, key=key, rows=group, ops=dict(sorted(by_op.items())))
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


__all__ = ["METHOD_OPS", "instance_moves", "migration_graph", "operation_of", "pair_id",
           "quota_graph"]
