"""DOT text from graph data: quoting, attribute lists, and a networkx graph written as DOT with
the ``dot`` attributes of its nodes and edges, in a deterministic order."""

from __future__ import annotations

from typing import Any

import networkx as nx

FONT = "Helvetica"


def q(text: str) -> str:
    """A DOT string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def attrs(**kw: Any) -> str:
    """A DOT attribute list (None values left out)."""
    return "[" + ", ".join(f"{k}={q(str(v))}" for k, v in kw.items() if v is not None) + "]"


def graph_to_dot(g: nx.DiGraph, name: str, graph: dict[str, Any], node: dict[str, Any],
                 edge: dict[str, Any], extra: list[str] | None = None) -> str:
    """``g`` as a DOT digraph: each node's ``id`` and ``dot`` attributes, each edge's ``dot``
    attributes, in insertion order; ``extra`` lines go before the edges."""
    lines = [
        f"digraph {name} {{",
        f"  graph {attrs(**graph)};",
        f"  node {attrs(**node)};",
        f"  edge {attrs(**edge)};",
    ]
    lines += [f"  {x}" for x in extra or ()]
    for _, data in g.nodes(data=True):
        lines.append(f"  {data['id']} {attrs(**data.get('dot', {}))};")
    edges = g.edges(keys=True, data=True) if g.is_multigraph() else (
        (a, b, None, d) for a, b, d in g.edges(data=True))
    for a, b, _, data in edges:
        lines.append(f"  {g.nodes[a]['id']} -> {g.nodes[b]['id']} {attrs(**data.get('dot', {}))};")
    lines.append("}")
    return "\n".join(lines) + "\n"


__all__ = ["FONT", "attrs", "graph_to_dot", "q"]
