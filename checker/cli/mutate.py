"""``nova-resize mutate``: would these configurations notice a mistake in the tables? Mutants of
Liberty's tables, each judged by ``diff`` against Liberty (docs/mutate.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from nova_resize.engine.config import Config
from nova_resize.engine.presets import regression_names

from nova_resize.errors import UsageError
from nova_resize.files import check_output_dir, check_writable

from ..explorer import Control, stop_on_signals
from ..mutate import campaign, report
from ..mutate.operators import OPERATORS
from ..mutate.runner import ReferenceIncomplete
from .bounds import add_bound_flags, bounds_of
from .common import end_progress, positive, progress_printer, resolve_config, write_output
from .exits import FINDINGS, INCOMPLETE, INTERNAL, OK


def configs_of(names: list[str]) -> list[Config]:
    """``--config`` values: presets, files, or ``regression`` for the whole regression set."""
    out: list[Config] = []
    for name in names or ["regression"]:
        if name == "regression":
            out += [resolve_config(n) for n in regression_names()]
        else:
            out.append(resolve_config(name))
    seen: set[str] = set()
    for c in out:
        if c.name in seen:
            raise UsageError(f"--config: {c.name} is given twice")
        seen.add(c.name)
    return out


def operators_of(values: list[str]) -> list[str]:
    names = [x.strip() for v in values for x in v.split(",") if x.strip()]
    for n in names:
        if n not in OPERATORS:
            raise UsageError(f"--operators: no operator {n!r} (expected some of "
                             f"{', '.join(OPERATORS)})")
    return list(dict.fromkeys(names)) or list(OPERATORS)


def cmd_mutate(args: argparse.Namespace) -> int:
    if args.json:
        check_writable(args.json, "--json output")
    if args.out:
        check_output_dir(args.out)
    if args.fail_under is not None and not 0 <= args.fail_under <= 100:
        raise UsageError(f"--fail-under: expected a percentage from 0 to 100, found "
                         f"{args.fail_under:g}")
    configs = configs_of(args.config)
    every = campaign.mutants_of(operators_of(args.operators))
    chosen = campaign.sample(every, args.sample, args.seed)
    if args.list:
        for m in chosen:
            print(f"{m.id}\t{m.description}")
        print(f"{len(chosen)} mutants" + (f" (a sample of {len(every)})"
                                          if len(chosen) < len(every) else ""))
        return OK
    progress = progress_printer(args)
    control = Control()
    try:
        with stop_on_signals(control):
            doc = campaign.run(configs, [bounds_of(args, c).limits for c in configs], chosen,
                               len(every), args.sample, args.seed,
                               Path(args.out) if args.out else None, progress, control,
                               Path(args.cache) if args.cache else None, not args.no_cache)
    except ReferenceIncomplete as e:
        end_progress(progress)
        print(f"nova-resize: incomplete: {e}: mutants cannot be judged against it (raise its "
              f"bound)", file=sys.stderr)
        return INCOMPLETE
    end_progress(progress)
    if args.json:
        write_output(args.json, json.dumps(doc, indent=1) + "\n")
    if not args.quiet:
        sys.stdout.write(report.text(doc, None if args.all else 20))
    return verdict(doc, args.fail_under)


def verdict(doc: dict[str, Any], fail_under: float | None) -> int:
    """The exit status: 3 when nova-resize raised on some mutant (status ``error``), 4 when the
    run stopped before every mutant was judged, 1 when the kill rate is under
    ``--fail-under``, else 0."""
    rate = doc["total"]["kill_rate"]
    print(f"{doc['total']['killed']} of {doc['run']} mutants killed, kill rate "
          + ("-" if rate is None else f"{100 * rate:.1f}%")
          + ("" if doc["complete"] else " (PARTIAL)"))
    errors = [m["id"] for m in doc["mutants"] if m["status"] == "error"]
    if errors:
        print(f"nova-resize: internal error on {len(errors)} mutant(s), first {errors[0]}: "
              f"see their detail in the report (a bug: please report it)", file=sys.stderr)
        return INTERNAL
    if not doc["complete"]:
        print(f"nova-resize: incomplete: {doc['stop_reason']} before every mutant was judged",
              file=sys.stderr)
        return INCOMPLETE
    if fail_under is not None and rate is not None and 100 * rate < fail_under:
        print(f"nova-resize: kill rate {100 * rate:.1f}% is under --fail-under {fail_under:g}%",
              file=sys.stderr)
        return FINDINGS
    return OK


def _percent(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a percentage, found {text!r}") from None


def cmd_regression(args: argparse.Namespace) -> int:
    from ..explicit.regression import MANIFEST, check_set

    names = list(dict.fromkeys(args.preset))
    for n in names:
        if n not in regression_names():
            raise UsageError(f"--preset: no regression preset {n!r} (expected one of "
                             f"{', '.join(regression_names())})")
    path = Path(args.manifest) if args.manifest else MANIFEST
    if args.update:
        check_writable(path, "manifest")
    progress = progress_printer(args)
    runs, diffs = check_set(names or None, path, args.update, progress)
    end_progress(progress)
    total = sum(p.seconds for p in runs)
    if args.update:
        print(f"{path}: {len(runs)} presets written ({total:.1f} s)")
        return OK
    for d in diffs:
        print(d)
    print(f"{len(runs)} presets, {len(diffs)} differences from {path.name} ({total:.1f} s)")
    return FINDINGS if diffs else OK


def register(sub: Any, epilog: str) -> None:
    r = sub.add_parser("regression", help="run the regression presets and compare each with "
                       "its pinned states and findings (checker/regression.toml)", epilog=epilog)
    r.add_argument("--preset", action="append", default=[], metavar="NAME",
                   help="only this regression preset (repeatable; default: all)")
    r.add_argument("--update", action="store_true", help="write the runs' results into the "
                   "manifest instead of comparing")
    r.add_argument("--manifest", metavar="FILE", help="the manifest (default: the bundled "
                   "checker/regression.toml)")
    r.add_argument("--quiet", action="store_true", help="no progress lines")
    r.set_defaults(func=cmd_regression)
    p = sub.add_parser("mutate", help="mutation testing of the tables: would these "
                       "configurations notice a mistake? (each mutant judged by diff against "
                       "Liberty)", epilog=epilog)
    p.add_argument("--config", action="append", default=[], metavar="F",
                   help="a preset name or a TOML file (repeatable; 'regression', the default, "
                   "is every regression-* preset)")
    p.add_argument("--operators", action="append", default=[], metavar="OPS",
                   help=f"comma-separated operators (repeatable; default all: "
                   f"{', '.join(OPERATORS)})")
    p.add_argument("--sample", type=positive, metavar="N", help="judge at most N mutants, "
                   "chosen at random with every operator in proportion")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="the sample's seed "
                   "(default 0)")
    p.add_argument("--json", metavar="FILE", help="write the report here (docs/mutate.md)")
    p.add_argument("--out", metavar="DIR", help="write every mutant here as a variant file "
                   "(open a survivor with nova-resize diff --variant)")
    p.add_argument("--fail-under", type=_percent, metavar="PCT", help="exit 1 when the kill "
                   "rate is under PCT percent")
    p.add_argument("--list", action="store_true", help="list the mutants and stop")
    p.add_argument("--all", action="store_true", help="list every survivor, not the first 20")
    p.add_argument("--quiet", action="store_true", help="no progress, only the summary line")
    p.add_argument("--cache", metavar="DIR", help="where Liberty's runs are cached (default: "
                   "$NOVA_RESIZE_CACHE, else ~/.cache/nova-resize)")
    p.add_argument("--no-cache", action="store_true",
                   help="explore Liberty again, and do not store its runs")
    add_bound_flags(p)
    p.set_defaults(func=cmd_mutate)


__all__ = ["cmd_mutate", "cmd_regression", "configs_of", "operators_of", "register", "verdict"]
