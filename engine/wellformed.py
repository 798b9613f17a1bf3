"""Static checks that a spec (Liberty, or Liberty patched by variants) is one the engine can
interpret, run before anything is explored.

Every reference must resolve (a field the instance or migration has, a known ``self.`` or
``config.`` name), every effect must be of a known kind with known arguments, every state value
a row writes, guards or compares must be one the spec defines, every label a row goes to must
exist, and the label graph of each handler must be sound: no rows unreachable from the handler's
entry (or from a ``Goto`` into it), and no cycle made only of rows that touch nothing but the
handler's memory (such a cycle would spin inside one step forever).

:func:`problems` lists what is wrong, one line each, naming the row, operation or handler.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from nova_resize.spec import END, RAISE, Spec
from nova_resize.spec import model as m
from nova_resize.spec.options import DEFAULTS
from nova_resize.spec.query import EXPRESSIONS, error_handler_names

from .tables import EAGER_EFFECTS
from .world import INSTANCE_FIELDS, Migration

MIGRATION_FIELDS: tuple[str, ...] = Migration._fields
FLAVOR_ATTRS = ("id", "name", "vcpus", "memory_mb", "root_gb", "disabled")
SELF_NAMES = ("host", "lock", "guest_running", "init_pending")
COND_OPS = ("==", "!=", "in", "not in", "truthy", "falsy", "<", "<=", ">", ">=", "up", "down",
            "unknown_flavor", "fits")
EFFECT_OPS: dict[type, tuple[str, tuple[str, ...]]] = {
    m.Quota: ("op", ("reserve", "commit", "rollback")),
    m.Claim: ("op", ("resize_claim", "drop_move_claim", "update_usage", "audit")),
    m.Driver: ("op", ("power_off", "spawn", "destroy_guest", "destroy_disk", "delete_files",
                      "cleanup_resize", "restore_resize_copy")),
    m.Send: ("kind", ("cast", "call")),
    m.Lock: ("op", ("acquire", "release")),
    m.Service: ("op", ("up", "down", "init")),
    m.Reread: ("target", ("instance", "migration")),
    m.Set: ("target", ("instance", "migration", "local")),
}
KNOWN_EFFECTS: tuple[type, ...] = (
    m.Set, m.SaveInstance, m.FreshSave, m.SaveMigration, m.CreateMigration, m.Reread,
    m.LookupMigration, m.Quota, m.Claim, m.Driver, m.Send, m.Raise, m.Refuse, m.Lock,
    m.Destroy, m.DestroyFlavor, m.SelectDestination, m.Spawn, m.Goto, m.Service,
)


def ref_problem(path: Any) -> str | None:
    """Why ``path`` is not a reference the engine resolves, or None."""
    if not isinstance(path, str) or not path:
        return f"expected a reference string, found {path!r}"
    parts = path.split(".")
    head = parts[0]
    if head == "exc":
        return None if len(parts) == 1 else f"{path}: exc has no fields"
    if head == "self":
        if len(parts) != 2 or parts[1] not in SELF_NAMES:
            return f"{path}: expected self.{'|'.join(SELF_NAMES)}"
        return None
    if head == "config":
        if len(parts) != 2 or parts[1] not in DEFAULTS:
            return f"{path}: expected config.<option> with an option among {', '.join(DEFAULTS)}"
        return None
    if head == "db":
        if len(parts) < 3 or parts[1] not in ("instance", "migration"):
            return f"{path}: expected db.instance.<field> or db.migration.<field>"
        kind, field, rest = parts[1], parts[2], parts[3:]
    elif head in ("instance", "migration"):
        if len(parts) < 2:
            return f"{path}: expected {head}.<field>"
        kind, field, rest = head, parts[1], parts[2:]
    elif head == "local":
        if len(parts) < 2 or not parts[1]:
            return f"{path}: expected local.<name>"
        return _flavor_attr(path, parts[2:])
    else:
        return (f"{path}: unknown reference (expected instance., migration., db., local., "
                f"config., self. or exc)")
    fields = INSTANCE_FIELDS if kind == "instance" else MIGRATION_FIELDS
    if field not in fields:
        return f"{path}: the {kind} has no field {field!r} (fields: {', '.join(fields)})"
    return _flavor_attr(path, rest)


def _flavor_attr(path: str, rest: list[str]) -> str | None:
    if not rest:
        return None
    if len(rest) != 1 or rest[0] not in FLAVOR_ATTRS:
        return f"{path}: only a flavor attribute ({', '.join(FLAVOR_ATTRS)}) may follow"
    return None


def _value_problems(v: Any) -> list[str]:
    if isinstance(v, m.Ref):
        p = ref_problem(v.path)
        return [p] if p else []
    if isinstance(v, EXPRESSIONS):
        out = []
        p = ref_problem(getattr(v, "path", None))
        if p:
            out.append(p)
        for attr in ("value", "then", "orelse"):
            if hasattr(v, attr):
                out += _value_problems(getattr(v, attr))
        return out
    if isinstance(v, tuple):
        return [p for x in v for p in _value_problems(x)]
    return []


class _Checker:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.handlers = {h.name: h for h in spec.handlers}
        self.labels: dict[str, set[str]] = {}
        for r in spec.rows:
            self.labels.setdefault(r.handler, set()).add(r.at)
        self.domains: dict[str, tuple[Any, ...]] = {
            "vm_state": spec.vm_states,
            "task_state": spec.task_states,
            "status": spec.migration_statuses,
        }
        self.out: list[str] = []

    def add(self, where: str, problem: str) -> None:
        self.out.append(f"{where}: {problem}")

    def domain_of(self, path: str) -> tuple[Any, ...] | None:
        parts = path.split(".")
        if parts[0] == "db":
            parts = parts[1:]
        if len(parts) == 2 and parts[0] in ("instance", "migration"):
            if parts[0] == "migration" and parts[1] != "status":
                return None
            return self.domains.get(parts[1])
        return None

    def check_value_in(self, where: str, what: str, domain: tuple[Any, ...] | None,
                       values: Any) -> None:
        if domain is None:
            return
        for v in values if isinstance(values, tuple) else (values,):
            if isinstance(v, m.Default):
                v = v.value  # the value written when the path holds None
            elif isinstance(v, m.IfEq):
                self.check_value_in(where, what, domain, (v.then, v.orelse))
                continue
            if isinstance(v, EXPRESSIONS):
                continue
            if v not in domain:
                shown = ", ".join("None" if d is None else str(d) for d in domain)
                self.add(where, f"{what} {v!r} is not one the spec defines (expected one of "
                         f"{shown})")

    def cond(self, where: str, c: Any) -> None:
        if not isinstance(c, m.Cond):
            self.add(where, f"expected a condition, found {c!r}")
            return
        if c.op not in COND_OPS:
            self.add(where, f"unknown condition operator {c.op!r}")
            return
        p = ref_problem(c.ref)
        if p:
            self.add(where, p)
            return
        for q in _value_problems(c.value):
            self.add(where, q)
        if c.op in ("in", "not in") and not isinstance(c.value, (tuple, m.Ref)):
            self.add(where, f"{c}: 'in' needs a list, found {c.value!r}")
        if c.op in ("==", "!=", "in", "not in"):
            self.check_value_in(where, c.ref, self.domain_of(c.ref), c.value)

    def effect(self, where: str, row: m.Row, e: Any) -> None:
        if not isinstance(e, KNOWN_EFFECTS):
            self.add(where, f"unknown effect {e!r}")
            return
        spec = self.spec
        rule = EFFECT_OPS.get(type(e))
        if rule is not None:
            attr, allowed = rule
            if getattr(e, attr) not in allowed:
                self.add(where, f"{type(e).__name__}.{attr} {getattr(e, attr)!r}: expected one "
                         f"of {', '.join(allowed)}")
                return
        for f in getattr(e, "__dataclass_fields__", {}):
            v = getattr(e, f)
            if isinstance(v, str) and f in ("host", "to", "target", "new_flavor", "flavor") and \
                    "." in v and not (isinstance(e, m.Send) and f == "target"):
                p = ref_problem(v)
                if p:
                    self.add(where, f"{type(e).__name__}.{f}: {p}")
            for q in _value_problems(v):
                self.add(where, f"{type(e).__name__}.{f}: {q}")
        if isinstance(e, m.Set) and e.target in ("instance", "migration"):
            fields = INSTANCE_FIELDS if e.target == "instance" else MIGRATION_FIELDS
            if e.name not in fields:
                self.add(where, f"Set {e.target}.{e.name}: the {e.target} has no field "
                         f"{e.name!r}")
            elif e.target == "instance" or e.name == "status":
                self.check_value_in(where, f"Set {e.target}.{e.name}",
                                    self.domains.get(e.name), e.value)
        elif isinstance(e, m.SaveInstance):
            if e.guard is not None:
                if not isinstance(e.guard, tuple):
                    self.add(where, f"expected_task_state: expected a list, found {e.guard!r}")
                else:
                    self.check_value_in(where, "expected_task_state", spec.task_states, e.guard)
        elif isinstance(e, m.FreshSave):
            for k, v in e.fields:
                if k not in INSTANCE_FIELDS:
                    self.add(where, f"FreshSave: the instance has no field {k!r}")
                else:
                    self.check_value_in(where, f"FreshSave {k}", self.domains.get(k), v)
        elif isinstance(e, m.LookupMigration):
            self.check_value_in(where, "LookupMigration status", spec.migration_statuses,
                                tuple(e.statuses))
        elif isinstance(e, m.Quota):
            names = {q.name for q in spec.quota_deltas}
            if e.op == "reserve" and e.delta not in names:
                self.add(where, f"Quota reserve: delta {e.delta!r} is not one of "
                         f"{', '.join(sorted(names))}")
        elif isinstance(e, m.Claim):
            if e.prefix not in (None, "old_", "new_"):
                self.add(where, f"Claim.prefix {e.prefix!r}: expected old_ or new_")
        elif isinstance(e, m.Send):
            handler = f"conductor.{e.method}" if e.target == "conductor" else e.method
            if handler not in self.handlers:
                self.add(where, f"Send {e.method}: no handler {handler!r} receives it")
            if e.target != "conductor":
                p = ref_problem(e.target)
                if p:
                    self.add(where, f"Send.target: {p}")
        elif isinstance(e, m.Refuse):
            if not isinstance(e.http, int) or isinstance(e.http, bool):
                self.add(where, f"Refuse.http: expected an integer, found {e.http!r}")
        elif isinstance(e, m.Raise):
            if not isinstance(e.exc, (str, m.Ref)) or e.exc == "":
                self.add(where, f"Raise.exc: expected an exception name, found {e.exc!r}")
        elif isinstance(e, m.Spawn):
            if e.handler not in self.handlers:
                self.add(where, f"Spawn: no handler {e.handler!r}")
        elif isinstance(e, m.Goto):
            if e.handler not in self.handlers:
                self.add(where, f"Goto: no handler {e.handler!r}")
            elif e.label not in self.labels.get(e.handler, set()):
                self.add(where, f"Goto: {e.handler} has no label {e.label!r}")
            for h in e.chain or ():
                if h not in self.handlers:
                    self.add(where, f"Goto chain: no handler {h!r}")

    def row(self, r: m.Row) -> None:
        where = f"row {r.id}"
        h = self.handlers.get(r.handler)
        if h is None:
            self.add(where, f"no handler {r.handler!r}")
            return
        if r.scope not in dict(h.scopes):
            self.add(where, f"scope {r.scope!r}: {r.handler} has scopes "
                     f"{', '.join(n for n, _ in h.scopes)}")
        if r.fault is not None and r.fault not in {n for n, _ in self.spec.faults}:
            self.add(where, f"fault {r.fault!r}: expected one of "
                     f"{', '.join(n for n, _ in self.spec.faults)}")
        for target, what in ((r.then, "then"), (r.on_fail, "on_fail")):
            if target is None or target in (END, RAISE):
                continue
            if target not in self.labels.get(r.handler, set()):
                self.add(where, f"{what} {target!r} names no label of {r.handler}")
        for c in r.when:
            self.cond(where, c)
        for e in r.effects:
            self.effect(where, r, e)

    def handlers_and_operations(self) -> None:
        for h in self.spec.handlers:
            if h.name not in self.labels:
                continue
            for scope, chain in h.scopes:
                for name in chain:
                    if name not in self.handlers:
                        self.add(f"handler {h.name}", f"scope {scope}: no error handler "
                                 f"{name!r}")
            if h.entry not in self.labels[h.name]:
                self.add(f"handler {h.name}", f"entry label {h.entry!r} has no rows")
        for op in self.spec.operations:
            where = f"operation {op.name}"
            if op.handler not in self.handlers:
                self.add(where, f"no handler {op.handler!r}")
            if op.target not in ("instance", "flavor"):
                self.add(where, f"target {op.target!r}: expected instance or flavor")
            if op.vm_states is not None:
                self.check_value_in(where, "vm_state", self.spec.vm_states, op.vm_states)
            if op.task_states is not None:
                self.check_value_in(where, "task_state", self.spec.task_states, op.task_states)
            if op.takes_flavor and op.takes_host:
                self.add(where, "an operation names a flavor or a host, not both")
            for v in op.validations:
                vw = f"{where} validation {v.id}"
                for c in v.when:
                    self.cond(vw, c)
                    reads = [c.ref, getattr(c.value, "path", "")]
                    if v.migration is None and any(
                            str(x).startswith(("migration.", "db.migration.")) for x in reads):
                        self.add(vw, f"{c} reads the migration: say which lookup gives it "
                                 f"(migration = [statuses])")
                if v.migration is not None:
                    self.check_value_in(vw, "migration status", self.spec.migration_statuses,
                                        tuple(v.migration))
        rows = {r.id for r in self.spec.rows}
        for e in self.spec.migration_edges:
            where = f"migration edge {e.row} -> {e.dest}"
            if e.row not in rows:
                self.add(where, f"no row {e.row!r}")
            self.check_value_in(where, "status", self.spec.migration_statuses, e.dest)
            if e.source:
                self.check_value_in(where, "status", self.spec.migration_statuses,
                                    tuple(e.source))
        t = self.spec.tracker
        self.check_value_in("resource_tracker", "in-progress exclusion",
                            self.spec.migration_statuses, tuple(t.in_progress_excluded))

    def graphs(self) -> None:
        """Unreachable rows, and cycles of memory-only rows, per handler."""
        spec = self.spec
        entries: dict[str, set[str]] = {h.name: {h.entry} for h in spec.handlers}
        for r in spec.rows:
            for e in r.effects:
                if isinstance(e, m.Goto):
                    entries.setdefault(e.handler, set()).add(e.label)
        errors = error_handler_names(spec)
        for handler, labels in self.labels.items():
            rows = spec.rows_of(handler)
            g = nx.DiGraph()
            g.add_nodes_from(labels)
            eager = nx.DiGraph()
            for r in rows:
                for target in (r.then, r.on_fail):
                    if target is None or target in (END, RAISE):
                        continue
                    g.add_edge(r.at, target)
                    if all(isinstance(e, EAGER_EFFECTS) for e in r.effects) and not r.fault:
                        eager.add_edge(r.at, target, row=r.id)
            starts = {x for x in entries.get(handler, set()) if x in labels}
            if handler in errors or not starts:
                starts |= {self.handlers[handler].entry} if handler in self.handlers else set()
            reach: set[str] = set()
            for s in starts:
                reach |= {s} | nx.descendants(g, s)
            for cycle in nx.simple_cycles(eager):
                ids = sorted({eager.edges[a, b]["row"] for a, b in
                              zip(cycle, [*cycle[1:], cycle[0]], strict=True)})
                self.add(f"handler {handler}", f"rows {', '.join(ids)} loop through labels "
                         f"{' -> '.join([*cycle, cycle[0]])} without a step that can block, "
                         f"write or send")
                break
            for r in rows:
                if r.at not in reach:
                    self.add(f"row {r.id}", f"unreachable: no row of {handler} leads to label "
                             f"{r.at!r}")


def problems(spec: Spec) -> list[str]:
    """What makes ``spec`` uninterpretable, one line each (empty when it is well formed)."""
    c = _Checker(spec)
    ids: set[str] = set()
    for r in spec.rows:
        if r.id in ids:
            c.add(f"row {r.id}", "a second row with this id")
        ids.add(r.id)
        c.row(r)
    c.handlers_and_operations()
    if not c.out:
        c.graphs()
    return c.out


__all__ = ["MIGRATION_FIELDS", "problems", "ref_problem"]
