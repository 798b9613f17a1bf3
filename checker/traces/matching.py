"""Trace validation's search: do observations of a real cloud fit some behaviour of the spec?

The search runs over (spec state, trace position) pairs and keeps only the frontier: the set of
states consistent with the observations so far. Between two observations any number of
unobserved steps may happen (up to ``max_gap``): polls sample a run. A notification stream is
taken as complete for the event types it contains: a behaviour that would have emitted such a
notification without it appearing is not a witness. What the resize path does not write
(power_state) is not compared.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from nova_resize.engine import Notification
from nova_resize.engine.actions import Action, ApiRequest, Deliver, Run
from nova_resize.engine.core import Engine, StepResult, describe
from nova_resize.engine.world import World
from nova_resize.spec.states import CONFIRMED, FAILED, MIG_ERROR, REVERTED, api_status

from .observe import Obs

# (state, notifications of the last step not yet seen, late notifications not yet seen, how
# many of those the last step sent)
Key = tuple[World, tuple[Notification, ...], tuple[Notification, ...], int]
EVENT_METHOD = {"cold_migrate": "migrate_server"}


@dataclass
class Node:
    """A link of the witness: the actions taken since the previous observation, and the
    observation they led to."""

    prev: Node | None
    actions: tuple[Action, ...]
    obs: int


@dataclass
class Verdict:
    """The outcome of a validation: ``accepted``, the observations followed, how many matched;
    when accepted the ``witness`` (per observation, the steps that led to it); when rejected the
    observation it stopped at (``rejected_at``), what the spec allows there and the nearest
    state (``truncated``: the search hit its state cap there, so this is no verdict); the
    search's size; ``warnings`` about the input (out-of-order timestamps...) and the
    ``assumptions`` it was validated under (start host, notification option, publishers)."""

    accepted: bool
    observations: list[Obs]
    matched: int
    witness: list[tuple[int, list[tuple[str, list[str]]]]] = field(default_factory=list)
    rejected_at: int | None = None
    allowed: list[str] = field(default_factory=list)
    nearest: str | None = None
    states_explored: int = 0
    max_frontier: int = 0
    seconds: float = 0.0
    instance: str = ""
    config: str = ""
    truncated: bool = False  # the search at the rejection hit its state cap: no verdict
    warnings: list[str] = field(default_factory=list)
    assumptions: dict[str, Any] = field(default_factory=dict)


class Validator:
    """The search: the frontier of spec states consistent with the observations so far."""

    def __init__(self, engine: Engine, instance: str, max_gap: int = 40,
                 max_states: int = 500_000, max_requests: int = 1) -> None:
        self.engine = engine
        self.instance = instance
        self.max_gap = max_gap
        self.max_states = max_states
        self.truncated = False
        self.max_requests = max_requests
        self.op_budgets = {f"op:{k}": v for k, v in engine.config.actions}
        self.vocabulary: set[str] = set()
        self.actions_complete = False
        self.event_methods: set[str] = set()

    # ---- matching -----------------------------------------------------------------------
    def state_matches(self, w: World, o: Obs) -> bool:
        """Whether the instance in ``w`` is what snapshot ``o`` shows."""
        inst = next((i for i in w.instances if i.name == self.instance), None)
        if inst is None or inst.deleted:
            return False
        if o.get("status") is not None and api_status(inst.vm_state, inst.task_state) != \
                o.get("status"):
            return False
        if o.has("task_state") and inst.task_state != o.get("task_state"):
            return False
        if o.get("vm_state") is not None and inst.vm_state != o.get("vm_state"):
            return False
        if o.get("host") is not None and inst.host != o.get("host"):
            return False
        return self._flavor_matches(inst.flavor, o)

    def _flavor_matches(self, flavor: str | None, o: Obs, key: str = "flavor") -> bool:
        if o.get(key) is not None and flavor != o.get(key):
            return False
        fid = o.get(f"{key}_id")
        if fid is not None and flavor is not None:
            f = self.engine.flavors.get(flavor)
            return f is None or str(f.id) == fid
        return True

    def notification_matches(self, n: Notification, o: Obs) -> bool:
        """Whether the engine's notification ``n`` is the observed one: same event type and
        publisher, and the payload fields the observation gives (host, flavor, states)."""
        if n.instance != self.instance or n.event_type != o.get("event_type"):
            return False
        pub = o.get("publisher_id")
        if pub is not None and n.publisher_id != pub:
            return False
        if o.get("host") is not None and n.host != o.get("host"):
            return False
        if not self._flavor_matches(n.flavor, o):
            return False
        if o.get("new_flavor") is not None and n.new_flavor != o.get("new_flavor"):
            return False
        for key, mine in (("state", n.state), ("old_state", n.old_state),
                          ("old_task_state", n.old_task_state),
                          ("new_task_state", n.new_task_state), ("task_state", n.task_state)):
            if o.has(key) and o.get(key) != mine:
                return False
        return True

    def step_matches(self, before: World, action: Action, res: StepResult, o: Obs) -> bool:
        if o.kind == "action":
            if not isinstance(action, ApiRequest) or action.instance != self.instance or not (
                    res.outcome or "").startswith("accepted"):
                return False
            op = self.engine.spec.operation(action.op)
            return bool(op.instance_action == o.get("action"))
        if o.kind == "event_start":
            if not isinstance(action, Deliver):
                return False
            msg = before.messages[action.message]
            want = o.get("event", "")
            method = EVENT_METHOD.get(want, want.removeprefix("compute_"))
            return msg.method == method and msg.instance.name == self.instance
        if o.kind == "event_finish":
            want = o.get("event", "")
            method = EVENT_METHOD.get(want, want.removeprefix("compute_"))
            return any(ev.kind == "frame_end" and ev.row == method and ev.data[1] ==
                       self.instance and ev.data[2] == o.get("ok") for ev in res.events)
        return False

    def _unobserved_ok(self, notes: tuple[Notification, ...]) -> bool:
        """Skipping these notifications is allowed only for event types the stream never
        shows (it is complete for the types it contains)."""
        return all(n.instance != self.instance or n.event_type not in self.vocabulary
                   for n in notes)

    def _late_first(self, late: tuple[Notification, ...], *notes: Notification) -> bool:
        """A host emits in program order: a late notification not yet seen must be seen before
        a later notification of the same host that the stream would show."""
        hosts = {n.service for n in late}
        return not any(n.service in hosts and n.instance == self.instance
                       and n.event_type in self.vocabulary for n in notes)

    # ---- search -------------------------------------------------------------------------
    def _quota_tail(self, w: World) -> Action | None:
        """A handler whose next step only commits or rolls back its quota, silently: running
        it now rather than later changes nothing an observation of the instance can see."""
        from nova_resize.spec import model as m

        for f in w.frames:
            if f.waiting or (f.handler, f.label) in self.engine.tables.fault_rows:
                continue
            rows = self.engine.next_rows(w, f.id)
            if len(rows) != 1:
                continue
            r = rows[0]
            if r.notify or r.notify_before or r.notify_late:
                continue
            if r.effects and all(isinstance(e, m.Quota) and e.op in ("commit", "rollback")
                                 for e in r.effects):
                return Run(f.id, 0)
        return None

    def gc(self, w: World) -> World:
        """Forget what can no longer matter: resolved reservations and finished migrations no
        handler or message refers to; requests are unlimited again. Handlers left with only
        their silent quota commit finish it (otherwise every later observation would multiply
        the states by the moments it could happen)."""
        for _ in range(100):
            a = self._quota_tail(w)
            if a is None:
                break
            w = self.engine.step(w, a).world
        refs: set[Any] = set()
        for f in w.frames:
            if f.migration is not None:
                refs.add(f.migration.id)
            for _, v in f.locals:
                if isinstance(v, tuple):
                    refs.update(v)
        for msg in w.messages:
            if msg.migration is not None:
                refs.add(msg.migration.id)
            for _, v in msg.args:
                if isinstance(v, tuple):
                    refs.update(v)
        migs = tuple(mg for mg in w.migrations
                     if mg.id in refs or mg.status not in (CONFIRMED, REVERTED, MIG_ERROR,
                                                           FAILED))
        resv = tuple(r for r in w.reservations if r.id in refs or r.status == "pending")
        budgets = tuple((k, self.op_budgets.get(k, v)) for k, v in w.budgets)
        return w._replace(migrations=migs, reservations=resv, budgets=budgets)

    def run(self, observations: list[Obs]) -> Verdict:
        """Match the observations in order. Unobserved user requests are assumed only where
        nothing else explains an observation, up to ``max_requests`` between two, and only
        while Nova is idle (a request racing a running operation must show in the trace: as a
        notification or an instance action)."""
        t0 = time.monotonic()
        eng = self.engine
        obs = [o for o in observations if o.instance == self.instance]
        self.vocabulary = {o.get("event_type") for o in obs if o.kind == "notification"}
        # instance actions record every request: none may go unobserved; nor may a start of a
        # method whose events the trace records
        self.actions_complete = any(o.kind == "action" for o in obs)
        self.event_methods = {EVENT_METHOD.get(o.get("event", ""), o.get("event", "")
                                               .removeprefix("compute_"))
                              for o in obs if o.kind in ("event_start", "event_finish")}
        w0 = eng.initial()
        frontier: dict[Key, Node] = {(w0, (), (), 0): Node(None, (), -1)}
        explored = 0
        max_frontier = 1
        for i, o in enumerate(obs):
            allowed: set[str] = set()
            nxt: dict[Key, Node] = {}
            tries = [0] if self.actions_complete else sorted({0, self.max_requests})
            for requests in tries:
                nxt, n = self._gap(frontier, o, i, requests, allowed)
                explored += n
                if nxt:
                    break
            if not nxt:
                return Verdict(False, obs, i, [], i, sorted(allowed)[:40],
                               self._nearest(o, allowed), explored, max_frontier,
                               time.monotonic() - t0, self.instance, eng.config.name,
                               self.truncated)
            frontier = nxt
            max_frontier = max(max_frontier, len(frontier))
        node = next(iter(frontier.values()))
        return Verdict(True, obs, len(obs), self._witness(node), None, [], None, explored,
                       max_frontier, time.monotonic() - t0, self.instance, eng.config.name)

    def _gap(self, frontier: dict[Key, Node], o: Obs, i: int, max_requests: int,
             allowed: set[str]) -> tuple[dict[Key, Node], int]:
        """Every way from the frontier to observation ``o`` (index ``i``) through unobserved
        steps: the states right after it is matched."""
        eng = self.engine
        nxt: dict[Key, Node] = {}
        seen: set[Key] = set()
        queue: deque[tuple[World, tuple[Notification, ...], tuple[Notification, ...], int,
                           Node, tuple[Action, ...]]] = deque(
            (w, pend, late, fresh, node, ()) for (w, pend, late, fresh), node in frontier.items())
        explored = 0
        while queue:
            w, pend, late, fresh, node, path = queue.popleft()
            key = (w, pend, late, fresh)
            if key in seen:
                continue
            seen.add(key)
            explored += 1
            allowed.add(self._describe_state(w))
            older = late[:len(late) - fresh]
            if o.kind == "snapshot" and self.state_matches(w, o):
                nxt.setdefault((self.gc(w), (), late, 0), Node(node, path, i))
            if o.kind == "notification":
                for k, n in enumerate(pend):
                    if self.notification_matches(n, o):
                        if self._unobserved_ok(pend[:k]) and self._late_first(older, n):
                            nxt.setdefault((self.gc(w), pend[k + 1:], late, fresh),
                                           Node(node, path, i))
                        break
                for k, n in enumerate(late):
                    if self.notification_matches(n, o) and not pend:
                        nfresh = fresh - (1 if k >= len(late) - fresh else 0)
                        nxt.setdefault((self.gc(w), pend, late[:k] + late[k + 1:], nfresh),
                                       Node(node, path, i))
                        break
            if explored > self.max_states:
                self.truncated = True
                continue
            if len(path) >= self.max_gap:
                continue
            if not self._unobserved_ok(pend):
                continue  # the pending notifications must be observed first
            requests = sum(1 for a in path if a[0] == "api")
            idle = not w.messages and not w.frames
            for action in eng.enabled(w):
                if action[0] == "api":
                    if self.actions_complete and o.kind != "action":
                        continue  # every request would have been recorded as an action
                    if not self.actions_complete and (requests >= max_requests or not idle):
                        continue  # unobserved requests: few, and only while Nova is idle
                res = eng.step(w, action)
                if res.world is w:
                    continue
                if action[0] == "api" and self.actions_complete and not self.step_matches(
                        w, action, res, o):
                    continue
                if isinstance(action, Deliver):
                    msg = w.messages[action.message]
                    if msg.method in self.event_methods and msg.instance.name == self.instance \
                            and not (o.kind == "event_start"
                                     and self.step_matches(w, action, res, o)):
                        continue  # its event would have been recorded
                npath = (*path, action)
                notes = tuple(n for n in res.notifications if not n.late)
                nlate = late + tuple(n for n in res.notifications
                                     if n.late and n.instance == self.instance
                                     and n.event_type in self.vocabulary)
                if not self._late_first(late, *notes):
                    continue
                nfresh = len(nlate) - len(late)
                if o.kind in ("action", "event_start", "event_finish") and \
                        self.step_matches(w, action, res, o):
                    nxt.setdefault((self.gc(res.world), notes, nlate, nfresh),
                                   Node(node, npath, i))
                    continue  # past it, the next observation takes over
                queue.append((res.world, notes, nlate, nfresh, node, npath))
        return nxt, explored

    def _describe_state(self, w: World) -> str:
        inst = next((i for i in w.instances if i.name == self.instance), None)
        if inst is None or inst.deleted:
            return "(deleted)"
        migs = [mg.status for mg in w.migrations if mg.instance == self.instance]
        return (f"{api_status(inst.vm_state, inst.task_state)} {inst.task_state or '-'} "
                f"({inst.vm_state}) on {inst.host}" + (f", migration {migs[-1]}" if migs else ""))

    @staticmethod
    def _nearest(o: Obs, allowed: set[str]) -> str | None:
        if not allowed:
            return None
        want = [str(v) for _, v in o.fields if v is not None]

        def score(s: str) -> int:
            return sum(1 for x in want if x in s)

        return max(sorted(allowed), key=score)

    def _witness(self, node: Node) -> list[tuple[int, list[tuple[str, list[str]]]]]:
        chain = []
        while node.prev is not None:
            chain.append(node)
            node = node.prev
        chain.reverse()
        out = []
        w = self.engine.initial()
        for n in chain:
            steps = []
            for a in n.actions:
                text = describe(w, a)
                res = self.engine.step(w, a)
                steps.append((text, [r for r in res.rows if not r.startswith("rpc.")]))
                w = self.gc(res.world) if a is n.actions[-1] else res.world
            if not n.actions:
                w = self.gc(w)
            out.append((n.obs, steps))
        return out


def verdict_text(v: Verdict) -> str:
    """The verdict as the command line prints it."""
    lines = []
    if v.accepted:
        lines.append(f"ACCEPTED: {len(v.observations)} observations of {v.instance} fit the "
                     f"spec ({v.config}); witness:")
        for idx, steps in v.witness:
            for text, rows in steps:
                lines.append(f"      {text}" + (f"   [{', '.join(rows)}]" if rows else ""))
            lines.append(f"  [{idx + 1}] {v.observations[idx].text()}")
    else:
        assert v.rejected_at is not None
        o = v.observations[v.rejected_at]
        lines.append(f"REJECTED at observation {v.rejected_at + 1} of "
                     f"{len(v.observations)}: {o.text()}")
        lines.append("  the spec allows, from the observations before it:")
        for s in v.allowed[:20]:
            lines.append(f"    {s}")
        if v.nearest:
            lines.append(f"  nearest: {v.nearest}")
    lines.append(f"({v.states_explored:,} states explored, largest frontier "
                 f"{v.max_frontier:,}, {v.seconds:.2f}s)")
    return "\n".join(lines) + "\n"


def _obs_json(o: Obs) -> dict[str, Any]:
    d = dataclasses.asdict(o)
    d["at"] = o.at.isoformat() if o.at is not None else None
    return d


def verdict_json(v: Verdict) -> dict[str, Any]:
    """The verdict as JSON data (``nova-resize validate --json``)."""
    return {
        "accepted": v.accepted,
        "instance": v.instance,
        "configuration": v.config,
        "observations": len(v.observations),
        "matched": v.matched,
        "rejected_at": v.rejected_at,
        "rejected_observation": (_obs_json(v.observations[v.rejected_at])
                                 if v.rejected_at is not None else None),
        "allowed": v.allowed,
        "nearest": v.nearest,
        "witness": [
            {"observation": idx, "source": v.observations[idx].source,
             "steps": [{"action": t, "rows": r} for t, r in steps]}
            for idx, steps in v.witness
        ],
        "assumptions": v.assumptions,
        "warnings": v.warnings,
        "states_explored": v.states_explored,
        "max_frontier": v.max_frontier,
        "seconds": round(v.seconds, 3),
    }
