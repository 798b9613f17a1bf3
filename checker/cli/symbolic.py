"""``prove`` and ``bmc``: the z3 proofs over the tables, and bounded model checking
cross-checked against the explicit explorer."""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from nova_resize.errors import InputError, UsageError
from nova_resize.files import bundled_text, check_writable, parse_toml, read_text

from ..variants import build_spec
from .common import add_variant, positive, resolve_config, write_output
from .exits import FINDINGS, INCOMPLETE, OK

MAX_BMC_DEPTH = 1_000
"""The deepest unrolling bmc accepts: the one-instance models it encodes settle within a few
dozen steps, and every step costs z3 more than the last."""


def cmd_bmc(args: argparse.Namespace) -> int:
    """k steps of the one-instance model in z3, compared depth by depth with the explicit
    explorer."""
    from ..symbolic.bmc import Encoding, OutsideFragment, format_projection, iter_cross_check

    if args.depth > MAX_BMC_DEPTH:
        raise InputError(f"--depth: at most {MAX_BMC_DEPTH:,} steps (each one more unrolling "
                         f"for z3 and a level of the explicit search), found {args.depth:,}")
    config = resolve_config(args.config)
    spec, _ = build_spec(args.variant)
    if args.json:
        check_writable(args.json, "--json output")
    t0 = time.monotonic()
    try:
        enc = Encoding(config, spec)
    except OutsideFragment as e:
        raise OutsideFragment(f"--config {args.config}: {e}") from None
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
                if r.unknown is not None:
                    print(f"      z3 answered unknown ({r.unknown}): its side is incomplete")
                if r.overflow:
                    print("      the z3 side reaches a behaviour its encoding does not follow "
                          "(a second migration, handler or message of one kind)")
    total = time.monotonic() - t0
    undecided = [r for r in rows if r.unknown is not None]
    differ = [r for r in bad if r.unknown is None]
    if differ:
        print(f"bmc: DISAGREE at depth {', '.join(str(r.depth) for r in differ)}; {total:.1f}s")
    elif undecided:
        print(f"bmc: z3 answered unknown at depth "
              f"{', '.join(str(r.depth) for r in undecided)} ({undecided[0].unknown}): no "
              f"conclusion; {total:.1f}s")
    else:
        print(f"bmc: z3 and the explicit explorer agree at every depth 0..{args.depth} "
              f"({len(rows[-1].explicit)} (vm_state, task_state, migration status) combinations "
              f"within {args.depth} steps); {total:.1f}s")
    if args.json:
        write_output(args.json, json.dumps({
            "configuration": config.name, "depth": args.depth, "agree": not bad,
            "seconds": round(total, 3),
            "depths": [{"depth": r.depth, "agree": r.agree, "overflow": r.overflow,
                        "seconds": round(r.seconds, 3), "unknown": r.unknown,
                        "z3": sorted(map(format_projection, r.symbolic)),
                        "explicit": sorted(map(format_projection, r.explicit))} for r in rows],
        }, indent=2))
    if differ:
        return FINDINGS
    return INCOMPLETE if undecided else OK


def cmd_prove(args: argparse.Namespace) -> int:
    """z3 proofs over the tables; refutations not in the proofs baseline fail."""
    from ..symbolic.proofs import prove_all

    spec, variants = build_spec(args.variant)
    baselines = ({"refuted": {}, "unknown": {}} if args.no_baseline
                 else load_proof_baselines(args.baseline))
    if args.json:
        check_writable(args.json, "--json output")
    t0 = time.monotonic()
    results = prove_all(spec)
    # a result is known only under its own status: a known refutation that comes back unknown
    # is an unknown not in the baseline (z3 gave no answer: nothing was shown either way)
    known = {(status, g, n): reason for status, entries in baselines.items()
             for (g, n), reason in entries.items()}
    new = [r for r in results if r.status == "refuted"
           and ("refuted", r.group, r.name) not in known]
    undecided = [r for r in results if r.status == "unknown"
                 and ("unknown", r.group, r.name) not in known]
    if not args.quiet:
        width = max(len(f"{r.group} {r.name}") for r in results)
        for r in results:
            tag = ""
            if r.status != "proved":
                reason = known.get((r.status, r.group, r.name))
                tag = (f"  [known: {reason}]" if reason is not None
                       else "  [UNKNOWN: not proved]" if r.status == "unknown" else "  [NEW]")
            print(f"{r.status:8s} {(r.group + ' ' + r.name):{width}s}  {r.detail}{tag}")
    counts = {s: sum(1 for r in results if r.status == s) for s in ("proved", "refuted",
                                                                    "unknown")}
    print(f"prove: {counts['proved']} proved, {counts['refuted']} refuted, {counts['unknown']} "
          f"unknown, {len(new) + len(undecided)} not in the baseline; "
          f"{time.monotonic() - t0:.1f}s"
          + (f" (variants: {', '.join(v.name for v in variants)})" if variants else ""))
    if undecided:
        print(f"prove: z3 answered unknown on {len(undecided)} not in the baseline "
              f"({', '.join(f'{r.group} {r.name}' for r in undecided[:5])}"
              f"{' ...' if len(undecided) > 5 else ''}): not proved")
    if args.json:
        write_output(args.json, json.dumps([r.__dict__ for r in results], indent=2))
    if new:
        return FINDINGS
    return INCOMPLETE if undecided else OK


def load_proof_baseline(path: str | None) -> dict[tuple[str, str], str]:
    """Known refutations of the proofs: (group, name) -> reason."""
    return load_proof_baselines(path)["refuted"]


def load_proof_baselines(path: str | None) -> dict[str, dict[tuple[str, str], str]]:
    """The proofs baseline: its known refutations (``[[refuted]]``) and the queries z3 is known
    not to decide (``[[unknown]]``), each (group, name) -> reason."""
    if path is None:
        text = bundled_text("nova_resize.checker", "proofs_baseline.toml")
        source = "<bundled proofs baseline>"
    else:
        text = read_text(path)
        source = path
    data = parse_toml(text, source)
    extra = sorted(set(data) - {"refuted", "unknown"})
    if extra:
        raise UsageError(f"{source}: {extra[0]}: unknown key (a proofs baseline holds "
                         f"[[refuted]] and [[unknown]] tables with group, name and reason)")
    out: dict[str, dict[tuple[str, str], str]] = {}
    for status in ("refuted", "unknown"):
        items = data.get(status, [])
        if not isinstance(items, list):
            raise UsageError(f"{source}: {status}: expected an array of tables [[{status}]]")
        known = out[status] = {}
        for n, item in enumerate(items):
            if not isinstance(item, dict) or not all(isinstance(item.get(k), str)
                                                     for k in ("group", "name", "reason")):
                raise UsageError(f"{source}: {status}[{n}]: expected group, name and reason "
                                 f"strings")
            known[(item["group"], item["name"])] = item["reason"]
    return out


def register(sub: Any, epilog: str) -> None:
    pv = sub.add_parser("prove", help="z3 proofs: disjoint guards, legal results, quota "
                        "arithmetic for all flavor sizes, induction", epilog=epilog)
    add_variant(pv)
    pv.add_argument("--baseline", metavar="FILE",
                    help="known refutations (default: the bundled one)")
    pv.add_argument("--no-baseline", action="store_true")
    pv.add_argument("--json", metavar="FILE")
    pv.add_argument("--quiet", action="store_true")
    pv.set_defaults(func=cmd_prove)

    bm = sub.add_parser("bmc", help="bounded model checking in z3, cross-checked depth by "
                        "depth against the explicit explorer", epilog=epilog)
    bm.add_argument("--config", default="bmc",
                    help="preset name or TOML file (default: bmc; one instance, no crash, loss "
                    "or periodic task)")
    add_variant(bm)
    bm.add_argument("--depth", type=positive, default=16, metavar="K",
                    help="steps to unroll (default 16)")
    bm.add_argument("--json", metavar="FILE")
    bm.add_argument("--quiet", action="store_true")
    bm.set_defaults(func=cmd_bmc)


__all__ = ["cmd_bmc", "cmd_prove", "load_proof_baseline", "load_proof_baselines", "register"]
