"""Benchmark and record: ``nova-resize diff`` of each shipped variant against Liberty.

    python bench/bench_diff.py [--configs ci,full] [--variants a,b] [--json FILE]

For each configuration, Liberty is explored once (then read from the cache) and each variant's
patched tables once; prints per variant the new, gone and unchanged findings, the patched run's
distinct states, transitions, seconds and peak memory, and lists each new and gone finding.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="ci,full")
    ap.add_argument("--variants", default="",
                    help="comma-separated variant names in spec/variants (default: all)")
    ap.add_argument("--json", metavar="FILE")
    args = ap.parse_args()
    from nova_resize.checker.explicit import report as reports
    from nova_resize.checker.explicit.diff import diff_reports, liberty_reference
    from nova_resize.checker.explicit.run import check
    from nova_resize.engine.presets import load_preset

    names = [v for v in args.variants.split(",") if v] or sorted(
        p.stem for p in (ROOT / "spec" / "variants").glob("*.toml"))
    out = []
    print(f"{'config':6} {'variant':34} {'new':>4} {'gone':>5} {'same':>5} {'states':>10} "
          f"{'transitions':>12} {'seconds':>8} {'peak MB':>8}", flush=True)
    for cname in args.configs.split(","):
        config = load_preset(cname)
        t0 = time.monotonic()
        liberty, cached = liberty_reference(config)
        print(f"{cname:6} {'(Liberty' + (', cached)' if cached else ')'):34} {'':>4} {'':>5} "
              f"{len(liberty['findings']):>5} {liberty['distinct_states']:>10,} "
              f"{liberty['transitions']:>12,} {time.monotonic() - t0:>8.1f}", flush=True)
        for v in names:
            path = str(ROOT / "spec" / "variants" / f"{v}.toml")
            res = check(config, [path], [])
            patched = reports.to_json(res.report)
            d = diff_reports(config, res.spec, liberty, patched, [v])
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{cname:6} {v:34} {len(d['new']):>4} {len(d['gone']):>5} "
                  f"{len(d['unchanged']):>5} {patched['distinct_states']:>10,} "
                  f"{patched['transitions']:>12,} {patched['seconds']:>8.1f} {peak:>8.0f}",
                  flush=True)
            for kind in ("new", "gone"):
                for f in d[kind]:
                    print(f"         {kind}: {f['property']}: {f['key']}  (in: {f['where']})",
                          flush=True)
            out.append({"config": cname, "variant": v,
                        **{k: [{x: f.get(x) for x in ("property", "key", "where")}
                               for f in d[k]] for k in ("new", "gone")},
                        "unchanged": len(d["unchanged"]),
                        "states": patched["distinct_states"],
                        "transitions": patched["transitions"], "seconds": patched["seconds"]})
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
