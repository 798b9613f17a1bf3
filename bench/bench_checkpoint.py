"""Benchmark: what checkpoints cost (check --checkpoint DIR, --resume DIR).

    python bench/bench_checkpoint.py [--configs ci,full] [--every S] [--repeat N]

Per configuration, each in a fresh process: the run without checkpoints and the same run
writing one every S seconds (alternated, --repeat times), then a run stopped at half its states
(its final checkpoint) and resumed in another process, once hashing differently and once
hashing alike (as the command arranges: the same PYTHONHASHSEED, no address-space
randomisation). Prints wall and CPU seconds of both runs and their ratio, how many checkpoints
were written and how long they took, the size of the last one and its bytes per state, and what
a resume costs: loading the checkpoint (and rebuilding the fingerprint table when the process
hashes differently), against the time the stopped run had spent. Other work on the machine
makes wall times noisy: compare the ratios of one invocation, and the CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from nova_resize.checker.cli.resume import no_aslr

CHILD = r"""
import json, resource, sys, time
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset
from nova_resize.checker.explicit.coverage import RowCoverage
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import Checkpointer, Limits, explore
name, every, directory, resume, max_states = sys.argv[1:6]
cp = None
if directory:
    cp = Checkpointer(directory, float(every), {}, resume=directory if resume == "1" else None)
t = time.monotonic()
ex = explore(NovaModel(Engine(load_preset(name))), "bfs",
             Limits(max_states=int(max_states) or None), visitors=[RowCoverage()],
             checkpoint=cp)
wall = time.monotonic() - t
cpu = resource.getrusage(resource.RUSAGE_SELF).ru_utime
size = Path(directory, "checkpoint").stat().st_size if directory else 0
head = {}
if directory:
    head = json.loads(Path(directory, "checkpoint").read_bytes().split(b"\n")[1])
print(json.dumps({"states": ex.distinct_states, "transitions": ex.transitions,
                  "findings": len(ex.findings), "wall": wall, "cpu": cpu,
                  "seconds": ex.seconds, "complete": ex.complete,
                  "written": cp.written if cp else 0, "write_s": cp.write_seconds if cp else 0,
                  "size": size, "ck_states": head.get("states", 0),
                  "resumed": cp.resumed_states if cp else 0,
                  "rebuilt": cp.rebuilt if cp else False,
                  "load_s": cp.load_seconds if cp else 0.0}))
""".replace("import json, resource, sys, time", "import json, resource, sys, time\n"
            "from pathlib import Path")


def child(name: str, every: float = 0.0, directory: str = "", resume: bool = False,
          max_states: int = 0, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, name, str(every), directory,
                          "1" if resume else "0", str(max_states)],
                         capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise SystemExit(f"{name}: failed: {out.stderr.strip().splitlines()[-3:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default="ci")
    ap.add_argument("--every", type=float, default=5.0,
                    help="seconds between checkpoints in the measured run (default 5: many "
                    "more than the command's default of 300 would write)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    for name in args.configs.split(","):
        plain, ck = [], []
        for _ in range(args.repeat):
            plain.append(child(name))
            with tempfile.TemporaryDirectory() as d:
                ck.append(child(name, args.every, d))
        p = min(plain, key=lambda r: r["cpu"])
        c = min(ck, key=lambda r: r["cpu"])
        assert (p["states"], p["transitions"], p["findings"]) == \
            (c["states"], c["transitions"], c["findings"])
        print(f"{name}: {p['states']:,} states, {p['transitions']:,} transitions")
        print(f"  without checkpoints     {p['wall']:8.1f} s wall {p['cpu']:8.1f} s cpu")
        print(f"  checkpoint every {args.every:g} s  {c['wall']:8.1f} s wall {c['cpu']:8.1f} s cpu"
              f"   ratio {c['wall'] / p['wall']:.3f} wall, {c['cpu'] / p['cpu']:.3f} cpu")
        print(f"  {c['written']} checkpoints written in {c['write_s']:.2f} s "
              f"({c['write_s'] / max(c['written'], 1):.2f} s each, "
              f"{c['write_s'] / c['wall'] * 100:.1f}% of the run); the last "
              f"{c['size'] / 2**20:.1f} MiB for {c['ck_states']:,} states "
              f"({c['size'] / max(c['ck_states'], 1):.0f} B/state)")
        # a run stopped at half its states, resumed in a fresh process: as a process hashing
        # differently (the table is rebuilt), then as the command does it, with the seed fixed
        # and no address-space randomisation in both (the table is taken as saved)
        alike = {**os.environ, "PYTHONHASHSEED": "12345"}
        for label, env in (("another process", None), ("hashing alike", alike)):
            if env is not None and not (sys.version_info >= (3, 12) or no_aslr()):
                print(f"  resumed {label}: cannot be done here")
                continue
            with tempfile.TemporaryDirectory() as d:
                half = child(name, 3600, d, max_states=p["states"] // 2, env=env)
                size = (Path(d) / "checkpoint").stat().st_size
                rest = child(name, 3600, d, resume=True, env=env)
            assert (rest["states"], rest["transitions"], rest["findings"]) == \
                (p["states"], p["transitions"], p["findings"]) and rest["complete"]
            print(f"  stopped at {half['ck_states']:,} states after {half['seconds']:.1f} s "
                  f"(final checkpoint {size / 2**20:.1f} MiB, "
                  f"{size / max(half['ck_states'], 1):.0f} B/state), resumed {label}: "
                  f"{rest['load_s']:.1f} s to load "
                  f"({'fingerprints rebuilt' if rest['rebuilt'] else 'table as saved'}: "
                  f"{rest['load_s'] / half['seconds'] * 100:.0f}% of the time the stopped run "
                  f"had spent), {rest['wall']:.1f} s wall to finish; the whole run "
                  f"{rest['seconds']:.1f} s against {p['seconds']:.1f} s unstopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
