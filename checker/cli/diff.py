"""``nova-resize diff``: review a patch by exploring Liberty and the patched tables on the same
configuration and comparing what each finds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..explicit import report as reports
from ..explicit.diff import diff_reports, diff_text, liberty_reference
from ..explicit.run import check
from ..explorer import Control, stop_on_signals
from ..variants import build_spec
from .bounds import add_bound_flags, bounds_of
from .common import end_progress, positive, progress_printer, resolve_config, write_output
from .exits import FINDINGS, INCOMPLETE, OK


def run_diff(args: argparse.Namespace, variants: list[str]) -> tuple[dict[str, Any], bool, Any]:
    """Liberty's run (cached) and the patched run of ``args.config``, and their diff report;
    also whether Liberty's side came from the cache and the patched run's result."""
    config = resolve_config(args.config)
    build_spec(variants)  # a bad variant is bad input before any run starts
    progress = progress_printer(args)
    bounds = bounds_of(args, config)
    control = Control()
    cache = Path(args.cache) if getattr(args, "cache", None) else None
    use_cache = not getattr(args, "no_cache", False)
    with stop_on_signals(control):
        if progress:
            progress("Liberty's tables: looking for a cached run")
        liberty, cached = liberty_reference(config, bounds.limits, progress, control, cache,
                                            use_cache)
        if progress and cached:
            progress("Liberty's tables: cached run found")
        res = None
        if control.reason is None:
            res = check(config, variants, [], limits=bounds.limits, progress=progress,
                        control=control)
    end_progress(progress)
    if res is None:
        patched: dict[str, Any] = {"findings": [], "complete": False, "distinct_states": 0,
                                   "transitions": 0, "seconds": 0.0,
                                   "stop_reason": control.reason or "interrupted"}
        spec = None
    else:
        patched = reports.to_json(res.report)
        spec = res.spec
    from nova_resize.spec import LIBERTY

    d = diff_reports(config, spec or LIBERTY, liberty, patched,
                     [Path(v).stem for v in variants])
    return d, cached, bounds


def cmd_diff(args: argparse.Namespace) -> int:
    for flag in ("json", "html"):
        path = getattr(args, flag, None)
        if path:
            from nova_resize.files import check_writable

            check_writable(path, f"--{flag} output")
    d, cached, bounds = run_diff(args, list(args.variant))
    if args.json:
        import json

        write_output(args.json, json.dumps(d, indent=1) + "\n")
    if args.html:
        from ..html import render_html

        write_output(args.html, render_html(d))
    if not args.quiet:
        sys.stdout.write(diff_text(d, cached, None if args.all_traces else 5))
    print(f"{len(d['new'])} new, {len(d['gone'])} gone, {len(d['unchanged'])} unchanged"
          + ("" if d["complete"] else " (PARTIAL)"))
    if d["new"]:
        return FINDINGS
    if not d["complete"] and not bounds.allow_partial:
        print("nova-resize: incomplete: a side stopped before its search finished (raise its "
              "bound, or --allow-partial to accept a bounded run)", file=sys.stderr)
        return INCOMPLETE
    return OK


def register(sub: Any, epilog: str) -> None:
    p = sub.add_parser("diff", help="explore Liberty and the patched tables on one "
                       "configuration and report what the patch adds (new) and fixes (gone)",
                       epilog=epilog)
    p.add_argument("--config", default="ci", help="a preset name or a TOML file (default: ci)")
    p.add_argument("--variant", action="append", default=[], metavar="FILE",
                   help="a variant patching Liberty's tables (repeatable, applied in order)")
    p.add_argument("--json", metavar="FILE", help="write the diff report (new, gone, "
                   "unchanged) here")
    p.add_argument("--html", metavar="FILE", help="write a self-contained HTML report here "
                   "(each side's trace, stepping together)")
    p.add_argument("--quiet", action="store_true", help="no progress, only the summary line")
    p.add_argument("--all-traces", action="store_true", help="print every new and gone trace")
    p.add_argument("--cache", metavar="DIR", help="where Liberty's runs are cached (default: "
                   "$NOVA_RESIZE_CACHE, else ~/.cache/nova-resize)")
    p.add_argument("--no-cache", action="store_true",
                   help="explore Liberty again, and do not store its run")
    add_bound_flags(p)
    p.add_argument("--max-depth", type=positive, metavar="N",
                   help="explore N steps deep at most")
    p.set_defaults(func=cmd_diff)


__all__ = ["cmd_diff", "register", "run_diff"]
