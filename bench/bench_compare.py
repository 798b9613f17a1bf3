"""Benchmark: this checkout against another commit, exhaustive checks alternating.

    python bench/bench_compare.py --compare REF [--configs ci,full] [--repeat N]
                                  [--max-seconds S] [--max-states N]

Runs the same one-process checks on git commit REF (a temporary worktree of it, imported in
place of this checkout) and on this checkout, alternating the two ``--repeat`` times (which goes
first alternates too, so drift in the machine's load is shared), and prints per configuration the
median run of each (distinct states, transitions, seconds, CPU seconds, states/s, peak memory,
bytes per state), whether the two reach the same graph, and the median ratio of REF's seconds
and CPU seconds to this checkout's. On a busy machine absolute figures drift; the ratio of runs
taken back to back is what to read. Without ``--compare`` it runs this checkout only.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

# the child of a --compare run imports the other commit's tree: the editable install's finder
# (which maps nova_resize to this checkout) steps aside
ISOLATE = r"""
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f)]
"""

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


def run_one(name: str, args: argparse.Namespace, tree: Path | None = None
            ) -> dict[str, object]:
    """One check of configuration ``name`` in a fresh process: of this checkout, or of the
    package tree ``tree`` (a --compare commit)."""
    env = dict(os.environ)
    code = CHILD
    cwd = None
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
        code = ISOLATE + CHILD
        cwd = str(tree)
    out = subprocess.run([sys.executable, "-c", code, name, str(args.max_seconds),
                          str(args.max_states)],
                         capture_output=True, text=True, check=False, env=env, cwd=cwd)
    if out.returncode != 0:
        raise RuntimeError(f"{name}: failed: {out.stderr.strip().splitlines()[-1:]}")
    r: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return r


def line(label: str, r: dict[str, object]) -> str:
    states, seconds = int(r["states"]), float(r["seconds"])  # type: ignore[arg-type]
    rate = states / seconds if seconds else 0.0
    peak, start = int(r["peak_rss"]), int(r["rss_start"])  # type: ignore[arg-type]
    per = (peak - start) / max(states, 1)
    return (f"{label:8} {states:>12,} {int(r['transitions']):>13,} "  # type: ignore[arg-type]
            f"{seconds:>9.1f} {float(r['cpu']):>7.1f} {rate:>10,.0f} "  # type: ignore[arg-type]
            f"{peak / 2**20:>9.0f} {per:>8.0f}  "
            f"{'yes' if r['complete'] else 'no: ' + str(r['stop'])}")


HEADER = (f"{'config':8} {'states':>12} {'transitions':>13} {'seconds':>9} {'cpu s':>7} "
          f"{'states/s':>10} {'peak MB':>9} {'B/state':>8}  complete")


def ref_tree(ref: str, workdir: Path) -> Path:
    """A worktree of ``ref`` and, beside it, the package tree importing it (nova_resize with
    its spec, engine and checker folders, as the project maps them)."""
    repo = Path(__file__).resolve().parent.parent
    wt = workdir / "ref"
    subprocess.run(["git", "-C", str(repo), "worktree", "add", "--detach", str(wt), ref],
                   check=True, capture_output=True)
    pkg = workdir / "tree" / "nova_resize"
    pkg.mkdir(parents=True)
    for f in (wt / "nova_resize").iterdir():
        (pkg / f.name).symlink_to(f)
    for sub in ("spec", "engine", "checker"):
        (pkg / sub).symlink_to(wt / sub)
    return workdir / "tree"


def compare(args: argparse.Namespace) -> int:
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp:
        tree = ref_tree(args.compare, Path(tmp))
        try:
            for name in args.configs.split(","):
                runs: dict[str, list[dict[str, object]]] = {"ref": [], "this": []}
                for i in range(args.repeat):
                    # alternate which goes first, so that drift in the machine's load is shared
                    order = ("ref", "this") if i % 2 == 0 else ("this", "ref")
                    for who in order:
                        r = run_one(name, args, tree if who == "ref" else None)
                        runs[who].append(r)
                        print(f"  {name} {who} run {i + 1}: {float(r['seconds']):.1f} s, "  # type: ignore[arg-type]
                              f"{float(r['cpu']):.1f} cpu s", flush=True)  # type: ignore[arg-type]
                print(HEADER)
                med: dict[str, dict[str, object]] = {}
                for who in ("ref", "this"):
                    rs = sorted(runs[who], key=lambda r: float(r["seconds"]))  # type: ignore[arg-type]
                    med[who] = rs[len(rs) // 2]
                    print(line(who, med[who]))
                a, b = med["ref"], med["this"]
                if (a["states"], a["transitions"]) != (b["states"], b["transitions"]):
                    print(f"{name}: the two commits reach different graphs")
                ratios = [float(x["seconds"]) / float(y["seconds"])  # type: ignore[arg-type]
                          for x, y in zip(runs["ref"], runs["this"], strict=True)]
                cpu = [float(x["cpu"]) / float(y["cpu"])  # type: ignore[arg-type]
                       for x, y in zip(runs["ref"], runs["this"], strict=True)]
                print(f"{name}: {args.compare} takes {statistics.median(ratios):.2f}x this "
                      f"checkout's seconds (median of {args.repeat} pairs; CPU "
                      f"{statistics.median(cpu):.2f}x)")
        finally:
            subprocess.run(["git", "-C", str(repo), "worktree", "remove", "--force",
                            str(Path(tmp) / "ref")], check=False, capture_output=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="ci,full")
    ap.add_argument("--max-seconds", type=float, default=0.0,
                    help="bound each run (0: exhaustive)")
    ap.add_argument("--max-states", type=int, default=0,
                    help="bound each run by distinct states (0: exhaustive); with CPU seconds, "
                    "a quick before/after comparison on a busy machine")
    ap.add_argument("--compare", metavar="REF",
                    help="also run git commit REF, alternating, and print the ratio")
    ap.add_argument("--repeat", type=int, default=3,
                    help="with --compare: pairs of runs per configuration (default 3)")
    args = ap.parse_args()
    try:
        if args.compare:
            return compare(args)
        print(HEADER)
        for name in args.configs.split(","):
            print(line(name, run_one(name, args)))
    except RuntimeError as e:
        print(e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
