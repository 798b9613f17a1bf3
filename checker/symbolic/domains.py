"""Which values each instance and migration field can ever hold, from any configuration, and so
which rows can never run: a flow-insensitive abstract interpretation of the tables.

The abstract value of a field is a set of constants, where :data:`NAME` stands for any non-empty
string (a host, instance or flavor name: a configuration may name them anything), or
:data:`TOP` (anything). It starts from what a configuration can set (``parse_config``'s checks:
every instance names one of the hosts, its vm_state is active, stopped or error, no task, no
migration) and from the records the engine makes itself (a host-wide task's copy of "no
instance", ``Destroy``'s ``deleted``), and grows with every value a row that may run assigns
(``Set``, ``FreshSave``, ``CreateMigration``), until nothing changes. A row may run unless one of
its ``when`` conditions holds for no value of its field; the fixpoint only adds rows, so a row
left out can run in no state of any configuration (a proof for the engine as it is: a state a
user writes by hand, such as an observed world in ``oracle``, is not a configuration).

The exception a handler is raising (``exc``, what its error handlers test) is one of the names
the engine itself raises (:data:`ENGINE_EXCEPTIONS`: a refused compare-and-swap, a destroyed
row, a call with no answer...) or that a row which may run raises (``Raise``); re-raising a
call's answer (``Raise(Ref("local.reply"))``) adds nothing new, since a reply is "ok", a
timeout or the exception the callee raised. A condition on an exception no one raises (libvirt's
NotImplementedError is caught where Nova calls the driver) never holds.

Anything else the analysis cannot follow is :data:`TOP` and makes a condition satisfiable: the
handlers' locals, RPC arguments, options, flavor attributes, the order of updates; and the
instance copy of every handler a request about a flavor reaches (its copy is "no instance",
whose host is None). ``tests/test_domains.py`` checks the result against every state
the regression presets reach.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from nova_resize.engine.world import INSTANCE_FIELDS, Instance, Migration, World
from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.query import is_constant
from nova_resize.spec.states import ACTIVE, ERROR, RUNNING, SHUTDOWN, STOPPED


class _Name:
    """Any non-empty string."""

    def __repr__(self) -> str:
        return "a name (a non-empty string)"


NAME: Any = _Name()
TOP: None = None
"""The abstract value "anything"."""

Domain = frozenset[Any] | None

MIGRATION_FIELDS: tuple[str, ...] = Migration._fields

# An instance as a configuration starts it (engine/config.py's checks, Engine.initial).
_CONFIGURED: dict[str, frozenset[Any]] = {
    "name": frozenset({NAME}), "vm_state": frozenset({ACTIVE, STOPPED, ERROR}),
    "task_state": frozenset({None}), "power_state": frozenset({RUNNING, SHUTDOWN}),
    "host": frozenset({NAME}), "flavor": frozenset({NAME}), "old_flavor": frozenset({None}),
    "new_flavor": frozenset({None}), "old_vm_state": frozenset({None}),
    "launched": frozenset({True}), "locked": frozenset({True, False}),
    "deleted": frozenset({False}), "progress": frozenset({None}),
}
# The engine's own records: a host-wide task's copy of "no instance" on its host (core._nobody),
# and a destroyed row.
_ENGINE: dict[str, frozenset[Any]] = {
    "name": frozenset({""}), "vm_state": frozenset({""}), "power_state": frozenset({0}),
    "flavor": frozenset({""}), "launched": frozenset({False}), "locked": frozenset({False}),
    "deleted": frozenset({True}),
}


ENGINE_EXCEPTIONS: frozenset[str] = frozenset({
    "InstanceNotFound",  # a save or read of a destroyed row (effects.save_instance, _reread)
    "UnexpectedTaskStateError",  # a refused expected_task_state compare-and-swap
    "UnexpectedDeletingTaskStateError",  # the same, while the instance is being deleted
    "InstanceNotReady",  # a power action on a guest in the wrong state (effects._driver)
    "InstanceDiskMissing",  # the hypervisor's disk is gone (effects._driver)
    "Exception",  # a driver failure, and a callee's unnamed failure (handlers.end)
    "NoValidHost",  # the scheduler found nothing (effects._select)
    "TypeError",  # a quota commit or rollback of reservations that were never made (quota)
    "OverQuota",  # quota_reserve past a limit (quota.reserve)
    "MessagingTimeout",  # a call's answer that never came (core)
})
"""The Nova exceptions the engine raises by itself, besides the rows' ``Raise`` (a test checks
this list against the engine's source)."""

EFFECT_EXCEPTIONS: dict[type, frozenset[str]] = {
    m.SaveInstance: frozenset({"InstanceNotFound", "UnexpectedTaskStateError",
                               "UnexpectedDeletingTaskStateError"}),
    m.FreshSave: frozenset({"InstanceNotFound"}),
    m.Send: frozenset({"InstanceNotReady"}),  # a message to a host that is None
    m.Driver: frozenset({"Exception", "InstanceDiskMissing"}),
    m.SelectDestination: frozenset({"NoValidHost"}),
    m.Quota: frozenset({"TypeError", "OverQuota"}),  # a reservation's (commit, rollback: none)
}
"""What each kind of effect can raise by itself (engine/effects.py, engine/quota.py);
``_effect_raises`` narrows a message (only a target that may be None) and a quota action."""

SILENT_EFFECTS: frozenset[type] = frozenset({
    m.Set, m.SaveMigration, m.Reread, m.LookupMigration, m.CreateMigration, m.Claim, m.Lock,
    m.Destroy, m.DestroyFlavor, m.Spawn, m.Goto, m.Service, m.Refuse,
})
"""Effects that raise no Nova exception (Refuse answers the user; it is not raised)."""

REPLY_LOCALS: frozenset[str] = frozenset({"reply"})
"""Locals the engine fills with a call's answer: "ok", a timeout, or the callee's exception."""


def _union(a: Domain, b: Domain) -> Domain:
    return TOP if a is TOP or b is TOP else a | b


@dataclass
class Domains:
    """The fixpoint: each field's abstract value, and the rows that can never run with the
    condition that rules each out."""

    instance: dict[str, Domain]
    migration: dict[str, Domain]
    unreachable: dict[str, str]
    tainted: frozenset[str]
    """Handlers whose instance copy may be "no instance" with no host (a flavor request's)."""
    exc: Domain = TOP
    """The exceptions any handler can be raising (module docstring)."""
    handler_exc: dict[str, Domain] = dataclasses.field(default_factory=dict)
    """Per handler, what ``exc`` can be while its rows run (None: nothing raised yet); a
    handler left out may hold anything in :attr:`exc`, or None."""

    def of(self, path: str, handler: str = "") -> Domain:
        """The abstract value of the reference ``path`` in a row of ``handler``."""
        if path == "exc":
            return self.handler_exc.get(handler, _union(self.exc, frozenset({None})))
        parts = path.split(".")
        if parts[0] == "db":
            parts = parts[1:]
        elif parts[0] == "instance" and handler in self.tainted:
            return TOP
        if len(parts) != 2:
            return TOP  # a local, an option, an exception, a flavor's attribute
        head, name = parts
        if head == "instance":
            return self.instance.get(name, TOP)
        if head == "migration":
            return self.migration.get(name, TOP)
        if head == "self" and name == "host":
            return frozenset({NAME})
        return TOP

    def value(self, v: Any, handler: str) -> Domain:
        """The abstract value of an expression a row assigns."""
        if is_constant(v):
            return frozenset({v})
        if isinstance(v, m.Ref):
            return self.of(v.path, handler)
        if isinstance(v, m.Default):
            d = self.of(v.path, handler)
            return _union(None if d is None else d - {None}, self.value(v.value, handler))
        if isinstance(v, m.IfEq):
            return _union(self.value(v.then, handler), self.value(v.orelse, handler))
        if isinstance(v, m.NotEq):
            return frozenset({True, False})
        return TOP

    def satisfiable(self, c: m.Cond, handler: str) -> bool:
        """Whether some value of the field ``c`` tests passes it (True when unknown)."""
        d = self.of(c.ref, handler)
        if d is TOP or not is_constant(c.value) or c.op not in _TESTS:
            return True
        return any(_TESTS[c.op](x, c.value) for x in d)


def _eq(x: Any, c: Any) -> bool:
    return (isinstance(c, str) and c != "") if x is NAME else bool(x == c)


def _ne(x: Any, c: Any) -> bool:
    return True if x is NAME else bool(x != c)


_TESTS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _eq,
    "!=": _ne,
    "in": lambda x, c: any(_eq(x, y) for y in c),
    "not in": lambda x, c: x is NAME or x not in c,
    "truthy": lambda x, c: x is NAME or bool(x),
    "falsy": lambda x, c: x is not NAME and not x,
}


def _handler_of_method(spec: Spec, method: str) -> list[str]:
    return [h.name for h in spec.handlers
            if h.name == method or h.name.endswith("." + method)]


def _tainted(spec: Spec) -> frozenset[str]:
    """Every handler a request about a flavor can reach (its copy, or a message carrying it)."""
    todo = [o.handler for o in spec.operations if o.target == "flavor"]
    seen: set[str] = set()
    while todo:
        h = todo.pop()
        if h in seen:
            continue
        seen.add(h)
        for _, chain in spec.handler(h).scopes:
            todo.extend(chain)
        for r in spec.rows_of(h):
            for e in r.effects:
                if isinstance(e, (m.Goto, m.Spawn)):
                    todo.append(e.handler)
                    todo.extend(getattr(e, "chain", None) or ())
                elif isinstance(e, m.Send):
                    todo.extend(_handler_of_method(spec, e.method))
    return frozenset(seen)


def _writes(d: Domains, row: m.Row) -> Iterable[tuple[str, str, Domain]]:
    h = row.handler
    for e in row.effects:
        if isinstance(e, m.Set) and e.target in ("instance", "migration"):
            yield e.target, e.name, d.value(e.value, h)
        elif isinstance(e, m.FreshSave):
            for k, v in e.fields:
                yield "instance", k, d.value(v, h)
        elif isinstance(e, m.CreateMigration):
            host = d.of("instance.host", h)
            yield "migration", "source_compute", \
                TOP if host is TOP else frozenset("" if x is None else x for x in host)
            yield "migration", "dest_compute", frozenset({NAME})
            yield "migration", "old_flavor", d.of("instance.flavor", h)
            yield "migration", "new_flavor", d.value(m.Ref(e.new_flavor), h) \
                if isinstance(e.new_flavor, str) else TOP
            yield "migration", "status", frozenset({"pre-migrating"})
            yield "migration", "migration_type", frozenset({"resize", "migration"})
            for f in ("id", "instance"):
                yield "migration", f, frozenset({NAME})


def _raises(spec: Spec, row: m.Row) -> Domain:
    """The exceptions ``row`` raises by its ``Raise`` effects (TOP: it raises what a local it
    cannot follow holds)."""
    out: set[Any] = set()
    for e in row.effects:
        if not isinstance(e, m.Raise):
            continue
        if is_constant(e.exc):
            out.add(e.exc)
        elif isinstance(e.exc, m.Ref) and e.exc.path.startswith("local."):
            name = e.exc.path.removeprefix("local.")
            if name not in REPLY_LOCALS or _assigned(spec, name):
                return TOP
        else:
            return TOP
    return frozenset(out)


def _assigned(spec: Spec, local: str) -> bool:
    """Whether a row assigns the local ``local`` itself (the engine's answer no longer the
    only value it can hold)."""
    return any(isinstance(e, m.Set) and e.target == "local" and e.name == local
               for r in spec.rows for e in r.effects)


def _may_be_none(d: Domains, path: str, handler: str, known: dict[str, Domain]) -> bool:
    """Whether the reference ``path`` can resolve to None in a row of ``handler`` (``known``:
    the locals the row has already assigned)."""
    if path.startswith("local.") and path.removeprefix("local.") in known:
        v = known[path.removeprefix("local.")]
    else:
        v = d.of(path, handler)
    return v is TOP or None in v


def _effect_raises(spec: Spec, d: Domains, row: m.Row) -> Domain:
    """What running ``row``'s effects can raise out of it: its ``Raise`` and what each effect
    raises by itself (nothing when the row handles its own failure, ``on_fail``). Effects run
    in order, so a local an earlier effect of the row assigned is known to a later one."""
    if row.on_fail is not None:
        return frozenset()
    out: Domain = frozenset()
    known: dict[str, Domain] = {}
    h = row.handler
    for e in row.effects:
        kind = type(e)
        if kind is m.Raise:
            if is_constant(e.exc):
                out = _union(out, frozenset({e.exc}))
            else:  # a call's answer, re-raised: whatever any callee raised, or a timeout
                one = _raises(spec, dataclasses.replace(row, effects=(e,)))
                out = _union(out, d.exc if one is not TOP else TOP)
        elif kind is m.Send:
            if e.target != "conductor" and _may_be_none(d, e.target, h, known):
                out = _union(out, frozenset({"InstanceNotReady"}))
        elif kind is m.Quota:
            if e.op == "reserve":
                q = next((x for x in spec.quota_deltas if x.name == e.delta), None)
                refs = [] if q is None else [q.old] + ([q.new] if q.kind not in (
                    "delete", "create") and q.new is not None else [])
                if q is None or (q.kind not in ("delete", "create") and q.new is None) or any(
                        _may_be_none(d, r, h, known) for r in refs):
                    out = _union(out, frozenset({"TypeError"}))
                out = _union(out, frozenset({"OverQuota"}))
        elif kind in EFFECT_EXCEPTIONS:
            out = _union(out, EFFECT_EXCEPTIONS[kind])
        elif kind not in SILENT_EFFECTS:
            return TOP
        if kind is m.SelectDestination:
            known["host"] = frozenset({NAME})
        elif kind is m.Set and e.target == "local":
            known[e.name] = d.value(e.value, h)
    return out


def _started_directly(spec: Spec, chained: set[str]) -> set[str]:
    """The error handlers that a frame may also start in, or jump to (their ``exc`` may be
    None, or whatever the jumping handler was raising)."""
    out: set[str] = set()
    sent = {e.method for r in spec.rows for e in r.effects if isinstance(e, m.Send)}
    for h in chained:
        if (any(o.handler == h for o in spec.operations) or h in sent
                or h.removeprefix("conductor.") in sent):
            out.add(h)
    return out


def _handler_exceptions(spec: Spec, d: Domains) -> dict[str, Domain]:
    """Per handler, the exceptions ``exc`` can hold while its rows run.

    An exception raised by a row enters the row's scope chain (or, inside an error handler,
    the rest of the chain it was entered by; or a chain a ``Goto`` put in place); a row ending
    in ``<raise>`` passes its handler's on; a ``Goto`` carries its handler's exception (and the
    rest of its chain) to the handler it jumps to. Every handler but the error handlers only
    entered by a raise may also run with no exception (None)."""
    chains = [c for h in spec.handlers for _, c in h.scopes]
    overrides = [e.chain for r in spec.rows for e in r.effects
                 if isinstance(e, m.Goto) and e.chain is not None]
    every = chains + overrides
    chained = {x for c in every for x in c}
    jumps = {(r.handler, e.handler) for r in spec.rows for e in r.effects
             if isinstance(e, (m.Goto, m.Spawn))}
    direct = _started_directly(spec, chained) | {b for _, b in jumps}
    exc: dict[str, Domain] = {h.name: frozenset() for h in spec.handlers}
    for h in exc:
        if h not in chained or h in direct:
            exc[h] = frozenset({None})
    # the rest of a chain a handler may be running in (inside an error handler)
    rest: dict[str, set[tuple[str, ...]]] = {h: set() for h in exc}
    for c in every:
        for i, x in enumerate(c):
            rest.setdefault(x, set()).add(c[i + 1:])
    changed = True
    while changed:
        changed = False
        for a, b in jumps:
            if not rest[a] <= rest.setdefault(b, set()):
                rest[b] |= rest[a]
                changed = True
    view = dataclasses.replace(d, handler_exc=exc)
    changed = True
    while changed:
        changed = False
        for row in spec.rows:
            h = row.handler
            if not all(view.satisfiable(c, h) for c in row.when):
                continue
            targets: list[tuple[str, Domain]] = []
            raised = _effect_raises(spec, view, row)
            entered = set(rest[h])
            entered.add(spec.handler(h).chain(row.scope) if any(
                n == row.scope for n, _ in spec.handler(h).scopes) else ())
            entered.update(overrides)
            for c in entered:
                if c:
                    targets.append((c[0], raised))
            here = exc[h]
            if row.then == "<raise>":
                carried = here if here is TOP else here - {None}
                targets.extend((c[0], carried) for c in rest[h] if c)
            for e in row.effects:
                if isinstance(e, m.Goto):
                    targets.append((e.handler, here))
            for t, xs in targets:
                new = _union(exc.get(t, frozenset()), xs)
                if new != exc.get(t, frozenset()):
                    exc[t] = new
                    changed = True
    return exc


def analyse(spec: Spec) -> Domains:
    """The least fixpoint of the tables' writes from every configuration (module docstring)."""
    inst: dict[str, Domain] = {f: _CONFIGURED.get(f, TOP) for f in INSTANCE_FIELDS}
    for f, extra in _ENGINE.items():
        inst[f] = _union(inst[f], extra)
    inst["task_state"] = _union(inst["task_state"], frozenset({None}))
    inst["host"] = _union(inst["host"], frozenset({NAME}))
    mig: dict[str, Domain] = {f: frozenset() for f in MIGRATION_FIELDS}
    mig["updated_at"] = TOP  # ranks the engine keeps
    d = Domains(inst, mig, {}, _tainted(spec), frozenset(ENGINE_EXCEPTIONS))
    while True:
        changed = False
        for row in spec.rows:
            if not all(d.satisfiable(c, row.handler) for c in row.when):
                continue
            raised = _union(d.exc, _raises(spec, row))
            if raised != d.exc:
                d.exc = raised
                changed = True
            for target, name, vs in _writes(d, row):
                table = d.instance if target == "instance" else d.migration
                new = _union(table.get(name, TOP), vs)
                if new != table.get(name, TOP):
                    table[name] = new
                    changed = True
        if not changed:
            break
    d.handler_exc = _handler_exceptions(spec, d)
    for row in spec.rows:
        if row.otherwise and _covered(spec, d, row):
            reaching = ", ".join(sorted(map(str, d.handler_exc[row.handler] or ())))
            d.unreachable[row.id] = (f"every exception that reaches {row.handler} "
                                     f"({reaching}) is taken by another of its rows at "
                                     f"{row.at}")
            continue
        for c in row.when:
            if not d.satisfiable(c, row.handler):
                shown = sorted(map(repr, d.of(c.ref, row.handler) or ()))
                d.unreachable[row.id] = (f"its condition `{c}` never holds: from any "
                                         f"configuration, {c.ref} is always one of "
                                         f"{', '.join(shown)}")
                break
    return d


def _covered(spec: Spec, d: Domains, row: m.Row) -> bool:
    """Whether an ``otherwise`` row never runs: each exception its handler can be raising
    (never None) satisfies every condition of another row at its label that tests only
    ``exc``."""
    here = d.handler_exc.get(row.handler, TOP)
    if here is TOP or not here or None in here:
        return False
    others = [r for r in spec.rows_of(row.handler)
              if r.at == row.at and r is not row and r.fault is None and r.when
              and all(c.ref == "exc" and is_constant(c.value) and c.op in _TESTS
                      for c in r.when)]
    return all(any(all(_TESTS[c.op](x, c.value) for c in r.when) for r in others)
               for x in here)


def _within(x: Any, d: Domain) -> bool:
    return d is TOP or x in d or (NAME in d and isinstance(x, str) and x != "")


def outside(d: Domains, world: World) -> list[str]:
    """The field values of ``world`` (its rows, the running handlers' copies, the messages'
    copies) outside the fixpoint: empty for every state of every configuration, or the analysis
    is unsound (the tests check it on the regression presets' states)."""
    out: list[str] = []

    def inst(where: str, i: Instance) -> None:
        out.extend(f"{where}: instance {i.name!r} {f} = {getattr(i, f)!r}"
                   for f in INSTANCE_FIELDS if not _within(getattr(i, f), d.instance.get(f)))

    def mig(where: str, g: Migration | None) -> None:
        if g is not None:
            out.extend(f"{where}: migration {g.id} {f} = {getattr(g, f)!r}"
                       for f in MIGRATION_FIELDS if not _within(getattr(g, f), d.migration[f]))

    for i in world.instances:
        inst("database", i)
    for g in world.migrations:
        mig("database", g)
    for fr in world.frames:
        if fr.exc is not None and not _within(fr.exc, d.exc):
            out.append(f"handler {fr.id}: raising {fr.exc!r}")
        here = d.handler_exc.get(fr.handler, TOP)
        if here is not TOP and fr.exc not in here:
            out.append(f"handler {fr.id}: {fr.exc!r} in {fr.handler}")
        if fr.handler not in d.tainted:
            inst(f"handler {fr.id}", fr.instance)
        mig(f"handler {fr.id}", fr.migration)
    for msg in world.messages:
        if msg.instance.name or msg.instance.host:
            inst(f"message {msg.method}", msg.instance)
        mig(f"message {msg.method}", msg.migration)
    return out


def silent_rows(spec: Spec) -> frozenset[str]:
    """The rows that can raise nothing: each effect raises nothing by itself and the row has
    no ``Raise`` (or the row handles its own failure), or the row can never run. An error
    scope whose rows are all silent never enters its chain."""
    d = analyse(spec)
    return frozenset(r.id for r in spec.rows
                     if r.id in d.unreachable or _effect_raises(spec, d, r) == frozenset())


def unreachable_rows(spec: Spec) -> dict[str, str]:
    """The rows of ``spec`` no state of any configuration can run, each with its reason."""
    return dict(analyse(spec).unreachable)


__all__ = ["ENGINE_EXCEPTIONS", "NAME", "TOP", "Domains", "analyse", "outside", "silent_rows",
           "unreachable_rows"]
