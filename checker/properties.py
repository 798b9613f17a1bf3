"""The properties, as named predicates in one place (statements: nova_resize.spec.properties).

Each predicate returns the violations it sees as ``(key, message)`` pairs. The key names the
violation independently of host names and of the trace (a state pair, a row id, a status), so that
a baseline can list known findings. Kinds:

* ``state``: evaluated on every reachable state;
* ``quiescent``: evaluated on every reachable state with no message in flight and no handler
  running;
* ``transition``: evaluated on every step (its events and the states before and after);
* ``liveness``: evaluated on the reachable graph by :mod:`nova_resize.checker.liveness`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nova_resize.engine.core import Engine, StepResult
from nova_resize.engine.tx import Tx
from nova_resize.engine.world import Instance, Migration, World
from nova_resize.spec import Spec
from nova_resize.spec.states import (
    CONFIRMED,
    CONFIRMING,
    DELETED,
    DELETING,
    ERROR,
    FINISHED,
    MIG_ERROR,
    MIGRATING,
    POST_MIGRATING,
    PRE_MIGRATING,
    RESIZE_TASK_STATES,
    RESIZED,
    REVERTED,
    REVERTING,
    SOFT_DELETING,
    TASK_OWNERS,
)

Violation = tuple[str, str]
TRANSIENT = (PRE_MIGRATING, MIGRATING, POST_MIGRATING, CONFIRMING, REVERTING)
UNRESOLVED = (PRE_MIGRATING, MIGRATING, POST_MIGRATING, FINISHED, CONFIRMING, REVERTING)


@dataclass(frozen=True)
class Property:
    name: str
    kind: str
    check: Callable[..., list[Violation]]


class Context:
    """What the predicates need besides a state: the engine and its spec."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.spec: Spec = engine.spec
        self.legal = {(p.vm_state, p.task_state) for p in engine.spec.state_pairs
                      if not p.transient}
        self.transient = {(p.vm_state, p.task_state) for p in engine.spec.state_pairs
                          if p.transient}
        self.edges = {e.row: e for e in engine.spec.migration_edges}

    def live(self, w: World) -> list[Instance]:
        return [i for i in w.instances if not i.deleted and i.vm_state != DELETED]

    @staticmethod
    def latest_migration(w: World, name: str) -> Migration | None:
        migs = [m for m in w.migrations if m.instance == name]
        return migs[-1] if migs else None

    @staticmethod
    def requests(w: World, name: str) -> tuple[str | None, bool]:
        """(vm_state before the last resize, a delete was requested while resizing)."""
        for r in w.requests:
            if r.name == name:
                return r.pre_resize_vm_state, r.delete_requested
        return None, False

    @staticmethod
    def delete_any(w: World, name: str) -> bool:
        return any(r.name == name and r.delete_any for r in w.requests)


def _pair(i: Instance) -> str:
    return f"{i.vm_state}/{i.task_state or 'None'}"


# ---- state properties --------------------------------------------------------------------


def legal_state(ctx: Context, w: World) -> list[Violation]:
    """Every live instance's (vm_state, task_state) is a pair Nova defines on these paths; a
    transient one (an error handler half done) only while handlers are still running."""
    out = []
    quiet = is_quiescent(w)
    for i in ctx.live(w):
        pair = (i.vm_state, i.task_state)
        if pair in ctx.legal:
            continue
        if pair in ctx.transient:
            if quiet:
                out.append((f"{_pair(i)} left at quiescence",
                            f"{i.name} is left ({i.vm_state}, {i.task_state}): the error "
                            f"handlers did not clear the task_state"))
            continue
        out.append((_pair(i), f"{i.name} is ({i.vm_state}, {i.task_state}), a pair Nova does "
                    f"not define"))
    return out


def host_consistent(ctx: Context, w: World) -> list[Violation]:
    """While a migration is unresolved the instance is on its source or destination."""
    out = []
    for i in ctx.live(w):
        mig = ctx.latest_migration(w, i.name)
        if mig is None or mig.status not in UNRESOLVED:
            continue
        if i.host not in (mig.source_compute, mig.dest_compute):
            out.append(
                (f"{_pair(i)} with migration {mig.status}: host elsewhere",
                 f"{i.name} is on {i.host}, neither source {mig.source_compute} nor destination "
                 f"{mig.dest_compute} of its {mig.status} migration")
            )
    return out


def disk_never_lost(ctx: Context, w: World) -> list[Violation]:
    """A live instance not being deleted has its disk on the host that runs it."""
    out = []
    hosts = {h.name: h for h in w.hosts}
    for i in ctx.live(w):
        if ctx.delete_any(w, i.name) or i.task_state in (DELETING, SOFT_DELETING):
            continue
        h = hosts.get(i.host or "")
        if h is not None and i.name in h.disks:
            continue
        anywhere = any(i.name in x.disks for x in w.hosts)
        what = "has no disk on any host" if not anywhere else "has no disk on its host"
        out.append((f"{_pair(i)}: {what}", f"{i.name} ({i.vm_state}, {i.task_state}) on "
                    f"{i.host} {what}"))
    return out


# ---- quiescent properties ----------------------------------------------------------------


def quota_pending(ctx: Context, w: World) -> list[Violation]:
    """At quiescence no reservation is left pending."""
    return [
        (f"pending from {r.row}", f"reservation {r.id} {dict(r.deltas)} made by {r.row} is "
         f"still pending (only reservation_expire would resolve it)")
        for r in w.reservations
        if r.status == "pending"
    ]


def quota_usage(ctx: Context, w: World) -> list[Violation]:
    """At quiescence, in_use equals the live instances' flavors (a resized instance awaiting
    confirmation counts the larger of its old and new flavor)."""
    eng = ctx.engine
    cores = ram = 0
    live = ctx.live(w)
    for i in live:
        f = eng.flavors[i.flavor]
        c, r = f.vcpus, f.memory_mb
        if i.vm_state == RESIZED and i.old_flavor and i.new_flavor:
            fo, fn = eng.flavors[i.old_flavor], eng.flavors[i.new_flavor]
            c, r = max(fo.vcpus, fn.vcpus), max(fo.memory_mb, fn.memory_mb)
        cores += c
        ram += r
    expected = (len(live), cores, ram)
    over, under = [], []
    for idx, res in enumerate(("instances", "cores", "ram")):
        diff = w.quota.in_use[idx] - expected[idx]
        if diff > 0:
            over.append(res)
        elif diff < 0:
            under.append(res)
    if not over and not under:
        return []
    where = ", ".join(_pair(i) for i in w.instances) or "-"
    parts = []
    if over:
        parts.append(f"{'/'.join(over)} over-counted")
    if under:
        parts.append(f"{'/'.join(under)} under-counted")
    return [(f"{' and '.join(parts)} with {where}",
             f"quota in_use {w.quota.in_use} (instances/cores/ram), the instances account for "
             f"{expected}")]


def migration_settled(ctx: Context, w: World) -> list[Violation]:
    """At quiescence no migration is left in a transient status."""
    out = []
    for m in w.migrations:
        if m.status in TRANSIENT:
            latest = ctx.latest_migration(w, m.instance)
            which = "" if latest is not None and latest.id == m.id else " (an older migration)"
            out.append((f"left {m.status}{which}",
                        f"migration {m.id} of {m.instance} is left {m.status}{which}"))
    return out


def vm_state_restored(ctx: Context, w: World) -> list[Violation]:
    """A finished, failed, confirmed or reverted resize leaves the vm_state it found, or ERROR."""
    out = []
    for i in ctx.live(w):
        pre, _ = ctx.requests(w, i.name)
        if pre is None or ctx.delete_any(w, i.name) or i.task_state is not None:
            continue
        if i.vm_state in (RESIZED, ERROR) or i.vm_state == pre:
            continue
        out.append((f"{pre} -> {i.vm_state}",
                    f"{i.name} was {pre} when its resize was requested and is now {i.vm_state}"))
    return out


def no_orphan(ctx: Context, w: World) -> list[Violation]:
    """A deleted instance leaves no disk, guest or resource claim on any host."""
    out = []
    for i in w.instances:
        if not i.deleted:
            continue
        mig = ctx.latest_migration(w, i.name)
        for h in w.hosts:
            role = _role(h.name, i, mig)
            if i.name in h.disks or i.name in h.running:
                out.append((f"disk left on the {role}",
                            f"deleted {i.name} still has a disk or guest on {h.name} ({role})"))
            if i.name in h.tracked_instances or any(t[0] == i.name for t in h.tracked_migrations):
                out.append((f"claim left on the {role}",
                            f"deleted {i.name} is still counted by {h.name}'s resource tracker "
                            f"({role})"))
    return out


def _role(host: str, i: Instance, mig: Migration | None) -> str:
    if mig is not None:
        if host == mig.source_compute and host == mig.dest_compute:
            return "migration's source and destination"
        if host == mig.source_compute:
            return "migration's source"
        if host == mig.dest_compute:
            return "migration's destination"
    if host == i.host:
        return "instance's host"
    return "other host"


def delete_completes(ctx: Context, w: World) -> list[Violation]:
    """A requested delete has deleted the instance by the time nothing is running."""
    out = []
    for i in w.instances:
        _, deleting = ctx.requests(w, i.name)
        if deleting and not i.deleted:
            out.append((f"{_pair(i)}", f"{i.name} was asked to be deleted and is still "
                        f"({i.vm_state}, {i.task_state}) on {i.host}"))
    return out


# ---- transition properties ---------------------------------------------------------------


def no_lost_update(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """No unguarded save overwrites a task_state that another operation set: neither one set
    after the saver last read the instance (a lost update) nor one the saver's operation does
    not own."""
    out = []
    for ev in res.events:
        if ev.kind != "unguarded_task_write":
            continue
        old, new, seen, method = ev.data
        if old != seen:
            out.append((f"{ev.row} overwrote {old}",
                        f"{ev.row} ({method}) wrote task_state {new} over {old}, set after it "
                        f"had read {seen}"))
        elif old is not None and method not in TASK_OWNERS.get(old, ()):
            out.append((f"{ev.row} overwrote {old}",
                        f"{ev.row} ({method}) wrote task_state {new} over {old}, which another "
                        f"operation set"))
    return out


def quota_resolved_once(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """No reservation is both committed and rolled back."""
    out = []
    for ev in res.events:
        if ev.kind == "quota_conflict":
            rid, status, wanted = ev.data
            made_by = next(r.row for r in res.world.reservations if r.id == rid)
            out.append((f"{ev.row} after {status} ({made_by})",
                        f"{ev.row} tried to leave reservation {rid} {wanted} but it was already "
                        f"{status}"))
    return out


def migration_status_legal(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """Every migration status write moves along one of Nova's designed edges."""
    out = []
    for ev in res.events:
        if ev.kind != "migration_write":
            continue
        a, b = ev.data
        if a is None or a.status == b.status:
            continue
        edge = ctx.edges.get(ev.row)
        if edge is None or edge.dest != b.status:
            out.append((f"{ev.row}: {a.status} -> {b.status}",
                        f"{ev.row} moved migration {b.id} from {a.status} to {b.status}, which "
                        f"no edge declares"))
        elif edge.source is not None and a.status not in edge.source:
            out.append((f"{ev.row}: {a.status} -> {b.status}",
                        f"{ev.row} wrote {b.status} over {a.status} (it is meant to move from "
                        f"{', '.join(edge.source)})"))
    return out


def migration_endpoints_fixed(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """A migration's source and destination never change."""
    out = []
    for ev in res.events:
        if ev.kind != "migration_write" or ev.data[0] is None:
            continue
        a, b = ev.data
        for field in ("source_compute", "dest_compute"):
            if getattr(a, field) != getattr(b, field):
                out.append((f"{ev.row} rewrote {field}",
                            f"{ev.row} changed migration {b.id}'s {field} from "
                            f"{getattr(a, field)} to {getattr(b, field)}"))
    return out


def claims_consistent(ctx: Context, w: World) -> list[Violation]:
    """What an audit (update_available_resource) would count on each host equals what its
    instances and the unresolved resizes occupying it need: no claim leaked, doubled or
    missing. The key names each instance whose share is wrong, with its role on the host."""
    eng = ctx.engine
    out = []
    truth: dict[str, dict[str, tuple[int, int, int]]] = {}
    occupancy(eng, w, truth)
    tx = Tx.of(w)
    for h in w.hosts:
        if h.status != "up":
            continue
        shares: dict[str, tuple[int, int, int]] = {}
        usage, _, _ = eng.resources.audit_view(tx, h.name, shares)
        want = truth.get(h.name, {})
        wrong = []
        for name in sorted(set(shares) | set(want)):
            got, need = shares.get(name, (0, 0, 0)), want.get(name, (0, 0, 0))
            if got == need:
                continue
            i = next(x for x in w.instances if x.name == name)
            mig = ctx.latest_migration(w, name)
            sign = "over" if any(a > b for a, b in zip(got, need, strict=True)) else "under"
            wrong.append(f"{sign}-counts {_pair(i)}, {_mig_text(mig)}, {_role(h.name, i, mig)}")
        if wrong:
            total = tuple(sum(v[k] for v in want.values()) for k in range(3))
            out.append(("audit " + "; ".join(wrong),
                        f"an audit of {h.name} would count {usage} but its occupants need "
                        f"{total}"))
    return out


def _mig_text(m: Migration | None) -> str:
    return f"migration {m.status}" if m is not None else "no migration"


def occupancy(eng: Engine, w: World,
              per_instance: dict[str, dict[str, tuple[int, int, int]]] | None = None
              ) -> dict[str, tuple[int, int, int]]:
    """What each host should hold. A live instance holds its flavor on its host; while its
    latest resize is unresolved (the instance is resized, or not in ERROR and in a resize task;
    the migration not confirmed, errored, or reverted back onto the source) the source holds the
    old flavor and the destination the new one, as Nova's claims intend."""
    res = eng.resources
    out: dict[str, tuple[int, int, int]] = {}

    shares = per_instance if per_instance is not None else {}

    def hold(host: str | None, flavor: str | None) -> None:
        if host:
            out[host] = res.add(out.get(host, (0, 0, 0)), res.usage_of(flavor))
            d = shares.setdefault(host, {})
            d[name] = res.add(d.get(name, (0, 0, 0)), res.usage_of(flavor))

    for i in w.instances:
        if i.deleted or i.vm_state == DELETED:
            continue
        name = i.name
        migs = [m for m in w.migrations if m.instance == i.name]
        m = migs[-1] if migs else None
        resizing = i.vm_state == RESIZED or (
            i.vm_state != ERROR and i.task_state in RESIZE_TASK_STATES
        )
        unresolved = (
            m is not None
            and resizing
            and m.status not in (CONFIRMED, MIG_ERROR)
            and not (m.status == REVERTED and i.host == m.source_compute)
        )
        if unresolved and m is not None:
            hold(m.source_compute, m.old_flavor)
            hold(m.dest_compute, m.new_flavor)
        else:
            hold(i.host, i.flavor)
    return out


PROPERTIES: tuple[Property, ...] = (
    Property("legal-state", "state", legal_state),
    Property("no-lost-update", "transition", no_lost_update),
    Property("quota-resolved-once", "transition", quota_resolved_once),
    Property("quota-resolved-once", "quiescent", quota_pending),
    Property("quota-usage-consistent", "quiescent", quota_usage),
    Property("claims-consistent", "state", claims_consistent),
    Property("host-consistent", "state", host_consistent),
    Property("disk-never-lost", "state", disk_never_lost),
    Property("migration-status-legal", "transition", migration_status_legal),
    Property("migration-status-legal", "quiescent", migration_settled),
    Property("migration-endpoints-fixed", "transition", migration_endpoints_fixed),
    Property("vm-state-restored", "quiescent", vm_state_restored),
    Property("no-orphan", "quiescent", no_orphan),
    Property("delete-completes", "quiescent", delete_completes),
)

LIVENESS = ("no-stuck-resize",)

PROPERTY_NAMES: tuple[str, ...] = tuple(dict.fromkeys([p.name for p in PROPERTIES] +
                                                      list(LIVENESS)))


def is_quiescent(w: World) -> bool:
    """Nothing left to happen by itself: no message in flight, no handler running, and every
    compute service up (a service that is down will be restarted)."""
    return not w.messages and not w.frames and all(h.status == "up" for h in w.hosts)


def applies_to(prop: Property, w: World) -> bool:
    """Whether a state or quiescent property is evaluated on ``w`` (counted in the report)."""
    return prop.kind == "state" or (prop.kind == "quiescent" and is_quiescent(w))


__all__ = ["LIVENESS", "PROPERTIES", "PROPERTY_NAMES", "Any", "Context", "Property", "Tx"]
