"""The state diagrams drawn from the graphs of :mod:`.graphs`: instance (vm_state, task_state)
moves, migration statuses, the quota reservation life cycle. ``changed`` rows (a variant's)
are drawn thick and orange."""

from __future__ import annotations

import itertools

import networkx as nx
from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.states import (
    DELETING,
    POWERING_OFF,
    POWERING_ON,
    RESIZE_REVERTING,
    RESIZE_TASK_STATES,
)

from ..spec_export import guard_of
from .dot import FONT, attrs, graph_to_dot
from .graphs import migration_graph, quota_graph

HOT = "#e67e22"
FILL = {"designed": "#e8f4e8", "transient": "#fff3cd", "undefined": "#f8d7da"}


def _edge_label(r: m.Row, wrap: bool = False) -> str:
    g = guard_of(r)
    short = r.id.replace("compute.", "").replace("api.", "api:")
    return f"{short}{chr(10) if wrap else ' '}({'exp=' + g if g and g != 'none' else 'unguarded'})"


def error_column(g: nx.MultiDiGraph) -> list[str]:
    """DOT lines that box the ERROR pairs and stack them in one column (a long row of them
    would make the diagram too wide to read)."""
    errors = sorted((d["id"] for n, d in g.nodes(data=True) if n[0] == "error"))
    if not errors:
        return []
    out = ["subgraph cluster_error {",
           f"    graph {attrs(label='ERROR', style='rounded,filled', fillcolor='#fbeaea', color='#c0392b', fontname=FONT, fontsize=12)};",  # noqa: E501
           "    " + "; ".join(errors) + ";"]
    out += [f"    {a} -> {b} [style=invis];" for a, b in itertools.pairwise(errors)]
    return [*out, "  }"]


OPERATION_DIAGRAMS = ("resize", "migrate", "confirm", "revert", "delete", "stop-start")
"""The operations with a state diagram of their own."""

OP_COLOR = {"resize": "#1f5fa8", "migrate": "#6a3d9a", "confirm": "#1e7b34",
            "revert": "#b15928", "delete": "#555555", "stop-start": "#008080",
            "recovery": "#8a5a00"}
GONE = "#9aa3ad"


def diff_moves(base: nx.MultiDiGraph, patched: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """The patched moves with Liberty's: each edge's ``diff`` is ``same``, ``added`` (only
    with the patch) or ``gone`` (only on Liberty's tables: a removed row, or a move the patch
    prevents)."""
    g = nx.MultiDiGraph()
    for src, kind in ((patched, "added"), (base, "gone")):
        for n, d in src.nodes(data=True):
            if n not in g:
                g.add_node(n, **d)
        for a, b, k, d in src.edges(keys=True, data=True):
            if g.has_edge(a, b, k):
                g.edges[a, b, k]["diff"] = "same"
            else:
                g.add_edge(a, b, key=k, **d, diff=kind)
    return g


def _node(shown: nx.MultiDiGraph, moves: nx.MultiDiGraph, n: tuple[str, str | None]) -> None:
    if n in shown:
        return
    vm, task = n
    data = moves.nodes[n]
    shown.add_node(n, id=data["id"], dot={"label": f"{vm}\n{task or '-'}\n[{data['status']}]",
                                          "fillcolor": FILL[data["kind"]]})


def _style(bad: bool, hot: bool, diff: str, color: str) -> dict[str, object]:
    if diff == "gone":
        return {"color": GONE, "fontcolor": GONE, "style": "dotted", "penwidth": 2}
    if hot or diff == "added":
        color = HOT
    return {"color": color, "fontcolor": color, "style": "dashed" if bad else "solid",
            "penwidth": 3 if hot or diff == "added" else 1}


def _diff_note(diff: str) -> str:
    return {"gone": "\n(gone with the variant)", "added": "\n(new with the variant)"}.get(
        diff, "")


GRAPH = {"labelloc": "t", "fontname": FONT, "fontsize": 14, "rankdir": "TB", "nodesep": "0.25",
         "ranksep": "0.45"}
NODE = {"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": 10,
        "margin": "0.06,0.03"}
EDGE = {"fontname": FONT, "fontsize": 8}


OP_TASKS: dict[str, tuple[str, ...]] = {
    "resize": RESIZE_TASK_STATES[:4], "migrate": RESIZE_TASK_STATES[:4], "confirm": (),
    "revert": (RESIZE_REVERTING,), "delete": (DELETING,),
    "stop-start": (POWERING_OFF, POWERING_ON),
}
"""The task_states an operation sets while it runs."""


def _belongs(op: str, source: tuple[str, str | None], ops: dict[str, list[str]]) -> bool:
    """Whether a move is drawn in ``op``'s diagram: the operation's own moves out of a state
    without a task (its request), and every move out of a task_state it sets, whoever takes it
    (its own steps, its error handlers, a racing request, a restart's recovery). The cold
    migrate diagram keeps to the moves seen while migrating."""
    task = source[1]
    if task is None:
        return op in ops
    if task not in OP_TASKS[op]:
        return False
    return op in ops or (op != "migrate" and "migrate" not in ops)


def operation_states_dot(spec: Spec, moves: nx.MultiDiGraph, op: str,
                         changed: set[str] | frozenset[str] = frozenset()) -> str:
    """The (vm_state, task_state) moves of one operation (:func:`_belongs`), error handlers
    and faults dashed red, another operation's moves labelled with its name; top to
    bottom."""
    rows = {r.id: r for r in spec.rows}
    shown = nx.MultiDiGraph()
    mine = [(a, b, k, d) for a, b, k, d in moves.edges(keys=True, data=True)
            if _belongs(op, a, d["ops"])]
    for a, b, k, d in mine:
        _node(shown, moves, a)
        _node(shown, moves, b)
        other = next(iter(d["ops"])) if op not in d["ops"] else op
        rs = d["ops"][other]
        bad = k == "error"
        label = "\n".join(_edge_label(rows[r], True) if r in rows else r for r in rs[:2])
        if len(rs) > 2:
            label += f"\n(+{len(rs) - 2} more)"
        if other != op:
            label = f"{'restart' if other == 'recovery' else other}:\n" + label
        hot = any(r in changed for r in rs)
        color = "#c0392b" if bad else ("#1f5fa8" if rs[0].startswith("api.") else "#333333")
        if other != op and not bad:
            color = OP_COLOR[other]
        shown.add_edge(a, b, key=k, dot={"label": label + _diff_note(d.get("diff", "")),
                                         **_style(bad, hot, d.get("diff", ""), color)})
    title = (f"Instance (vm_state, task_state) during {op.replace('-', '/')} — nova 12.0.0 — "
             "every move its handlers take, with races;\nerror handlers and faults dashed red, "
             "nova-api blue" + ("; a variant's rows thick orange, moves it removes dotted grey"
                                if changed else ""))
    return graph_to_dot(shown, f"instance_states_{op.replace('-', '_')}",
                        {"label": title, **GRAPH, "concentrate": "true"}, NODE, EDGE,
                        error_column(shown))


def instance_overview_dot(spec: Spec, moves: nx.MultiDiGraph,
                          changed: set[str] | frozenset[str] = frozenset()) -> str:
    """Every (vm_state, task_state) pair and which operations move between them, the ERROR
    pairs grouped in one box; one edge per pair of states, coloured by operation, dashed when
    only error handlers or faults take it; top to bottom."""
    shown = nx.MultiDiGraph()
    for n in moves.nodes:
        _node(shown, moves, n)
    merged: dict[tuple[object, object], dict[str, object]] = {}
    for a, b, k, d in moves.edges(keys=True, data=True):
        e = merged.setdefault((a, b), {"ops": set(), "bad": True, "rows": set(), "diff": set()})
        e["ops"].update(d["ops"])  # type: ignore[attr-defined]
        e["rows"].update(d["rows"])  # type: ignore[attr-defined]
        e["diff"].add(d.get("diff", "same"))  # type: ignore[attr-defined]
        if k == "normal":
            e["bad"] = False
    for (a, b), e in merged.items():
        ops = sorted(e["ops"], key=lambda o: list(OP_COLOR).index(o))  # type: ignore[call-overload]
        diffs: set[str] = e["diff"]  # type: ignore[assignment]
        diff = "gone" if diffs == {"gone"} else ("added" if diffs == {"added"} else "")
        hot = any(r in changed for r in e["rows"])  # type: ignore[attr-defined]
        color = OP_COLOR[ops[0]] if len(ops) == 1 else "#333333"
        shown.add_edge(a, b, dot={"label": ", ".join(ops) + _diff_note(diff),
                                  **_style(bool(e["bad"]), hot, diff, color)})
    title = ("Instance (vm_state, task_state) — nova 12.0.0 — overview: which operations move "
             "an instance between states (races and faults included);\ncolours: resize blue, "
             "migrate purple, confirm green, revert brown, delete grey, stop/start teal, "
             "restart recovery ochre; dashed: only error handlers or faults. "
             "The rows of each move: instance-states-<operation>")
    return graph_to_dot(shown, "instance_states", {"label": title, **GRAPH, "newrank": "true"},
                        NODE, EDGE, error_column(shown))


def _gone_rows(spec: Spec, base: Spec | None) -> set[str]:
    """The rows of ``base`` that ``spec`` no longer has (a variant removed them)."""
    if base is None:
        return set()
    have = {r.id for r in spec.rows}
    return {r.id for r in base.rows if r.id not in have}


def migration_status_dot(spec: Spec, changed: set[str] | frozenset[str] = frozenset(),
                         base: Spec | None = None) -> str:
    g = migration_graph(spec)
    gone = _gone_rows(spec, base)
    if gone and base is not None:
        for a, b, k, d in migration_graph(base).edges(keys=True, data=True):
            lost = [r for r in d["rows"] if r in gone]
            if lost:
                g.add_edge(a, b, key=("gone", k), rows=lost, any_source=d["any_source"],
                           gone=True)
    for _, data in g.nodes(data=True):
        data["dot"] = ({"label": data["status"], "shape": "plaintext", "style": ""}
                       if data["pseudo"] else {"label": data["status"]})
    for _, _, d in g.edges(data=True):
        hot = any(r in changed for r in d["rows"])
        d["dot"] = {"label": "\n".join(d["rows"]), "style": "dashed" if d["any_source"]
                    else "solid", "color": HOT if hot else "#333333", "penwidth": 3 if hot else 1}
        if d.get("gone"):
            d["dot"] = {"label": "\n".join(d["rows"]) + "\n(removed by the variant)",
                        "style": "dotted", "color": GONE, "fontcolor": GONE, "penwidth": 2}
    title = ("Migration status — nova 12.0.0: the designed edges (every write is an "
             "unconditional save, last writer wins; dashed: designed to apply from any status)")
    return graph_to_dot(
        g, "migration_status",
        {"label": title, "labelloc": "t", "fontname": FONT, "fontsize": 16, "rankdir": "TB"},
        {"shape": "box", "style": "rounded,filled", "fillcolor": "#eef", "fontname": FONT,
         "fontsize": 11},
        {"fontname": FONT, "fontsize": 9})


def quota_dot(spec: Spec, changed: set[str] | frozenset[str] = frozenset(),
              base: Spec | None = None) -> str:
    g = quota_graph(spec)
    gone = _gone_rows(spec, base)
    removed: dict[tuple[str, str], list[str]] = {}
    if gone and base is not None:
        for a, b, d in quota_graph(base).edges(data=True):
            lost = [r for r in d["rows"] if r.split(" ")[0] in gone]
            if lost:
                removed[(a, b)] = lost
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
    extra = [f"{g.nodes[a]['id']} -> {g.nodes[b]['id']} " + attrs(
        label="\n".join(lost) + "\n(removed by the variant)", style="dotted", color=GONE,
        fontcolor=GONE, penwidth=2) + ";" for (a, b), lost in removed.items()]
    title = ("Quota reservations — nova 12.0.0 (each resolves once: a second commit/rollback "
             "is a no-op)")
    return graph_to_dot(
        g, "quota_lifecycle",
        {"label": title, "labelloc": "t", "fontname": FONT, "fontsize": 16, "rankdir": "LR"},
        {"shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": 12},
        {"fontname": FONT, "fontsize": 9}, extra)


__all__ = ["OPERATION_DIAGRAMS", "attrs", "diff_moves", "instance_overview_dot",
           "migration_status_dot", "operation_states_dot", "quota_dot"]
