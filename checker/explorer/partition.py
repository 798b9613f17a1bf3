"""One worker's share of a parallel breadth-first search (:mod:`.parallel`): the states whose
fingerprint is ``me`` modulo ``n``, their part of the fingerprint table, and the frontier of
them still to expand.

Every state reached first at a level is identified by its *key* (the global index of the state
it was reached from, the position of the action among that state's actions): the sequential
search numbers the states of a level in exactly that order, so the coordinator, sorting the
keys of a level, gives every state the index the sequential search gives it. A worker keeps,
for each fingerprint new at the level, the state of the smallest key (the representative the
sequential search explores), and evaluates properties in the same order of keys, so the first
witness of each finding is the sequential search's (:attr:`.evaluate.Evaluator.order`).

A chunk of expansions is exchanged in four phases (:data:`PHASES`): the sender routes the
fingerprints and keys of its successors to their owners; each owner asks for the states that
are new with the smallest key so far; the senders ship those; the owners store them. Most
successors are states seen before (about two in three on ``ci``), so whole states cross
between processes about once each, as pickled batches.
"""

from __future__ import annotations

import pickle
import resource
from array import array
from typing import Any

from .evaluate import Evaluator
from .exploration import Exploration, current_rss_bytes
from .stable import stable_hash
from .visitor import Visitor

Key = tuple[int, int, int]  # (state index, action position, 0 for a step / 1 for a new state)
Out = tuple[dict[str, int], list[bytes | None]]  # counters, and a batch for each worker


PHASES = ("receive", "ship", "store")
"""The methods that follow ``expand`` (or ``seed``) in a chunk, each fed the batches the
previous one produced for its worker."""


def fingerprint_of(model: Any, stable: bool) -> Any:
    """The model's fingerprint function; ``stable``: one equal in every process (the
    model's ``stable_fingerprint``, else :func:`~.stable.stable_hash` of the state)."""
    if not stable:
        return getattr(model, "fingerprint", None) or hash
    fp = getattr(model, "stable_fingerprint", None)
    if fp is None and getattr(model, "fingerprint", None) is not None:
        raise ValueError(f"model {model.name}: its fingerprint is not known to be equal in "
                         "every process (give it a stable_fingerprint)")
    return fp or stable_hash


class Partition:
    """Worker ``me`` of ``n``: see the module docstring. The coordinator calls the public
    methods in the order seed/expand/receive/pending/number, ..., final."""

    def __init__(self, model: Any, me: int, n: int, liveness: bool,
                 visitors: list[Visitor], stable: bool = False) -> None:
        self.model = model
        # a state received from another worker shares no part with this worker's states: the
        # model's optional intern(state) gives back an equal state made of parts seen before
        self.intern = getattr(model, "intern", None)
        self.me = me
        self.n = n
        self.liveness = liveness
        self.fingerprint = fingerprint_of(model, stable)
        self.ex = Exploration(model.name, "bfs")
        self.ev = Evaluator(model, self.ex, list(model.properties()), liveness)
        self.ev.order = (-1, -1, -1)
        self.visitors = visitors
        self.step_visitors = [v for v in visitors if type(v).on_step is not Visitor.on_step]
        self.state_visitors = [v for v in visitors if type(v).on_state is not Visitor.on_state]
        self.lean = not (self.ev.trans or self.step_visitors or liveness)
        self.successors = getattr(model, "successors", None)
        self.seen: dict[int, int] = {}  # fingerprint -> global index
        self.gids = array("q")  # local index -> global index
        self.pending: dict[int, tuple[int, int, Any, Any]] = {}  # fp -> parent, pos, action, state
        self.frontier: list[tuple[int, int, Any]] = []  # (local index, global index, state)
        self.cursor = 0
        self.depth = 0
        self.own_src = array("q")
        self.own_fp = array("q")
        self.inbox: Any = None  # this worker's own batch of a chunk (never pickled)
        self.held: list[dict[int, Any]] = []  # this chunk's candidates, by owner
        self.action_ids: dict[Any, int] = {}
        self.actions_sent = 0  # this worker's actions the coordinator has been given (keys)

    def probe(self) -> list[int]:
        """The fingerprints of the initial states: every worker must compute the same ones
        (Python salts its str hash per process; see :mod:`.pool`)."""
        return [self.fingerprint(s) for s in self.model.init_states()]

    def seed(self) -> Out:
        """Route the initial states (keys (-1, i)) to their owners, as ``expand`` does."""
        boxes: list[dict[int, tuple[int, int, Any, Any]]] = [{} for _ in range(self.n)]
        for i, s in enumerate(self.model.init_states()):
            h = self.fingerprint(s)
            boxes[h % self.n].setdefault(h, (-1, i, None, s))
        return self._send(boxes, [(array("q"), array("q")) for _ in range(self.n)])

    def expand(self, limit: int) -> Out:
        """Expand up to ``limit`` more states of the frontier; returns the worker's counters
        and, per owner, the batch of the successors it owns (phase 1 of a chunk)."""
        n = self.n
        boxes: list[dict[int, tuple[int, int, Any, Any]]] = [{} for _ in range(n)]
        edges = [(array("q"), array("q")) for _ in range(n)]
        end = min(len(self.frontier), self.cursor + limit)
        chunk = self.frontier[self.cursor:end]
        self.cursor = end
        for li, g, w in chunk:
            if self.lean:
                self._expand_lean(w, g, boxes)
            else:
                self._expand(w, li, g, boxes, edges)
        if end == len(self.frontier):
            self.frontier = []
            self.cursor = 0
        return self._send(boxes, edges)

    def _expand(self, w: Any, li: int, g: int, boxes: list[dict[int, Any]],
                edges: list[tuple[array[int], array[int]]]) -> None:
        model = self.model
        ev = self.ev
        ex = self.ex
        fingerprint = self.fingerprint
        liveness = self.liveness
        n = self.n
        own = False
        d = self.depth
        for pos, action in enumerate(model.actions(w)):
            st = model.step(w, action)
            if st is None:
                continue
            ex.transitions += 1
            aid = self.action_ids.get(action)
            if aid is None:
                aid = self.action_ids[action] = len(ex.actions)
                ex.actions.append(action)
            ev.order = (g, pos, 0)
            ev.on_step(w, st, g, aid, d)
            for v in self.step_visitors:
                v.on_step(w, action, st)
            nw = st.state
            h = fingerprint(nw)
            o = h % n
            if liveness and model.is_own(w, action):
                own = True
                edges[o][0].append(g)
                edges[o][1].append(h)
            if o == self.me and h in self.seen:
                continue
            boxes[o].setdefault(h, (g, pos, action, nw))
        if liveness:
            ev.on_expanded(w, li, own)

    def _expand_lean(self, w: Any, g: int, boxes: list[dict[int, Any]]) -> None:
        if self.successors is not None:
            pairs = self.successors(w)
        else:
            pairs = []
            for a in self.model.actions(w):
                st = self.model.step(w, a)
                if st is not None:
                    pairs.append((a, st.state))
        self.ex.transitions += len(pairs)
        n = self.n
        for pos, (action, nw) in enumerate(pairs):
            h = self.fingerprint(nw)
            o = h % n
            if o == self.me and h in self.seen:
                continue
            boxes[o].setdefault(h, (g, pos, action, nw))

    def _send(self, boxes: list[dict[int, Any]], edges: list[tuple[array[int], array[int]]]
              ) -> Out:
        """Phase 1 of a chunk: to every other owner only the fingerprints and keys of its
        candidates (the states stay here until it asks for them), with the own-step edges."""
        out: list[bytes | None] = []
        self.held = boxes
        for o in range(self.n):
            if o == self.me:
                self.inbox = (list(boxes[o].items()), edges[o])
                out.append(None)
                continue
            cands = boxes[o]
            batch = (array("q", cands), array("q", [c[0] for c in cands.values()]),
                     array("q", [c[1] for c in cands.values()]), edges[o])
            out.append(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        return self.counters(), out

    def receive(self, batches: list[bytes | None]) -> Out:
        """Phase 2, at the owner: which candidates are new with a smaller key than any seen at
        this level; asks their senders for those states (its own batch has them)."""
        seen = self.seen
        pending = self.pending
        best: dict[int, tuple[int, int, int]] = {}  # fp -> key and sender, this chunk
        for i, b in enumerate(batches):
            if b is None:
                items, (src, fps) = self.inbox
                self.inbox = None
                for h, cand in items:
                    if h not in seen:
                        cur = pending.get(h)
                        if cur is None or (cand[0], cand[1]) < (cur[0], cur[1]):
                            pending[h] = cand
                            best.pop(h, None)
            else:
                hs, ps, poss, (src, fps) = pickle.loads(b)
                for h, p, pos in zip(hs, ps, poss, strict=True):
                    if h not in seen:
                        cur = pending.get(h)
                        if cur is None or (p, pos) < (cur[0], cur[1]):
                            pending[h] = (p, pos, None, None)
                            best[h] = (p, pos, i)
            self.own_src.extend(src)
            self.own_fp.extend(fps)
        asks: list[array[int]] = [array("q") for _ in range(self.n)]
        for h, (_, _, i) in best.items():
            asks[i].append(h)
        return self.counters(), [pickle.dumps(a, protocol=pickle.HIGHEST_PROTOCOL) if a else None
                                 for a in asks]

    def ship(self, asks: list[bytes | None]) -> Out:
        """Phase 3, at the sender: the states the owners asked for (action and state)."""
        out: list[bytes | None] = []
        for o, b in enumerate(asks):
            if b is None:
                out.append(None)
                continue
            held = self.held[o]  # asked for: so this worker sent candidates
            out.append(pickle.dumps([(h, held[h][2], held[h][3]) for h in pickle.loads(b)],
                                    protocol=pickle.HIGHEST_PROTOCOL))
        self.held = []
        return self.counters(), out

    def store(self, batches: list[bytes | None]) -> Out:
        """Phase 4, at the owner: the states asked for, under the keys they won with."""
        pending = self.pending
        intern = self.intern
        for b in batches:
            if b is not None:
                for h, action, state in pickle.loads(b):
                    p, pos, _, _ = pending[h]
                    if intern is not None:
                        state = intern(state)
                    pending[h] = (p, pos, action, state)
        return self.counters(), [None] * self.n

    def keys(self) -> tuple[array[int], array[int], array[int], list[Any]]:
        """The keys of the states new at this level, sorted, with the actions that reached
        them as this worker's action ids (-1: none), and the actions this worker numbered
        since the last call (the coordinator numbers the states, and maps the ids: a level's
        actions cross as ints, not as pickled tuples)."""
        items = sorted(self.pending.items(), key=lambda kv: (kv[1][0], kv[1][1]))
        self.pending = dict(items)
        ids = self.action_ids
        actions = self.ex.actions
        aids = array("q")
        for _, c in items:
            a = c[2]
            if a is None:
                aids.append(-1)
                continue
            aid = ids.get(a)
            if aid is None:
                aid = ids[a] = len(actions)
                actions.append(a)
            aids.append(aid)
        new = actions[self.actions_sent:]
        self.actions_sent = len(actions)
        return (array("q", [c[0] for _, c in items]), array("q", [c[1] for _, c in items]),
                aids, new)

    def number(self, gids: array[int], depth: int) -> dict[str, int]:
        """The global indices of the new states (in the order of ``keys``; -1: dropped by a
        bound): record them and evaluate the state checks on them, in key order."""
        ev = self.ev
        nxt: list[tuple[int, int, Any]] = []
        for (h, (p, pos, _, s)), g in zip(self.pending.items(), gids, strict=True):
            if g < 0:
                continue
            self.seen[h] = g
            li = len(self.gids)
            self.gids.append(g)
            ev.order = (p, pos, 1)
            ev.on_state(s, g, depth)
            for v in self.state_visitors:
                v.on_state(s, g, depth)
            nxt.append((li, g, s))
        self.pending = {}
        self.depth = depth
        self.frontier, self.cursor = nxt, 0
        return self.counters()

    def counters(self) -> dict[str, int]:
        return {"pending": len(self.pending), "frontier": len(self.frontier) - self.cursor,
                "transitions": self.ex.transitions, "rss": current_rss_bytes()}

    def final(self) -> dict[str, Any]:
        """Everything the coordinator merges: findings with their order and actions,
        counters, liveness data by global index, own-step edges, the visitors."""
        ex = self.ex
        self.ev.flush()
        findings = []
        for k, f in ex.findings.items():
            act = ex.actions[f.action] if f.action is not None else None
            findings.append((self.ev.first[k], f, act))
        dst = array("q", [self.seen.get(h, -1) for h in self.own_fp])
        live = {name: (d.good, d.key, d.keys) for name, d in ex.liveness.items()}
        return {"findings": findings, "evaluations": dict(ex.evaluations),
                "transitions": ex.transitions, "gids": self.gids, "liveness": live,
                "own_src": self.own_src, "own_dst": dst, "visitors": self.visitors,
                "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


__all__ = ["PHASES", "Key", "Out", "Partition", "fingerprint_of"]
