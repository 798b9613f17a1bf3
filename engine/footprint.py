"""What each row reads and writes, from the tables alone: the static footprints that
partial-order reduction (checker/explicit/reduction.py) computes independence from.

A footprint names the parts of the world a row may read and write:

* ``frame``: the running handler's own memory that nothing outside it reads: its label,
  locals, the fields of its in-memory instance and migration copies and their dirty marks;
* ``frame.shared``: the parts of a handler that others read: its lock (``self.lock`` of
  another handler), the exception it handles and its error chain (properties), whether it holds
  a migration and which (the periodic tasks, properties), its usage notifications and the
  reservations it handed on (properties);
* ``frames``: the set of handlers (one starts or ends; ``self.lock`` and
  ``self.init_pending`` read the others);
* ``db.instance``, ``db.migration``, ``quota``, ``hosts``, ``messages``, ``flavors``,
  ``notifications``: the database rows, the project's quota and reservations, the compute
  hosts (tracker, disks, guests, service), the bus, the deleted flavors and the notifications
  sent.

A row is *local* when it reads and writes ``frame`` alone: its conditions and values refer only
to the handler's own memory, its effects assign that memory or jump, it sends no notification
and it neither ends the handler nor raises. Such a step commutes with every step of every other
handler, message, fault and request, and no property can see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx
from nova_resize.spec import END, RAISE
from nova_resize.spec import model as m

from .tables import Tables

FRAME = "frame"
FRAME_SHARED = "frame.shared"

# what each effect kind writes, and reads beyond the references in its fields (Set, Goto and
# Lock are told apart by their fields below)
_EFFECTS: dict[type, tuple[frozenset[str], frozenset[str]]] = {
    m.SaveInstance: (frozenset({"db.instance", FRAME}),
                     frozenset({"db.instance", "notifications", FRAME})),
    m.FreshSave: (frozenset({"db.instance", FRAME}), frozenset({"db.instance", FRAME})),
    m.SaveMigration: (frozenset({"db.migration", FRAME}), frozenset({"db.migration", FRAME})),
    m.CreateMigration: (frozenset({"db.migration", FRAME}),
                        frozenset({"db.migration", FRAME, FRAME_SHARED})),
    m.Reread: (frozenset({"db.instance", "db.migration", FRAME}), frozenset({FRAME})),
    m.LookupMigration: (frozenset({"db.migration", FRAME}), frozenset({FRAME, FRAME_SHARED})),
    m.Quota: (frozenset({"quota", FRAME}), frozenset({"quota", FRAME_SHARED})),
    m.Claim: (frozenset({"hosts", "db.migration", FRAME}),
              frozenset({"hosts", "db.migration", FRAME})),
    m.Driver: (frozenset({"hosts", FRAME}), frozenset({"hosts", FRAME})),
    m.Send: (frozenset({FRAME}), frozenset({"messages", FRAME_SHARED})),
    m.Raise: (frozenset({FRAME}), frozenset({FRAME_SHARED})),
    m.Refuse: (frozenset({FRAME}), frozenset({"frames", FRAME_SHARED})),
    m.Destroy: (frozenset({FRAME}), frozenset({"db.instance"})),
    m.DestroyFlavor: (frozenset({FRAME}), frozenset({"flavors"})),
    m.SelectDestination: (frozenset({"hosts", FRAME}), frozenset({FRAME})),
    m.Spawn: (frozenset({"db.instance", FRAME}), frozenset({"frames"})),
    m.Service: (frozenset({FRAME}), frozenset({"hosts"})),
}

# the fields of a handler's copies that others read (a Set of them is a shared write)
_SHARED_FIELDS = {"instance": frozenset({"name"}), "migration": frozenset({"id"})}

_SELF_READS = {"host": FRAME, "lock": "frames", "init_pending": "frames",
               "guest_running": "hosts"}
_OP_READS = {"up": "hosts", "down": "hosts", "fits": "hosts", "unknown_flavor": "flavors"}


@dataclass(frozen=True)
class Footprint:
    """The parts of the world a row may read and may write (module docstring)."""

    reads: frozenset[str]
    writes: frozenset[str]

    @property
    def local(self) -> bool:
        """Whether the row touches the handler's own memory alone."""
        return self.reads <= {FRAME} and self.writes <= {FRAME}


def path_reads(path: str) -> str:
    """The part of the world a reference reads (see nova_resize.spec.model)."""
    parts = path.split(".")
    head = parts[0]
    if head in ("instance", "migration", "local", "exc", "config"):
        return FRAME  # config options are constants of the run
    if head == "db":
        return "db.instance" if parts[1:2] == ["instance"] else "db.migration"
    if head == "self":
        return _SELF_READS.get(parts[1] if len(parts) > 1 else "", "world")
    return "world"


def value_reads(v: Any) -> frozenset[str]:
    """What evaluating a constant, a reference or a value expression reads."""
    if isinstance(v, m.Ref):
        return frozenset({path_reads(v.path)})
    if isinstance(v, (m.Default, m.NotEq, m.Inc)):
        return frozenset({path_reads(v.path)})
    if isinstance(v, m.Append):
        return frozenset({path_reads(v.path)}) | value_reads(v.value)
    if isinstance(v, m.IfEq):
        return frozenset({path_reads(v.path)}) | value_reads(v.then) | value_reads(v.orelse)
    return frozenset()


def cond_reads(c: m.Cond) -> frozenset[str]:
    """What testing one condition reads."""
    out = {path_reads(c.ref)} | value_reads(c.value)
    if c.op in _OP_READS:
        out.add(_OP_READS[c.op])
    return frozenset(out)


def effect_footprint(eff: Any) -> Footprint:
    """What one effect reads (its references included) and writes."""
    kind = type(eff)
    if kind is m.Set:
        shared = eff.name in _SHARED_FIELDS.get(eff.target, frozenset())
        return Footprint(value_reads(eff.value) | {FRAME},
                         frozenset({FRAME_SHARED if shared else FRAME}))
    if kind is m.Goto:
        return Footprint(frozenset({FRAME}), frozenset({FRAME}))
    if kind is m.Lock:
        return Footprint(frozenset({FRAME}), frozenset({FRAME_SHARED}))
    known = _EFFECTS.get(kind)
    if known is None:
        return Footprint(frozenset({"world"}), frozenset({"world"}))
    reads, writes = known
    refs: set[str] = set()
    for name in getattr(eff, "__dataclass_fields__", {}):
        x = getattr(eff, name)
        refs |= value_reads(x)
    return Footprint(reads | refs, writes)


def row_footprint(row: m.Row) -> Footprint:
    """What a row reads (its conditions, its effects' references) and writes (its effects, its
    notifications, the end of its handler or the exception it raises)."""
    reads: set[str] = {FRAME}
    writes: set[str] = set()
    for c in row.when:
        reads |= cond_reads(c)
    for eff in row.effects:
        fp = effect_footprint(eff)
        reads |= fp.reads
        writes |= fp.writes
    if row.notify or row.notify_before or row.notify_late:
        writes |= {"notifications", FRAME_SHARED}
    if row.then == END:
        writes |= {"frames", "messages", FRAME_SHARED}
    elif row.then == RAISE:
        writes.add(FRAME_SHARED)
    else:
        writes.add(FRAME)
    return Footprint(frozenset(reads), frozenset(writes))


def reads_rows_and_own_host(tb: Tables, handler: str) -> bool:
    """Whether every run of ``handler`` reads the instance and migration rows and its own
    host's record alone, and writes that record alone: no condition reads anything but the
    handler's memory, no effect but the resource tracker's audit of its own host and
    assignments of its memory, no jump to another handler, no fault, and nothing that raises
    (an error handler might read more). Liberty's periodic audit is such a handler; the engine
    then remembers its steps (Engine._audit_step)."""
    h = tb.handlers.get(handler)
    if h is None or any(chain for _, chain in h.scopes):
        return False
    rows = [r for r in tb.spec.rows if r.handler == handler]
    if not rows:
        return False
    for r in rows:
        if r.fault or r.on_fail is not None or r.then == RAISE:
            return False
        if not all(cond_reads(c) <= {FRAME} for c in r.when):
            return False
        for e in r.effects:
            if isinstance(e, m.Claim):
                if e.op != "audit" or e.host != "self.host":
                    return False
            elif isinstance(e, m.Goto):
                if e.handler != handler:
                    return False
            elif not effect_footprint(e).local:
                return False
    return True


def _next_labels(row: m.Row) -> set[tuple[str, str]]:
    """Where a handler may stand after ``row`` (its Goto targets, and its ``then``)."""
    out = {(e.handler, e.label) for e in row.effects if isinstance(e, m.Goto)}
    out.add((row.handler, row.then))
    return out


def local_steps(tb: Tables) -> dict[tuple[str, str], frozenset[str]]:
    """The labels from which a handler's next step is local: the row that runs there and every
    memory-only row the same step may run after it (engine/handlers.py ``run_eager``) read and
    write the handler's own memory alone, and neither the choice of row there nor at any label
    the step passes depends on anything else. Each maps to the fault kinds of its fault rows:
    the step is a single action only once none of them can be injected.

    Labels from which such steps can go round a cycle are left out, so that every sequence of
    local steps of one handler is finite (the cycle proviso of partial-order reduction: no
    cycle of the reduced graph is made of reduced states alone)."""
    foot = {r.id: row_footprint(r) for r in tb.spec.rows}

    def choice_local(key: tuple[str, str]) -> bool:
        return all(cond_reads(c) <= {FRAME} for r in tb.rows.get(key, []) for c in r.when)

    ends_memo: dict[tuple[str, str], frozenset[tuple[str, str]] | None] = {}

    def tail_ends(key: tuple[str, str], seen: frozenset[tuple[str, str]]
                  ) -> frozenset[tuple[str, str]] | None:
        """The labels where a step that reached ``key`` may stop (None: it may do something
        not local on the way)."""
        if key[1] in (END, RAISE) or key in seen:
            return None
        if key in tb.fault_rows:
            return frozenset({key})  # run_eager stops at a label with a fault alternative
        if key in ends_memo:
            return ends_memo[key]
        if not choice_local(key):
            ends_memo[key] = None
            return None
        out = {key}
        for r in tb.rows.get(key, []):
            if not tb.eager[r.id]:
                continue  # the step stops before such a row
            if not foot[r.id].local:
                ends_memo[key] = None
                return None
            for nxt in _next_labels(r):
                sub = tail_ends(nxt, seen | {key})
                if sub is None:
                    ends_memo[key] = None
                    return None
                out |= sub
        ends_memo[key] = frozenset(out)
        return ends_memo[key]

    steps: dict[tuple[str, str], frozenset[tuple[str, str]]] = {}
    for key, rows in tb.rows.items():
        if not rows or not choice_local(key) or not all(foot[r.id].local for r in rows):
            continue
        ends: set[tuple[str, str]] = set()
        for r in rows:
            for nxt in _next_labels(r):
                sub = tail_ends(nxt, frozenset())
                if sub is None:
                    break
                ends |= sub
            else:
                continue
            break
        else:
            steps[key] = frozenset(ends)
    g = nx.DiGraph()
    g.add_nodes_from(steps)
    g.add_edges_from((k, e) for k, es in steps.items() for e in es if e in steps)
    cyclic = {n for comp in nx.strongly_connected_components(g)
              for n in comp if len(comp) > 1 or g.has_edge(n, n)}
    return {k: frozenset(r.fault for r in tb.fault_rows.get(k, []) if r.fault)
            for k in steps if k not in cyclic}


__all__ = [
    "FRAME",
    "FRAME_SHARED",
    "Footprint",
    "cond_reads",
    "effect_footprint",
    "local_steps",
    "path_reads",
    "reads_rows_and_own_host",
    "row_footprint",
    "value_reads",
]
