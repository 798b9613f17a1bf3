"""The part of a search every exhaustive strategy shares: the fingerprint table, the reached
graph, evaluating properties, calling visitors, expanding one state, and the bounds.

States are identified by a fingerprint of at most 64 bits: Python's hash of the immutable state,
or the model's ``fingerprint(state)`` when it has one (a symmetry reduction gives every state of
an orbit the same fingerprint, so that one of them is explored; the Nova model keeps 60 bits).
The table maps fingerprints to indices; the graph is in the exploration's typed arrays.
``expand`` takes every enabled action of one state and returns the states it reached for the
first time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .evaluate import Evaluator
from .exploration import Exploration, Limits, current_rss_bytes, rss_bytes
from .model import INT_STATE_LIMIT
from .visitor import Control, Visitor

if TYPE_CHECKING:
    from .checkpoint import Checkpointer

Progress = Callable[[str], None]


class Search:
    """One exhaustive search in progress (used by :mod:`.bfs` and :mod:`.dfs`)."""

    def __init__(self, model: Any, ex: Exploration, limits: Limits, visitors: list[Visitor],
                 progress: Progress | None, control: Control, liveness: bool,
                 progress_every: float = 5.0) -> None:
        self.model = model
        self.ex = ex
        self.limits = limits
        self.progress = progress
        self.progress_every = progress_every
        self.control = control
        self.liveness = liveness
        self.ev = Evaluator(model, ex, list(model.properties()), liveness)
        self.index: dict[int, int] = {}
        self.fingerprint: Callable[[Any], int] = getattr(model, "fingerprint", None) or hash
        # a model of packed int states: each is its own fingerprint (model.IntStates)
        self.own_fingerprints = (getattr(model, "states_are_fingerprints", False) is True
                                 and self.fingerprint is hash)
        self.action_ids: dict[Any, int] = {}
        self.visitors = visitors
        self.step_visitors = [v for v in visitors if type(v).on_step is not Visitor.on_step]
        self.state_visitors = [v for v in visitors if type(v).on_state is not Visitor.on_state]
        # nothing looks at the steps themselves: the lean loop (and the model's successors)
        self.lean = not (self.ev.trans or self.step_visitors or liveness)
        self.successors = getattr(model, "successors", None)
        # the model's optional intern(state): an equal state made of parts seen before (the
        # Nova model: its records and tuples of records), so that the states of a level share
        # what they have in common (on full, 1.2x faster and less memory)
        self.intern: Callable[[Any], Any] | None = getattr(model, "intern", None)
        ex.rss_start_bytes = rss_bytes()
        self.t0 = time.monotonic()
        self.last_check = self.t0
        self.last_progress = self.t0
        # checkpoints (.checkpoint): the writer, whether one is due, and whether the run
        # stopped inside one state's actions (no consistent point to save)
        self.checkpointer: Checkpointer | None = None
        self.checkpoint_due = False
        self.torn = False

    def start(self) -> tuple[int, list[tuple[Any, int]], list[tuple[Any, int]]]:
        """Where a breadth-first run starts: the initial states, or a checkpoint's position."""
        ck = self.checkpointer
        if ck is not None and ck.resume is not None:
            return ck.restore(self)
        return 0, [], self.initial()

    def save(self, level: int, current: list[tuple[Any, int]], frontier: list[tuple[Any, int]],
             final: bool = False) -> None:
        """A checkpoint at this position, when the run writes them."""
        if self.checkpointer is not None:
            self.checkpointer.save(self, level, current, frontier, final)

    def initial(self) -> list[tuple[Any, int]]:
        """The initial states, recorded."""
        out = []
        for s0 in self.model.init_states():
            if self.own_fingerprints and not (type(s0) is int and 0 <= s0 < INT_STATE_LIMIT):
                raise ValueError(f"{self.model.name}: says its states are their own "
                                 f"fingerprints, but an initial state is {s0!r}, not an int "
                                 f"in [0, 2**61 - 1)")
            h = self.fingerprint(s0)
            if h in self.index:
                continue
            i0 = self._add(s0, h, -1, -1, 0)
            out.append((s0, i0))
        return out

    def _add(self, state: Any, h: int, parent: int, aid: int, depth: int) -> int:
        ex = self.ex
        idx = len(ex.parent)
        self.index[h] = idx
        ex.parent.append(parent)
        ex.via.append(aid)
        ex.depth.append(depth)
        if depth > ex.diameter:
            ex.diameter = depth
        self.ev.on_state(state, idx, depth)
        for v in self.state_visitors:
            v.on_state(state, idx, depth)
        return idx

    def expand(self, w: Any, idx: int) -> list[tuple[Any, int]]:
        """Take every enabled action of ``w``; the states reached for the first time."""
        if self.lean:
            return self._expand_lean(w, idx)
        ex = self.ex
        model = self.model
        ev = self.ev
        index = self.index
        action_ids = self.action_ids
        step_visitors = self.step_visitors
        liveness = self.liveness
        fingerprint = self.fingerprint
        intern = self.intern
        d = ex.depth[idx]
        new: list[tuple[Any, int]] = []
        own = False
        taken = 0
        for action in model.actions(w):
            taken += 1
            if taken & 1023 == 0 and self.should_stop(0):
                self.torn = True
                break  # a state with thousands of actions: keep the bounds and signals live
            st = model.step(w, action)
            if st is None:
                continue
            nw = st.state
            ex.transitions += 1
            aid = action_ids.get(action)
            if aid is None:
                aid = action_ids[action] = len(ex.actions)
                ex.actions.append(action)
            ev.on_step(w, st, idx, aid, d)
            for v in step_visitors:
                v.on_step(w, action, st)
            h = fingerprint(nw)
            nidx = index.get(h)
            if nidx is None:
                if intern is not None:
                    nw = intern(nw)
                nidx = self._add(nw, h, idx, aid, d + 1)
                new.append((nw, nidx))
            if liveness and model.is_own(w, action):
                own = True
                ex.own_src.append(idx)
                ex.own_dst.append(nidx)
        if liveness:
            ev.on_expanded(w, idx, own)
        return new

    def _expand_lean(self, w: Any, idx: int) -> list[tuple[Any, int]]:
        """``expand`` when nothing looks at the steps: the model's successors (or its actions
        and steps), the table lookup, and an action id only for a state reached first."""
        ex = self.ex
        index = self.index
        fingerprint = self.fingerprint
        d1 = ex.depth[idx] + 1
        new: list[tuple[Any, int]] = []
        succ = self.successors
        if succ is not None:
            pairs = succ(w)
        else:
            step = self.model.step
            pairs = []
            for a in self.model.actions(w):
                st = step(w, a)
                if st is not None:
                    pairs.append((a, st.state))
        ex.transitions += len(pairs)
        for action, nw in pairs:
            h = fingerprint(nw)
            if h not in index:
                aid = self.action_ids.get(action)
                if aid is None:
                    aid = self.action_ids[action] = len(ex.actions)
                    ex.actions.append(action)
                if self.intern is not None:
                    nw = self.intern(nw)
                new.append((nw, self._add(nw, h, idx, aid, d1)))
        return new

    def expand_run(self, current: list[Any], base: int, start: int, frontier: list[Any],
                   most: int = 512) -> int:
        """The lean expansion of ``current[start:]`` (a breadth-first level whose state ``k``
        has index ``base + k``) into ``frontier`` (the states reached first, in index order),
        at most ``most`` states at a time, stopping early once the state bound is met; the
        position after the last state expanded. The same states, in the same order, as
        :meth:`expand` on each of them, with the table, the arrays and the evaluator bound once
        per run of states instead of once per state (the breadth-first loop checks the other
        bounds between runs)."""
        ex = self.ex
        index = self.index
        fingerprint = self.fingerprint
        own_fp = self.own_fingerprints
        action_ids = self.action_ids
        actions_app = ex.actions.append
        parent, via, depth = ex.parent, ex.via, ex.depth
        parent_app, via_app, depth_app = parent.append, via.append, depth.append
        ev = self.ev
        on_state = ev.on_state
        # only plain always checks: called here, their evaluations counted once per run
        plain: tuple[tuple[str, Any], ...] | None = None
        if not (ev.when or ev.live):
            plain = tuple((p.name, p.always) for p in ev.always)
        model = self.model
        record = ev.record
        fresh = 0
        state_visitors = self.state_visitors
        front_app = frontier.append
        intern = self.intern
        succ = self.successors
        step = self.model.step
        actions = self.model.actions
        cap = self.limits.max_states
        if cap is None:
            cap = 1 << 62
        end = min(len(current), start + most)
        transitions = 0
        deepest = ex.diameter
        i = start
        while i < end:
            w = current[i]
            idx = base + i
            i += 1
            d1 = depth[idx] + 1
            if succ is not None:
                pairs = succ(w)
            else:
                pairs = []
                for a in actions(w):
                    st = step(w, a)
                    if st is not None:
                        pairs.append((a, st.state))
            transitions += len(pairs)
            for action, nw in pairs:
                h = nw if own_fp else fingerprint(nw)
                if h in index:
                    continue
                aid = action_ids.get(action)
                if aid is None:
                    aid = action_ids[action] = len(ex.actions)
                    actions_app(action)
                if intern is not None:
                    nw = intern(nw)
                nidx = len(parent)
                index[h] = nidx
                parent_app(idx)
                via_app(aid)
                depth_app(d1)
                if d1 > deepest:
                    deepest = d1
                if plain is not None:
                    fresh += 1
                    for name, check in plain:
                        found = check(model, nw)
                        if found:
                            record(name, "always", found, nidx, None, d1, nw)
                else:
                    on_state(nw, nidx, d1)
                for v in state_visitors:
                    v.on_state(nw, nidx, d1)
                front_app(nw)
            if len(parent) >= cap:
                break
        ex.transitions += transitions
        ex.diameter = deepest
        if plain and fresh:
            for name, _ in plain:
                ex.evaluations[name] += fresh
        return i

    def should_stop(self, queue: int) -> bool:
        """Check the bounds (and print progress now and then); True ends the run, which the
        exploration then records as incomplete."""
        ex = self.ex
        if ex.stop_kind:
            return True
        if self.control.reason is not None:
            ex.stop(self.control.reason, "interrupt")
            return True
        lim = self.limits
        if lim.max_states is not None and len(ex.parent) >= lim.max_states:
            ex.stop(f"max states {lim.max_states:,}", "states")
            return True
        now = time.monotonic()
        if now - self.last_check < 0.5:
            return False
        self.last_check = now
        if self.checkpointer is not None and now >= self.checkpointer.due:
            self.checkpoint_due = True
        if lim.max_seconds is not None and now - self.t0 > lim.max_seconds:
            ex.stop(f"time limit {lim.max_seconds:g} s", "seconds")
            return True
        rss = current_rss_bytes()
        if lim.max_memory_bytes is not None and rss > lim.max_memory_bytes:
            ex.stop(f"memory limit {lim.max_memory_bytes / 2**20:,.0f} MiB", "memory")
            return True
        if self.progress is not None and now - self.last_progress >= self.progress_every:
            self.last_progress = now
            n = len(ex.parent)
            self.progress(f"{n:,} states, {ex.transitions:,} transitions, queue {queue:,}, "
                          f"depth {ex.diameter}, {n / (now - self.t0):,.0f} states/s, "
                          f"{rss / 2**20:,.0f} MiB, {now - self.t0:,.0f} s")
        return False

    def finish(self) -> None:
        self.ev.flush()
        ex = self.ex
        ex.distinct_states = len(ex.parent)
        ex.seconds = time.monotonic() - self.t0
        ex.peak_rss_bytes = rss_bytes()


__all__ = ["Progress", "Search"]
