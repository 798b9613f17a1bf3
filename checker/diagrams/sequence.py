"""Sequence diagrams: one per operation (resize, migrate, confirm, revert) from the engine
running its normal course on a two-host cloud, and one per checker trace. Lanes for the user,
nova-api, the conductor, the scheduler, the source and destination computes; RPC casts and
calls as arrows; each step's database writes with their guards on its lane; the faults possible
at a step marked with a cross."""

from __future__ import annotations

import itertools
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nova_resize.engine.actions import Action, ApiRequest, Deliver, Fail, Run, Timeout
from nova_resize.engine.facade import Cloud
from nova_resize.engine.world import World, frame_of
from nova_resize.spec import Spec
from nova_resize.spec import model as m

from ..spec_export import show_effect
from .clouds import cloud as diagram_cloud
from .dot import FONT, attrs
from .states import HOT


@dataclass
class SeqStep:
    lane: str
    text: str
    arrow_from: str | None = None
    arrow_label: str = ""
    faults: tuple[str, ...] = ()
    call: bool = False
    hot: bool = False  # runs a row a variant changed


def sequence_dot(title: str, lanes: list[str], steps: list[SeqStep], name: str) -> str:
    lid = {lane: f"L{i}" for i, lane in enumerate(lanes)}
    lines = [
        f"digraph {name} {{",
        f"  graph {attrs(label=title, labelloc='t', fontname=FONT, fontsize=16, rankdir='TB', nodesep='0.3', ranksep='0.25', newrank='true')};",  # noqa: E501
        f"  node {attrs(fontname=FONT, fontsize=10)};",
        f"  edge {attrs(fontname=FONT, fontsize=9)};",
    ]
    heads = []
    for lane in lanes:
        lines.append(f"  {lid[lane]}_h {attrs(label=lane, shape='box', style='filled', fillcolor='#dde6f0')};")  # noqa: E501
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
                color = HOT if st.hot else ("#c0392b" if st.faults else "#333333")
                lines.append(f"  {n} {attrs(label=text, shape='box', style='filled', fillcolor='#fff3e0' if st.hot else '#ffffff', color=color, penwidth=3 if st.hot else None)};")  # noqa: E501
            else:
                lines.append(f"  {n} {attrs(label='', shape='point', width='0.02', color='#999999')};")  # noqa: E501
            lines.append(f"  {prev[lane]} -> {n} {attrs(arrowhead='none', style='dotted', color='#999999', weight='100')};")  # noqa: E501
            prev[lane] = n
        lines.append("  { rank=same; " + "; ".join(row) + "; }")
        if st.arrow_from is not None and st.arrow_from in lid:
            src = f"{lid[st.arrow_from]}_{t}"
            dst = f"{lid[st.lane]}_{t}"
            if src != dst:
                lines.append(f"  {src} -> {dst} " + attrs(
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
        wrapped = textwrap.wrap(body, WRAP, subsequent_indent="  ", break_long_words=False,
                                break_on_hyphens=False)
        out.append(f"{rid}" + "".join(f"\n  {ln}" for ln in wrapped))
    return "\n".join(out)


WRAP = 46
"""Characters per line of a step's box (keeps each diagram within about 2,000 px)."""


def _faults_at(spec: Spec, handler: str, label: str) -> tuple[str, ...]:
    return tuple(r.id for r in spec.rows if r.fault and r.handler == handler and r.at == label)


OPERATIONS = ("resize", "migrate", "confirm", "revert")


def _run(spec: Spec, op: str) -> tuple[Cloud, int, World, tuple[str, str | None]]:
    """The operation run to quiescence on a two-host cloud: the cloud, where its history
    starts, the world then, and the request."""
    cfg = diagram_cloud("active", hosts=2)
    cloud = Cloud(cfg, spec, strict=False)
    if op in ("confirm", "revert"):
        cloud.api.resize("vm1", "medium")
        cloud.run_until_quiescent()
    start = len(cloud.history)
    w = cloud.world
    request = {"resize": ("resize", "medium"), "migrate": ("migrate", None),
               "confirm": ("confirm_resize", None), "revert": ("revert_resize", None)}[op]
    cloud.request(request[0], "vm1", request[1])
    cloud.run_until_quiescent()
    return cloud, start, w, request


def operation_sequence(spec: Spec, op: str, changed: set[str] | frozenset[str] = frozenset(),
                       base: Spec | None = None) -> str:
    """The operation's happy path as the engine runs it, on a two-host cloud. The steps that
    run a row in ``changed`` are drawn thick orange; with ``base`` (Liberty), the rows its run
    takes that ``spec`` no longer has are listed at the end."""
    cloud, start, w, request = _run(spec, op)
    lanes = ["user", "nova-api", "nova-conductor", "nova-scheduler", "source nova-compute",
             "destination nova-compute"]
    lane_of = {"api": "nova-api", "conductor": "nova-conductor", "host1": "source nova-compute",
               "host2": "destination nova-compute"}
    steps: list[SeqStep] = [SeqStep("user", f"request: {request[0]}")]
    sent_from: dict[tuple[str, str], str] = {}
    engine = cloud.engine
    for rec in cloud.history[start:]:
        a = rec.action
        res = engine.step(w, a)
        service = _frame_service(w, a)
        if isinstance(a, ApiRequest):
            steps.append(SeqStep("nova-api", _step_text(spec, rec.rows), "user",
                                 f"{request[0]} (REST)"))
        elif isinstance(a, Deliver):
            msg = w.messages[a.message]
            src = sent_from.get((msg.method, msg.target), "nova-api")
            text = _step_text(spec, rec.rows) or f"{msg.method} starts"
            steps.append(SeqStep(lane_of.get(msg.target, msg.target), text, src,
                                 f"{msg.kind} {msg.method}", (), msg.kind == "call"))
        elif isinstance(a, Run):
            fr = frame_of(w, a.frame)
            if "conductor.migrate_server.select_destinations" in rec.rows:
                steps.append(SeqStep("nova-scheduler", "select_destinations: filters "
                                     "(ignore_hosts, Retry, Compute, Ram, Disk), pick a host",
                                     "nova-conductor", "call select_destinations", (), True))
            steps.append(SeqStep(lane_of.get(fr.service, fr.service),
                                 _step_text(spec, rec.rows), None, "",
                                 _faults_at(spec, fr.handler, fr.label)))
        if changed and any(r in changed for r in rec.rows):
            steps[-1].hot = True
            steps[-1].text += "\n(changed by the variant)"
        for msg in res.world.messages:
            if msg not in w.messages:
                sent_from[(msg.method, msg.target)] = lane_of.get(service, service)
        w = res.world
    if base is not None:
        have = {r.id for r in spec.rows}
        bcloud, bstart, _, _ = _run(base, op)
        for rec in bcloud.history[bstart:]:
            gone = [r for r in rec.rows if r not in have and not r.startswith("rpc.")]
            if gone:
                service = rec.text.split(":")[0]
                steps.append(SeqStep(lane_of.get(service, "nova-api"),
                                     "removed by the variant (Liberty runs it here):\n"
                                     + "\n".join(gone), hot=True))
    title = (f"{op} — nova 12.0.0, as the engine runs it (host1: source, host2: destination); "
             f"✗ marks the faults possible at a step"
             + ("; a variant's rows thick orange" if changed else ""))
    return sequence_dot(title, lanes, [s for s in steps if s.text], f"sequence_{op}")


def _frame_service(w: World, action: Action) -> str:
    if isinstance(action, Deliver):
        return w.messages[action.message].target
    if isinstance(action, (Run, Fail, Timeout)):
        return frame_of(w, action.frame).service
    return "api"


def trace_sequence_dot(title: str, steps: Sequence[Any], name: str) -> str:
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


__all__ = ["OPERATIONS", "SeqStep", "operation_sequence", "sequence_dot", "trace_sequence_dot"]
