"""Random simulation: seeded random walks from the initial states, evaluating the properties on
every state and step along the way. For models too large to exhaust; never complete.

Each finding keeps the walk that produced it. Liveness is not evaluated (a walk says nothing
about what is reachable from a state).
"""

from __future__ import annotations

import random
import time
from typing import Any

from .evaluate import Evaluator
from .exploration import Exploration, Limits, current_rss_bytes, rss_bytes
from .search import Progress
from .visitor import Control, Visitor


def run(model: Any, ex: Exploration, runs: int, depth: int, seed: int, limits: Limits,
        visitors: list[Visitor], progress: Progress | None, control: Control,
        progress_every: float = 5.0) -> dict[tuple[str, str, str], list[Any]]:
    """``runs`` walks of up to ``depth`` steps; returns, per finding, the walk that found it.
    ``ex.distinct_states`` counts the distinct states the walks visited."""
    rng = random.Random(seed)
    ev = Evaluator(model, ex, list(model.properties()), liveness=False)
    ex.rss_start_bytes = rss_bytes()
    walks: dict[tuple[str, str, str], list[Any]] = {}
    seen: set[int] = set()
    t0 = last = time.monotonic()
    init = list(model.init_states())
    done = 0
    for run_no in range(runs):
        w = init[rng.randrange(len(init))]
        if hash(w) not in seen:
            seen.add(hash(w))
            ev.on_state(w, 0, 0)
        walk: list[Any] = []
        for d in range(depth):
            if d & 1023 == 1023 and _stop(ex, limits, control, t0, len(seen)):
                break
            acts = list(model.actions(w))
            if not acts:
                break
            action = acts[rng.randrange(len(acts))]
            st = model.step(w, action)
            if st is None:
                continue
            walk.append(action)
            ex.transitions += 1
            before = len(ex.findings)
            ev.on_step(w, st, 0, 0, d)
            for v in visitors:
                v.on_step(w, action, st)
            w = st.state
            h = hash(w)
            if h not in seen:
                seen.add(h)
                ev.on_state(w, 0, d + 1)
                for v in visitors:
                    v.on_state(w, 0, d + 1)
            if d + 1 > ex.diameter:
                ex.diameter = d + 1
            if len(ex.findings) > before:
                for k in list(ex.findings)[before:]:
                    walks[k] = list(walk)
        done = run_no + 1
        now = time.monotonic()
        if not ex.complete or _stop(ex, limits, control, t0, len(seen)):
            break
        if now - last >= progress_every:
            last = now
            rss = current_rss_bytes()
            if progress is not None:
                progress(f"{done:,}/{runs:,} walks, {len(seen):,} distinct states, "
                         f"{rss / 2**20:,.0f} MiB, {now - t0:,.0f} s")
    ex.distinct_states = len(seen)
    ev.flush()
    ex.seconds = time.monotonic() - t0
    ex.peak_rss_bytes = rss_bytes()
    if ex.complete:
        ex.complete = False
        ex.stop_reason = f"simulation: {done} walks of up to {depth} steps, seed {seed}"
    return walks


def _stop(ex: Exploration, limits: Limits, control: Control, t0: float, seen: int) -> bool:
    """Whether the simulation stops now (an interrupt or a bound), recorded in ``ex``. Checked
    after each walk and every 1,024 steps of a long one."""
    if control.reason is not None:
        ex.stop(control.reason, "interrupt")
        return True
    if limits.max_seconds is not None and time.monotonic() - t0 > limits.max_seconds:
        ex.stop(f"time limit {limits.max_seconds:g} s", "seconds")
        return True
    if limits.max_states is not None and seen >= limits.max_states:
        ex.stop(f"max states {limits.max_states:,}", "states")
        return True
    if limits.max_memory_bytes is not None and current_rss_bytes() > limits.max_memory_bytes:
        ex.stop(f"memory limit {limits.max_memory_bytes / 2**20:,.0f} MiB", "memory")
        return True
    return False


__all__ = ["run"]
