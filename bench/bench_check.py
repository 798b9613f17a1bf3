"""Benchmark: exhaustive checks of the built-in configurations.

    python bench/bench_check.py [--configs ci,full] [--max-seconds S] [--max-states N]
                                [--workers 1,2] [--engine pure,native] [--repeat R]

Prints, per configuration: distinct states, transitions, seconds, CPU seconds (of every
process), states/s, peak memory and the memory per stored state. Each run is a fresh process so
the peak memory is its own. With ``--workers 1,2`` each configuration runs with each number of
workers (interleaved, ``--repeat`` times: a busy machine slows them alike), the runs must agree
on states, transitions and findings, and the speed-up of each over one worker is printed (from
the best run of each). Peak memory with workers is the coordinator's plus every worker's peak
(their sum; RUSAGE_CHILDREN, the largest child's, is printed beside it).

``--engine pure,native`` runs each configuration with the engine's Python sources and with its
compiled modules (``make native`` builds them; the bench fails in one line when no current
build exists), interleaved like the workers, and prints the compiled engine's speed-up for each
number of workers. The default, ``auto``, is whichever the command line uses now.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = r"""
import hashlib, json, resource, sys, time
import nova_resize.engine as engine
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset
from nova_resize.checker.explicit.coverage import RowCoverage
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import Limits, explore
name, max_seconds, max_states = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
workers = int(sys.argv[4])
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
cov = RowCoverage()
ex = explore(NovaModel(Engine(load_preset(name))), "bfs",
             Limits(max_seconds=max_seconds or None, max_states=max_states or None),
             visitors=[cov], workers=workers)
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
peak = ex.peak_rss_bytes if workers > 1 else me.ru_maxrss * 1024
cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
sig = hashlib.sha256(repr((sorted((k, f.count, f.depth) for k, f in ex.findings.items()),
                           sorted(cov.rows.items()), ex.stuck_states)).encode()).hexdigest()
print(json.dumps({"config": name, "cpu": cpu, "states": ex.distinct_states,
                  "transitions": ex.transitions, "workers": workers,
                  "seconds": ex.seconds, "complete": ex.complete, "stop": ex.stop_reason,
                  "peak_rss": peak, "rss_start": rss0, "findings": len(ex.findings),
                  "signature": sig, "child_peak": kids.ru_maxrss * 1024,
                  "engine": engine.NATIVE}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="ci,full")
    ap.add_argument("--max-seconds", type=float, default=0.0,
                    help="bound each run (0: exhaustive)")
    ap.add_argument("--max-states", type=int, default=0,
                    help="bound each run by distinct states (0: exhaustive); with CPU seconds, "
                    "a quick before/after comparison on a busy machine")
    ap.add_argument("--workers", default="1",
                    help="comma-separated numbers of workers to compare (e.g. 1,2)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each number of workers, interleaved")
    ap.add_argument("--engine", default="auto",
                    help="comma-separated engines to compare: pure, native, auto (default)")
    args = ap.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    engines = [e.strip() for e in args.engine.split(",")]
    if not engines or any(e not in ("pure", "native", "auto") for e in engines):
        print(f"bench_check.py: --engine {args.engine}: expected pure, native or auto, "
              f"comma-separated", file=sys.stderr)
        return 2
    print(f"{'config':8} {'engine':>6} {'workers':>7} {'states':>12} {'transitions':>13} "
          f"{'seconds':>9} {'cpu s':>7} {'states/s':>10} {'peak MB':>9} {'child MB':>9} "
          f"{'B/state':>8}  complete")
    for name in args.configs.split(","):
        best: dict[tuple[str, int], float] = {}
        sigs = set()
        for _ in range(args.repeat):
            for eng in engines:
                for w in counts:
                    r = _run(name, args.max_seconds, args.max_states, w, eng)
                    if r is None:
                        return 1
                    sigs.add((r["states"], r["transitions"], r["findings"], r["signature"]))
                    key = (eng, w)
                    best[key] = min(best.get(key, r["seconds"]), r["seconds"])
        if len(sigs) > 1 and not (args.max_seconds or args.max_states):
            print(f"{name}: the runs disagree: {sorted(sigs)}")
            return 1
        for eng in engines:
            if len(counts) > 1:
                ratios = ", ".join(f"{w} workers {best[eng, counts[0]] / best[eng, w]:.2f}x"
                                   for w in counts[1:] if best[eng, w])
                print(f"{name}: {eng}: speed-up over {counts[0]} worker(s), best of "
                      f"{args.repeat}: {ratios}")
        if "pure" in engines and "native" in engines:
            ratios = ", ".join(f"{w} worker(s) {best['pure', w] / best['native', w]:.2f}x"
                               for w in counts if best["native", w])
            print(f"{name}: compiled engine over the Python sources, best of {args.repeat}: "
                  f"{ratios}")
    return 0


def _run(name: str, max_seconds: float, max_states: int, workers: int,
         eng: str = "auto") -> dict | None:
    env = dict(os.environ)
    env["NOVA_RESIZE_NATIVE"] = "1"  # as the command line does
    if eng == "pure":
        env["NOVA_RESIZE_PURE"] = "1"
    elif eng == "native":
        env.pop("NOVA_RESIZE_PURE", None)
    out = subprocess.run([sys.executable, "-c", CHILD, name, str(max_seconds),
                          str(max_states), str(workers)],
                         capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        print(f"{name}: failed: {out.stderr.strip().splitlines()[-1:]}")
        return None
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if eng == "native" and r["engine"] != "compiled (mypyc)":
        print(f"{name}: --engine native: the engine runs {r['engine']}")
        return None
    label = "native" if r["engine"].startswith("compiled") else "pure"
    rate = r["states"] / r["seconds"] if r["seconds"] else 0.0
    per = (r["peak_rss"] - r["rss_start"]) / max(r["states"], 1)
    print(f"{name:8} {label:>6} {workers:>7} {r['states']:>12,} {r['transitions']:>13,} "
          f"{r['seconds']:>9.1f} {r['cpu']:>7.1f} {rate:>10,.0f} "
          f"{r['peak_rss'] / 2**20:>9.0f} {r['child_peak'] / 2**20:>9.0f} {per:>8.0f}  "
          f"{'yes' if r['complete'] else 'no: ' + r['stop']}", flush=True)
    return r


if __name__ == "__main__":
    sys.exit(main())
