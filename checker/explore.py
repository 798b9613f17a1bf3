"""Explicit-state exploration: breadth-first (shortest traces), depth-first, or random simulation.

States are stored as 64-bit fingerprints (Python's hash of the immutable world) with a parent
link and the action that first reached them, so every finding has a trace, shortest under BFS,
rebuilt by replaying the actions from the initial state. Only the current BFS level keeps whole
states. Nova's own steps (deliveries, handler steps, restarts, periodic tasks, timeouts of calls
no one will answer) are also kept as edges for the liveness analysis.
"""

from __future__ import annotations

import random
import resource
import sys
import time
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nova_resize.engine.core import Action, Engine, StepResult
from nova_resize.engine.tx import Tx
from nova_resize.engine.world import World
from nova_resize.spec.states import RESIZE_TASK_STATES

from .properties import PROPERTIES, Context, is_quiescent

OWN = ("deliver", "run", "restart", "periodic")


@dataclass
class Finding:
    """The first (under BFS: shortest) witness of one violation key of one property."""

    prop: str
    key: str
    message: str
    state: int  # index of the state (for a transition property, its source state)
    action: int | None  # the violating step's action id, for transition properties
    depth: int
    kind: str


@dataclass
class Exploration:
    """Everything a run found and measured."""

    config_name: str
    strategy: str
    distinct_states: int = 0
    transitions: int = 0
    diameter: int = 0
    seconds: float = 0.0
    complete: bool = True
    stop_reason: str = ""
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)
    evaluations: Counter[str] = field(default_factory=Counter)
    rows_executed: Counter[str] = field(default_factory=Counter)
    peak_rss_bytes: int = 0
    rss_start_bytes: int = 0
    # graph, kept for traces and liveness
    parent: array = field(default_factory=lambda: array("i"))
    via: array = field(default_factory=lambda: array("i"))
    depth: array = field(default_factory=lambda: array("i"))
    actions: list[Action] = field(default_factory=list)
    own_src: array = field(default_factory=lambda: array("i"))
    own_dst: array = field(default_factory=lambda: array("i"))
    good: bytearray = field(default_factory=bytearray)
    bad_key: array = field(default_factory=lambda: array("i"))  # quiescent, resize task left
    bad_keys: list[str] = field(default_factory=list)
    dead_ends: dict[str, int] = field(default_factory=dict)
    stuck_states: int = 0

    @property
    def states_per_second(self) -> float:
        return self.distinct_states / self.seconds if self.seconds > 0 else 0.0


def _mig(w: World, name: str) -> str:
    migs = [m for m in w.migrations if m.instance == name]
    return f"migration {migs[-1].status}" if migs else "no migration"


def _rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Explorer:
    """Explores an engine's state space and evaluates the properties on it."""

    def __init__(self, engine: Engine, max_states: int | None = None,
                 max_depth: int | None = None, max_seconds: float | None = None,
                 progress: Callable[[str], None] | None = None, liveness: bool = True) -> None:
        self.engine = engine
        self.ctx = Context(engine)
        self.max_states = max_states
        self.max_depth = max_depth
        self.max_seconds = max_seconds
        self.progress = progress
        self.liveness = liveness
        self.state_props = [p for p in PROPERTIES if p.kind == "state"]
        self.quiet_props = [p for p in PROPERTIES if p.kind == "quiescent"]
        self.trans_props = [p for p in PROPERTIES if p.kind == "transition"]
        self.step_hook: Callable[[World, StepResult], None] | None = None

    # ---- evaluation -------------------------------------------------------------------------
    def _record(self, ex: Exploration, prop: str, kind: str, violations: list[tuple[str, str]],
                state: int, action: int | None, depth: int) -> None:
        for key, msg in violations:
            k = (prop, key)
            if k not in ex.findings:
                ex.findings[k] = Finding(prop, key, msg, state, action, depth, kind)

    def _on_state(self, ex: Exploration, w: World, idx: int, depth: int) -> None:
        for p in self.state_props:
            ex.evaluations[p.name] += 1
            v = p.check(self.ctx, w)
            if v:
                self._record(ex, p.name, p.kind, v, idx, None, depth)
        quiet = is_quiescent(w)
        good = False
        if quiet:
            for p in self.quiet_props:
                ex.evaluations[p.name] += 1
                v = p.check(self.ctx, w)
                if v:
                    self._record(ex, p.name, p.kind, v, idx, None, depth)
            bad = [i for i in w.instances
                   if not i.deleted and i.task_state in RESIZE_TASK_STATES]
            good = not bad
            if bad and self.liveness:
                key = "; ".join(f"{i.vm_state}/{i.task_state} ({_mig(w, i.name)})" for i in bad)
                try:
                    kid = ex.bad_keys.index(key)
                except ValueError:
                    kid = len(ex.bad_keys)
                    ex.bad_keys.append(key)
                ex.bad_key.append(kid)
            else:
                ex.bad_key.append(-1)
        else:
            ex.bad_key.append(-1)
        ex.good.append(1 if good else 0)

    def _on_step(self, ex: Exploration, before: World, res: StepResult, src: int,
                 action_id: int, depth: int) -> None:
        for r in res.rows:
            ex.rows_executed[r] += 1
        if self.step_hook is not None:
            self.step_hook(before, res)
        for p in self.trans_props:
            ex.evaluations[p.name] += 1
            v = p.check(self.ctx, before, res)
            if v:
                self._record(ex, p.name, p.kind, v, src, action_id, depth + 1)

    def own(self, w: World, action: Action) -> bool:
        """Whether Nova takes this step by itself (no user, no injected fault)."""
        kind = action[0]
        if kind in OWN:
            return True
        if kind == "timeout":
            tx = Tx.of(w)
            return self.engine._call_dead(tx, tx.frames[action[1]])
        return False

    # ---- search -----------------------------------------------------------------------------
    def run(self, strategy: str = "bfs") -> Exploration:
        eng = self.engine
        ex = Exploration(eng.config.name, strategy)
        ex.rss_start_bytes = _rss()
        t0 = time.monotonic()
        last = t0
        w0 = eng.initial()
        index: dict[int, int] = {hash(w0): 0}
        ex.parent.append(-1)
        ex.via.append(-1)
        ex.depth.append(0)
        action_ids: dict[Action, int] = {}
        self._on_state(ex, w0, 0, 0)
        frontier: list[tuple[World, int]] = [(w0, 0)]
        stack = frontier  # the same list: popped from the end for DFS
        level = 0
        while frontier:
            if strategy == "bfs":
                current, frontier = frontier, []
                level += 1
                if self.max_depth is not None and level > self.max_depth:
                    ex.complete, ex.stop_reason = False, f"max depth {self.max_depth}"
                    break
                items = current
            else:
                items = [stack.pop()]
            for w, idx in items:
                d = ex.depth[idx]
                if strategy != "bfs" and self.max_depth is not None and d >= self.max_depth:
                    ex.complete, ex.stop_reason = False, f"max depth {self.max_depth}"
                    continue
                for action in eng.enabled(w):
                    res = eng.step(w, action)
                    nw = res.world
                    if nw is w or ((res.outcome or "").startswith("refused") and nw == w):
                        continue
                    ex.transitions += 1
                    aid = action_ids.get(action)
                    if aid is None:
                        aid = action_ids[action] = len(ex.actions)
                        ex.actions.append(action)
                    self._on_step(ex, w, res, idx, aid, d)
                    h = hash(nw)
                    nidx = index.get(h)
                    if nidx is None:
                        nidx = len(ex.parent)
                        index[h] = nidx
                        ex.parent.append(idx)
                        ex.via.append(aid)
                        ex.depth.append(d + 1)
                        if d + 1 > ex.diameter:
                            ex.diameter = d + 1
                        self._on_state(ex, nw, nidx, d + 1)
                        if strategy == "bfs":
                            frontier.append((nw, nidx))
                        else:
                            stack.append((nw, nidx))
                    if self.liveness and self.own(w, action):
                        ex.own_src.append(idx)
                        ex.own_dst.append(nidx)
                if self.liveness and not is_quiescent(w) and not self._has_own(ex, idx):
                    blocked = "; ".join(f"{f.service}:{f.handler}:{f.label}" for f in w.frames)
                    ex.dead_ends.setdefault(blocked or "messages nobody takes", idx)
                now = time.monotonic()
                if now - last >= 1.0:
                    last = now
                    if self.progress is not None:
                        n = len(ex.parent)
                        self.progress(
                            f"states {n:,}  queue {len(frontier):,}  depth {ex.diameter}  "
                            f"{n / (now - t0):,.0f} states/s"
                        )
                    if self.max_seconds is not None and now - t0 > self.max_seconds:
                        ex.complete, ex.stop_reason = False, f"time limit {self.max_seconds}s"
                        frontier = []
                        break
                if self.max_states is not None and len(ex.parent) >= self.max_states:
                    ex.complete, ex.stop_reason = False, f"max states {self.max_states}"
                    frontier = []
                    break
            if strategy != "bfs":
                frontier = stack
        ex.distinct_states = len(ex.parent)
        ex.seconds = time.monotonic() - t0
        ex.peak_rss_bytes = _rss()
        return ex

    @staticmethod
    def _has_own(ex: Exploration, idx: int) -> bool:
        return bool(ex.own_src) and ex.own_src[-1] == idx

    # ---- traces -----------------------------------------------------------------------------
    def path(self, ex: Exploration, idx: int) -> list[Action]:
        acts: list[Action] = []
        while idx > 0:
            acts.append(ex.actions[ex.via[idx]])
            idx = ex.parent[idx]
        acts.reverse()
        return acts

    def replay(self, actions: list[Action]) -> list[tuple[Action, World, StepResult]]:
        """Replay actions from the initial state: (action, state before, result) per step."""
        w = self.engine.initial()
        out = []
        for a in actions:
            res = self.engine.step(w, a)
            out.append((a, w, res))
            w = res.world
        return out

    def trace_of(self, ex: Exploration, f: Finding) -> list[Action]:
        acts = self.path(ex, f.state)
        if f.action is not None:
            acts.append(ex.actions[f.action])
        return acts


def simulate(engine: Engine, runs: int, depth: int, seed: int,
             progress: Callable[[str], None] | None = None,
             max_seconds: float | None = None) -> tuple[Exploration, dict[tuple[str, str],
                                                                        list[Action]]]:
    """Random walks (seeded): each run takes up to ``depth`` random enabled steps, evaluating
    the state, quiescent and transition properties along the way. Returns the tallies and, per
    finding, the walk that produced it."""
    rng = random.Random(seed)
    explorer = Explorer(engine, liveness=False)
    ex = Exploration(engine.config.name, "simulate")
    ex.rss_start_bytes = _rss()
    traces: dict[tuple[str, str], list[Action]] = {}
    seen: set[int] = set()
    t0 = last = time.monotonic()
    for run in range(runs):
        w = engine.initial()
        walk: list[Action] = []
        for d in range(depth):
            acts = [a for a in engine.enabled(w)]
            if not acts:
                break
            action = acts[rng.randrange(len(acts))]
            res = engine.step(w, action)
            if res.world == w:
                continue
            walk.append(action)
            ex.transitions += 1
            before = len(ex.findings)
            explorer._on_step(ex, w, res, 0, 0, d)
            w = res.world
            h = hash(w)
            if h not in seen:
                seen.add(h)
            ex.good = bytearray()  # unused in simulation
            explorer._on_state(ex, w, 0, d + 1)
            if len(ex.findings) > before:
                for k in list(ex.findings)[before:]:
                    traces[k] = list(walk)
        now = time.monotonic()
        if progress is not None and now - last >= 1.0:
            last = now
            progress(f"runs {run + 1:,}/{runs:,}  distinct states {len(seen):,}")
        if max_seconds is not None and now - t0 > max_seconds:
            ex.complete, ex.stop_reason = False, f"time limit {max_seconds}s"
            break
    ex.distinct_states = len(seen)
    ex.seconds = time.monotonic() - t0
    ex.peak_rss_bytes = _rss()
    ex.complete = False
    ex.stop_reason = ex.stop_reason or f"simulation: {runs} runs of depth {depth}, seed {seed}"
    return ex, traces


def eprint(msg: str) -> None:
    sys.stderr.write("\r\x1b[2K" + msg)
    sys.stderr.flush()


__all__ = ["Any", "Exploration", "Explorer", "Finding", "eprint", "simulate"]
