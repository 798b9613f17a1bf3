"""Resolving the spec's references and evaluating its conditions against a running handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nova_resize.spec.model import Append, Cond, Default, IfEq, Inc, NotEq, Ref

from nova_resize.errors import SpecError

from .tx import Tx, WFrame, get_local
from .world import Frame

if TYPE_CHECKING:
    from .tables import Tables

FLAVOR_ATTRS = ("id", "name", "vcpus", "memory_mb", "root_gb", "disabled")


def resolve(tb: Tables, tx: Tx, fr: Frame | WFrame, path: str) -> Any:
    """The value of a dotted reference (see nova_resize.spec.model)."""
    parts = path.split(".")
    head = parts[0]
    rest: list[str]
    if head == "instance":
        value: Any = getattr(fr.instance, parts[1])
        rest = parts[2:]
    elif head == "migration":
        if fr.migration is None:
            raise SpecError(f"{path}: the handler has no migration")
        value = getattr(fr.migration, parts[1])
        rest = parts[2:]
    elif head == "db":
        if parts[1] == "instance":
            value = getattr(tx.instances[tx.inst_index(fr.instance.name)], parts[2])
        elif parts[1] == "migration":
            if fr.migration is None:
                raise SpecError(f"{path}: the handler has no migration")
            value = getattr(tx.migrations[fr.migration.id], parts[2])
        else:
            raise SpecError(f"unknown reference {path}")
        rest = parts[3:]
    elif head == "local":
        value = get_local(fr, parts[1])
        rest = parts[2:]
    elif head == "config":
        value = tb.config.option(parts[1])
        rest = parts[2:]
    elif head == "exc":
        return fr.exc
    elif head == "self":
        return _self(tb, tx, fr, parts[1])
    else:
        raise SpecError(f"unknown reference {path}")
    if rest:
        if len(rest) != 1 or rest[0] not in FLAVOR_ATTRS:
            raise SpecError(f"{path}: only a flavor attribute may follow a flavor reference")
        if value is None:
            return None
        return getattr(tb.flavors[value], rest[0])
    return value


def _self(tb: Tables, tx: Tx, fr: Frame | WFrame, what: str) -> Any:
    if what == "host":
        return fr.service
    if what == "lock":
        # Another handler on this service holds the instance's lock.
        return any(
            f.lock and f.id != fr.id and f.service == fr.service
            and f.instance.name == fr.instance.name
            for f in tx.frames.values()
        )
    if what == "guest_running":
        h = tx.host(fr.service)
        return h is not None and fr.instance.name in h.running
    if what == "init_pending":
        return sum(
            1
            for f in tx.frames.values()
            if f.service == fr.service and f.method == "init_instance"
        )
    raise SpecError(f"unknown reference self.{what}")


_EXPRESSION_TYPES = frozenset({Ref, Default, NotEq, Inc, Append, IfEq})


def value(tb: Tables, tx: Tx, fr: Frame | WFrame, v: Any) -> Any:
    """Evaluate a constant, a :class:`Ref` or a value expression."""
    if type(v) not in _EXPRESSION_TYPES:
        return v  # a constant (the common case: one set lookup; the spec's value classes
        # are final)
    if isinstance(v, Ref):
        return resolve(tb, tx, fr, v.path)
    if isinstance(v, Default):
        x = resolve(tb, tx, fr, v.path)
        return v.value if x is None else x
    if isinstance(v, NotEq):
        return resolve(tb, tx, fr, v.path) != v.value
    if isinstance(v, Inc):
        x = resolve(tb, tx, fr, v.path)
        return (x or 0) + 1
    if isinstance(v, Append):
        x = resolve(tb, tx, fr, v.path) or ()
        return (*x, value(tb, tx, fr, v.value))
    if isinstance(v, IfEq):
        x = resolve(tb, tx, fr, v.path)
        return value(tb, tx, fr, v.then if x == v.value else v.orelse)
    return v


def holds(tb: Tables, tx: Tx, fr: Frame | WFrame, c: Cond) -> bool:
    """Whether one condition holds."""
    fn = tb.cond_fns.get(c)
    if fn is None:
        fn = tb.cond_fns[c] = compile_cond(c)
    return fn(tb, tx, fr)


CondFn = Callable[["Tables", Tx, "Frame | WFrame"], bool]


def compile_cond(c: Cond) -> CondFn:
    """A condition as a function of (engine, step, frame)."""
    op = c.op
    path = c.ref
    getter = _getter(path)
    rhs = c.value
    const = not isinstance(rhs, (Ref, Default, NotEq, Inc, Append, IfEq))

    def y(tb: Tables, tx: Tx, fr: Frame | WFrame) -> Any:
        return rhs if const else value(tb, tx, fr, rhs)

    if op == "fits":
        return lambda tb, tx, fr: tb.resources.fits(tx, getter(tb, tx, fr), y(tb, tx, fr))
    if op == "truthy":
        return lambda tb, tx, fr: bool(getter(tb, tx, fr))
    if op == "falsy":
        return lambda tb, tx, fr: not getter(tb, tx, fr)
    if op == "up":
        def up(tb: Tables, tx: Tx, fr: Frame | WFrame) -> bool:
            h = tx.host(getter(tb, tx, fr))
            return h is not None and h.status == "up"
        return up
    if op == "down":
        def down(tb: Tables, tx: Tx, fr: Frame | WFrame) -> bool:
            h = tx.host(getter(tb, tx, fr))
            return h is None or h.status != "up"
        return down
    if op == "unknown_flavor":
        # a lookup with read_deleted="no": no such flavor, or one an admin deleted
        def unknown(tb: Tables, tx: Tx, fr: Frame | WFrame) -> bool:
            name = getter(tb, tx, fr)
            return name not in tb.flavors or name in tx.deleted_flavors
        return unknown
    if op == "==":
        return lambda tb, tx, fr: bool(getter(tb, tx, fr) == y(tb, tx, fr))
    if op == "!=":
        return lambda tb, tx, fr: bool(getter(tb, tx, fr) != y(tb, tx, fr))
    if op == "in":
        return lambda tb, tx, fr: getter(tb, tx, fr) in y(tb, tx, fr)
    if op == "not in":
        return lambda tb, tx, fr: getter(tb, tx, fr) not in y(tb, tx, fr)
    if op == ">":
        def gt(tb: Tables, tx: Tx, fr: Frame | WFrame) -> bool:
            a, b = getter(tb, tx, fr), y(tb, tx, fr)
            return a is not None and b is not None and a > b
        return gt
    if op == "<":
        def lt(tb: Tables, tx: Tx, fr: Frame | WFrame) -> bool:
            a, b = getter(tb, tx, fr), y(tb, tx, fr)
            return a is not None and b is not None and a < b
        return lt
    if op == ">=":
        def ge(tb: Tables, tx: Tx, fr: Frame | WFrame) -> bool:
            a, b = getter(tb, tx, fr), y(tb, tx, fr)
            return a is not None and b is not None and a >= b
        return ge
    if op == "<=":
        def le(tb: Tables, tx: Tx, fr: Frame | WFrame) -> bool:
            a, b = getter(tb, tx, fr), y(tb, tx, fr)
            return a is not None and b is not None and a <= b
        return le
    raise SpecError(f"unknown condition operator {op!r}")


def _getter(path: str) -> Callable[[Tables, Tx, Frame | WFrame], Any]:
    parts = path.split(".")
    if len(parts) == 2 and parts[0] == "instance":
        field = parts[1]
        return lambda tb, tx, fr: getattr(fr.instance, field)
    if len(parts) == 2 and parts[0] == "local":
        name = parts[1]
        return lambda tb, tx, fr: get_local(fr, name)
    if len(parts) == 2 and parts[0] == "migration":
        field = parts[1]

        def mig(tb: Tables, tx: Tx, fr: Frame | WFrame) -> Any:
            if fr.migration is None:
                raise SpecError(f"{path}: the handler has no migration")
            return getattr(fr.migration, field)
        return mig
    if path == "exc":
        return lambda tb, tx, fr: fr.exc
    return lambda tb, tx, fr: resolve(tb, tx, fr, path)


def all_hold(tb: Tables, tx: Tx, fr: Frame | WFrame, conds: tuple[Cond, ...]) -> bool:
    for c in conds:
        fn = tb.cond_fns.get(c)
        if fn is None:
            fn = tb.cond_fns[c] = compile_cond(c)
        if not fn(tb, tx, fr):
            return False
    return True
