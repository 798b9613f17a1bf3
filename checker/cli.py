"""The ``nova-resize`` command line. Exit status: 0 success, 1 findings or rejection, 2 bad
input (with a one-line message naming the file, key or line)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from nova_resize.engine.config import Config, ConfigError, load_config
from nova_resize.engine.presets import load_preset, preset_names
from nova_resize.spec import LIBERTY

from . import report as reports
from . import spec_export
from .baseline import Known, load_baseline, lookup, render_baseline
from .explore import eprint
from .run import build_spec, check, unexplained_uncovered
from .walk import seed_walk


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


def resolve_config(name: str) -> Config:
    """A preset name or a TOML file path."""
    if name in preset_names():
        return load_preset(name)
    if name.endswith(".toml") or Path(name).exists():
        return load_config(name)
    raise ConfigError(
        f"--config {name}: no such preset or file (presets: {', '.join(preset_names())})"
    )


def cmd_spec(args: argparse.Namespace) -> int:
    if args.format == "json":
        sys.stdout.write(spec_export.to_json_text(LIBERTY) + "\n")
    else:
        sys.stdout.write(spec_export.to_markdown(LIBERTY))
    return 0


def cmd_walk(args: argparse.Namespace) -> int:
    config = resolve_config(args.config)
    snaps = seed_walk(config, args.instance, args.flavor)
    for s in snaps:
        if not args.quiet:
            print(f"# step {s.step}: {s.action}")
            if s.rows:
                print(f"#   rows: {', '.join(s.rows)}")
            print(s.table)
            print()
    print("walk: " + " -> ".join(f"{s.status} {s.task_state}" for s in snaps))
    return 0


def _progress(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if args.quiet or os.environ.get("CI") or not sys.stderr.isatty():
        return None
    return eprint


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"{path}: cannot write: {e.strerror}") from None


def cmd_check(args: argparse.Namespace, strategy: str | None = None) -> int:
    config = resolve_config(args.config)
    known = [] if args.no_baseline else load_baseline(args.baseline)
    strategy = strategy or args.strategy
    progress = _progress(args)
    kwargs = {}
    if strategy == "simulate":
        kwargs = {"runs": args.runs, "depth": args.depth, "seed": args.seed}
    collector = None
    if getattr(args, "diagrams", None):
        from .diagrams import ProjectionCollector

        collector = ProjectionCollector()
    res = check(config, args.variant, known, strategy=strategy,
                max_states=args.max_states, max_depth=getattr(args, "max_depth", None),
                max_seconds=args.max_seconds, progress=progress, step_hook=collector, **kwargs)
    if progress is not None:
        sys.stderr.write("\r\x1b[2K")
    rep = res.report
    if args.json:
        _write(args.json, reports.to_json_text(rep))
    if args.junit:
        _write(args.junit, reports.to_junit(rep))
    if not args.quiet:
        sys.stdout.write(reports.text(rep, res.spec, max_traces=None if args.all_traces else 5))
    if collector is not None:
        _trace_diagrams(args.diagrams, rep, collector)
    if args.update_baseline:
        _update_baseline(args.update_baseline, args.reasons, rep)
    new = rep.new_findings
    missing = unexplained_uncovered(rep) if args.require_coverage else []
    print(f"{len(rep.findings)} findings, {len(new)} not in the baseline; "
          f"{rep.ex.distinct_states:,} states, {rep.ex.transitions:,} transitions in "
          f"{rep.ex.seconds:.1f}s" + ("" if rep.ex.complete else f" (PARTIAL: "
                                      f"{rep.ex.stop_reason})"))
    if missing:
        print(f"rows never executed without a stated reason: {', '.join(missing)}")
    return 1 if new or missing else 0


def _trace_diagrams(out: str, rep: reports.Report, collector: object) -> None:
    from . import diagrams

    dots = {"projection": diagrams.projection_dot(
        collector, f"{rep.config}: (vm_state/task_state [migration]) reached, with step counts")}  # type: ignore[arg-type]
    for n, (f, steps, known, _) in enumerate(rep.findings):
        if known and not getattr(rep, "all_traces", False):
            continue
        title = f"{f.prop}: {f.key} ({'baseline' if known else 'NEW'})"
        dots[f"finding-{n:03d}"] = diagrams.trace_sequence_dot(title, steps, f"finding_{n}")
    diagrams.write_diagrams(dots, Path(out), ["dot", "svg"])


def _update_baseline(path: str, reasons_path: str | None, rep: reports.Report) -> None:
    """Write every finding of this run into the baseline at ``path`` (keeping its other
    entries), each with the reason of the first pattern it matches in ``reasons_path``."""
    existing = load_baseline(path) if Path(path).exists() else []
    reasons = load_baseline(reasons_path) if reasons_path else existing
    entries = {(k.prop, k.key): k for k in existing}
    unexplained = []
    for f, _, _, _ in rep.findings:
        if (f.prop, f.key) in entries:
            continue
        k = lookup(reasons, f.prop, f.key)
        if k is None:
            unexplained.append(f"{f.prop}: {f.key}")
            k = Known(f.prop, f.key, f"UNEXPLAINED: {f.message}")
        entries[(f.prop, f.key)] = Known(f.prop, f.key, k.reason, k.bug)
    header = ("# Known findings of nova 12.0.0 (Liberty) on the built-in configurations, written "
              "by\n# nova-resize check --update-baseline; reasons from "
              "checker/baseline_reasons.toml.")
    _write(path, render_baseline(list(entries.values()), header))
    if unexplained:
        print(f"{len(unexplained)} findings have no reason yet: " + "; ".join(unexplained))


def cmd_diagram(args: argparse.Namespace) -> int:
    from . import diagrams

    spec, variants = build_spec(args.variant)
    changed: set[str] = set()
    if args.diff:
        if not variants:
            raise UsageError("--diff: expected at least one --variant to compare with Liberty")
        for v in variants:
            changed.update(v.changed_rows)
    dots = diagrams.spec_diagrams(spec, changed)
    written = diagrams.write_diagrams(dots, Path(args.out), _formats(args.format))
    if not args.quiet:
        for p in written:
            print(p)
    return 0


def _formats(fmt: str) -> list[str]:
    return ["dot", "svg"] if fmt == "all" else [fmt]


def cmd_bmc(args: argparse.Namespace) -> int:
    """k steps of the one-instance model in z3, compared depth by depth with the explicit
    explorer."""
    import json as _json

    from .bmc import Encoding, OutsideFragment, format_projection, iter_cross_check

    config = resolve_config(args.config)
    spec, _ = build_spec(args.variant)
    t0 = time.monotonic()
    try:
        enc = Encoding(config, spec)
    except OutsideFragment as e:
        raise UsageError(f"--config {args.config}: {e}") from None
    if not args.quiet:
        print(f"bmc: configuration {config.name}; z3 encoding: {len(enc.actions)} actions, "
              f"{len(enc.layout.names)} variables per step, "
              f"{sum(len(c) for c in enc.ctls.values())} control points")
        print("depth  z3  explicit  agree  seconds")
    rows = []
    bad = []
    for r in iter_cross_check(enc, args.depth):
        rows.append(r)
        if not r.agree:
            bad.append(r)
        if not args.quiet:
            print(f"{r.depth:5d} {len(r.symbolic):3d} {len(r.explicit):9d}  "
                  f"{'yes' if r.agree else 'NO':5s} {r.seconds:8.1f}", flush=True)
            if not r.agree:
                for label, side in (("z3 only", r.symbolic - r.explicit),
                                    ("explicit only", r.explicit - r.symbolic)):
                    if side:
                        print(f"      {label}: " + ", ".join(sorted(map(format_projection,
                                                                        side))))
                if r.overflow:
                    print("      the z3 side reaches a behaviour its encoding does not follow "
                          "(a second migration, handler or message of one kind)")
    total = time.monotonic() - t0
    if bad:
        print(f"bmc: DISAGREE at depth {', '.join(str(r.depth) for r in bad)}; {total:.1f}s")
    else:
        print(f"bmc: z3 and the explicit explorer agree at every depth 0..{args.depth} "
              f"({len(rows[-1].explicit)} (vm_state, task_state, migration status) combinations "
              f"within {args.depth} steps); {total:.1f}s")
    if args.json:
        _write(args.json, _json.dumps({
            "configuration": config.name, "depth": args.depth, "agree": not bad,
            "seconds": round(total, 3),
            "depths": [{"depth": r.depth, "agree": r.agree, "overflow": r.overflow,
                        "seconds": round(r.seconds, 3),
                        "z3": sorted(map(format_projection, r.symbolic)),
                        "explicit": sorted(map(format_projection, r.explicit))} for r in rows],
        }, indent=2))
    return 1 if bad else 0


def cmd_prove(args: argparse.Namespace) -> int:
    """z3 proofs over the tables; refutations not in the proofs baseline fail."""
    import json as _json

    from .proofs import prove_all

    spec, variants = build_spec(args.variant)
    t0 = time.monotonic()
    results = prove_all(spec)
    known = {} if args.no_baseline else load_proof_baseline(args.baseline)
    new = []
    for r in results:
        if r.status != "proved" and (r.group, r.name) not in known:
            new.append(r)
    if not args.quiet:
        width = max(len(f"{r.group} {r.name}") for r in results)
        for r in results:
            tag = ""
            if r.status != "proved":
                tag = "  [known: " + known[(r.group, r.name)] + "]" if (
                    (r.group, r.name) in known) else "  [NEW]"
            print(f"{r.status:8s} {(r.group + ' ' + r.name):{width}s}  {r.detail}{tag}")
    counts = {s: sum(1 for r in results if r.status == s) for s in ("proved", "refuted",
                                                                    "unknown")}
    print(f"prove: {counts['proved']} proved, {counts['refuted']} refuted, {counts['unknown']} "
          f"unknown, {len(new)} not in the baseline; {time.monotonic() - t0:.1f}s"
          + (f" (variants: {', '.join(v.name for v in variants)})" if variants else ""))
    if args.json:
        _write(args.json, _json.dumps([r.__dict__ for r in results], indent=2))
    return 1 if new else 0


def load_proof_baseline(path: str | None) -> dict[tuple[str, str], str]:
    """Known refutations of the proofs: (group, name) -> reason."""
    from importlib import resources as ir

    from nova_resize.engine.config import parse_toml_text

    if path is None:
        text = ir.files("nova_resize.checker").joinpath("proofs_baseline.toml").read_text(
            encoding="utf-8")
        source = "<bundled proofs baseline>"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as e:
            raise UsageError(f"{path}: cannot read: {e.strerror}") from None
        source = path
    data = parse_toml_text(text, source)
    out = {}
    for n, item in enumerate(data.get("refuted", [])):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str)
                                                 for k in ("group", "name", "reason")):
            raise UsageError(f"{source}: refuted[{n}]: expected group, name and reason strings")
        out[(item["group"], item["name"])] = item["reason"]
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    import json as _json

    from .observe import ObservationError, read_all
    from .validate import validate, verdict_json, verdict_text

    spec, _ = build_spec(args.variant)
    config = resolve_config(args.config)
    try:
        obs = read_all(args.files, args.format, spec)
    except ObservationError as e:
        raise UsageError(str(e)) from None
    v = validate(config, spec, obs, args.instance, args.max_gap, args.max_requests)
    if args.json:
        _write(args.json, _json.dumps(verdict_json(v), indent=2, default=str))
    if not args.quiet or not v.accepted:
        sys.stdout.write(verdict_text(v))
    return 0 if v.accepted else 1


def cmd_explain(args: argparse.Namespace) -> int:
    import json as _json

    from .explain import explain_file, explanation_json, explanation_text
    from .observe import ObservationError

    spec, _ = build_spec(args.variant)
    config = resolve_config(args.config)
    try:
        e = explain_file(config, spec, args.file, args.migrations, args.max_states)
    except ObservationError as err:
        raise UsageError(str(err)) from None
    if args.json:
        _write(args.json, _json.dumps(explanation_json(e), indent=2))
    sys.stdout.write(explanation_text(e))
    return 0 if e.reachable else 1


def cmd_simulate(args: argparse.Namespace) -> int:
    if args.hypothesis:
        return cmd_hypothesis(args)
    return cmd_check(args, "simulate")


def cmd_hypothesis(args: argparse.Namespace) -> int:
    """The Hypothesis state machine: random interleavings, shrunk to a minimal failure."""
    from .explore import Exploration, Explorer, Finding
    from .stateful import large_config, run_machine

    config = large_config() if args.config == "hypothesis" else resolve_config(args.config)
    spec, _ = build_spec(args.variant)
    # random walks of larger clouds meet keys the exhaustive runs never produced: the reason
    # patterns (globs) decide what is known, besides the exact baseline
    known: list[Known] = []
    if not args.no_baseline:
        known = load_baseline(args.baseline) + (
            load_baseline(args.reasons) if args.reasons else load_baseline_reasons())
    out = run_machine(config, args.examples, args.steps, args.seed, spec, known)
    if out.prop is None:
        print(f"hypothesis: {args.examples} examples of up to {args.steps} steps on "
              f"{config.name}: no finding outside the baseline")
        return 0
    from nova_resize.engine.core import Engine

    explorer = Explorer(Engine(config, spec), liveness=False)
    steps = reports.build_trace(explorer, out.actions)
    f = Finding(out.prop, out.key or "", out.message or "", 0, None, len(steps), "hypothesis")
    rep = reports.Report(config.name, [], "hypothesis", Exploration(config.name, "hypothesis"),
                         [(f, steps, False, "")], [])
    sys.stdout.write(reports.findings_text(rep))
    return 1


def load_baseline_reasons() -> list[Known]:
    from importlib import resources as ir

    from .baseline import parse_baseline

    text = ir.files("nova_resize.checker").joinpath("baseline_reasons.toml").read_text(
        encoding="utf-8")
    return parse_baseline(text, "<bundled baseline reasons>")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="ci", help="preset name or TOML file (default: ci)")
    p.add_argument("--variant", action="append", default=[], metavar="FILE",
                   help="a spec overlay (repeatable)")
    p.add_argument("--json", metavar="FILE", help="write the JSON report here")
    p.add_argument("--junit", metavar="FILE", help="write a JUnit XML report here")
    p.add_argument("--baseline", metavar="FILE",
                   help="known findings (default: the bundled Liberty baseline)")
    p.add_argument("--no-baseline", action="store_true", help="report every finding as new")
    p.add_argument("--quiet", action="store_true", help="no progress, only the summary line")
    p.add_argument("--all-traces", action="store_true",
                   help="print the traces of baseline findings too")
    p.add_argument("--max-states", type=_positive, metavar="N")
    p.add_argument("--max-seconds", type=_positive, metavar="S")
    p.add_argument("--update-baseline", metavar="FILE",
                   help="write this run's findings into the baseline FILE (exact keys)")
    p.add_argument("--reasons", metavar="FILE",
                   help="reason patterns for --update-baseline (default: FILE itself)")
    p.add_argument("--require-coverage", action="store_true",
                   help="fail if a spec row is never executed without a stated reason")


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nova-resize",
        description="An executable specification of Nova Liberty's resize family, and its "
        "model checker.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("spec", help="print the spec's tables")
    s.add_argument("--format", choices=("json", "markdown"), default="markdown")
    s.set_defaults(func=cmd_spec)

    w = sub.add_parser("walk", help="replay the seed's walk: one resize with nova list snapshots")
    w.add_argument("--config", default="seed", help="preset name or TOML file (default: seed)")
    w.add_argument("--instance", help="instance to resize (default: the first)")
    w.add_argument("--flavor", help="flavor to resize to (default: actions.resize_flavors[0])")
    w.add_argument("--quiet", action="store_true", help="print only the summary line")
    w.set_defaults(func=cmd_walk)

    c = sub.add_parser("check", help="explore every interleaving and check the properties")
    _common(c)
    c.add_argument("--strategy", choices=("bfs", "dfs"), default="bfs")
    c.add_argument("--max-depth", type=_positive, metavar="N")
    c.add_argument("--diagrams", metavar="DIR",
                   help="draw the reached projection graph and each new finding's trace here")
    c.set_defaults(func=cmd_check)

    va = sub.add_parser("validate", help="check observations of a real cloud (nova list, "
                        "server show, notifications, instance actions) against the spec")
    va.add_argument("files", nargs="+", metavar="FILE")
    va.add_argument("--config", default="seed",
                    help="the cloud and fault model (default: seed); hosts, flavors and the "
                    "instance are taken from the trace where it names them")
    va.add_argument("--variant", action="append", default=[], metavar="FILE")
    va.add_argument("--format", default="auto",
                    choices=("auto", "nova-list", "server-show", "notifications",
                             "instance-actions"))
    va.add_argument("--instance", help="the instance to follow (default: the first named)")
    va.add_argument("--max-gap", type=_positive, default=40,
                    help="unobserved steps allowed between two observations (default 40)")
    va.add_argument("--max-requests", type=int, default=1,
                    help="unobserved user requests allowed between two observations")
    va.add_argument("--json", metavar="FILE")
    va.add_argument("--quiet", action="store_true")
    va.set_defaults(func=cmd_validate)

    xp = sub.add_parser("explain", help="how could an instance get into this state, and what "
                        "happens next")
    xp.add_argument("file", metavar="FILE", help="`openstack server show -f json` output")
    xp.add_argument("--migrations", metavar="FILE", help="`nova migration-list` JSON")
    xp.add_argument("--config", default="explain")
    xp.add_argument("--variant", action="append", default=[], metavar="FILE")
    xp.add_argument("--json", metavar="FILE")
    xp.add_argument("--max-states", type=_positive, default=150_000,
                    help="bound the search (default 150000; shortest ways come first)")
    xp.set_defaults(func=cmd_explain)

    pv = sub.add_parser("prove", help="z3 proofs: disjoint guards, legal results, quota "
                        "arithmetic for all flavor sizes, induction")
    pv.add_argument("--variant", action="append", default=[], metavar="FILE")
    pv.add_argument("--baseline", metavar="FILE",
                    help="known refutations (default: the bundled one)")
    pv.add_argument("--no-baseline", action="store_true")
    pv.add_argument("--json", metavar="FILE")
    pv.add_argument("--quiet", action="store_true")
    pv.set_defaults(func=cmd_prove)

    bm = sub.add_parser("bmc", help="bounded model checking in z3, cross-checked depth by "
                        "depth against the explicit explorer")
    bm.add_argument("--config", default="bmc",
                    help="preset name or TOML file (default: bmc; one instance, no crash, loss "
                    "or periodic task)")
    bm.add_argument("--variant", action="append", default=[], metavar="FILE")
    bm.add_argument("--depth", type=_positive, default=16, metavar="K",
                    help="steps to unroll (default 16)")
    bm.add_argument("--json", metavar="FILE")
    bm.add_argument("--quiet", action="store_true")
    bm.set_defaults(func=cmd_bmc)

    d = sub.add_parser("diagram", help="draw the spec's state and sequence diagrams")
    d.add_argument("--out", default="diagrams", help="output directory (default: diagrams)")
    d.add_argument("--format", choices=("svg", "png", "dot", "all"), default="all",
                   help="all: DOT and SVG (default)")
    d.add_argument("--variant", action="append", default=[], metavar="FILE")
    d.add_argument("--diff", action="store_true",
                   help="highlight the rows the variants change")
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=cmd_diagram)

    m = sub.add_parser("simulate", help="random walks (seeded) for configurations too large "
                       "to exhaust")
    _common(m)
    m.add_argument("--runs", type=_positive, default=1000)
    m.add_argument("--depth", type=_positive, default=80)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--hypothesis", action="store_true",
                   help="use the Hypothesis state machine (shrinks a failure to a minimal "
                   "interleaving); --config hypothesis is its 3-instance, 4-host cloud")
    m.add_argument("--examples", type=_positive, default=200)
    m.add_argument("--steps", type=_positive, default=100)
    m.set_defaults(func=cmd_simulate)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigError, UsageError) as e:
        print(f"nova-resize: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
