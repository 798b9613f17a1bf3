"""The projection graph of a checker run: each instance's (vm_state/task_state [latest migration
status]) as a node, the projected moves the run took as edges with their counts (a networkx
graph, collected by a visitor)."""

from __future__ import annotations

from typing import Any

import networkx as nx
from nova_resize.engine.world import World

from ..explorer import Visitor
from .dot import FONT, graph_to_dot


def projection(w: World) -> str:
    """An instance's (vm_state, task_state, latest migration status), per instance."""
    parts = []
    for i in w.instances:
        migs = [mg for mg in w.migrations if mg.instance == i.name]
        mig = migs[-1].status if migs else "-"
        state = "destroyed" if i.deleted else f"{i.vm_state}/{i.task_state or '-'}"
        parts.append(f"{i.name}: {state} [{mig}]")
    return "\n".join(parts)


class ProjectionCollector(Visitor):
    """A visitor counting the projected moves a run takes."""

    def __init__(self) -> None:
        self.graph = nx.DiGraph()

    def on_step(self, before: Any, action: Any, step: Any) -> None:
        a, b = projection(before), projection(step.world)
        g = self.graph
        if b in g:
            g.nodes[b]["count"] += 1
        else:
            g.add_node(b, count=1)
        if a != b:
            if a not in g:
                g.add_node(a, count=0)
            if g.has_edge(a, b):
                g.edges[a, b]["count"] += 1
            else:
                g.add_edge(a, b, count=1)

    def snapshot(self) -> Any:
        """The graph as plain data, for a checkpoint."""
        g = self.graph
        return ([(n, c) for n, c in g.nodes(data="count")],
                [(a, b, c) for a, b, c in g.edges(data="count")])

    def restore(self, data: Any) -> None:
        nodes, edges = data
        self.graph = nx.DiGraph()
        for n, c in nodes:
            self.graph.add_node(n, count=c)
        for a, b, c in edges:
            self.graph.add_edge(a, b, count=c)

    def merge(self, other: Visitor) -> None:
        """Add a parallel worker's counts."""
        assert isinstance(other, ProjectionCollector)
        g = self.graph
        for node, data in other.graph.nodes(data=True):
            if node in g:
                g.nodes[node]["count"] += data["count"]
            else:
                g.add_node(node, count=data["count"])
        for a, b, data in other.graph.edges(data=True):
            if g.has_edge(a, b):
                g.edges[a, b]["count"] += data["count"]
            else:
                g.add_edge(a, b, count=data["count"])


def projection_dot(col: ProjectionCollector, title: str) -> str:
    src = col.graph
    g = nx.DiGraph()
    for i, n in enumerate(sorted(src.nodes)):
        g.add_node(n, id=f"p{i}", dot={"label": n})
    for a, b in sorted(src.edges):
        g.add_edge(a, b, dot={"label": str(src.edges[a, b]["count"])})
    return graph_to_dot(
        g, "projection",
        {"label": title, "labelloc": "t", "fontname": FONT, "fontsize": 16, "rankdir": "LR"},
        {"shape": "box", "style": "rounded", "fontname": FONT, "fontsize": 10},
        {"fontname": FONT, "fontsize": 8})


__all__ = ["ProjectionCollector", "projection", "projection_dot"]
