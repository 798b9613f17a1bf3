"""Diagrams generated from the spec (and from checker runs), as deterministic DOT rendered with
pygraphviz's bundled Graphviz.

* ``instance-states``: (vm_state, task_state) pairs with their ``nova list`` Status; edges are the
  rows that move an instance between them, with their expected_task_state guard. The edges are
  those the engine takes when it executes the rows on a set of small clouds (every operation,
  each driver failure, restarts), so that an unguarded save's source states are the real ones.
  ``instance-states-errors`` adds the error handlers' and faults' edges (dashed, red).
* ``migration-status``: the spec's migration edges (designed edges solid, unconditional writes
  from any status dashed).
* ``quota-lifecycle``: which rows reserve, commit and roll back reservations.
* ``sequence-<operation>``: one sequence diagram per operation (resize, migrate, confirm, revert),
  from the engine running it: lanes for nova-api, conductor, scheduler, source and destination
  compute; RPC casts and calls as arrows; each step's database writes with their guards on its
  lane; the faults possible at a step marked with a cross.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nova_resize.engine.config import Config, parse_config
from nova_resize.engine.core import Engine
from nova_resize.engine.facade import Cloud
from nova_resize.engine.world import World
from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.states import api_status

from .explore import Explorer
from .spec_export import guard_of, show_effect

FONT = "Helvetica"


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**kw: Any) -> str:
    return "[" + ", ".join(f"{k}={_q(str(v))}" for k, v in kw.items() if v is not None) + "]"


def _error_handlers(spec: Spec) -> set[str]:
    names: set[str] = set()
    for h in spec.handlers:
        for _, chain in h.scopes:
            names.update(chain)
    for r in spec.rows:
        for e in r.effects:
            if isinstance(e, m.Goto) and e.chain:
                names.update(e.chain)
    return names


def pair_id(vm: str, task: str | None) -> str:
    return f"{vm}__{task or 'none'}".replace("-", "_")


# ---- clouds the state diagrams are collected on ---------------------------------------------

_FLAVORS = [
    {"name": "small", "id": 1, "vcpus": 1, "memory_mb": 512, "root_gb": 10},
    {"name": "medium", "id": 2, "vcpus": 2, "memory_mb": 2048, "root_gb": 20},
]


def _cloud(vm_state: str = "active", hosts: int = 2, **extra: Any) -> Config:
    data: dict[str, Any] = {
        "name": "diagram",
        "flavors": _FLAVORS,
        "hosts": [{"name": f"host{i + 1}"} for i in range(hosts)],
        "instances": [{"name": "vm1", "host": "host1", "flavor": "small",
                       "vm_state": vm_state}],
    }
    data.update(extra)
    return parse_config(data, "<diagram>", "diagram")


R = {"resize": 1, "resize_flavors": ["medium"]}
DIAGRAM_CLOUDS: tuple[Config, ...] = tuple(
    _cloud(vm, **kw)  # type: ignore[arg-type]
    for vm in ("active", "stopped")
    for kw in (
        {"actions": {**R, "confirm_resize": 1}, "faults": {"driver": 1}},
        {"actions": {**R, "revert_resize": 1}, "faults": {"driver": 1}},
        {"actions": {**R, "delete": 1}},
        {"actions": {**R, "confirm_resize": 1}, "faults": {"crash": 1}},
        {"actions": {"migrate": 1, "confirm_resize": 1}, "hosts": 3,
         "faults": {"claim_refused": 1}},
        {"actions": {"stop": 1, "start": 1, "delete": 1}},
    )
)


NORMAL_CLOUDS: tuple[Config, ...] = tuple(
    _cloud(vm, **kw)  # type: ignore[arg-type]
    for vm in ("active", "stopped")
    for kw in (
        {"actions": {**R, "confirm_resize": 1, "delete": 1}},
        {"actions": {**R, "revert_resize": 1, "delete": 1}},
        {"actions": {"migrate": 1, "confirm_resize": 1}},
        {"actions": {"stop": 1, "start": 1, "delete": 1}},
    )
)


@dataclass
class Edges:
    """Observed instance and migration moves: (source, destination) -> rows."""

    instance: dict[tuple[tuple[str, str | None], tuple[str, str | None]], set[str]]
    reached: set[tuple[str, str | None]]


class SequentialEngine(Engine):
    """Users wait for each request to finish: a request is only enabled when nothing runs."""

    def enabled(self, w: World) -> list[Any]:
        acts = super().enabled(w)
        if w.messages or w.frames:
            acts = [a for a in acts if a[0] != "api"]
        return acts


def collect_edges(spec: Spec, clouds: tuple[Config, ...] = DIAGRAM_CLOUDS,
                  sequential: bool = False) -> Edges:
    inst: dict[tuple[tuple[str, str | None], tuple[str, str | None]], set[str]] = defaultdict(set)
    reached: set[tuple[str, str | None]] = set()
    for cfg in clouds:
        engine = SequentialEngine(cfg, spec) if sequential else Engine(cfg, spec)
        explorer = Explorer(engine, liveness=False)
        explorer.trans_props = []
        explorer.state_props = []
        explorer.quiet_props = []
        collector = _Collector(inst, reached)
        explorer.step_hook = collector  # type: ignore[attr-defined]
        explorer.run()
    return Edges(dict(inst), reached)


class _Collector:
    def __init__(self, inst: dict[Any, set[str]], reached: set[Any]) -> None:
        self.inst = inst
        self.reached = reached

    def __call__(self, before: World, res: Any) -> None:
        for ev in res.events:
            if ev.kind == "instance_write":
                a, b = ev.data
                pa, pb = (a.vm_state, a.task_state), (b.vm_state, b.task_state)
                self.reached.update((pa, pb))
                if pa != pb:
                    self.inst[(pa, pb)].add(ev.row)


def instance_states_dot(spec: Spec, edges: Edges, errors: bool, changed: set[str] = frozenset()
                        ) -> str:
    errs = _error_handlers(spec)
    rows = {r.id: r for r in spec.rows}
    legal = {(p.vm_state, p.task_state): p for p in spec.state_pairs}

    def is_error(row_id: str) -> bool:
        r = rows.get(row_id)
        return r is not None and (r.fault is not None or r.handler in errs)

    shown_edges = []
    for (a, b), rs in sorted(edges.instance.items(), key=lambda kv: (_pk(kv[0][0]), _pk(kv[0][1]))):
        normal = sorted(r for r in rs if not is_error(r))
        bad = sorted(r for r in rs if is_error(r))
        if normal:
            shown_edges.append((a, b, normal, False))
        if errors and bad:
            shown_edges.append((a, b, bad, True))
    nodes = sorted({a for a, _, _, _ in shown_edges} | {b for _, b, _, _ in shown_edges},
                   key=_pk)
    title = ("Instance (vm_state, task_state) — nova 12.0.0 — every move the engine takes, with "
             "races; error handlers and faults dashed red" if errors else
             "Instance (vm_state, task_state) — nova 12.0.0 — requests one at a time, no faults "
             "(blue: nova-api; green boxes: designed pairs)")
    lines = [
        "digraph instance_states {",
        f"  graph {_attrs(label=title, labelloc='t', fontname=FONT, fontsize=16, rankdir='LR', nodesep='0.4', ranksep='1.2')};",  # noqa: E501
        f"  node {_attrs(shape='box', style='rounded,filled', fontname=FONT, fontsize=11)};",
        f"  edge {_attrs(fontname=FONT, fontsize=9)};",
    ]
    for vm, task in nodes:
        p = legal.get((vm, task))
        status = api_status(vm, task)
        fill = "#e8f4e8" if p is not None and not p.transient else (
            "#fff3cd" if p is not None else "#f8d7da")
        label = f"{vm}\n{task or '-'}\n[{status}]"
        lines.append(f"  {pair_id(vm, task)} {_attrs(label=label, fillcolor=fill)};")
    for a, b, rs, bad in shown_edges:
        label = "\n".join(_edge_label(rows[r]) for r in rs[:4])
        if len(rs) > 4:
            label += f"\n(+{len(rs) - 4} more)"
        hot = any(r in changed for r in rs)
        color = "#c0392b" if bad else ("#1f5fa8" if rows[rs[0]].handler.startswith("api.")
                                        else "#333333")
        if hot:
            color = "#e67e22"
        lines.append(
            f"  {pair_id(*a)} -> {pair_id(*b)} "
            + _attrs(label=label, color=color, fontcolor=color,
                     style="dashed" if bad else "solid", penwidth=3 if hot else 1)
            + ";"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _pk(p: tuple[str, str | None]) -> tuple[str, str]:
    return (p[0], p[1] or "")


def _edge_label(r: m.Row) -> str:
    g = guard_of(r)
    short = r.id.replace("compute.", "").replace("api.", "api:")
    return f"{short} ({'exp=' + g if g and g != 'none' else 'unguarded'})"


def migration_status_dot(spec: Spec, changed: set[str] = frozenset()) -> str:
    lines = [
        "digraph migration_status {",
        f"  graph {_attrs(label='Migration status — nova 12.0.0: the designed edges (every write is an unconditional save, last writer wins; dashed: designed to apply from any status)', labelloc='t', fontname=FONT, fontsize=16, rankdir='TB')};",  # noqa: E501
        f"  node {_attrs(shape='box', style='rounded,filled', fillcolor='#eef', fontname=FONT, fontsize=11)};",  # noqa: E501
        f"  edge {_attrs(fontname=FONT, fontsize=9)};",
        f"  new {_attrs(label='(created)', shape='plaintext', style='')};",
        f"  any {_attrs(label='(any status)', shape='plaintext', style='')};",
    ]
    for s in spec.migration_statuses:
        lines.append(f"  {s.replace('-', '_')} {_attrs(label=s)};")
    grouped: dict[tuple[str, str, bool], list[str]] = defaultdict(list)
    for e in spec.migration_edges:
        sources = ["any"] if e.source is None else (list(e.source) or ["new"])
        for src in sources:
            grouped[(src, e.dest, e.source is None)].append(e.row)
    for (src, dest, anyof), rs in sorted(grouped.items()):
        hot = any(r in changed for r in rs)
        lines.append(
            f"  {src.replace('-', '_')} -> {dest.replace('-', '_')} "
            + _attrs(label="\n".join(sorted(rs)), style="dashed" if anyof else "solid",
                     color="#e67e22" if hot else "#333333", penwidth=3 if hot else 1)
            + ";"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def quota_dot(spec: Spec, changed: set[str] = frozenset()) -> str:
    groups: dict[str, list[str]] = defaultdict(list)
    for r in spec.rows:
        for e in r.effects:
            if isinstance(e, m.Quota):
                key = "reserve" if e.op == "reserve" else e.op
                label = f"{r.id}" + (f" ({e.delta})" if e.delta else "")
                groups[key].append(label)
    lines = [
        "digraph quota_lifecycle {",
        f"  graph {_attrs(label='Quota reservations — nova 12.0.0 (each resolves once: a second commit/rollback is a no-op)', labelloc='t', fontname=FONT, fontsize=16, rankdir='LR')};",  # noqa: E501
        f"  node {_attrs(shape='box', style='rounded,filled', fontname=FONT, fontsize=12)};",
        f"  edge {_attrs(fontname=FONT, fontsize=9)};",
        f"  none {_attrs(label='(no reservation)', fillcolor='#ffffff')};",
        "  reserved " + _attrs(label="reserved\npending", fillcolor="#fff3cd") + ";",
        "  committed " + _attrs(label="committed\n(in_use += delta)", fillcolor="#e8f4e8") + ";",
        "  rolled_back " + _attrs(label="rolled back", fillcolor="#f8d7da") + ";",
        "  expired " + _attrs(label="expired after reservation_expire\n(not modelled)",
                              fillcolor="#eeeeee", style="rounded,dashed,filled") + ";",
    ]
    for key, src, dst in (("reserve", "none", "reserved"), ("commit", "reserved", "committed"),
                          ("rollback", "reserved", "rolled_back")):
        rs = sorted(groups.get(key, []))
        hot = any(r.split(" ")[0] in changed for r in rs)
        lines.append(f"  {src} -> {dst} " + _attrs(label="\n".join(rs),
                                                    color="#e67e22" if hot else "#333333") + ";")
    lines.append("  reserved -> expired " + _attrs(style="dashed", label="(scheduler periodic)")
                 + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---- sequence diagrams ----------------------------------------------------------------------


@dataclass
class SeqStep:
    lane: str
    text: str
    arrow_from: str | None = None
    arrow_label: str = ""
    faults: tuple[str, ...] = ()
    call: bool = False


def sequence_dot(title: str, lanes: list[str], steps: list[SeqStep], name: str) -> str:
    lid = {lane: f"L{i}" for i, lane in enumerate(lanes)}
    lines = [
        f"digraph {name} {{",
        f"  graph {_attrs(label=title, labelloc='t', fontname=FONT, fontsize=16, rankdir='TB', nodesep='0.3', ranksep='0.25', newrank='true')};",  # noqa: E501
        f"  node {_attrs(fontname=FONT, fontsize=10)};",
        f"  edge {_attrs(fontname=FONT, fontsize=9)};",
    ]
    heads = []
    for lane in lanes:
        lines.append(f"  {lid[lane]}_h {_attrs(label=lane, shape='box', style='filled', fillcolor='#dde6f0')};")  # noqa: E501
        heads.append(f"{lid[lane]}_h")
    lines.append("  { rank=same; " + "; ".join(heads) + "; }")
    for a, b in itertools.pairwise(heads):
        lines.append(f"  {a} -> {b} [style=invis];")
    prev = {lane: f"{lid[lane]}_h" for lane in lanes}
    for t, st in enumerate(steps):
        row = []
        for lane in lanes:
            n = f"{lid[lane]}_{t}"
            row.append(n)
            if lane == st.lane:
                text = st.text
                if st.faults:
                    text += "\n✗ " + "\n✗ ".join(st.faults)
                color = "#c0392b" if st.faults else "#333333"
                lines.append(f"  {n} {_attrs(label=text, shape='box', style='filled', fillcolor='#ffffff', color=color)};")  # noqa: E501
            else:
                lines.append(f"  {n} {_attrs(label='', shape='point', width='0.02', color='#999999')};")  # noqa: E501
            lines.append(f"  {prev[lane]} -> {n} {_attrs(arrowhead='none', style='dotted', color='#999999', weight='100')};")  # noqa: E501
            prev[lane] = n
        lines.append("  { rank=same; " + "; ".join(row) + "; }")
        if st.arrow_from is not None and st.arrow_from in lid:
            src = f"{lid[st.arrow_from]}_{t}"
            dst = f"{lid[st.lane]}_{t}"
            if src != dst:
                lines.append(f"  {src} -> {dst} " + _attrs(
                    label=st.arrow_label, constraint="false", color="#1f5fa8",
                    fontcolor="#1f5fa8", style="solid" if st.call else "dashed") + ";")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _step_text(spec: Spec, row_ids: list[str]) -> str:
    out = []
    for rid in row_ids:
        if rid.startswith("rpc.") or rid.startswith("compute.service"):
            continue
        try:
            r = spec.row(rid)
        except KeyError:
            continue
        writes = [show_effect(e) for e in r.effects
                  if isinstance(e, (m.SaveInstance, m.SaveMigration, m.Quota, m.Claim,
                                    m.Driver, m.CreateMigration, m.FreshSave, m.Destroy))]
        sets = [show_effect(e) for e in r.effects if isinstance(e, m.Set)
                and e.target in ("instance", "migration")]
        body = "; ".join(sets + writes)
        out.append(f"{rid}" + (f"\n  {body}" if body else ""))
    return "\n".join(out)


def _faults_at(spec: Spec, handler: str, label: str) -> tuple[str, ...]:
    return tuple(r.id for r in spec.rows if r.fault and r.handler == handler and r.at == label)


OPERATIONS = ("resize", "migrate", "confirm", "revert")


def operation_sequence(spec: Spec, op: str) -> str:
    """The operation's happy path as the engine runs it, on a two-host cloud."""
    cfg = _cloud("active", hosts=2)
    cloud = Cloud(cfg, spec, strict=False)
    lanes = ["user", "nova-api", "nova-conductor", "nova-scheduler", "source nova-compute",
             "destination nova-compute"]
    if op in ("confirm", "revert"):
        cloud.api.resize("vm1", "medium")
        cloud.run_until_quiescent()
    start = len(cloud.history)
    w = cloud.world
    request = {"resize": ("resize", "medium"), "migrate": ("migrate", None),
               "confirm": ("confirm_resize", None), "revert": ("revert_resize", None)}[op]
    cloud.request(request[0], "vm1", request[1])
    cloud.run_until_quiescent()
    lane_of = {"api": "nova-api", "conductor": "nova-conductor", "host1": "source nova-compute",
               "host2": "destination nova-compute"}
    steps: list[SeqStep] = [SeqStep("user", f"request: {request[0]}")]
    sent_from: dict[tuple[str, str], str] = {}
    engine = cloud.engine
    for rec in cloud.history[start:]:
        a = rec.action
        res = engine.step(w, a)
        service = _frame_service(w, a)
        if a[0] == "api":
            steps.append(SeqStep("nova-api", _step_text(spec, rec.rows), "user",
                                 f"{request[0]} (REST)"))
        elif a[0] == "deliver":
            msg = w.messages[a[1]]
            src = sent_from.get((msg.method, msg.target), "nova-api")
            text = _step_text(spec, rec.rows) or f"{msg.method} starts"
            steps.append(SeqStep(lane_of.get(msg.target, msg.target), text, src,
                                 f"{msg.kind} {msg.method}", (), msg.kind == "call"))
        elif a[0] == "run":
            fr = next(f for f in w.frames if f.id == a[1])
            if "conductor.migrate_server.select_destinations" in rec.rows:
                steps.append(SeqStep("nova-scheduler", "select_destinations: filters "
                                     "(ignore_hosts, Retry, Compute, Ram, Disk), pick a host",
                                     "nova-conductor", "call select_destinations", (), True))
            steps.append(SeqStep(lane_of.get(fr.service, fr.service),
                                 _step_text(spec, rec.rows), None, "",
                                 _faults_at(spec, fr.handler, fr.label)))
        for msg in res.world.messages:
            if msg not in w.messages:
                sent_from[(msg.method, msg.target)] = lane_of.get(service, service)
        w = res.world
    title = (f"{op} — nova 12.0.0, as the engine runs it (host1: source, host2: destination); "
             f"✗ marks the faults possible at a step")
    return sequence_dot(title, lanes, [s for s in steps if s.text], f"sequence_{op}")


def _frame_service(w: World, action: tuple[Any, ...]) -> str:
    if action[0] == "deliver":
        return w.messages[action[1]].target
    if action[0] in ("run", "fail", "timeout"):
        return next(f.service for f in w.frames if f.id == action[1])
    return "api"


def trace_sequence_dot(title: str, steps: list[Any], name: str) -> str:
    """A checker trace (report Steps) as a sequence diagram, one lane per actor."""
    lanes: list[str] = []
    for s in steps:
        if s.actor not in lanes:
            lanes.append(s.actor)
    seq = []
    for s in steps:
        text = f"{s.n}. {s.action}"
        if s.rows:
            text += "\n" + "\n".join(r for r in s.rows if not r.startswith("rpc."))
        faults = (s.action,) if s.action.startswith(("FAIL", "CRASH", "LOSE", "TIMEOUT")) else ()
        seq.append(SeqStep(s.actor, text, None, "", faults))
    return sequence_dot(title, lanes, seq, name)


# ---- rendering ------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Keep Graphviz's and fontconfig's warnings out of the user's terminal."""
    fd = 2
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def render(dot: str, path: Path, fmt: str) -> None:
    if fmt == "dot":
        path.write_text(dot, encoding="utf-8")
        return
    import pygraphviz as pgv  # imported here: only rendering needs it

    with _quiet_stderr():
        g = pgv.AGraph(string=dot)
        g.draw(str(path), format=fmt, prog="dot")


def spec_diagrams(spec: Spec, changed: set[str] = frozenset()) -> dict[str, str]:
    """Every spec diagram: name -> DOT."""
    normal = collect_edges(spec, NORMAL_CLOUDS, sequential=True)
    edges = collect_edges(spec)
    out = {
        "instance-states": instance_states_dot(spec, normal, errors=False, changed=changed),
        "instance-states-errors": instance_states_dot(spec, edges, errors=True,
                                                      changed=changed),
        "migration-status": migration_status_dot(spec, changed),
        "quota-lifecycle": quota_dot(spec, changed),
    }
    for op in OPERATIONS:
        out[f"sequence-{op}"] = operation_sequence(spec, op)
    return out


def write_diagrams(diagrams: dict[str, str], out: Path, formats: list[str]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, dot in sorted(diagrams.items()):
        for fmt in formats:
            p = out / f"{name}.{fmt}"
            render(dot, p, fmt)
            written.append(p)
    return written


# ---- from checker runs ----------------------------------------------------------------------


def projection(w: World) -> str:
    """An instance's (vm_state, task_state, latest migration status), per instance."""
    parts = []
    for i in w.instances:
        migs = [mg for mg in w.migrations if mg.instance == i.name]
        mig = migs[-1].status if migs else "-"
        state = "destroyed" if i.deleted else f"{i.vm_state}/{i.task_state or '-'}"
        parts.append(f"{i.name}: {state} [{mig}]")
    return "\n".join(parts)


class ProjectionCollector:
    """A step hook counting the projected moves a run takes."""

    def __init__(self) -> None:
        self.edges: dict[tuple[str, str], int] = defaultdict(int)
        self.nodes: dict[str, int] = defaultdict(int)

    def __call__(self, before: World, res: Any) -> None:
        a, b = projection(before), projection(res.world)
        self.nodes[b] += 1
        if a != b:
            self.edges[(a, b)] += 1


def projection_dot(col: ProjectionCollector, title: str) -> str:
    ids = {n: f"p{i}" for i, n in enumerate(sorted(set(col.nodes) | {a for a, _ in col.edges}))}
    lines = [
        "digraph projection {",
        f"  graph {_attrs(label=title, labelloc='t', fontname=FONT, fontsize=16, rankdir='LR')};",
        f"  node {_attrs(shape='box', style='rounded', fontname=FONT, fontsize=10)};",
        f"  edge {_attrs(fontname=FONT, fontsize=8)};",
    ]
    for n, i in sorted(ids.items(), key=lambda kv: kv[1]):
        lines.append(f"  {i} {_attrs(label=n)};")
    for (a, b), c in sorted(col.edges.items()):
        lines.append(f"  {ids[a]} -> {ids[b]} {_attrs(label=str(c))};")
    lines.append("}")
    return "\n".join(lines) + "\n"
