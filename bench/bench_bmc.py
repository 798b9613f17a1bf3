"""Benchmark: bounded model checking in z3 against the explicit explorer.

    python bench/bench_bmc.py [--depth 16] [--config bmc]

Unrolls the z3 encoding one step at a time and, at each depth, enumerates the reachable
(vm_state, task_state, migration status) combinations; prints the size of the encoding, then per
depth the combinations on each side, whether they agree and the seconds that depth took, and at
the end the explicit side's distinct states and transitions within the depth, the total seconds
and the peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from nova_resize.checker.cli.common import resolve_config
from nova_resize.checker.symbolic.bmc import Encoding, iter_cross_check
from nova_resize.engine.core import Engine


def explicit_size(config: object, depth: int) -> tuple[int, int]:
    eng = Engine(config)  # type: ignore[arg-type]
    w0 = eng.initial()
    seen = {w0}
    frontier = [w0]
    transitions = 0
    for _ in range(depth):
        nxt = []
        for w in frontier:
            for act in eng.enabled(w):
                transitions += 1
                w2 = eng.step(w, act).world
                if w2 not in seen:
                    seen.add(w2)
                    nxt.append(w2)
        frontier = nxt
    return len(seen), transitions


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depth", type=int, default=16)
    ap.add_argument("--config", default="bmc")
    args = ap.parse_args()
    config = resolve_config(args.config)
    t0 = time.monotonic()
    enc = Encoding(config)
    print(f"encoding: {len(enc.actions)} actions, {len(enc.layout.names)} variables per step, "
          f"{sum(len(c) for c in enc.ctls.values())} control points "
          f"({time.monotonic() - t0:.1f}s)")
    print("depth  z3  explicit  agree  seconds")
    agree = True
    for r in iter_cross_check(enc, args.depth):
        agree &= r.agree
        print(f"{r.depth:5d} {len(r.symbolic):3d} {len(r.explicit):9d}  "
              f"{'yes' if r.agree else 'NO':5s} {r.seconds:8.1f}", flush=True)
    seconds = time.monotonic() - t0
    states, transitions = explicit_size(config, args.depth)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"bmc depth {args.depth}: explicit side {states:,} distinct states, {transitions:,} "
          f"transitions within the depth; {seconds:.1f}s total, peak memory {peak:.0f} MB; "
          f"{'agree' if agree else 'DISAGREE'}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
