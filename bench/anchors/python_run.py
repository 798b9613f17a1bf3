"""One timed run of a Python explorer of the two-phase commit model, in a process of its own so
that its peak memory is its own: prints one JSON line with the counts, the wall and CPU seconds
of the search alone (imports and interpreter start excluded) and the resident memory before and
at the peak of the search.

    python bench/anchors/python_run.py explorer|explorer-packed|plain-bfs N
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def rss_now() -> int:
    """The resident memory now, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * resource.getpagesize()
    except (OSError, ValueError, IndexError):
        return 0


def run(tool: str, n: int) -> dict[str, object]:
    if tool in ("explorer", "explorer-packed"):
        sys.path.insert(0, ROOT)
        from nova_resize.checker.explorer import explore

        from examples.twophase import TwoPhaseCommit
        from examples.twophase_packed import TwoPhaseCommitPacked

        model = TwoPhaseCommit(n) if tool == "explorer" else TwoPhaseCommitPacked(n)
        rss0 = rss_now()
        t0, c0 = time.perf_counter(), time.process_time()
        ex = explore(model, "bfs", liveness=False)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        distinct, generated = ex.distinct_states, ex.transitions + 1
        ok = ex.complete and not ex.findings
        note = "" if ok else f"complete={ex.complete}, findings={sorted(ex.findings)}"
    elif tool == "plain-bfs":
        sys.path.insert(0, HERE)
        import plain_bfs

        rss0 = rss_now()
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            distinct, generated = plain_bfs.bfs(n)
            ok, note = True, ""
        except AssertionError as e:
            distinct, generated, ok, note = 0, 0, False, str(e)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    else:
        raise SystemExit(f"python_run.py: unknown tool {tool!r} (expected explorer, "
                         "explorer-packed or plain-bfs)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"tool": tool, "n": n, "distinct": distinct, "generated": generated,
            "seconds": seconds, "cpu": cpu, "rss_before": rss0, "peak_rss": peak, "ok": ok,
            "note": note}


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python_run.py explorer|explorer-packed|plain-bfs N")
    print(json.dumps(run(sys.argv[1], int(sys.argv[2]))))
