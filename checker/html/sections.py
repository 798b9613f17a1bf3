"""The page of each kind of report: a check or simulate report, a diff report (findings new,
gone and unchanged on the patched tables against Liberty, two traces side by side) and a
validate verdict."""

from __future__ import annotations

import json
from typing import Any

from .page import (
    Ids,
    esc,
    finding_head,
    num,
    page,
    place_and_cause,
    replay_hint,
    shared_lanes,
    stat,
    viewer,
)
from .swimlane import actor_from_text

VERDICT_CLASS = {"held": "ok", "violated": "bad", "known": "known", "not evaluated": "na"}


def _trace(f: dict[str, Any], key: str = "trace") -> list[dict[str, Any]]:
    t = f.get(key)
    return [dict(s) for s in t] if isinstance(t, list) else []


def _summary_stats(r: dict[str, Any]) -> list[str]:
    out = [stat("configuration", esc(r.get("configuration")))]
    if r.get("variants"):
        out.append(stat("variants", esc(", ".join(map(str, r["variants"])))))
    if "strategy" in r:
        done = "complete" if r.get("complete") else f"PARTIAL: {r.get('stop_reason', '')}"
        red = "".join(f"{x} reduction, " for x in r.get("reductions") or [])
        out.append(stat("strategy", esc(f"{r['strategy']}, {red}{done}")))
    for key, label, unit, digits in (
            ("distinct_states", "distinct states", "states", 0),
            ("transitions", "transitions", "steps", 0),
            ("diameter", "diameter", "steps", 0),
            ("seconds", "time", "s", 1),
            ("states_per_second", "speed", "states/s", 0)):
        if key in r:
            out.append(stat(label, num(r[key], unit, digits)))
    if r.get("peak_rss_bytes"):
        out.append(stat("peak memory", num(r["peak_rss_bytes"] / 2**20, "MiB", 0)))
    if r.get("stuck_states"):
        out.append(stat("stuck states", num(r["stuck_states"], "states") +
                        " from which Nova alone cannot end a resize"))
    return out


def _properties(r: dict[str, Any], anchors: dict[str, list[tuple[str, str]]]) -> str:
    rows = []
    for name, p in (r.get("properties") or {}).items():
        verdict = p.get("verdict") or ("held" if p.get("held") else "violated")
        shown = verdict
        if verdict == "violated" and not p.get("new_findings"):
            shown = "known"
        links = " ".join(f'<a href="#{a}">{esc(t)}</a>' for a, t in anchors.get(name, []))
        counts = []
        if p.get("new_findings"):
            counts.append(f"{p['new_findings']} new")
        if p.get("baseline_findings"):
            counts.append(f"{p['baseline_findings']} in the baseline")
        rows.append(
            f'<tr class="prop v-{VERDICT_CLASS.get(shown, "na")}"><td><b>{esc(name)}</b>'
            f'<div class="stmt">{esc(p.get("statement", ""))}</div></td>'
            f'<td class="verdict">{esc(shown)}</td>'
            f'<td class="n">{num(p.get("evaluated"), p.get("evaluated_unit", ""))}</td>'
            f'<td>{esc(", ".join(counts)) or "—"}<div class="links">{links}</div></td></tr>')
    return ('<table class="properties"><thead><tr><th>property</th><th>verdict</th>'
            '<th>evaluated on</th><th>findings</th></tr></thead><tbody>'
            + "".join(rows) + "</tbody></table>")


def _coverage(r: dict[str, Any]) -> str:
    cov = r.get("coverage") or {}
    never = cov.get("never_executed") or []
    if not never:
        return ""
    exempt = cov.get("exempt") or {}
    items = "".join(f"<tr><td><code>{esc(x)}</code></td>"
                    f"<td>{esc(exempt.get(x, 'no stated reason'))}</td></tr>" for x in never)
    unexplained = sum(1 for x in never if x not in exempt)
    return (f'<section id="coverage"><details><summary><h2>Spec rows never executed: '
            f"{len(never)}" + (f", {unexplained} without a stated reason" if unexplained else
                               ", each for a stated reason")
            + "</h2></summary><table class=\"rows\"><thead><tr><th>row</th><th>why</th></tr>"
            "</thead><tbody>" + items + "</tbody></table></details></section>")


def check_page(r: dict[str, Any]) -> str:
    """A check or simulate report."""
    ids = Ids()
    findings = r.get("findings") or []
    new = [f for f in findings if not f.get("in_baseline")]
    complete = r.get("complete", True)
    ok = complete and not new
    verdict = ("PASSED: every finding is in the baseline" if ok else
               f"FAILED: {len(new)} findings not in the baseline" if new else
               f"INCOMPLETE: {r.get('stop_reason', '')}")
    anchors: dict[str, list[tuple[str, str]]] = {}
    blocks = []
    initial = r.get("initial_state") or None
    for n, f in enumerate(findings):
        anchor = f"finding-{n}"
        anchors.setdefault(str(f.get("property")), []).append((anchor, f"#{n}"))
        known = bool(f.get("in_baseline"))
        steps = _trace(f)
        body = [f'<p class="message">{esc(f.get("message"))}</p>', place_and_cause(f)]
        if known:
            body.append(f'<p class="reason">In the baseline: {esc(f.get("baseline_reason"))}</p>')
        if f.get("count", 1) > 1:
            body.append(f'<p class="count">The same finding (property, key and place) was seen '
                        f'in {num(f["count"])} states or steps; this is the shortest trace.</p>')
        body.append(replay_hint(f))
        body.append(viewer(ids, steps, initial, f"{f.get('property')}: {f.get('key')}"))
        blocks.append(f'<details class="finding" id="{anchor}"' + ("" if known else " open")
                      + ">" + finding_head(f, "baseline" if known else "NEW",
                                           "known" if known else "new")
                      + f'<div class="body">{"".join(body)}</div></details>')
    strategy = str(r.get("strategy", "bfs"))
    command = {"simulate": "simulate", "hypothesis": "simulate --hypothesis"}.get(strategy,
                                                                                "check")
    title = f"nova-resize {command} — {r.get('configuration', '')} ({strategy})"
    body = [
        f'<header><h1>{esc(title)}</h1><p class="verdict {"ok" if ok else "bad"}">'
        f"{esc(verdict)}</p></header>",
        '<section id="summary"><div class="stats">' + "".join(_summary_stats(r)) + "</div>"
        "</section>",
        '<section id="properties"><h2>Properties</h2>' + _properties(r, anchors) + "</section>",
        f'<section id="findings"><h2>Findings: {len(findings)} ({len(new)} new)</h2>'
        + ("".join(blocks) or "<p>None.</p>") + "</section>",
        _coverage(r),
    ]
    return page(title, body, r.get("rows"))


def _rows_of(steps: list[dict[str, Any]]) -> list[tuple[str, ...]]:
    return [tuple(s.get("rows") or ()) for s in steps]


def diff_page(r: dict[str, Any]) -> str:
    """A diff report: ``new``, ``gone`` and ``unchanged`` findings, each with its patched and
    Liberty traces side by side, stepping together."""
    ids = Ids()
    initial = r.get("initial_state") or None
    sections = []
    counts = {k: len(r.get(k) or []) for k in ("new", "gone", "unchanged")}
    explain = {
        "new": "found on the patched tables, not on Liberty's",
        "gone": "found on Liberty's tables, no longer on the patched ones",
        "unchanged": "found on both",
    }
    for kind in ("new", "gone", "unchanged"):
        blocks = []
        for n, f in enumerate(r.get(kind) or []):
            patched = _trace(f, "patched_trace")
            liberty = _trace(f, "liberty_trace")
            if not patched and not liberty:
                (liberty if kind == "gone" else patched).extend(_trace(f))
            lp, ll = _rows_of(patched), _rows_of(liberty)
            differs = {i for i in range(max(len(lp), len(ll)))
                       if i >= len(lp) or i >= len(ll) or lp[i] != ll[i]} if lp and ll else set()
            lanes = shared_lanes(patched, liberty)
            group = ids("g")
            title = f"{f.get('property')}: {f.get('key')}"
            sides = []
            for label, steps, note_key in (("Liberty (nova 12.0.0)", liberty, "liberty_note"),
                                           ("patched", patched, "patched_note")):
                note = str(f.get(note_key) or "")
                if not steps:
                    note = note or ("no trace on this side: the finding does not occur here")
                sides.append('<div class="side">' + viewer(
                    ids, steps, initial, f"{label}: {title}", group, label, None,
                    differs, lanes, note) + "</div>")
            inner = (f'<p class="message">{esc(f.get("message"))}</p>' + place_and_cause(f)
                     + replay_hint(f)
                     + '<div class="sides">' + "".join(sides) + "</div>")
            anchor = f"{kind}-{n}"
            blocks.append(f'<details class="finding" id="{anchor}"'
                          + (" open" if kind == "new" else "") + ">"
                          + finding_head(f, kind, {"new": "new", "gone": "ok"}.get(kind, "known"))
                          + f'<div class="body">{inner}</div></details>')
        sections.append(f'<section id="{kind}"><h2>{kind.capitalize()}: {counts[kind]} '
                        f'<small>({explain[kind]})</small></h2>'
                        + ("".join(blocks) or "<p>None.</p>") + "</section>")
    ok = counts["new"] == 0
    title = f"nova-resize diff — {r.get('configuration', '')}"
    verdict = (f"{counts['new']} new, {counts['gone']} gone, {counts['unchanged']} unchanged "
               "findings")
    stats = _summary_stats(r)
    for side in ("liberty", "patched"):
        s = r.get(side)
        if isinstance(s, dict) and "distinct_states" in s:
            stats.append(stat(side, num(s["distinct_states"], "states") + ", "
                              + num(s.get("seconds"), "s", 1)))
    body = [f'<header><h1>{esc(title)}</h1><p class="verdict {"ok" if ok else "bad"}">'
            f"{esc(verdict)}</p></header>",
            '<section id="summary"><div class="stats">' + "".join(stats) + "</div></section>",
            *sections]
    return page(title, body, r.get("rows"))


def validate_page(v: dict[str, Any]) -> str:
    """A validate verdict (``verdict_json``): the observations and the witness, step by step;
    a rejection with what the spec allows there and the nearest state."""
    ids = Ids()
    steps: list[dict[str, Any]] = []
    marks: dict[int, str] = {}
    for seg in v.get("witness") or []:
        for st in seg.get("steps") or []:
            text = str(st.get("action", ""))
            steps.append({"n": len(steps) + 1, "actor": actor_from_text(text),
                          "action": text, "rows": list(st.get("rows") or [])})
        # the observation the steps led to
        obs = seg.get("observation")
        marks[len(steps)] = (f"observation {obs + 1 if isinstance(obs, int) else obs} "
                             f"matched: {seg.get('source', '')}")
    accepted = bool(v.get("accepted"))
    title = f"nova-resize validate — {v.get('instance', '')}"
    verdict = (f"ACCEPTED: {v.get('observations')} observations fit the spec"
               if accepted else
               f"REJECTED at observation {v.get('rejected_at')} "
               f"({v.get('matched')} of {v.get('observations')} matched)")
    stats = [stat("instance", esc(v.get("instance"))),
             stat("configuration", esc(v.get("configuration"))),
             stat("observations", num(v.get("observations"))),
             stat("matched", num(v.get("matched"))),
             stat("states explored", num(v.get("states_explored"), "states")),
             stat("largest frontier", num(v.get("max_frontier"), "states")),
             stat("time", num(v.get("seconds"), "s", 1))]
    body = [f'<header><h1>{esc(title)}</h1><p class="verdict {"ok" if accepted else "bad"}">'
            f"{esc(verdict)}</p></header>",
            '<section id="summary"><div class="stats">' + "".join(stats) + "</div></section>"]
    if not accepted:
        obs = v.get("rejected_observation")
        body.append('<section id="rejection"><h2>Rejection</h2>'
                    f"<p>Observation {esc(v.get('rejected_at'))}:</p>"
                    f"<pre>{esc(json.dumps(obs, indent=2, default=str))}</pre>"
                    "<p>What the spec allows there:</p><ul>"
                    + "".join(f"<li><code>{esc(a)}</code></li>" for a in v.get("allowed") or [])
                    + f"</ul><p>Nearest state: <code>{esc(v.get('nearest'))}</code></p>"
                      "</section>")
    if steps:
        note = ("A witness: the spec's steps, and the observations they lead to (lines). "
                "validate's report carries the steps and rows, not the world after each.")
        body.append('<section id="witness"><h2>Witness</h2>'
                    + viewer(ids, steps, None, "witness", marks=marks, note=note)
                    + "</section>")
    return page(title, body, v.get("rows"))


def report_kind(r: dict[str, Any]) -> str:
    """``diff``, ``validate`` or ``check`` (check and simulate reports)."""
    if r.get("kind") == "diff" or any(k in r for k in ("new", "gone", "unchanged")):
        return "diff"
    if "accepted" in r and "witness" in r:
        return "validate"
    return "check"


def render_html(report: dict[str, Any]) -> str:
    """The self-contained HTML page of a JSON report (check, simulate, diff or validate)."""
    kind = report_kind(report)
    if kind == "diff":
        return diff_page(report)
    if kind == "validate":
        return validate_page(report)
    return check_page(report)


__all__ = ["check_page", "diff_page", "render_html", "report_kind", "validate_page",
           "with_citations"]


def with_citations(doc: dict[str, Any], spec: Any) -> dict[str, Any]:
    """``doc`` with a ``rows`` map (each spec row its traces ran: citation, summary) when it
    has none: validate's verdict names rows without their citations."""
    if doc.get("rows"):
        return doc
    ids: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if k == "rows" and isinstance(x, list):
                    ids.update(r for r in x if isinstance(r, str))
                else:
                    walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(doc)
    rows = {}
    for rid in sorted(ids):
        try:
            r = spec.row(rid)
        except KeyError:
            continue
        rows[rid] = {"cite": r.cite, "summary": r.summary, "handler": r.handler, "at": r.at,
                     "fault": r.fault or ""}
    return {**doc, "rows": rows}
