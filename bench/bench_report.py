"""Benchmark: what a check costs after its search, the report's way against the eager way.

    python bench/bench_report.py [--configs ci,full] [--workers 2]

Per configuration, one exhaustive check (its distinct states, transitions, seconds, states/s and
peak memory are printed), then on its findings, in the same process:

- eager: every finding's trace replayed from the initial state and its cause found (what each
  check did after its search before traces were replayed on demand), and the JSON report
  dumped indented (json's pure-Python encoder);
- now: ``to_json_text``: the traces replayed on demand through one trie of shared first steps,
  the text laid out by :func:`nova_resize.files.json_text` (json's C encoder);
- text: the terminal report, which replays only the traces it prints.

Seconds and MiB of each, the ratio measured in this run, and whether both JSON texts hold the
same value (exit status 1 when they do not).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import time


def bench(name: str, workers: int) -> bool:
    from nova_resize.checker.explicit import report as reports
    from nova_resize.checker.explicit.run import check
    from nova_resize.engine.presets import load_preset

    res = check(load_preset(name), [], [], workers=workers)
    rep, ex = res.report, res.report.ex
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name}: {ex.distinct_states:,} states, {ex.transitions:,} transitions, "
          f"{ex.seconds:.1f} s ({ex.states_per_second:,.0f} states/s), peak {peak:,.0f} MB, "
          f"{len(rep.findings)} findings, {workers} worker(s)")
    t = time.perf_counter()
    text = reports.text(rep, res.spec, max_traces=5)
    t_text = time.perf_counter() - t
    t = time.perf_counter()
    eager = []
    for f, trace, known, why in rep.findings:
        actions = list(trace.actions) if isinstance(trace, reports.Trace) else []
        g = dataclasses.replace(f)  # a copy: the report's own findings name their causes later
        g.cause = res.model.cause(actions, g.subject)
        eager.append((g, reports.build_trace(res.model, actions), known, why))
    old = reports.Report(rep.config, rep.variants, rep.strategy, ex, eager, rep.uncovered,
                         rep.coverage_exempt, rep.rows_executed, rep.origin, {}, rep.initial)
    old.citations = reports.row_citations(res.spec, old)
    old_text = json.dumps(reports.to_json(old), indent=2)
    t_old = time.perf_counter() - t
    t = time.perf_counter()
    new_text = reports.to_json_text(rep)
    t_new = time.perf_counter() - t
    a, b = json.loads(new_text), json.loads(old_text)
    same = a == b
    if not same:
        diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        print(f"  the JSON texts differ in: {', '.join(diff)}")
    mib = 2**20
    print(f"  text report: {t_text:.2f} s ({len(text) / 1024:,.0f} KiB)")
    print(f"  JSON eager:  {t_old:.2f} s ({len(old_text) / mib:,.0f} MiB)")
    print(f"  JSON now:    {t_new:.2f} s ({len(new_text) / mib:,.0f} MiB): "
          f"{t_old / max(t_new, 1e-9):.1f}x faster; same JSON value: {'yes' if same else 'NO'}")
    return same


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", default="ci,full")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    from nova_resize import native

    native.WANTED = True  # as the command line: the compiled engine when a build is current
    ok = True
    for name in args.configs.split(","):
        ok = bench(name.strip(), args.workers) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
