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

The exception a handler is raising (``exc``, what its error handlers test) is followed by
:mod:`.exceptions`: one the engine raises by itself or a row that may run raises, per handler.
A condition on an exception no one raises (libvirt's NotImplementedError is caught where Nova
calls the driver) never holds.

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


def analyse(spec: Spec) -> Domains:
    """The least fixpoint of the tables' writes from every configuration (module docstring)."""
    from .exceptions import ENGINE_EXCEPTIONS, _covered, _handler_exceptions, _raises
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


def unreachable_rows(spec: Spec) -> dict[str, str]:
    """The rows of ``spec`` no state of any configuration can run, each with its reason."""
    return dict(analyse(spec).unreachable)


__all__ = ["NAME", "TOP", "Domains", "analyse", "outside", "unreachable_rows"]
