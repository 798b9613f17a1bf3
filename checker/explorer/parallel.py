"""Breadth-first search by several workers (processes, or Ray actors) with the sequential
search's results: the same states with the same indices, parent links and depths, the same
transitions, the same findings with the same first witnesses and counts, the same liveness
verdicts and the same visitor totals.

Each worker owns the states whose fingerprint is its number modulo the number of workers
(:mod:`.partition`). The coordinator (this module) runs the levels: within a level, in chunks,
every worker expands part of its frontier and routes each successor to its owner, which keeps
the new ones; at the end of a level the coordinator sorts the keys of the new states, which
gives them the sequential search's indices, and records their parent links, and the owners
evaluate the state checks on them. Bounds, signals and progress are checked between chunks; a
run stopped by ``max_states`` keeps exactly that many states, as the sequential search does.
At the end the coordinator merges the workers' findings, counters, liveness data, own-step
edges and visitors into one :class:`~.exploration.Exploration`, on which traces and the
liveness analysis work unchanged.
"""

from __future__ import annotations

import time
from array import array
from collections import Counter
from itertools import compress
from typing import Any

from .exploration import Exploration, Finding, Limits, LivenessData, current_rss_bytes, rss_bytes
from .partition import LEVEL_END
from .pool import FingerprintMismatch, ProcessPool, RayPool
from .visitor import Control, Visitor

CHUNK = 1024
"""States each worker expands between two exchanges (bounds and signals are checked between)."""

BALANCE_SLACK = 32
"""How many states above its share of a level a worker may hold before it gives the surplus to
the workers below theirs (pickling a state costs about a quarter of expanding it)."""


def run(model: Any, ex: Exploration, limits: Limits, visitors: list[Visitor],
        progress: Any, control: Control, liveness: bool, progress_every: float,
        workers: int | None, ray: str | None = None, chunk: int | None = None) -> None:
    """Explore ``model`` into ``ex`` with ``workers`` workers (None with ``ray``: one per CPU
    of the cluster)."""
    for v in visitors:
        if type(v).merge is Visitor.merge:
            raise ValueError(f"{type(v).__name__} cannot merge what parallel workers saw: "
                             "run it with one worker")
    ex.rss_start_bytes = rss_bytes()
    pool: Any
    if ray is not None:
        pool = RayPool(ray, model, workers, liveness, visitors)
    else:
        pool = ProcessPool(model, workers or 1, liveness, visitors)
    try:
        _Coordinator(pool, ex, limits, progress, control, progress_every,
                     chunk or CHUNK).search()
        finals = pool.call("final")
    except BaseException:
        pool.close(graceful=False)
        raise
    pool.close()
    _merge(ex, finals, visitors)


class _Coordinator:
    def __init__(self, pool: Any, ex: Exploration, limits: Limits, progress: Any,
                 control: Control, progress_every: float, chunk: int) -> None:
        self.pool = pool
        self.ex = ex
        self.limits = limits
        self.progress = progress
        self.control = control
        self.progress_every = progress_every
        self.chunk = chunk
        self.action_ids: dict[Any, int] = {}
        # per worker, its actions (by its own ids) and their global ids (-1: none yet)
        self.worker_actions: list[list[Any]] = [[] for _ in range(pool.n)]
        self.global_ids: list[list[int]] = [[] for _ in range(pool.n)]
        self.t0 = time.monotonic()
        self.last_progress = self.t0

    def search(self) -> None:
        ex, pool = self.ex, self.pool
        probes = pool.call("probe")
        if any(p != probes[0] for p in probes):
            raise FingerprintMismatch(
                "the workers computed different fingerprints for the initial states: the "
                "model's fingerprint depends on the process (Python's hash of a str or of "
                "None does)")
        pool.exchange("seed", [()], [0])
        remaining = self.number(0)
        level = 0
        max_depth = self.limits.max_depth
        while remaining and ex.complete:
            level += 1
            if max_depth is not None and level > max_depth:
                ex.stop(f"max depth {max_depth}", "depth")
                break
            while True:
                sent, got = pool.exchange("expand", [(self.chunk,)] * pool.n,
                                          list(range(pool.n)))
                ex.transitions = sum(c["transitions"] for c in sent)
                left = sum(c["frontier"] for c in sent)
                pending = sum(c["pending"] for c in got)
                rss = current_rss_bytes() + sum(c["rss"] for c in got)
                if self.should_stop(len(ex.parent) + pending, left + pending, rss, level) \
                        or not left:
                    break
            remaining = self.number(level)
        ex.distinct_states = len(ex.parent)
        ex.seconds = time.monotonic() - self.t0

    def number(self, depth: int) -> int:
        """Give the states new at ``depth`` their indices (in key order) and record their
        links; the workers holding them then evaluate them, after those holding more than
        their share gave the rest away. Returns how many there are."""
        ex = self.ex
        n = self.pool.n
        keys = self.pool.call("keys")
        for w, (_, _, _, _, new) in enumerate(keys):
            self.worker_actions[w].extend(new)
            self.global_ids[w].extend([-1] * len(new))
        order = sorted((p, pos, w, j) for w, (ps, poss, _, _, _) in enumerate(keys)
                       for j, (p, pos) in enumerate(zip(ps, poss, strict=True)))
        if self.limits.max_states is not None:
            room = max(0, self.limits.max_states - len(ex.parent))
            if len(order) > room:
                ex.stop(f"max states {self.limits.max_states:,}", "states")
                del order[room:]
        owned = [array("q", [-1]) * len(k[0]) for k in keys]
        held = [array("q", [-1]) * len(k[3]) for k in keys]
        cursor = [0] * n
        parent_app, via_app, depth_app = ex.parent.append, ex.via.append, ex.depth.append
        for p, _, w, j in order:
            g = len(ex.parent)
            owned[w][j] = g
            parent_app(p)
            hw = keys[w][2][j]  # the worker holding the state: its entries are in key order
            c = cursor[hw]
            cursor[hw] = c + 1
            held[hw][c] = g
            la = keys[hw][3][c]
            if la < 0:
                via_app(-1)
            else:
                a = self.global_ids[hw][la]
                if a < 0:  # numbered in the order the sequential search meets them
                    a = self.global_ids[hw][la] = self._aid(self.worker_actions[hw][la])
                via_app(a)
            depth_app(depth)
        if order:
            ex.diameter = depth
        gives = _balance(cursor)
        self.pool.exchange("number", [(owned[w], held[w], depth, gives[w]) for w in range(n)],
                           list(range(n)), LEVEL_END)
        return len(order)

    def _aid(self, action: Any) -> int:
        if action is None:
            return -1
        aid = self.action_ids.get(action)
        if aid is None:
            aid = self.action_ids[action] = len(self.ex.actions)
            self.ex.actions.append(action)
        return aid

    def should_stop(self, states: int, queue: int, rss: int, depth: int) -> bool:
        """The bounds of :meth:`~.search.Search.should_stop`, over every worker (memory: the
        sum of the processes); progress now and then."""
        ex, lim = self.ex, self.limits
        now = time.monotonic()
        if self.control.reason is not None:
            ex.stop(self.control.reason, "interrupt")
        elif lim.max_states is not None and states >= lim.max_states:
            ex.stop(f"max states {lim.max_states:,}", "states")
        elif lim.max_seconds is not None and now - self.t0 > lim.max_seconds:
            ex.stop(f"time limit {lim.max_seconds:g} s", "seconds")
        elif lim.max_memory_bytes is not None and rss > lim.max_memory_bytes:
            ex.stop(f"memory limit {lim.max_memory_bytes / 2**20:,.0f} MiB", "memory")
        if self.progress is not None and now - self.last_progress >= self.progress_every:
            self.last_progress = now
            self.progress(f"{states:,} states, {ex.transitions:,} transitions, queue "
                          f"{queue:,}, depth {depth}, {states / (now - self.t0):,.0f} states/s, "
                          f"{rss / 2**20:,.0f} MiB, {now - self.t0:,.0f} s, "
                          f"{self.pool.n} workers")
        return bool(ex.stop_kind)


def _balance(counts: list[int], slack: int | None = None) -> list[list[int]]:
    """How many of its new states each worker gives each other (``[w][o]``) so that every
    worker holds its share of the level (within ``slack`` states: a small level is not worth
    the pickling): the workers above their share give to those below it, largest first."""
    if slack is None:
        slack = BALANCE_SLACK
    n = len(counts)
    total = sum(counts)
    share = [total // n + (1 if w < total % n else 0) for w in range(n)]
    over = [[counts[w] - share[w], w] for w in range(n) if counts[w] - share[w] > slack]
    under = [[share[w] - counts[w], w] for w in range(n) if share[w] > counts[w]]
    gives = [[0] * n for _ in range(n)]
    if not over:
        return gives
    over.sort(reverse=True)
    under.sort(reverse=True)
    u = 0
    for o in over:
        while o[0] > 0 and u < len(under):
            k = min(o[0], under[u][0])
            gives[o[1]][under[u][1]] += k
            o[0] -= k
            under[u][0] -= k
            if under[u][0] == 0:
                u += 1
    return gives


def _merge(ex: Exploration, finals: list[dict[str, Any]], visitors: list[Visitor]) -> None:
    """The workers' findings, counters, liveness data, own-step edges and visitors into
    ``ex``."""
    ids = {a: i for i, a in enumerate(ex.actions)}
    best: dict[tuple[str, str, str], tuple[Any, Finding]] = {}
    evaluations: Counter[str] = Counter()
    n = len(ex.parent)
    for fin in finals:
        for order, f, act in fin["findings"]:
            if act is not None and act not in ids:
                ids[act] = len(ex.actions)
                ex.actions.append(act)
            f.action = ids[act] if act is not None else None
            cur = best.get(f.ident)
            if cur is None or order < cur[0]:
                f.count += cur[1].count if cur is not None else 0
                best[f.ident] = (order, f)
            else:
                cur[1].count += f.count
        evaluations.update(fin["evaluations"])
        kept = [d >= 0 for d in fin["own_dst"]]  # edges to a state dropped by a bound go
        ex.own_src.extend(compress(fin["own_src"], kept))
        ex.own_dst.extend(compress(fin["own_dst"], kept))
        for name, (good, key, keys) in fin["liveness"].items():
            data = ex.liveness.setdefault(name, LivenessData(bytearray(n),
                                                             array("i", [-1]) * n))
            gids = fin["gids"]
            for li, g in enumerate(gids):
                data.good[g] = good[li]
            for li, kid in enumerate(key):
                if kid >= 0:
                    k = keys[kid]
                    gk = data.key_ids.get(k)
                    if gk is None:
                        gk = data.key_ids[k] = len(data.keys)
                        data.keys.append(k)
                    data.key[gids[li]] = gk
        for v, theirs in zip(visitors, fin["visitors"], strict=True):
            v.merge(theirs)
    ex.findings = {k: f for k, (_, f) in sorted(best.items(), key=lambda kv: kv[1][0])}
    ex.evaluations = evaluations
    ex.transitions = sum(fin["transitions"] for fin in finals)
    ex.peak_rss_bytes = rss_bytes() + sum(fin["peak_rss"] for fin in finals)


__all__ = ["BALANCE_SLACK", "CHUNK", "run"]
