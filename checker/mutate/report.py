"""The mutate report: per operator, how many mutants were generated, killed, survived, unreached
or equivalent, the kill rates, and every mutant with its verdict (JSON shape in
docs/mutate.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .operators import OPERATORS
from .runner import STATUSES, Outcome, Reference, kill_rates


def outcome_json(o: Outcome, refs: Sequence[Reference] = ()) -> dict[str, Any]:
    m = o.mutant
    d: dict[str, Any] = {"id": m.id, "operator": m.operator, "description": m.description,
                         "rows": list(m.site), "status": o.status, "detail": o.detail,
                         "reached": o.reached, "killed_by": o.killed_by, "runs": o.runs,
                         "file": o.file, "pinned_counts_differ": counts_differ(o, refs)}
    if o.status not in ("killed", "invalid"):
        d["variant"] = m.text  # a survivor can be opened even without --out
    if o.divergence is not None:
        d["divergence"] = o.divergence.to_json()
    return d


def counts_differ(o: Outcome, refs: Sequence[Reference]) -> bool:
    """Whether a mutant no finding killed reaches, on some configuration, another number of
    distinct states or transitions than Liberty: what the regression manifest pins besides the
    findings (``nova-resize regression`` fails on it)."""
    pinned = {r.config.name: (r.states, r.transitions) for r in refs}
    return o.status == "survived" and any(
        not run.get("skipped") and run.get("complete", True)
        and (run.get("states"), run.get("transitions")) != pinned.get(run["configuration"])
        for run in o.runs)


def manifest_rates(outcomes: Sequence[Outcome], refs: Sequence[Reference]) -> dict[str, Any]:
    """The mutants the regression manifest catches: a finding changed (killed), or a pinned
    count did; over the same mutants as the kill rates."""
    c = kill_rates(outcomes)
    caught = c["killed"] + sum(1 for o in outcomes if counts_differ(o, refs))
    base = c["generated"] - c["invalid"] - c["equivalent"]
    obs = base - c["equivalent-on-configs"]
    return {"caught": caught, "rate": round(caught / base, 4) if base else None,
            "rate_observable": round(caught / obs, 4) if obs else None}


def to_json(outcomes: Sequence[Outcome], refs: Sequence[Reference], generated: int,
            sample: int | None, seed: int, seconds: float, complete: bool,
            stop_reason: str = "") -> dict[str, Any]:
    ops = [op for op in OPERATORS if any(o.mutant.operator == op for o in outcomes)]
    return {
        "kind": "mutate",
        "configurations": [{"name": r.config.name, "liberty_states": r.states,
                            "liberty_transitions": r.transitions, "cached": r.cached}
                           for r in refs],
        "generated": generated,
        "sample": sample,
        "seed": seed,
        "run": len(outcomes),
        "complete": complete,
        "stop_reason": stop_reason,
        "seconds": round(seconds, 1),
        "operators": {op: kill_rates([o for o in outcomes if o.mutant.operator == op])
                      for op in ops},
        "total": kill_rates(outcomes),
        "manifest": manifest_rates(outcomes, refs),
        "mutants": [outcome_json(o, refs) for o in outcomes],
    }


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


COLUMNS = (("generated", "mutants"), ("killed", "killed"), ("survived", "survived"),
           ("unreached", "unreached"), ("equivalent-on-configs", "equiv(conf)"),
           ("equivalent", "equivalent"), ("invalid", "invalid"), ("incomplete", "incompl."),
           ("error", "error"))


def table(doc: dict[str, Any]) -> list[str]:
    """The per-operator table."""
    head = f"{'operator':18s}" + "".join(f"{t:>12s}" for _, t in COLUMNS) + f"{'kill rate':>11s}"
    lines = [head]
    rows = [*doc["operators"].items(), ("total", doc["total"])]
    for name, c in rows:
        lines.append(f"{name:18s}" + "".join(f"{c[k]:>12,}" for k, _ in COLUMNS)
                     + f"{_pct(c['kill_rate']):>11s}")
    return lines


def text(doc: dict[str, Any], max_listed: int | None = 20) -> str:
    """The report for people: the configurations, the table, the survivors."""
    confs = ", ".join(f"{c['name']} ({c['liberty_states']:,} states"
                      + (", cached" if c["cached"] else "") + ")"
                      for c in doc["configurations"])
    sample = (f" (a sample of {doc['run']:,} of {doc['generated']:,}, seed {doc['seed']})"
              if doc["sample"] is not None else "")
    lines = [f"configurations: {confs}",
             f"mutants: {doc['run']:,}{sample}, {doc['seconds']:.0f} s"
             + ("" if doc["complete"] else f" (PARTIAL: {doc['stop_reason']})"), ""]
    lines += table(doc)
    t = doc["total"]
    lines.append("")
    judged = t["generated"] - t["invalid"] - t["equivalent"]
    lines.append(f"kill rate {_pct(t['kill_rate'])} over the {judged:,} "
                 f"mutants neither invalid nor proved equivalent; "
                 f"{_pct(t['kill_rate_observable'])} leaving out those equivalent on these "
                 f"configurations")
    mf = doc.get("manifest")
    if mf is not None:
        lines.append(f"pinning each configuration's findings and its numbers of distinct states "
                     f"and transitions (as the regression manifest does) catches "
                     f"{_pct(mf['rate'])} of the same mutants, {_pct(mf['rate_observable'])} "
                     f"of those")
    for status, title in (("survived", "survived (behaviour changed, no finding changed)"),
                          ("unreached", "unreached (the configurations never run the change)"),
                          ("equivalent-on-configs", "equivalent on these configurations"),
                          ("incomplete", "incomplete"),
                          ("error", "error (nova-resize raised on the variant: a bug)")):
        items = [m for m in doc["mutants"] if m["status"] == status]
        if not items:
            continue
        lines += ["", f"{title}: {len(items)}"]
        for n, m in enumerate(items):
            if max_listed is not None and n >= max_listed:
                lines.append(f"  ... {len(items) - n} more (see --json)")
                break
            lines.append(f"  {m['id']}")
            lines.append(f"    {m['description']}")
            lines.append(f"    {m['detail']}")
            dv = m.get("divergence")
            if dv:
                lead = (f"after {len(dv['trace'])} steps" if dv["trace"]
                        else "from the initial state")
                lines.append(f"    first differs on {dv['configuration']} {lead}, at: "
                             f"{dv['step']}")
                for t in dv["trace"]:
                    lines.append(f"      - {t}")
                lines.append(f"      Liberty: {'; '.join(dv['liberty']) or '-'}")
                lines.append(f"      mutant:  {'; '.join(dv['mutant']) or '-'}")
            if m.get("file"):
                lines.append(f"    variant: {m['file']}")
    if any(m["status"] in ("survived", "unreached") and not m.get("file")
           for m in doc["mutants"]):
        lines += ["", "(--out DIR writes every mutant as a variant file, for nova-resize diff "
                  "--variant; --json holds each survivor's text)"]
    return "\n".join(lines) + "\n"


def progress_line(k: int, n: int, o: Outcome) -> str:
    """One line per judged mutant."""
    if o.killed_by is not None:
        kb = o.killed_by
        what = (f"killed on {kb['configuration']} ({kb['change']} {kb['property']}: "
                f"{kb['key']})")
    else:
        what = o.status + (f": {o.detail}" if o.status in ("survived", "invalid",
                                                             "incomplete") else "")
    return f"[{k}/{n}] {o.mutant.id}: {what}"


__all__ = ["COLUMNS", "STATUSES", "outcome_json", "progress_line", "table", "text", "to_json"]
