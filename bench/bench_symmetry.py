"""Benchmark: host symmetry reduction on and off, with the verdicts compared.

    python bench/bench_symmetry.py [--configs full] [--variant FILE]...

Per configuration, two exhaustive runs in fresh processes, one with the reduction (the default)
and one without: distinct states, transitions, seconds, states/s and peak memory of each, the
ratio of states and of seconds measured in the same run, and whether the two runs found the same
findings (property, key, where), at the same shortest depths, with the same no-stuck-resize
verdict. Exit status 1 when any verdict differs (that would be a bug of the reduction).
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
name, symmetry, variants = sys.argv[1], sys.argv[2] == "on", sys.argv[3:]
spec, _ = build_spec(variants)
model = NovaModel(Engine(load_preset(name), spec), symmetry=symmetry)
ex = explore(model, "bfs")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"states": ex.distinct_states, "transitions": ex.transitions,
                  "seconds": ex.seconds, "complete": ex.complete, "peak_rss": peak,
                  "active": model.symmetry.active,
                  "findings": sorted([list(k) + [f.depth] for k, f in ex.findings.items()])}))
"""


def run(name: str, symmetry: str, variants: list[str]) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", CHILD, name, symmetry, *variants],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{name} ({symmetry}): failed: "
                         f"{out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="full")
    ap.add_argument("--variant", action="append", default=[])
    args = ap.parse_args()
    print(f"{'config':10} {'symmetry':>8} {'states':>11} {'transitions':>12} {'seconds':>8} "
          f"{'states/s':>9} {'peak MB':>8}")
    status = 0
    for name in args.configs.split(","):
        res = {s: run(name, s, args.variant) for s in ("on", "off")}
        for s, r in res.items():
            rate = float(r["states"]) / float(r["seconds"]) if r["seconds"] else 0.0  # type: ignore[arg-type]
            print(f"{name:10} {s:>8} {r['states']:>11,} {r['transitions']:>12,} "
                  f"{r['seconds']:>8.1f} {rate:>9,.0f} {int(r['peak_rss']) / 2**20:>8.0f}")  # type: ignore[call-overload]
        on, off = res["on"], res["off"]
        if not on["active"]:
            print(f"{name}: no interchangeable hosts, the reduction is inactive")
        same = on["findings"] == off["findings"] and on["complete"] and off["complete"]
        print(f"{name}: {int(off['states']) / max(int(on['states']), 1):.2f}x fewer states, "  # type: ignore[call-overload]
              f"{float(off['seconds']) / max(float(on['seconds']), 1e-9):.2f}x faster; "  # type: ignore[arg-type]
              f"{len(on['findings'])} findings, "  # type: ignore[arg-type]
              f"{'the same with and without (identity and depth)' if same else 'DIFFERENT'}")
        if not same:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
