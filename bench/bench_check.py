"""Benchmark: exhaustive checks of the built-in configurations.

    python bench/bench_check.py [--configs ci,full] [--max-seconds S] [--max-states N]

Prints, per configuration: distinct states, transitions, seconds, states/s, peak memory (RSS of
the process) and the memory per stored state. Each configuration runs in a fresh process so the
peak memory is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset
from nova_resize.checker.explicit.coverage import RowCoverage
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import Limits, explore
name, max_seconds, max_states = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
ex = explore(NovaModel(Engine(load_preset(name))), "bfs",
             Limits(max_seconds=max_seconds or None, max_states=max_states or None),
             visitors=[RowCoverage()])
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
print(json.dumps({"config": name, "cpu": cpu, "states": ex.distinct_states,
                  "transitions": ex.transitions,
                  "seconds": ex.seconds, "complete": ex.complete, "stop": ex.stop_reason,
                  "peak_rss": peak, "rss_start": rss0}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="ci,full")
    ap.add_argument("--max-seconds", type=float, default=0.0,
                    help="bound each run (0: exhaustive)")
    ap.add_argument("--max-states", type=int, default=0,
                    help="bound each run by distinct states (0: exhaustive); with CPU seconds, "
                    "a quick before/after comparison on a busy machine")
    args = ap.parse_args()
    print(f"{'config':8} {'states':>12} {'transitions':>13} {'seconds':>9} {'cpu s':>7} "
          f"{'states/s':>10} {'peak MB':>9} {'B/state':>8}  complete")
    for name in args.configs.split(","):
        out = subprocess.run([sys.executable, "-c", CHILD, name, str(args.max_seconds),
                              str(args.max_states)],
                             capture_output=True, text=True, check=False)
        if out.returncode != 0:
            print(f"{name}: failed: {out.stderr.strip().splitlines()[-1:]}")
            return 1
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rate = r["states"] / r["seconds"] if r["seconds"] else 0.0
        per = (r["peak_rss"] - r["rss_start"]) / max(r["states"], 1)
        print(f"{name:8} {r['states']:>12,} {r['transitions']:>13,} {r['seconds']:>9.1f} "
              f"{r['cpu']:>7.1f} {rate:>10,.0f} {r['peak_rss'] / 2**20:>9.0f} {per:>8.0f}  "
              f"{'yes' if r['complete'] else 'no: ' + r['stop']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
