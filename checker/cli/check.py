"""``check`` and ``simulate``: explore a configuration and report the findings against the
baseline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nova_resize.engine.core import Engine

from nova_resize.files import check_output_dir, check_writable

from ..explicit import report as reports
from ..explicit.baseline import (
    BASELINE_HEADER,
    Known,
    load_baseline,
    load_baseline_reasons,
    render_baseline,
    update_entries,
)
from ..explicit.diff import ident_of, liberty_reference
from ..explicit.model import NovaModel
from ..explicit.run import check, unexplained_uncovered
from ..explorer import Control, Exploration, Finding, Visitor, stop_on_signals
from ..variants import build_spec
from . import resume
from .bounds import add_bound_flags, bounds_of
from .common import (
    add_variant,
    end_progress,
    positive,
    progress_printer,
    resolve_config,
    size_warning,
    write_output,
)
from .exits import FINDINGS, INCOMPLETE, OK
from .workers import add_worker_flags, workers_of


def cmd_check(args: argparse.Namespace, strategy: str | None = None) -> int:
    resume.prepare(args, strategy or args.strategy)
    config = resolve_config(args.config or "ci")
    if args.variant:
        build_spec(list(args.variant))  # a bad variant is bad input before Liberty's run
    _check_outputs(args)
    known: list[Known] = []
    if not args.no_baseline:
        # Liberty's known findings: the exact baseline of the shipped presets, and the reason
        # patterns that explain Liberty's behaviour on any other configuration
        known = load_baseline(args.baseline)
        if args.baseline is None:
            known += load_baseline_reasons(None)
    strategy = strategy or args.strategy
    progress = progress_printer(args)
    kwargs: dict[str, Any] = {}
    if strategy == "simulate":
        kwargs = {"runs": args.runs, "depth": args.depth, "seed": args.seed}
    visitors: list[Visitor] = []
    collector = None
    if getattr(args, "diagrams", None):
        from ..diagrams.projection import ProjectionCollector

        collector = ProjectionCollector()
        visitors.append(collector)
    bounds = bounds_of(args, config)
    workers, ray = workers_of(args, strategy) if strategy != "simulate" else (1, None)
    if strategy != "simulate" and not args.quiet:
        warning = size_warning(config)
        if warning:
            print(f"nova-resize: {warning}", file=sys.stderr)
    checkpoint = resume.checkpointer(args, config)
    if checkpoint is not None:
        workers, ray = 1, None  # a checkpointed run is a one-worker search (resume.prepare)
    control = Control()
    liberty = None
    reference = None
    with stop_on_signals(control):
        if args.variant and not args.no_baseline and strategy != "simulate":
            # a patch is judged against Liberty on the same configuration (as diff does)
            liberty, _ = liberty_reference(config, bounds.limits, progress, control)
            reference = {ident_of(f): "also found on Liberty's tables" + (
                f" ({f['baseline_reason']})" if f.get("baseline_reason") else "")
                for f in liberty["findings"]}
            # ...and by that run alone, as diff judges it: the bundled baseline and its reason
            # patterns explain Liberty's findings, and a pattern would excuse a patch's new
            # finding that only looks like one of them (a handler the patch leaves blocked at
            # every resize is a stuck resize, as a crash makes one on Liberty). A baseline
            # the user names still counts.
            known = load_baseline(args.baseline) if args.baseline is not None else []
        res = check(config, args.variant, known, strategy=strategy, limits=bounds.limits,
                    progress=progress, visitors=visitors, control=control,
                    reference=reference, checkpoint=checkpoint, workers=workers, ray=ray,
                    por=getattr(args, "por", False), **kwargs)
    end_progress(progress)
    rep = res.report
    if liberty is not None:
        seen = {f.ident for f, _, _, _ in rep.findings}
        rep.gone = [{k: f.get(k) for k in ("property", "key", "where", "message",
                                           "baseline_reason")}
                    for f in liberty["findings"] if ident_of(f) not in seen]
    if args.json:
        write_output(args.json, reports.to_json_text(rep))
    if args.junit:
        write_output(args.junit, reports.to_junit(rep))
    if args.html:
        from ..html import render_html

        write_output(args.html, render_html(reports.to_json(rep)))
    if not args.quiet:
        sys.stdout.write(reports.text(rep, res.spec, max_traces=None if args.all_traces else 5,
                                      verbose=args.verbose))
    if liberty is not None and not args.quiet:
        print(f"{len(rep.gone)} of Liberty's findings on {config.name} are gone with the patch"
              + (":" if rep.gone else ""))
        for g in rep.gone:
            print(f"  {g['property']}: {g['key']}  (in: {g['where'] or '-'})")
    if collector is not None:
        _trace_diagrams(args.diagrams, rep, collector)
    unexplained = 0
    if args.update_baseline:
        unexplained = _update_baseline(args.update_baseline, args.reasons, rep)
    new = rep.new_findings
    missing = unexplained_uncovered(rep) if args.require_coverage and rep.ex.complete else []
    incomplete = bounds.incomplete(rep.ex)
    print(f"{len(rep.findings)} findings, {len(new)} not in the baseline; "
          f"{rep.ex.distinct_states:,} states, {rep.ex.transitions:,} transitions in "
          f"{rep.ex.seconds:.1f}s" + ("" if rep.ex.complete else
                                      f" (PARTIAL: {rep.ex.stop_reason})"))
    if missing:
        print(f"rows never executed without a stated reason: {', '.join(missing)}")
    if checkpoint is not None and checkpoint.failed:
        print(f"nova-resize: warning: the last checkpoint could not be written: "
              f"{checkpoint.failed}", file=sys.stderr)
    if new or missing or unexplained:
        return FINDINGS
    if incomplete:
        why = (f"{rep.ex.stop_reason}" if rep.ex.stop_kind == "interrupt" else
               f"stopped by the {rep.ex.stop_reason} (raise it, or --allow-partial to accept a "
               f"bounded run)")
        again = (f"; resume it with --resume {checkpoint.dir}"
                 if checkpoint is not None and checkpoint.written else "")
        print(f"nova-resize: incomplete: {why}, before the search finished{again}",
              file=sys.stderr)
        return INCOMPLETE
    return OK


def _check_outputs(args: argparse.Namespace) -> None:
    """Fail before a long run, not after it, on an output that cannot be written."""
    for flag in ("json", "junit", "html", "update_baseline"):
        path = getattr(args, flag, None)
        if path:
            check_writable(path, f"--{flag.replace('_', '-')} output")
    if getattr(args, "diagrams", None):
        check_output_dir(args.diagrams)


def _trace_diagrams(out: str, rep: reports.Report, collector: Any) -> None:
    from ..diagrams import projection, sequence
    from ..diagrams.render import write_diagrams

    dots = {"projection": projection.projection_dot(
        collector, f"{rep.config}: (vm_state/task_state [migration]) reached, with step counts")}
    for n, (f, steps, known, _) in enumerate(rep.findings):
        if known:
            continue
        title = f"{f.prop}: {f.key} ({'baseline' if known else 'NEW'})"
        dots[f"finding-{n:03d}"] = sequence.trace_sequence_dot(title, steps, f"finding_{n}")
    write_diagrams(dots, Path(out), ["dot", "svg"])


def _update_baseline(path: str, reasons_path: str | None, rep: reports.Report) -> int:
    """Re-derive this run's preset in the baseline at ``path`` (see
    :func:`~nova_resize.checker.explicit.baseline.update_entries`); the return value is how
    many findings no reason pattern explains (written as UNEXPLAINED)."""
    existing = load_baseline(path) if Path(path).exists() else []
    entries, unexplained = update_entries(
        existing, load_baseline_reasons(reasons_path), rep.config,
        [(f.prop, f.key, f.where, f.message) for f, _, _, _ in rep.findings])
    write_output(path, render_baseline(entries, BASELINE_HEADER))
    if unexplained:
        print(f"{len(unexplained)} findings have no reason yet: " + "; ".join(unexplained))
    return len(unexplained)


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.hypothesis:
        return cmd_hypothesis(args)
    return cmd_check(args, "simulate")


def cmd_hypothesis(args: argparse.Namespace) -> int:
    """The Hypothesis state machine: random interleavings, shrunk to a minimal failure."""
    from ..explicit.hypothesis import run_machine

    config = resolve_config(args.config or "ci")
    spec, _ = build_spec(args.variant)
    # random walks of larger clouds meet keys the exhaustive runs never produced: the reason
    # patterns (globs) decide what is known, besides the exact baseline
    known: list[Known] = []
    if not args.no_baseline:
        known = load_baseline(args.baseline) + load_baseline_reasons(args.reasons)
    out = run_machine(config, args.examples, args.steps, args.seed, spec, known)
    if out.prop is None:
        print(f"hypothesis: {args.examples} examples of up to {args.steps} steps on "
              f"{config.name}: no finding outside the baseline")
        return 0
    model = NovaModel(Engine(config, spec))
    steps = reports.build_trace(model, out.actions)
    f = Finding(out.prop, out.key or "", out.message or "", 0, None, len(steps), "hypothesis")
    rep = reports.Report(config.name, [], "hypothesis", Exploration(config.name, "hypothesis"),
                         [(f, steps, False, "")], [])
    _describe_run(rep, config, args.variant, spec, model)
    if args.json:
        write_output(args.json, reports.to_json_text(rep))
    if args.html:
        from ..html import render_html

        write_output(args.html, render_html(reports.to_json(rep)))
    sys.stdout.write(reports.findings_text(rep))
    return 1


def _describe_run(rep: reports.Report, config: Any, variants: list[str], spec: Any,
                  model: NovaModel) -> None:
    """What a report needs to be replayed and read: the run's origin, the initial world and
    the citations of the rows its traces ran."""
    from ..explicit.replay import run_origin

    rep.origin = run_origin(config, variants)
    rep.initial = reports.state_summary(model.engine.initial())
    rep.citations = reports.row_citations(spec, rep)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="preset name or TOML file (default: ci)")
    add_variant(p)
    p.add_argument("--json", metavar="FILE", help="write the JSON report here")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report here")
    p.add_argument("--html", metavar="FILE",
                   help="write a self-contained HTML report here (traces to step through)")
    p.add_argument("--baseline", metavar="FILE",
                   help="known findings (default: the bundled Liberty baseline)")
    p.add_argument("--no-baseline", action="store_true", help="report every finding as new")
    p.add_argument("--quiet", action="store_true", help="no progress, only the summary line")
    p.add_argument("--verbose", action="store_true",
                   help="the property table even on a passing run")
    p.add_argument("--all-traces", action="store_true",
                   help="print the traces of baseline findings too")
    add_bound_flags(p)
    p.add_argument("--update-baseline", metavar="FILE",
                   help="write this run's findings into the baseline FILE (exact keys)")
    p.add_argument("--reasons", metavar="FILE",
                   help="reason patterns for --update-baseline (default: the bundled "
                   "checker/baseline_reasons.toml)")
    p.add_argument("--require-coverage", action="store_true",
                   help="fail if a spec row is never executed without a stated reason")


def register(sub: Any, epilog: str) -> None:
    c = sub.add_parser("check", help="explore every interleaving and check the properties",
                       epilog=epilog)
    _common(c)
    c.add_argument("--strategy", choices=("bfs", "dfs"), default="bfs")
    c.add_argument("--max-depth", type=positive, metavar="N")
    add_worker_flags(c)
    c.add_argument("--por", action="store_true",
                   help="partial-order reduction: where a handler's next step touches only its "
                   "own memory, take that step alone (the same findings; docs/architecture.md)")
    c.add_argument("--diagrams", metavar="DIR",
                   help="draw the reached projection graph and each new finding's trace here")
    resume.add_checkpoint_flags(c)
    c.set_defaults(func=cmd_check)

    m = sub.add_parser("simulate", help="random walks (seeded) for configurations too large "
                       "to exhaust", epilog=epilog)
    _common(m)
    m.add_argument("--runs", type=positive, default=1000)
    m.add_argument("--depth", type=positive, default=80)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--hypothesis", action="store_true",
                   help="use the Hypothesis state machine (shrinks a failure to a minimal "
                   "interleaving); --config hypothesis is its 3-instance, 4-host cloud")
    m.add_argument("--examples", type=positive, default=200)
    m.add_argument("--steps", type=positive, default=100)
    m.set_defaults(func=cmd_simulate)


__all__ = ["cmd_check", "cmd_hypothesis", "cmd_simulate", "register"]
