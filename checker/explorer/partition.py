"""One worker's share of a parallel breadth-first search (:mod:`.parallel`). A worker plays
two parts: it *owns* the fingerprints that are ``me`` modulo ``n`` (their part of the
fingerprint table, and the choice of each new one's representative), and it *holds* states (its
frontier, whose states it evaluates and expands). A state is held by the worker that reached it,
so states do not cross between processes, except to balance a level.

Every state reached first at a level is identified by its *key* (the global index of the state
it was reached from, the position of the action among that state's actions): the sequential
search numbers the states of a level in exactly that order, so the coordinator, sorting the
keys of a level, gives every state the index the sequential search gives it. For each
fingerprint new at the level the owner chooses the candidate of the smallest key (the
representative the sequential search explores), and states are evaluated under the order of
their keys, so the first witness of each finding is the sequential search's
(:attr:`.evaluate.Evaluator.order`).

A chunk of expansions is exchanged in three phases (:data:`PHASES`): the sender routes the
fingerprints and keys of its successors to their owners (the states stay with it); each owner
tells each sender which of its candidates are new with the smallest key so far, and which it
kept in an earlier chunk and lost since; the senders keep and drop them. At the end of a level
(:data:`LEVEL_END`) every worker evaluates the states it holds; the coordinator has those of a
worker holding more than its share go, pickled, to one holding fewer.
"""

from __future__ import annotations

import pickle
import resource
from array import array
from operator import itemgetter
from typing import Any

from .evaluate import Evaluator
from .exploration import Exploration, current_rss_bytes
from .stable import stable_hash
from .visitor import Visitor

Key = tuple[int, int, int]  # (state index, action position, 0 for a step / 1 for a new state)
Out = tuple[dict[str, int], list[bytes | None]]  # counters, and a batch for each worker


PHASES = ("receive", "keep")
"""The methods that follow ``expand`` (or ``seed``) in a chunk, each fed the batches the
previous one produced for its worker."""

LEVEL_END = ("adopt",)
"""The methods that follow ``number`` at the end of a level."""


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
    methods in the order seed/expand/receive/keep/keys/number/adopt, ..., final."""

    def __init__(self, model: Any, me: int, n: int, liveness: bool,
                 visitors: list[Visitor], stable: bool = False) -> None:
        self.model = model
        # the model's optional intern(state): an equal state made of parts seen before, for
        # every state kept (one received from another worker shares no part with this one's)
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
        # owner: fp -> the smallest key so far at this level (parent, action position) and
        # the worker holding that candidate
        self.pending: dict[int, tuple[int, int, int]] = {}
        # holder: fp -> the candidate it keeps (parent, action position, action, state)
        self.kept: dict[int, tuple[int, int, Any, Any]] = {}
        # between keys and number: the owned fingerprints and the held candidates, in key order
        self.owned: list[int] = []
        self.held_sorted: list[tuple[int, int, Any, Any]] = []
        # (global index, key's parent, key's position, state), in global order: each is
        # evaluated just before it is expanded (the level's end is not held up by it)
        self.frontier: list[tuple[int, int, int, Any]] = []
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
        lean = self.lean
        for g, p, pos, w in chunk:
            li = self._evaluate(g, p, pos, w)
            if lean:
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
        this level. Tells each sender which of its candidates to keep (it holds them from now
        on: states do not cross) and which it kept before and lost since to a smaller key."""
        seen = self.seen
        best: dict[int, tuple[int, int, int]] = {}  # fp -> key and sender, this chunk
        for i, b in enumerate(batches):
            if b is None:
                items, (src, fps) = self.inbox
                self.inbox = None
                for h, cand in items:
                    if h not in seen:
                        cur = best.get(h)
                        if cur is None or (cand[0], cand[1]) < (cur[0], cur[1]):
                            best[h] = (cand[0], cand[1], i)
            else:
                hs, ps, poss, (src, fps) = pickle.loads(b)
                for h, p, pos in zip(hs, ps, poss, strict=True):
                    if h not in seen:
                        cur = best.get(h)
                        if cur is None or (p, pos) < (cur[0], cur[1]):
                            best[h] = (p, pos, i)
            self.own_src.extend(src)
            self.own_fp.extend(fps)
        pending = self.pending
        keeps: list[array[int]] = [array("q") for _ in range(self.n)]
        drops: list[array[int]] = [array("q") for _ in range(self.n)]
        for h, k in best.items():
            cur = pending.get(h)
            if cur is None:
                pending[h] = k
                keeps[k[2]].append(h)
            elif (k[0], k[1]) < (cur[0], cur[1]):
                pending[h] = k
                keeps[k[2]].append(h)
                if cur[2] != k[2]:
                    drops[cur[2]].append(h)
        out: list[bytes | None] = []
        for o in range(self.n):
            if o == self.me:
                self.inbox = (keeps[o], drops[o])
                out.append(None)
            elif keeps[o] or drops[o]:
                out.append(pickle.dumps((keeps[o], drops[o]), protocol=pickle.HIGHEST_PROTOCOL))
            else:
                out.append(None)
        return self.counters(), out

    def keep(self, replies: list[bytes | None]) -> Out:
        """Phase 3, at the sender: keep the candidates an owner chose (until the end of the
        level, when they are numbered here), interned, and forget those that lost since."""
        kept = self.kept
        held = self.held
        intern = self.intern
        for o, b in enumerate(replies):
            if o == self.me:
                ks, ds = self.inbox
                self.inbox = None
            elif b is None:
                continue
            else:
                ks, ds = pickle.loads(b)
            if not ks and not ds:
                continue
            box = held[o]
            for h in ks:  # before the drops: a candidate chosen and then beaten in one chunk
                c = box[h]
                kept[h] = c if intern is None else (c[0], c[1], c[2], intern(c[3]))
            for h in ds:
                del kept[h]
        self.held = []
        return self.counters(), [None] * self.n

    def keys(self) -> tuple[array[int], array[int], array[int], array[int], list[Any]]:
        """The level's new states this worker owns, in key order (their keys and the workers
        holding them); the ids (-1: none) of the actions that reached the states it holds, in
        key order; and the actions it numbered since the last call (the coordinator numbers
        the states and maps the ids: a level's actions cross as ints, not pickled tuples)."""
        # keys are unique, so sorting the entries (key first) compares nothing after the key
        items = sorted(self.pending.items(), key=itemgetter(1))
        self.owned = [h for h, _ in items]
        held = sorted(self.kept.values())
        self.held_sorted = held
        self.kept = {}
        ids = self.action_ids
        actions = self.ex.actions
        aids = array("q")
        for c in held:
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
                array("q", [c[2] for _, c in items]), aids, new)

    def number(self, owned: array[int], held: array[int], depth: int, give: list[int]) -> Out:
        """The global indices (-1: dropped by a bound) of the new states this worker owns and
        of those it holds, each in the order of ``keys``: records the first, and evaluates the
        state checks on the second, except the last ``give[o]`` of them, which go to worker
        ``o`` (a level's states are balanced between workers; see :meth:`adopt`)."""
        seen = self.seen
        for h, g in zip(self.owned, owned, strict=True):
            if g >= 0:
                seen[h] = g
        self.pending = {}
        self.owned = []
        for e in self.frontier[self.cursor:]:  # a run stopped part-way through the level
            self._evaluate(*e)
        self.depth = depth
        mine = [(g, c[0], c[1], c[3]) for c, g in zip(self.held_sorted, held, strict=True)
                if g >= 0]
        self.held_sorted = []
        out: list[bytes | None] = [None] * self.n
        end = len(mine)
        for o, k in enumerate(give):
            if k:
                out[o] = pickle.dumps(mine[end - k:end], protocol=pickle.HIGHEST_PROTOCOL)
                end -= k
        self.frontier, self.cursor = mine[:end], 0
        return self.counters(), out

    def adopt(self, batches: list[bytes | None]) -> Out:
        """Phase 2 of a level's end: the states other workers gave this one join the frontier,
        which stays in the order of the global indices (so the first candidate of a successor
        in a chunk is the one of the smallest key)."""
        intern = self.intern
        got: list[tuple[int, int, int, Any]] = []
        for b in batches:
            if b is not None:
                got.extend(pickle.loads(b))
        if got:
            if intern is not None:
                got = [(g, p, pos, intern(s)) for g, p, pos, s in got]
            self.frontier.extend(got)
            self.frontier.sort(key=_global)
        return self.counters(), [None] * self.n

    def _evaluate(self, g: int, p: int, pos: int, s: Any) -> int:
        """The state checks and state visitors on a state (global index ``g``, key ``(p,
        pos)``); returns its local index."""
        li = len(self.gids)
        self.gids.append(g)
        ev = self.ev
        ev.order = (p, pos, 1)
        ev.on_state(s, g, self.depth)
        for v in self.state_visitors:
            v.on_state(s, g, self.depth)
        return li

    def counters(self) -> dict[str, int]:
        return {"pending": len(self.pending), "frontier": len(self.frontier) - self.cursor,
                "transitions": self.ex.transitions, "rss": current_rss_bytes()}

    def final(self) -> dict[str, Any]:
        """Everything the coordinator merges: findings with their order and actions,
        counters, liveness data by global index, own-step edges, the visitors."""
        ex = self.ex
        for g, p, pos, s in self.frontier[self.cursor:]:  # a run stopped before expanding them
            self._evaluate(g, p, pos, s)
        self.frontier = []
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


def _global(entry: tuple[int, int, int, Any]) -> int:
    return entry[0]


__all__ = ["LEVEL_END", "PHASES", "Key", "Out", "Partition", "fingerprint_of"]
