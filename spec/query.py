"""Questions asked of the tables, answered from the data alone (no engine, no configuration).

Each fact derived from the tables has one home here: which handlers are error handlers, what a
row writes into a field, whether a value is a constant, which handlers an error handler serves,
and the label graph of each handler (a networkx digraph, used to validate variants and to draw
diagrams).
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from . import model as m
from .model import END, RAISE, Spec

EXPRESSIONS: tuple[type, ...] = (m.Ref, m.Default, m.NotEq, m.Inc, m.Append, m.IfEq)
"""The value expressions a row may use instead of a constant."""


def is_constant(v: Any) -> bool:
    """Whether ``v`` is a constant (not a reference or an expression over the running
    handler)."""
    return not isinstance(v, EXPRESSIONS)


def error_handler_names(spec: Spec) -> set[str]:
    """Every handler that appears in some error chain (a scope's or a Goto's)."""
    names: set[str] = set()
    for h in spec.handlers:
        for _, chain in h.scopes:
            names.update(chain)
    for r in spec.rows:
        for e in r.effects:
            if isinstance(e, m.Goto) and e.chain:
                names.update(e.chain)
    return names


def served_by(spec: Spec) -> dict[str, set[str]]:
    """For each error handler, the handlers whose exceptions it handles."""
    served: dict[str, set[str]] = {}
    for h in spec.handlers:
        for _, chain in h.scopes:
            for e in chain:
                served.setdefault(e, set()).add(h.name)
    for r in spec.rows:
        for e in r.effects:
            if isinstance(e, m.Goto) and e.chain:
                for name in e.chain:
                    served.setdefault(name, set()).add(e.handler)
    return served


def instance_writes(row: m.Row, field: str) -> list[Any]:
    """The values ``row`` assigns to the instance's ``field``, in order (constants or
    expressions), from its ``Set`` and ``FreshSave`` effects."""
    out: list[Any] = []
    for e in row.effects:
        if isinstance(e, m.Set) and e.target == "instance" and e.name == field:
            out.append(e.value)
        if isinstance(e, m.FreshSave):
            out.extend(v for k, v in e.fields if k == field)
    return out


def saves_instance(row: m.Row) -> bool:
    return any(isinstance(e, (m.SaveInstance, m.FreshSave)) for e in row.effects)


def guarded(row: m.Row) -> bool:
    """Whether the row saves the instance under an expected_task_state guard."""
    return any(isinstance(e, m.SaveInstance) and e.guard is not None for e in row.effects)


def label_graph(spec: Spec, handler: str) -> nx.DiGraph:
    """The handler's labels as a digraph: an edge per row from its label to its ``then`` and
    ``on_fail`` labels (``<end>``, ``<raise>`` included), each edge carrying its row ids."""
    g = nx.DiGraph()
    h = spec.handler(handler)
    g.add_node(h.entry)
    for r in spec.rows_of(handler):
        g.add_node(r.at)
        for target in (r.then, r.on_fail):
            if target is None:
                continue
            if g.has_edge(r.at, target):
                g.edges[r.at, target]["rows"].append(r.id)
            else:
                g.add_edge(r.at, target, rows=[r.id])
    return g


def exits(g: nx.DiGraph) -> set[str]:
    return {n for n in g.nodes if n in (END, RAISE)}


__all__ = [
    "EXPRESSIONS",
    "error_handler_names",
    "exits",
    "guarded",
    "instance_writes",
    "is_constant",
    "label_graph",
    "saves_instance",
    "served_by",
]
