"""The state diagrams drawn from the graphs of :mod:`.graphs`: instance (vm_state, task_state)
moves, migration statuses, the quota reservation life cycle. ``changed`` rows (a variant's)
are drawn thick and orange."""

from __future__ import annotations

import networkx as nx
from nova_resize.spec import Spec
from nova_resize.spec import model as m

from ..spec_export import guard_of
from .dot import FONT, attrs, graph_to_dot
from .graphs import migration_graph, quota_graph

HOT = "#e67e22"
FILL = {"designed": "#e8f4e8", "transient": "#fff3cd", "undefined": "#f8d7da"}


def _edge_label(r: m.Row) -> str:
    g = guard_of(r)
    short = r.id.replace("compute.", "").replace("api.", "api:")
    return f"{short} ({'exp=' + g if g and g != 'none' else 'unguarded'})"


def instance_states_dot(spec: Spec, moves: nx.MultiDiGraph, errors: bool,
                        changed: set[str] | frozenset[str] = frozenset()) -> str:
    """The instance moves (with the error ones when ``errors``) as a state diagram."""
    rows = {r.id: r for r in spec.rows}
    shown = nx.MultiDiGraph()
    kept = [(a, b, k, d) for a, b, k, d in moves.edges(keys=True, data=True)
            if k == "normal" or errors]
    for n in moves.nodes:
        if any(n in (a, b) for a, b, _, _ in kept):
            vm, task = n
            data = moves.nodes[n]
            label = f"{vm}\n{task or '-'}\n[{data['status']}]"
            shown.add_node(n, id=data["id"], dot={"label": label,
                                                  "fillcolor": FILL[data["kind"]]})
    for a, b, k, d in kept:
        rs = d["rows"]
        bad = k == "error"
        label = "\n".join(_edge_label(rows[r]) for r in rs[:4])
        if len(rs) > 4:
            label += f"\n(+{len(rs) - 4} more)"
        hot = any(r in changed for r in rs)
        color = "#c0392b" if bad else ("#1f5fa8" if rows[rs[0]].handler.startswith("api.")
                                        else "#333333")
        if hot:
            color = HOT
        shown.add_edge(a, b, key=k, dot={"label": label, "color": color, "fontcolor": color,
                                         "style": "dashed" if bad else "solid",
                                         "penwidth": 3 if hot else 1})
    title = ("Instance (vm_state, task_state) — nova 12.0.0 — every move the engine takes, with "
             "races; error handlers and faults dashed red" if errors else
             "Instance (vm_state, task_state) — nova 12.0.0 — requests one at a time, no faults "
             "(blue: nova-api; green boxes: designed pairs)")
    return graph_to_dot(
        shown, "instance_states",
        {"label": title, "labelloc": "t", "fontname": FONT, "fontsize": 16, "rankdir": "LR",
         "nodesep": "0.4", "ranksep": "1.2"},
        {"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": 11},
        {"fontname": FONT, "fontsize": 9})


def migration_status_dot(spec: Spec, changed: set[str] | frozenset[str] = frozenset()) -> str:
    g = migration_graph(spec)
    for _, data in g.nodes(data=True):
        data["dot"] = ({"label": data["status"], "shape": "plaintext", "style": ""}
                       if data["pseudo"] else {"label": data["status"]})
    for _, _, d in g.edges(data=True):
        hot = any(r in changed for r in d["rows"])
        d["dot"] = {"label": "\n".join(d["rows"]), "style": "dashed" if d["any_source"]
                    else "solid", "color": HOT if hot else "#333333", "penwidth": 3 if hot else 1}
    title = ("Migration status — nova 12.0.0: the designed edges (every write is an "
             "unconditional save, last writer wins; dashed: designed to apply from any status)")
    return graph_to_dot(
        g, "migration_status",
        {"label": title, "labelloc": "t", "fontname": FONT, "fontsize": 16, "rankdir": "TB"},
        {"shape": "box", "style": "rounded,filled", "fillcolor": "#eef", "fontname": FONT,
         "fontsize": 11},
        {"fontname": FONT, "fontsize": 9})


def quota_dot(spec: Spec, changed: set[str] | frozenset[str] = frozenset()) -> str:
    g = quota_graph(spec)
    labels = {
        "none": {"label": "(no reservation)", "fillcolor": "#ffffff"},
        "reserved": {"label": "reserved\npending", "fillcolor": "#fff3cd"},
        "committed": {"label": "committed\n(in_use += delta)", "fillcolor": "#e8f4e8"},
        "rolled_back": {"label": "rolled back", "fillcolor": "#f8d7da"},
        "expired": {"label": "expired after reservation_expire\n(not modelled)",
                    "fillcolor": "#eeeeee", "style": "rounded,dashed,filled"},
    }
    for n, data in g.nodes(data=True):
        data["dot"] = labels[n]
    for _, _, d in g.edges(data=True):
        if "note" in d:
            d["dot"] = {"style": "dashed", "label": d["note"]}
            continue
        hot = any(r.split(" ")[0] in changed for r in d["rows"])
        d["dot"] = {"label": "\n".join(d["rows"]), "color": HOT if hot else "#333333"}
    title = ("Quota reservations — nova 12.0.0 (each resolves once: a second commit/rollback "
             "is a no-op)")
    return graph_to_dot(
        g, "quota_lifecycle",
        {"label": title, "labelloc": "t", "fontname": FONT, "fontsize": 16, "rankdir": "LR"},
        {"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": 12},
        {"fontname": FONT, "fontsize": 9})


__all__ = ["attrs", "instance_states_dot", "migration_status_dot", "quota_dot"]
