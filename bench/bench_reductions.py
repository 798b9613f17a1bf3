"""Benchmark: the search's reductions on and off, with the verdicts compared.

    python bench/bench_reductions.py [--configs full] [--reductions symmetry,por]
                                     [--variant FILE]...

``--configs regression`` stands for every ``regression-*`` preset (44 small configurations, each
aimed at one part of the tables); a last line adds up the states of all configurations run.

Per configuration and reduction, two exhaustive runs in fresh processes, one with the
reduction and one without (everything else as the command line has it: host symmetry on while
partial-order reduction is compared): distinct states, transitions, seconds, states/s and peak
memory of each, the ratio of states and of seconds measured in the same run, and whether the
two runs found the same findings (property, key, where) with the same no-stuck-resize verdict.
Symmetry must also keep every finding's shortest depth; partial-order reduction may find one
deeper (a handler's local step taken earlier), never shallower. For partial-order reduction
the line also says how many labels of the tables have a local next step (engine/footprint.py):
on Liberty's tables none until a fault can no longer be injected at its label.

Exit status 1 when any verdict differs (that would be a bug of the reduction), 2 bad flags.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import explore
from nova_resize.checker.variants import build_spec
name, reduction, on, variants = sys.argv[1], sys.argv[2], sys.argv[3] == "on", sys.argv[4:]
spec, _ = build_spec(variants)
engine = Engine(load_preset(name), spec)
if reduction == "symmetry":
    model = NovaModel(engine, symmetry=on)
    active = model.symmetry.active
    local = None
else:
    model = NovaModel(engine, por=on)
    from nova_resize.engine.footprint import local_steps
    local = len(local_steps(engine.tables))
    active = bool(local)
ex = explore(model, "bfs")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"states": ex.distinct_states, "transitions": ex.transitions,
                  "seconds": ex.seconds, "complete": ex.complete, "peak_rss": peak,
                  "active": active, "local_labels": local,
                  "findings": sorted([list(k) + [f.depth] for k, f in ex.findings.items()])}))
"""

REDUCTIONS = ("symmetry", "por")


def run(name: str, reduction: str, on: str, variants: list[str]) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CHILD, name, reduction, on, *variants],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{name} ({reduction} {on}): failed: "
                         f"{out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def compare(name: str, reduction: str, on: dict[str, object], off: dict[str, object]) -> bool:
    """Print the verdict line; whether the reduction kept every verdict."""
    f_on = {tuple(f[:3]): f[3] for f in on["findings"]}  # type: ignore[attr-defined]
    f_off = {tuple(f[:3]): f[3] for f in off["findings"]}  # type: ignore[attr-defined]
    same = set(f_on) == set(f_off) and bool(on["complete"]) and bool(off["complete"])
    if reduction == "symmetry":
        same = same and f_on == f_off
        kept = "identity and depth"
    else:
        same = same and all(f_on[k] >= f_off[k] for k in f_off if k in f_on)
        deeper = sum(1 for k in f_off if k in f_on and f_on[k] > f_off[k])
        kept = f"identity; {deeper} found deeper"
    if not on["active"]:
        print(f"{name}: {reduction}: inactive here"
              + (" (no interchangeable hosts)" if reduction == "symmetry" else
                 " (no label with a local next step)"))
    extra = (f"; {on['local_labels']} labels with a local next step"
             if reduction == "por" else "")
    print(f"{name}: {reduction}: {int(off['states']) / max(int(on['states']), 1):.3f}x fewer "  # type: ignore[call-overload]
          f"states, {float(off['seconds']) / max(float(on['seconds']), 1e-9):.2f}x faster; "  # type: ignore[arg-type]
          f"{len(f_on)} findings, "
          f"{f'the same with and without ({kept})' if same else 'DIFFERENT'}{extra}")
    return same


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="full")
    ap.add_argument("--reductions", default="symmetry,por",
                    help="comma-separated subset of symmetry,por")
    ap.add_argument("--variant", action="append", default=[])
    args = ap.parse_args()
    chosen = args.reductions.split(",")
    bad = [r for r in chosen if r not in REDUCTIONS]
    if bad:
        ap.error(f"--reductions: unknown {', '.join(bad)} (known: {', '.join(REDUCTIONS)})")
    print(f"{'config':10} {'reduction':>9} {'on':>4} {'states':>11} {'transitions':>12} "
          f"{'seconds':>8} {'states/s':>9} {'peak MB':>8}")
    status = 0
    names: list[str] = []
    for name in args.configs.split(","):
        if name == "regression":
            from nova_resize.engine.presets import preset_names

            names += sorted(n for n in preset_names() if n.startswith("regression-"))
        else:
            names.append(name)
    totals: dict[tuple[str, str], int] = {}
    for name in names:
        for reduction in chosen:
            res = {s: run(name, reduction, s, args.variant) for s in ("on", "off")}
            for s, r in res.items():
                totals[reduction, s] = totals.get((reduction, s), 0) + int(r["states"])  # type: ignore[call-overload]
                rate = float(r["states"]) / float(r["seconds"]) if r["seconds"] else 0.0  # type: ignore[arg-type]
                print(f"{name:10} {reduction:>9} {s:>4} {r['states']:>11,} "
                      f"{r['transitions']:>12,} {r['seconds']:>8.1f} {rate:>9,.0f} "
                      f"{int(r['peak_rss']) / 2**20:>8.0f}")  # type: ignore[call-overload]
            if not compare(name, reduction, res["on"], res["off"]):
                status = 1
    if len(names) > 1:
        for reduction in chosen:
            on, off = totals[reduction, "on"], totals[reduction, "off"]
            print(f"all {len(names)} configurations: {reduction}: {off:,} states without, "
                  f"{on:,} with ({off / max(on, 1):.3f}x fewer)")
    print("every verdict the same with and without" if status == 0 else
          "A REDUCTION CHANGED A VERDICT")
    return status


if __name__ == "__main__":
    sys.exit(main())
