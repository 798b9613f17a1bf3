"""Reports: text for people, JSON and JUnit XML for machines."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, overload
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
    StayDown,
    Timeout,
    coerce,
)
from nova_resize.engine.actions import to_json as action_json
from nova_resize.engine.core import describe
from nova_resize.engine.world import World, frame_of
from nova_resize.spec import Spec

from nova_resize import native
from nova_resize.files import json_text

from ..explorer import Exploration, Finding
from .model import NovaModel
from .properties import BY_NAME, PROPERTY_NAMES, at_quiescence
from .world_json import usage_text, world_json


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
    findings: list[tuple[Finding, Sequence[Step], bool, str]]  # finding, trace, in baseline, reason
    uncovered: list[str]
    coverage_exempt: dict[str, str] = field(default_factory=dict)
    rows_executed: Counter[str] = field(default_factory=Counter)
    # how to rebuild the run (configuration and variants, see .replay), the spec rows the
    # traces ran with their citations, and the initial world
    origin: dict[str, Any] = field(default_factory=dict)
    citations: dict[str, dict[str, str]] = field(default_factory=dict)
    initial: dict[str, Any] = field(default_factory=dict)
    # for a patched run: Liberty's findings on the same configuration that it no longer has
    gone: list[dict[str, Any]] = field(default_factory=list)
    # the spec the run checked: the citations are looked up from it when first needed
    spec: Spec | None = None
    # reductions besides host symmetry (always on): "partial-order" (reduction.py)
    reductions: list[str] = field(default_factory=list)

    def rows_cited(self) -> dict[str, dict[str, str]]:
        """The citations of the rows the traces ran (:func:`row_citations`; replays every
        trace not replayed yet)."""
        if not self.citations and self.spec is not None and self.findings:
            self.citations = row_citations(self.spec, self)
        return self.citations

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
    assert isinstance(a, (Crash, StayDown, Restart, Periodic))
    return f"nova-compute@{a.host}"


def state_summary(w: World) -> dict[str, Any]:
    """The whole world after a step, as JSON data with units (:mod:`.world_json`)."""
    return world_json(w)


def summary_line(s: dict[str, Any], hosts: bool = False) -> str:
    """One line for a state summary, with units; ``hosts``: each host's usage too."""
    parts = []
    for name, i in s["instances"].items():
        gone = " (destroyed)" if i["deleted"] else ""
        parts.append(f"{name} {i['vm_state']}/{i['task_state'] or 'None'} on {i['host']} "
                     f"{i['flavor']}{gone}")
    if s["migrations"]:
        m = s["migrations"][-1]
        parts.append(f"migration {m['status']} {m['source']}->{m['dest']}")
    q = s["quota"]
    parts.append(f"quota in_use {q['in_use'][1]} vCPUs/{q['in_use'][2]} MB reserved "
                 f"{q['reserved'][1]} vCPUs/{q['reserved'][2]} MB")
    if hosts:
        for name, h in s["hosts"].items():
            parts.append(f"{name} {h['status']} uses {usage_text(h['usage'])}")
    return " | ".join(parts)


HOST_PROPERTIES = frozenset({"claims-consistent", "host-consistent", "disk-never-lost"})
"""Properties about hosts: their traces show each host's usage."""


Replays = dict[Action, tuple[World, "Step", "Replays"]]
"""Steps already replayed, as a trie of actions from the initial state: a run's shortest traces
share their first steps, which a report then replays (and summarises) once."""


def build_trace(model: NovaModel, actions: Sequence[Action],
                replays: Replays | None = None) -> list[Step]:
    """The steps of a trace, replayed on the model's engine (through ``replays``, shared by the
    traces of one run, when given)."""
    steps = []
    eng = model.engine
    w = eng.initial()
    node: Replays = {} if replays is None else replays
    for n, a in enumerate(actions, 1):
        hit = node.get(a)
        if hit is None:
            res = eng.step(w, a)
            hit = node[a] = (res.world, Step(n, actor_of(w, a), describe(w, a), list(res.rows),
                                             state_summary(res.world), res.outcome,
                                             action_json(coerce(a))), {})
        w, step, node = hit
        steps.append(step)
    return steps


class Trace(Sequence[Step]):
    """A finding's shortest trace: its actions, replayed into steps on first use, which also
    names the finding's cause when it has none yet. A check replays only the traces it shows
    or writes: a text report shows a few of a run's hundreds of findings."""

    __slots__ = ("_steps", "actions", "finding", "model", "replays")

    def __init__(self, model: NovaModel, actions: Sequence[Action],
                 finding: Finding | None = None, replays: Replays | None = None) -> None:
        self.model = model
        self.actions = list(actions)
        self.finding = finding
        self.replays = replays
        self._steps: list[Step] | None = None

    def steps(self) -> list[Step]:
        """The replayed steps (replayed once)."""
        if self._steps is None:
            f = self.finding
            if f is not None and not f.cause:
                f.cause = self.model.cause(self.actions, f.subject)
            self._steps = build_trace(self.model, self.actions, self.replays)
        return self._steps

    def __len__(self) -> int:
        return len(self.actions)

    @overload
    def __getitem__(self, i: int) -> Step: ...

    @overload
    def __getitem__(self, i: slice) -> list[Step]: ...

    def __getitem__(self, i: int | slice) -> Step | list[Step]:
        return self.steps()[i]

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Trace, list)):
            return self.steps() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Trace({len(self.actions)} steps)"


def evaluated_unit(name: str) -> str:
    """What a property's evaluation count counts: states, quiescent states, steps or both."""
    p = BY_NAME.get(name)
    if p is None or p.recoverable is not None:
        return "states"
    parts = []
    if p.always is not None:
        parts.append("states" if p.when is None else (
            "quiescent states" if p.when is at_quiescence else "selected states"))
    if p.transition is not None:
        parts.append("steps")
    return " and ".join(parts) or "states"


def property_verdicts(rep: Report) -> dict[str, dict[str, Any]]:
    """Per property: its findings (new, in the baseline), how often it was evaluated (with its
    unit) and the verdict: ``held``, ``violated``, or ``not evaluated`` when it was evaluated
    on nothing (a simulation cannot judge no-stuck-resize, which needs the whole graph)."""
    ex = rep.ex
    out = {}
    for name in PROPERTY_NAMES:
        items = [it for it in rep.findings if it[0].prop == name]
        new = sum(1 for it in items if not it[2])
        evaluated = ex.evaluations.get(name, 0)
        if name == "no-stuck-resize":
            evaluated = ex.distinct_states if ex.complete else 0
        verdict = "violated" if items else ("held" if evaluated else "not evaluated")
        out[name] = {"new": new, "known": len(items) - new, "evaluated": evaluated,
                     "unit": evaluated_unit(name), "verdict": verdict}
    return out


def passed(rep: Report) -> bool:
    """A complete run with no finding outside the baseline."""
    return rep.ex.complete and not rep.new_findings


def text(rep: Report, spec: Spec, max_traces: int | None = None, verbose: bool = False) -> str:
    """The report for a terminal: a few lines on a passing run (unless ``verbose``), else
    the properties, the new findings' traces (``max_traces`` of them; None: every finding's)."""
    ex = rep.ex
    verdicts = property_verdicts(rep)
    head = (f"configuration: {rep.config}" + (f"  variants: {', '.join(rep.variants)}"
                                              if rep.variants else "")
            + f"  strategy: {rep.strategy}, "
            + "".join(f"{r} reduction, " for r in rep.reductions)
            + ("complete" if ex.complete else "PARTIAL: " + ex.stop_reason))
    stats = (f"{ex.distinct_states:,} distinct states, {ex.transitions:,} transitions, "
             f"diameter {ex.diameter} steps, {ex.seconds:.1f} s "
             f"({ex.states_per_second:,.0f} states/s"
             + (", compiled engine" if native.ACTIVE is not None else "") + ")")
    unexplained = [r for r in rep.uncovered if r not in rep.coverage_exempt]
    rows_line = (f"spec rows never executed: {len(rep.uncovered)}, "
                 + (f"{len(unexplained)} without a stated reason"
                    if unexplained else "each for a stated reason")
                 + " (listed in the --json and --html reports)")
    if passed(rep) and not verbose and max_traces is not None:
        held = [n for n, v in verdicts.items() if v["verdict"] == "held"]
        with_known = [f"{n} {v['known']}" for n, v in verdicts.items() if v["known"]]
        skipped = [n for n, v in verdicts.items() if v["verdict"] == "not evaluated"]
        lines = [head, stats,
                 f"{len(verdicts)} properties: {len(held)} held"
                 + (f", {len(with_known)} with findings all in the baseline "
                    f"({', '.join(with_known)})" if with_known else "")
                 + (f", {len(skipped)} not evaluated ({', '.join(skipped)})"
                    if skipped else "")]
        if rep.uncovered:
            lines.append(rows_line)
        return "\n".join(lines) + "\n"
    lines = [head, stats]
    if ex.stuck_states:
        lines.append(f"states from which Nova alone cannot end a resize: {ex.stuck_states:,}")
    lines.append("")
    stmt = {p.name: p.statement for p in BY_NAME.values()}
    lines.append("properties:")
    for name, v in verdicts.items():
        if v["verdict"] == "not evaluated":
            verdict = "not evaluated"
        elif v["verdict"] == "held":
            verdict = "held" if ex.complete else "no violation seen"
        elif v["new"]:
            verdict = f"VIOLATED ({v['new']} new, {v['known']} in baseline)"
        else:
            verdict = f"known ({v['known']} in baseline)"
        lines.append(f"  {name:28s} {verdict:34s} evaluated on {v['evaluated']:,} {v['unit']}")
        if v["evaluated"] == 0:
            why = (" (needs a complete exhaustive run)" if name == "no-stuck-resize" else "")
            lines.append(f"    (never evaluated{why}: {stmt.get(name, '')})")
    lines.append("")
    shown = 0
    for f, steps, known, reason in rep.findings:
        if known and max_traces is not None:
            continue
        if max_traces is not None and shown >= max_traces:
            lines.append(f"... {len(rep.new_findings) - shown} more new findings (see --json)")
            break
        shown += 1
        lines += _finding_lines(f, steps, known, reason)
    if rep.uncovered:
        lines.append(rows_line)
    return "\n".join(lines) + "\n"


def _finding_lines(f: Finding, trace: Sequence[Step], known: bool, reason: str) -> list[str]:
    steps = list(trace)  # replayed first: the replay names the cause
    tag = f"baseline: {reason}" if known else "NEW"
    hosts = f.prop in HOST_PROPERTIES
    lines = [f"{f.prop}: {f.key}  [{tag}]"]
    if f.where or f.cause:
        lines.append(f"  in: {f.where or '-'}; caused by: {f.cause or '-'}; seen "
                     f"{f.count:,} {'time' if f.count == 1 else 'times'}")
    lines += [f"  {f.message}", f"  shortest trace ({len(steps)} steps):"]
    for s in steps:
        lines.append(f"  {s.n:3d}. {s.actor:24s} {s.action}")
        if s.rows:
            lines.append(f"       rows: {', '.join(s.rows)}")
        lines.append(f"       after: {summary_line(s.state, hosts)}")
    lines.append("")
    return lines


def findings_text(rep: Report) -> str:
    """The findings of a report with their traces, as ``text`` prints them."""
    lines = []
    for f, steps, known, reason in rep.findings:
        lines += _finding_lines(f, steps, known, reason)
    return "\n".join(lines) + "\n"


def row_citations(spec: Spec, rep: Report) -> dict[str, dict[str, str]]:
    """The spec rows the report's traces ran, each with its nova 12.0.0 citation, summary,
    handler and label (rows the engine adds itself, such as ``rpc.deliver.*``, have none)."""
    out = {}
    ids = sorted({r for _, steps, _, _ in rep.findings for s in steps for r in s.rows})
    for rid in ids:
        try:
            r = spec.row(rid)
        except KeyError:
            continue
        out[rid] = {"cite": r.cite, "summary": r.summary, "handler": r.handler, "at": r.at,
                    "fault": r.fault or ""}
    return out


def to_json(rep: Report) -> dict[str, Any]:
    ex = rep.ex
    props: dict[str, Any] = {}
    stmt = {p.name: p.statement for p in BY_NAME.values()}
    for name, v in property_verdicts(rep).items():
        props[name] = {
            # null when the property was evaluated on nothing: no verdict
            "held": None if v["verdict"] == "not evaluated" else v["verdict"] == "held",
            "new_findings": v["new"],
            "baseline_findings": v["known"],
            "evaluated": v["evaluated"],
            "evaluated_unit": v["unit"],
            "verdict": v["verdict"],
            "statement": stmt.get(name, ""),
        }
    return {
        "configuration": rep.config,
        "variants": rep.variants,
        "strategy": rep.strategy,
        "reductions": rep.reductions,
        "distinct_states": ex.distinct_states,
        "transitions": ex.transitions,
        "diameter": ex.diameter,
        "seconds": round(ex.seconds, 3),
        "states_per_second": round(ex.states_per_second, 1),
        "peak_rss_bytes": ex.peak_rss_bytes,
        "engine": native.STATUS,
        "complete": ex.complete,
        "stop_reason": ex.stop_reason,
        "stuck_states": ex.stuck_states,
        "properties": props,
        "findings": [
            _finding_json(f, list(steps), known, reason)
            for f, steps, known, reason in rep.findings
        ],
        "gone_from_liberty": rep.gone,
        "origin": rep.origin,
        "initial_state": rep.initial,
        "rows": rep.rows_cited(),
        "coverage": {
            "rows_executed": dict(sorted(rep.rows_executed.items())),
            "never_executed": rep.uncovered,
            "exempt": rep.coverage_exempt,
        },
    }


def _finding_json(f: Finding, steps: list[Step], known: bool, reason: str) -> dict[str, Any]:
    """A finding in the JSON report (``steps`` replayed before its cause is read)."""
    return {
        "property": f.prop,
        "key": f.key,
        "where": f.where,
        "cause": f.cause,
        "message": f.message,
        "kind": f.kind,
        "in_baseline": known,
        "baseline_reason": reason,
        "depth": f.depth,
        "count": f.count,
        "actions": [s.data for s in steps],
        "trace": [
            {"n": s.n, "actor": s.actor, "action": s.action, "rows": s.rows,
             "outcome": s.outcome, "state": s.state, "action_data": s.data}
            for s in steps
        ],
    }


def to_json_text(rep: Report) -> str:
    """The JSON report as text: a line per top-level key, property, finding and cited row."""
    return json_text(to_json(rep))


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
