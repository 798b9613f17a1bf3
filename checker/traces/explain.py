"""Explain one observed instance: can the spec reach it, how (grouped by the fault each way
needs), what Nova will still do by itself, and what an admin can do about it."""

from __future__ import annotations

import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from nova_resize.engine.actions import Action, ApiRequest, Crash, Fail, Lose, StayDown, Timeout
from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine, describe
from nova_resize.engine.world import World
from nova_resize.spec import Spec
from nova_resize.spec.states import MIGRATION_STATUSES, RESIZE_TASK_STATES, api_status

from nova_resize.errors import ObservationError
from nova_resize.files import read_text

from .observe import Obs, detect, observation_set, read_nova_list, read_server_show
from .tables import migration_rows, parse_tables
from .timestamps import parse_time
from .validate import adapt_config

USER_OPS = ("confirm_resize", "revert_resize", "delete", "stop", "start", "resize", "migrate")


@dataclass
class Way:
    faults: str
    steps: list[str]
    by_itself: list[str] = field(default_factory=list)
    stuck: bool = False


@dataclass
class Outcome:
    action: str
    result: str
    quota: str
    claims: str


@dataclass
class Explanation:
    observation: str
    reachable: bool
    ways: list[Way] = field(default_factory=list)
    by_itself: list[str] = field(default_factory=list)
    stuck: bool = False
    admin: list[Outcome] = field(default_factory=list)
    states: int = 0
    complete: bool = True


def read_migration_status(path: str, instance_id: str | None) -> str | None:
    """The status of the instance's latest migration in a migration list: the API's JSON
    (``{"migrations": [...]}`` from GET /os-migrations, or the bare array) or the table
    ``nova migration-list`` prints."""
    text = read_text(path, ObservationError)
    migs: Any
    if text.lstrip().startswith(("{", "[{", "[\n", "[]")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise ObservationError(f"{path}:{e.lineno}: not valid JSON: {e.msg}") from None
        except RecursionError:
            raise ObservationError(f"{path}: not valid JSON: nested too deeply") from None
        migs = doc.get("migrations", doc) if isinstance(doc, dict) else doc
    else:
        tables = [t for t in parse_tables(text, path) if t.kind == "migration-list"]
        if not tables:
            raise ObservationError(f"{path}: neither migration JSON nor a `nova migration-list` "
                                   f"table")
        migs = [m for t in tables for m in migration_rows(t)]
    if not isinstance(migs, list):
        raise ObservationError(f"{path}: expected a list of migrations")
    for m in migs:
        uuid = m.get("instance_uuid") if isinstance(m, dict) else None
        if uuid is not None and not isinstance(uuid, str):
            raise ObservationError(f"{path}: instance_uuid: expected a string, found "
                                   f"{uuid!r}"[:200])
    mine = [m for m in migs if isinstance(m, dict) and (
        instance_id is None or m.get("instance_uuid") in (instance_id, None))]
    if not mine:
        return None
    for m in mine:
        if "status" not in m:
            raise ObservationError(f"{path}: a migration without a status")
        if m["status"] not in MIGRATION_STATUSES:
            raise ObservationError(f"{path}: unknown migration status {m['status']!r} "
                                   f"(expected one of {', '.join(MIGRATION_STATUSES)})")
        for stamp in ("created_at", "updated_at"):
            if m.get(stamp) not in (None, "", "-"):
                if not isinstance(m[stamp], str):
                    raise ObservationError(f"{path}: {stamp}: expected a time, found "
                                           f"{m[stamp]!r}"[:200])
                parse_time(m[stamp], f"{path}: {stamp}")
        mid = m.get("id")
        if mid not in (None, "") and not ((isinstance(mid, int) and not isinstance(mid, bool))
                                          or (isinstance(mid, str) and mid.isdigit())):
            raise ObservationError(f"{path}: id: expected a migration's integer id, found "
                                   f"{mid!r}"[:200])
    latest = sorted(mine, key=lambda m: (str(m.get("created_at") or ""),
                                         int(m.get("id") or 0)))[-1]
    return str(latest["status"])


def _matches(w: World, name: str, fields: dict[str, Any], mig_status: str | None) -> bool:
    inst = next((i for i in w.instances if i.name == name), None)
    if inst is None or inst.deleted:
        return False
    if inst.vm_state != fields.get("vm_state") or inst.task_state != fields.get("task_state"):
        return False
    if fields.get("host") and inst.host != fields["host"]:
        return False
    if mig_status is not None:
        migs = [m for m in w.migrations if m.instance == name]
        if not migs or migs[-1].status != mig_status:
            return False
    return True


def _fault_text(w: World, a: Action, name: str) -> str | None:
    if isinstance(a, Fail):
        return f"a failing {a.row}"
    if isinstance(a, (Crash, StayDown)):
        inst = next(i for i in w.instances if i.name == name)
        migs = [m for m in w.migrations if m.instance == name]
        role = "the instance's host" if a.host == inst.host else "another host"
        if migs and a.host == migs[-1].source_compute:
            role = "the source"
        elif migs and a.host == migs[-1].dest_compute:
            role = "the destination"
        what = "a crash" if isinstance(a, Crash) else "the lasting loss"
        return f"{what} of nova-compute on {role}"
    if isinstance(a, Lose):
        return f"a lost {w.messages[a.message].method} message"
    if isinstance(a, Timeout):
        return "an RPC call timing out"
    return None


class ReachedGraph:
    """The worlds a bounded breadth-first search reached, as a networkx DiGraph over their
    indices (0: the initial world); each edge keeps its action and whether it is one of Nova's
    own steps. Path queries (how was a world reached, what can Nova reach from it by itself)
    are graph algorithms on it."""

    def __init__(self, eng: Engine, max_states: int) -> None:
        self.eng = eng
        self.worlds: list[World] = [eng.initial()]
        index: dict[World, int] = {self.worlds[0]: 0}
        self.graph: nx.DiGraph = nx.DiGraph()
        self.graph.add_node(0)
        queue = deque([0])
        while queue and len(self.worlds) < max_states:
            i = queue.popleft()
            w = self.worlds[i]
            for a in eng.enabled(w):
                nw = eng.step(w, a).world
                if nw is w:
                    continue
                j = index.get(nw)
                if j is None:
                    j = index[nw] = len(self.worlds)
                    self.worlds.append(nw)
                    queue.append(j)
                if not self.graph.has_edge(i, j):
                    self.graph.add_edge(i, j, action=a, own=eng.is_own_step(w, a))
        self.complete = not queue

    def path(self, target: int) -> list[tuple[World, Action]]:
        """A shortest path from the initial world to ``target``: (world, action) per step."""
        nodes = nx.shortest_path(self.graph, 0, target)
        return [(self.worlds[a], self.graph.edges[a, b]["action"])
                for a, b in itertools.pairwise(nodes)]

    def own_reach(self, start: int) -> nx.DiGraph:
        """The part of the graph Nova reaches from ``start`` by its own steps."""
        own = nx.subgraph_view(self.graph, filter_edge=lambda a, b: self.graph.edges[a, b]["own"])
        return own.subgraph(nx.descendants(own, start) | {start})


def explain(config: Config, spec: Spec, observation: dict[str, Any], name: str,
            mig_status: str | None, max_states: int = 150_000) -> Explanation:
    eng = Engine(config, spec)
    g = ReachedGraph(eng, max_states)
    found = [i for i, w in enumerate(g.worlds) if _matches(w, name, observation, mig_status)]
    obs_text = (f"{name} ({observation.get('vm_state')}, {observation.get('task_state')})"
                + (f" on {observation['host']}" if observation.get("host") else "")
                + (f", migration {mig_status}" if mig_status else ""))
    ex = Explanation(obs_text, bool(found), states=len(g.worlds), complete=g.complete)
    if not found:
        return ex
    groups: dict[frozenset[str], tuple[list[str], int]] = {}
    for i in found:
        path = g.path(i)
        faults = frozenset(f for f in (_fault_text(p, a, name) for p, a in path) if f)
        if faults not in groups or len(path) < len(groups[faults][0]):
            groups[faults] = ([describe(p, a) for p, a in path], i)
    # grouped by the faults they need: keep the minimal sets (a superset needs more)
    minimal = [k for k in groups if not any(o and o < k for o in groups)]
    for k in sorted(minimal, key=lambda k: (len(groups[k][0]), sorted(k))):
        steps, i = groups[k]
        outcomes, stuck = _by_itself(g, i, name)
        ex.ways.append(Way(" and ".join(sorted(k)) or "no fault: Nova's normal course", steps,
                           outcomes, stuck))
    ex.stuck = all(way.stuck for way in ex.ways)
    stuck_way = next((way for way, k in zip(ex.ways, minimal, strict=False) if way.stuck),
                     None)
    start = groups[next(k for k in minimal if (" and ".join(sorted(k)) or
                                                "no fault: Nova's normal course") ==
                        (stuck_way or ex.ways[0]).faults)][1]
    ex.by_itself = (stuck_way or ex.ways[0]).by_itself
    ex.admin = _admin(eng, g.worlds[start], name)
    return ex


def _summary(w: World, name: str) -> str:
    inst = next((i for i in w.instances if i.name == name), None)
    if inst is None or inst.deleted:
        return "deleted"
    migs = [m for m in w.migrations if m.instance == name]
    return (f"{api_status(inst.vm_state, inst.task_state)} ({inst.vm_state}, "
            f"{inst.task_state}) on {inst.host}" + (f", migration {migs[-1].status}"
                                                     if migs else ""))


def _by_itself(g: ReachedGraph, start: int, name: str) -> tuple[list[str], bool]:
    """The quiescent outcomes Nova reaches from ``start`` with its own steps only (deliveries,
    handler steps, restarts, periodic tasks, timeouts of calls nobody answers), each with the
    first step of a shortest way there; and whether every one leaves the instance resizing."""
    eng = g.eng
    reach = g.own_reach(start)
    firsts = nx.single_source_shortest_path(reach, start)
    outcomes: dict[str, str] = {}
    stuck = True
    for i in sorted(reach.nodes, key=lambda n: (len(firsts[n]), n)):
        w = g.worlds[i]
        if reach.out_degree(i) or not eng.quiescent(w):
            continue
        path = firsts[i]
        first = (describe(g.worlds[path[0]], g.graph.edges[path[0], path[1]]["action"])
                 if len(path) > 1 else None)
        outcomes.setdefault(_summary(w, name), first or "nothing: it stays as it is")
        inst = next((x for x in w.instances if x.name == name), None)
        if inst is None or inst.deleted or inst.task_state not in RESIZE_TASK_STATES:
            stuck = False
    return [f"{k}  (first: {v})" for k, v in sorted(outcomes.items())], stuck


def _admin(eng: Engine, start: World, name: str) -> list[Outcome]:
    """Each request an admin may make in this state, run until Nova is quiet again."""
    out = []
    for op in USER_OPS:
        args: list[str | None] = [None]
        if op == "resize":
            args = list(eng.config.resize_flavors)
        for arg in args:
            res = eng.step(start, ApiRequest(op, name, arg))
            if (res.outcome or "").startswith("refused") or res.world is start:
                out.append(Outcome(f"{op}" + (f" to {arg}" if arg else ""),
                                   f"refused: {(res.outcome or '').removeprefix('refused: ')}",
                                   "-", "-"))
                continue
            w = res.world
            for _ in range(10_000):
                own = [a for a in eng.enabled(w) if a.kind in ("deliver", "run", "restart")]
                if not own:
                    break
                w = eng.step(w, own[0]).world
            q0, q1 = start.quota, w.quota
            quota = (f"in_use {q0.in_use[1]}c/{q0.in_use[2]}MB -> {q1.in_use[1]}c/"
                     f"{q1.in_use[2]}MB, reserved {q1.reserved[1]}c/{q1.reserved[2]}MB")
            claims = ", ".join(f"{h.name} {h.usage[1]}MB" for h in w.hosts)
            out.append(Outcome(f"{op}" + (f" to {arg}" if arg else ""), _summary(w, name),
                               quota, claims))
    return out


def read_observation(path: str) -> tuple[dict[str, Any], str]:
    """One observed server's fields and name (see :func:`read_server`)."""
    o = read_server(path)
    return dict(o.fields), o.instance


def read_server(path: str) -> Obs:
    """One observed server: `openstack server show -f json`, the API's server JSON, or a
    `nova show` table as pasted."""
    text = read_text(path, ObservationError)
    kind = detect(text, path)
    if kind == "server-show":
        obs = read_server_show(text, path)
    elif kind == "nova-list":
        obs = [o for o in read_nova_list(text, path) if o.has("vm_state")]
    else:
        raise ObservationError(f"{path}: expected one server (server show JSON or a nova show "
                               f"table), found {kind}")
    if len(obs) != 1:
        raise ObservationError(f"{path}: expected one server, found {len(obs)}")
    return obs[0]


def explain_file(base: Config, spec: Spec, path: str, migrations: str | None,
                 max_states: int = 150_000) -> Explanation:
    """Explain the server observed in ``path`` (with its latest migration's status from the
    migration list ``migrations``)."""
    o = read_server(path)
    fields, name = dict(o.fields), o.instance
    oset = observation_set([(path, [o])])
    cfg, name = adapt_config(base, oset, name)
    # the explanation needs finite requests: one of each
    cfg = _bounded(cfg)
    mig = read_migration_status(migrations, fields.get("id")) if migrations else None
    return explain(cfg, spec, fields, name, mig, max_states)


def _bounded(cfg: Config) -> Config:
    import dataclasses

    return dataclasses.replace(cfg, actions=tuple((op, 1) for op, _ in cfg.actions
                                                  if op in ("resize", "confirm_resize",
                                                            "revert_resize", "delete")))


def explanation_text(e: Explanation) -> str:
    lines = [f"observation: {e.observation}"]
    if not e.reachable:
        if e.complete:
            lines.append(f"NOT REACHABLE: no behaviour of the spec under this fault model leads "
                         f"there ({e.states:,} states, all of them, explored)")
        else:
            lines.append(f"NOT REACHED in the {e.states:,} states explored (the search was "
                         f"bounded: --max-states)")
        return "\n".join(lines) + "\n"
    lines.append(f"reachable ({e.states:,} states explored); the shortest way for each fault "
                 f"it needs:")
    for w in e.ways:
        lines.append(f"  - {w.faults} ({len(w.steps)} steps):")
        for s in w.steps:
            lines.append(f"      {s}")
        lines.append("    then Nova by itself: " + ("STUCK, it stays there; " if w.stuck else "")
                     + "; ".join(w.by_itself))
    if e.stuck:
        lines.append("=> whichever way it got there, no course of Nova's own ends the resize")
    lines.append("what an admin can do (from the first way that leaves it stuck):")
    for o in e.admin:
        lines.append(f"  - {o.action}: {o.result}" + (f"; quota {o.quota}; claims {o.claims}"
                                                       if o.quota != "-" else ""))
    return "\n".join(lines) + "\n"


def explanation_json(e: Explanation) -> dict[str, Any]:
    return {
        "observation": e.observation,
        "reachable": e.reachable,
        "states": e.states,
        "complete": e.complete,
        "ways": [{"faults": w.faults, "steps": w.steps, "by_itself": w.by_itself,
                  "stuck": w.stuck} for w in e.ways],
        "by_itself": e.by_itself,
        "stuck": e.stuck,
        "admin": [o.__dict__ for o in e.admin],
    }
