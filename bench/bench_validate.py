"""Benchmark: validating a long notification stream and a long series of nova list polls.

    python bench/bench_validate.py [--observations 10000]

Drives the engine through resize / confirm / revert cycles of one instance, writes the
notifications Nova would send with notify_on_state_change = vm_and_task_state (JSON Lines, the
engine's Notification.message() with Liberty timestamps) and the `nova list` polls an operator
would take at each task state, then validates both. Prints observations, states explored, seconds,
observations/s and peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from nova_resize.checker.traces.observe import read_all
from nova_resize.checker.traces.validate import validate
from nova_resize.engine.facade import Cloud
from nova_resize.engine.presets import load_preset
from nova_resize.engine.render import nova_list
from nova_resize.spec import LIBERTY

CONFIG = load_preset("seed").with_options(notify_on_state_change="vm_and_task_state")
T0 = datetime(2016, 4, 17, 13, 30, 0, 250412)


def generate(n_obs: int, out: Path) -> tuple[Path, Path]:
    cloud = Cloud.from_config(CONFIG)
    name = "test-cirros-1"
    notes: list[dict] = []
    polls: list[str] = []
    last = None
    cycle = 0
    while len(notes) < n_obs:
        current = cloud.instance(name).flavor
        target = "m1.small" if current == "m1.tiny" else "m1.tiny"
        finish = "revert_resize" if cycle % 3 == 2 else "confirm_resize"
        for what, arg in (("resize", target), (finish, None)):
            start = len(cloud.history)
            cloud.request(what, name, arg)
            while True:
                for rec in cloud.history[start:]:
                    for n in rec.notifications:
                        msg = n.message()  # publisher and payload as Liberty builds them
                        msg["timestamp"] = str(T0 + timedelta(milliseconds=10 * len(notes)))
                        notes.append(msg)
                start = len(cloud.history)
                status = cloud.status(name)
                if status != last:
                    polls.append(nova_list(cloud.world))
                    last = status
                if cloud.step() is None:
                    break
        cycle += 1
    nfile = out / "stream.jsonl"
    nfile.write_text("".join(json.dumps(x) + "\n" for x in notes[:n_obs]))
    pfile = out / "polls.txt"
    pfile.write_text("\n".join(polls) + "\n")
    return nfile, pfile


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--observations", type=int, default=10_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        nfile, pfile = generate(args.observations, Path(d))
        print(f"{'trace':14} {'observations':>12} {'states':>9} {'seconds':>8} {'obs/s':>9} "
              f"{'peak MB':>8}  verdict")
        for label, path in (("notifications", nfile), ("nova list", pfile)):
            t0 = time.monotonic()
            obs = read_all([str(path)], "auto", LIBERTY)
            v = validate(CONFIG, LIBERTY, obs)
            dt = time.monotonic() - t0
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            n = len(obs.observations)
            print(f"{label:14} {n:>12,} {v.states_explored:>9,} {dt:>8.2f} {n / dt:>9,.0f} "
                  f"{peak:>8.0f}  {'accepted' if v.accepted else 'REJECTED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
