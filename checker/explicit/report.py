"""Reports: text for people, JSON and JUnit XML for machines."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from nova_resize.engine.actions import (
    Action,
    ApiRequest,
    Crash,
    Deliver,
    Fail,
    Lose,
    Periodic,
    Restart,
    Run,
    Timeout,
    coerce,
)
from nova_resize.engine.actions import to_json as action_json
from nova_resize.engine.core import describe
from nova_resize.engine.world import World, frame_of
from nova_resize.spec import Spec

from ..explorer import Exploration, Finding
from .model import NovaModel
from .properties import BY_NAME, PROPERTY_NAMES


@dataclass
class Step:
    """One step of a trace: who did what, the rows it ran, and the state after it."""

    n: int
    actor: str
    action: str
    rows: list[str]
    state: dict[str, Any]
    outcome: str | None = None
    data: dict[str, Any] | None = None  # the action as data (engine.actions.to_json)


@dataclass
class Report:
    """A run's results ready to print or serialise."""

    config: str
    variants: list[str]
    strategy: str
    ex: Exploration
    findings: list[tuple[Finding, list[Step], bool, str]]  # finding, trace, in baseline, reason
    uncovered: list[str]
    coverage_exempt: dict[str, str] = field(default_factory=dict)
    rows_executed: Counter[str] = field(default_factory=Counter)

    @property
    def new_findings(self) -> list[Finding]:
        return [f for f, _, known, _ in self.findings if not known]


def actor_of(w: World, action: Action | tuple[Any, ...]) -> str:
    a = coerce(action)
    if isinstance(a, ApiRequest):
        return "user"
    if isinstance(a, (Run, Fail, Timeout)):
        fr = frame_of(w, a.frame)
        return "nova-api" if fr.service == "api" else (
            "nova-conductor" if fr.service == "conductor" else f"nova-compute@{fr.service}")
    if isinstance(a, (Deliver, Lose)):
        msg = w.messages[a.message]
        return "rabbitmq" if isinstance(a, Lose) else (
            "nova-conductor" if msg.target == "conductor" else f"nova-compute@{msg.target}")
    assert isinstance(a, (Crash, Restart, Periodic))
    return f"nova-compute@{a.host}"


def state_summary(w: World) -> dict[str, Any]:
    insts = {}
    for i in w.instances:
        insts[i.name] = {
            "vm_state": i.vm_state,
            "task_state": i.task_state,
            "host": i.host,
            "flavor": i.flavor,
            "deleted": i.deleted,
        }
    migs = [{"id": m.id, "instance": m.instance, "status": m.status, "source": m.source_compute,
             "dest": m.dest_compute} for m in w.migrations]
    return {
        "instances": insts,
        "migrations": migs,
        "quota": {"in_use": list(w.quota.in_use), "reserved": list(w.quota.reserved)},
        "reservations": [[r.id, r.status] for r in w.reservations],
        "hosts": {h.name: {"status": h.status, "usage": list(h.usage), "disks": sorted(h.disks)}
                  for h in w.hosts},
        "in_flight": [f"{m.kind} {m.method} -> {m.target}" for m in w.messages],
    }


def summary_line(s: dict[str, Any]) -> str:
    parts = []
    for name, i in s["instances"].items():
        gone = " (destroyed)" if i["deleted"] else ""
        parts.append(f"{name} {i['vm_state']}/{i['task_state'] or 'None'} on {i['host']} "
                     f"{i['flavor']}{gone}")
    if s["migrations"]:
        m = s["migrations"][-1]
        parts.append(f"migration {m['status']} {m['source']}->{m['dest']}")
    q = s["quota"]
    parts.append(f"quota in_use {q['in_use'][1]}c/{q['in_use'][2]}MB reserved "
                 f"{q['reserved'][1]}c/{q['reserved'][2]}MB")
    return " | ".join(parts)


def build_trace(model: NovaModel, actions: list[Action]) -> list[Step]:
    """The steps of a trace, replayed on the model's engine."""
    steps = []
    eng = model.engine
    w = eng.initial()
    for n, a in enumerate(actions, 1):
        res = eng.step(w, a)
        steps.append(Step(n, actor_of(w, a), describe(w, a), list(res.rows),
                          state_summary(res.world), res.outcome, action_json(coerce(a))))
        w = res.world
    return steps


def text(rep: Report, spec: Spec, max_traces: int | None = None) -> str:
    ex = rep.ex
    lines = [
        f"configuration: {rep.config}" + (f"  variants: {', '.join(rep.variants)}"
                                           if rep.variants else ""),
        f"strategy: {rep.strategy}  {'complete' if ex.complete else 'PARTIAL: ' + ex.stop_reason}",
        f"distinct states: {ex.distinct_states:,}  transitions: {ex.transitions:,}  "
        f"diameter: {ex.diameter}  seconds: {ex.seconds:.1f}  "
        f"states/s: {ex.states_per_second:,.0f}",
    ]
    if ex.stuck_states:
        lines.append(f"states from which Nova alone cannot end a resize: {ex.stuck_states:,}")
    lines.append("")
    by_prop: dict[str, list[tuple[Finding, list[Step], bool, str]]] = {}
    for item in rep.findings:
        by_prop.setdefault(item[0].prop, []).append(item)
    stmt = {p.name: p.statement for p in BY_NAME.values()}
    lines.append("properties:")
    for name in PROPERTY_NAMES:
        items = by_prop.get(name, [])
        new = sum(1 for it in items if not it[2])
        evaluated = ex.evaluations.get(name, 0)
        if name == "no-stuck-resize":
            evaluated = ex.distinct_states if ex.complete else 0
        if not items:
            verdict = "held"
        elif new:
            verdict = f"VIOLATED ({new} new, {len(items) - new} in baseline)"
        else:
            verdict = f"violated ({len(items)} in baseline)"
        lines.append(f"  {name:28s} {verdict:34s} evaluated on {evaluated:,}")
        if evaluated == 0:
            lines.append(f"    (never evaluated: {stmt.get(name, '')})")
    lines.append("")
    shown = 0
    for f, steps, known, reason in rep.findings:
        if known and max_traces is not None:
            continue
        if max_traces is not None and shown >= max_traces:
            lines.append(f"... {len(rep.new_findings) - shown} more new findings (see --json)")
            break
        shown += 1
        tag = f"baseline: {reason}" if known else "NEW"
        lines.append(f"{f.prop}: {f.key}  [{tag}]")
        lines.append(f"  {f.message}")
        lines.append(f"  shortest trace ({len(steps)} steps):")
        for s in steps:
            lines.append(f"  {s.n:3d}. {s.actor:24s} {s.action}")
            if s.rows:
                lines.append(f"       rows: {', '.join(s.rows)}")
            lines.append(f"       after: {summary_line(s.state)}")
        lines.append("")
    if rep.uncovered:
        lines.append(f"spec rows never executed ({len(rep.uncovered)}):")
        for r in rep.uncovered:
            why = rep.coverage_exempt.get(r)
            lines.append(f"  {r}" + (f"  -- {why}" if why else ""))
    return "\n".join(lines) + "\n"


def findings_text(rep: Report) -> str:
    """The findings of a report with their traces, as ``text`` prints them."""
    lines = []
    for f, steps, known, reason in rep.findings:
        tag = f"baseline: {reason}" if known else "NEW"
        lines.append(f"{f.prop}: {f.key}  [{tag}]")
        lines.append(f"  {f.message}")
        lines.append(f"  shortest trace ({len(steps)} steps):")
        for s in steps:
            lines.append(f"  {s.n:3d}. {s.actor:24s} {s.action}")
            if s.rows:
                lines.append(f"       rows: {', '.join(s.rows)}")
            lines.append(f"       after: {summary_line(s.state)}")
        lines.append("")
    return "\n".join(lines) + "\n"


def to_json(rep: Report) -> dict[str, Any]:
    ex = rep.ex
    props: dict[str, Any] = {}
    for name in PROPERTY_NAMES:
        items = [it for it in rep.findings if it[0].prop == name]
        evaluated = ex.evaluations.get(name, 0)
        if name == "no-stuck-resize":
            evaluated = ex.distinct_states if ex.complete else 0
        props[name] = {
            "held": not items,
            "new_findings": sum(1 for it in items if not it[2]),
            "baseline_findings": sum(1 for it in items if it[2]),
            "evaluated": evaluated,
        }
    return {
        "configuration": rep.config,
        "variants": rep.variants,
        "strategy": rep.strategy,
        "distinct_states": ex.distinct_states,
        "transitions": ex.transitions,
        "diameter": ex.diameter,
        "seconds": round(ex.seconds, 3),
        "states_per_second": round(ex.states_per_second, 1),
        "peak_rss_bytes": ex.peak_rss_bytes,
        "complete": ex.complete,
        "stop_reason": ex.stop_reason,
        "stuck_states": ex.stuck_states,
        "properties": props,
        "findings": [
            {
                "property": f.prop,
                "key": f.key,
                "message": f.message,
                "kind": f.kind,
                "in_baseline": known,
                "baseline_reason": reason,
                "depth": f.depth,
                "trace": [
                    {"n": s.n, "actor": s.actor, "action": s.action, "rows": s.rows,
                     "outcome": s.outcome, "state": s.state, "action_data": s.data}
                    for s in steps
                ],
            }
            for f, steps, known, reason in rep.findings
        ],
        "coverage": {
            "rows_executed": dict(sorted(rep.rows_executed.items())),
            "never_executed": rep.uncovered,
            "exempt": rep.coverage_exempt,
        },
    }


def to_json_text(rep: Report) -> str:
    return json.dumps(to_json(rep), indent=2)


def to_junit(rep: Report) -> str:
    ex = rep.ex
    cases = []
    failures = 0
    for name in PROPERTY_NAMES:
        items = [it for it in rep.findings if it[0].prop == name]
        new = [it for it in items if not it[2]]
        body = ""
        if new:
            failures += 1
            msg = "; ".join(f"{f.key}" for f, _, _, _ in new)
            detail = "\n".join(
                f"{f.key}: {f.message}\n" + "\n".join(f"  {s.n}. {s.actor} {s.action}"
                                                       for s in steps)
                for f, steps, _, _ in new
            )
            body = (f'<failure message="{escape(msg, {chr(34): "&quot;"})}">'
                    f"{escape(detail)}</failure>")
        elif items:
            body = (f"<system-out>{escape(f'{len(items)} findings in the baseline')}"
                    f"</system-out>")
        cases.append(f'  <testcase classname="nova-resize.{escape(rep.config)}" '
                     f'name="{escape(name)}" time="0">{body}</testcase>')
    if not ex.complete:
        cases.append(f'  <testcase classname="nova-resize.{escape(rep.config)}" '
                     f'name="exhaustive"><skipped message="{escape(ex.stop_reason)}"/></testcase>')
    head = (f'<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="nova-resize check '
            f'{escape(rep.config)}" tests="{len(cases)}" failures="{failures}" '
            f'time="{ex.seconds:.3f}">')
    return head + "\n" + "\n".join(cases) + "\n</testsuite>\n"
