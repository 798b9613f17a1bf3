"""Differential checking: the same configuration explored under Liberty's tables and under the
patched ones, their findings compared by identity (property, key, where).

``new`` findings occur with the patch only, ``gone`` ones on Liberty only, ``unchanged`` ones on
both. A new or gone finding carries its shortest trace on its own side and the same actions
replayed on the other side as far as they are enabled there. Liberty's run does not depend on
the patch, so it is cached: by a hash of the configuration, the run's bounds and the model's
own source (tables, engine and checker), in ``$NOVA_RESIZE_CACHE`` or the user's cache
directory.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nova_resize.engine.config import Config
from nova_resize.spec import LIBERTY, Spec

from nova_resize.files import write_atomic

from ..explorer import Control, Limits
from . import report as reports
from .baseline import load_baseline, load_baseline_reasons
from .replay import config_data, finding_actions, trace_on
from .run import check

PACKAGE_ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIRS = ("engine", "spec", "checker")

Ident = tuple[str, str, str]


def ident_of(f: dict[str, Any]) -> Ident:
    """A report finding's identity."""
    return (str(f.get("property")), str(f.get("key")), str(f.get("where") or ""))


@functools.cache
def source_fingerprint() -> str:
    """A hash of the model's own source (its tables, engine and checker): a cached Liberty run
    is reused only by the code that wrote it. Computed once per process, so that a file edited
    while a long run goes on does not label that run's results with the new code's key."""
    h = hashlib.sha256()
    for d in SOURCE_DIRS:
        root = PACKAGE_ROOT / d
        for p in sorted(root.rglob("*")):
            if p.suffix in (".py", ".toml") and p.is_file() and "__pycache__" not in p.parts:
                h.update(str(p.relative_to(PACKAGE_ROOT)).encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def reference_key(config: Config) -> str:
    """The cache key of Liberty's run of ``config``: only complete runs are cached, and a
    complete run does not depend on the bounds it ran within."""
    doc = {"config": config_data(config), "source": source_fingerprint()}
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:32]


def cache_dir() -> Path:
    """Where Liberty's runs are cached: ``$NOVA_RESIZE_CACHE``, else the user's cache
    directory (``$XDG_CACHE_HOME/nova-resize`` or ``~/.cache/nova-resize``)."""
    env = os.environ.get("NOVA_RESIZE_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "nova-resize"


def _load_cached(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # absent, unreadable or torn: run again
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        return None
    return doc


def liberty_reference(config: Config, limits: Limits | None = None,
                      progress: Callable[[str], None] | None = None,
                      control: Control | None = None, cache: Path | None = None,
                      use_cache: bool = True) -> tuple[dict[str, Any], bool]:
    """Liberty's JSON report on ``config`` (complete runs are cached) and whether it came from
    the cache."""
    where = (cache or cache_dir()) / f"liberty-{reference_key(config)}.json"
    if use_cache:
        doc = _load_cached(where)
        if doc is not None:
            return doc, True
    known = load_baseline(None) + load_baseline_reasons(None)
    res = check(config, [], known, limits=limits, progress=progress, control=control)
    doc = reports.to_json(res.report)
    if use_cache and res.report.ex.complete:
        try:
            where.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(where, json.dumps(doc))
        except OSError:
            pass  # a cache that cannot be written only costs the next run its time
    return doc, False


def _side(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in ("distinct_states", "transitions", "seconds", "complete",
                                    "stop_reason", "peak_rss_bytes")}


def _brief(f: dict[str, Any]) -> dict[str, Any]:
    return {k: f.get(k) for k in ("property", "key", "where", "cause", "message", "count",
                                  "depth", "kind", "in_baseline", "baseline_reason")}


def diff_reports(config: Config, patched_spec: Spec, liberty: dict[str, Any],
                 patched: dict[str, Any], variants: Sequence[str]) -> dict[str, Any]:
    """The diff report of two check reports of ``config``: Liberty's and the patched tables'.
    New and gone findings carry both sides' traces (the other side replays the same actions
    as far as they are enabled there); unchanged ones their counts on each side."""
    lib = {ident_of(f): f for f in liberty.get("findings", [])}
    pat = {ident_of(f): f for f in patched.get("findings", [])}
    new, gone, unchanged = [], [], []
    for k, f in pat.items():
        if k in lib:
            u = _brief(f)
            u["liberty_count"], u["patched_count"] = lib[k].get("count"), f.get("count")
            u["liberty_depth"], u["patched_depth"] = lib[k].get("depth"), f.get("depth")
            unchanged.append(u)
            continue
        d = dict(f, in_baseline=False, patched_trace=f.get("trace", []))
        d["liberty_trace"], note = trace_on(config, LIBERTY, finding_actions(f))
        d["liberty_note"] = note or "the same actions on Liberty's tables: no such finding there"
        new.append(d)
    for k, f in lib.items():
        if k in pat:
            continue
        d = dict(f, liberty_trace=f.get("trace", []))
        d["patched_trace"], note = trace_on(config, patched_spec, finding_actions(f))
        d["patched_note"] = note or "the same actions on the patched tables: no such finding"
        gone.append(d)

    def order(f: dict[str, Any]) -> tuple[Any, ...]:
        return (f.get("property"), f.get("depth") or 0, f.get("key"), f.get("where") or "")

    rows = dict(liberty.get("rows") or {})
    rows.update(patched.get("rows") or {})
    return {
        "kind": "diff",
        "configuration": config.name,
        "variants": list(variants),
        "liberty": _side(liberty),
        "patched": _side(patched),
        "complete": bool(liberty.get("complete")) and bool(patched.get("complete")),
        "origin": patched.get("origin"),
        "initial_state": patched.get("initial_state"),
        "rows": rows,
        "new": sorted(new, key=order),
        "gone": sorted(gone, key=order),
        "unchanged": sorted(unchanged, key=order),
    }


def diff_text(d: dict[str, Any], cached: bool, max_traces: int | None = 5) -> str:
    """The diff report for people: the counts, each new and gone finding with its trace."""
    lib, pat = d["liberty"], d["patched"]
    lines = [f"configuration: {d['configuration']}  variants: {', '.join(d['variants']) or '-'}",
             f"Liberty: {lib['distinct_states']:,} states, {lib['transitions']:,} transitions"
             + (" (cached)" if cached else f", {lib['seconds']:.1f} s"),
             f"patched: {pat['distinct_states']:,} states, {pat['transitions']:,} transitions, "
             f"{pat['seconds']:.1f} s", ""]
    for kind, title in (("new", "NEW (found with the patch, not on Liberty)"),
                        ("gone", "GONE (found on Liberty, not with the patch)")):
        items = d[kind]
        lines.append(f"{title}: {len(items)}")
        for n, f in enumerate(items):
            if max_traces is not None and n >= max_traces:
                lines.append(f"  ... {len(items) - n} more (see --json or --html)")
                break
            side = "patched_trace" if kind == "new" else "liberty_trace"
            steps = f.get(side) or []
            lines.append(f"  {f['property']}: {f['key']}")
            lines.append(f"    in: {f.get('where') or '-'}; caused by: {f.get('cause') or '-'}; "
                         f"seen {f.get('count', 1):,} {'time' if f.get('count') == 1 else 'times'}")
            lines.append(f"    {f.get('message', '')}")
            lines.append(f"    shortest trace ({len(steps)} steps):")
            for s in steps:
                lines.append(f"    {s['n']:3d}. {s['actor']:24s} {s['action']}")
            other = "liberty_note" if kind == "new" else "patched_note"
            if f.get(other):
                lines.append(f"    other side: {f[other]}")
        lines.append("")
    lines.append(f"unchanged: {len(d['unchanged'])} findings on both")
    return "\n".join(lines) + "\n"


__all__ = ["cache_dir", "diff_reports", "diff_text", "ident_of", "liberty_reference",
           "reference_key", "source_fingerprint"]
