"""Resolving the spec's references and evaluating its conditions against a running handler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nova_resize.spec.model import Append, Cond, Default, IfEq, Inc, NotEq, Ref

from .tx import Tx, WFrame

if TYPE_CHECKING:
    from .core import Engine

FLAVOR_ATTRS = ("id", "name", "vcpus", "memory_mb", "root_gb", "disabled")


class SpecError(RuntimeError):
    """The spec asked the engine for something it cannot resolve (a bug in a table)."""


def resolve(eng: Engine, tx: Tx, fr: WFrame, path: str) -> Any:
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
        value = fr.locals.get(parts[1])
        rest = parts[2:]
    elif head == "config":
        value = eng.config.option(parts[1])
        rest = parts[2:]
    elif head == "exc":
        return fr.exc
    elif head == "self":
        return _self(eng, tx, fr, parts[1])
    else:
        raise SpecError(f"unknown reference {path}")
    if rest:
        if len(rest) != 1 or rest[0] not in FLAVOR_ATTRS:
            raise SpecError(f"{path}: only a flavor attribute may follow a flavor reference")
        if value is None:
            return None
        return getattr(eng.flavors[value], rest[0])
    return value


def _self(eng: Engine, tx: Tx, fr: WFrame, what: str) -> Any:
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


def value(eng: Engine, tx: Tx, fr: WFrame, v: Any) -> Any:
    """Evaluate a constant, a :class:`Ref` or a value expression."""
    if isinstance(v, Ref):
        return resolve(eng, tx, fr, v.path)
    if isinstance(v, Default):
        x = resolve(eng, tx, fr, v.path)
        return v.value if x is None else x
    if isinstance(v, NotEq):
        return resolve(eng, tx, fr, v.path) != v.value
    if isinstance(v, Inc):
        x = resolve(eng, tx, fr, v.path)
        return (x or 0) + 1
    if isinstance(v, Append):
        x = resolve(eng, tx, fr, v.path) or ()
        return (*x, value(eng, tx, fr, v.value))
    if isinstance(v, IfEq):
        x = resolve(eng, tx, fr, v.path)
        return value(eng, tx, fr, v.then if x == v.value else v.orelse)
    return v


def holds(eng: Engine, tx: Tx, fr: WFrame, c: Cond) -> bool:
    """Whether one condition holds."""
    op = c.op
    if op == "fits":
        return eng.resources.fits(tx, resolve(eng, tx, fr, c.ref), value(eng, tx, fr, c.value))
    x = resolve(eng, tx, fr, c.ref)
    if op == "truthy":
        return bool(x)
    if op == "falsy":
        return not x
    if op == "up":
        h = tx.host(x)
        return h is not None and h.status == "up"
    if op == "down":
        h = tx.host(x)
        return h is None or h.status != "up"
    if op == "unknown_flavor":
        return x not in eng.flavors
    y = value(eng, tx, fr, c.value)
    if op == "==":
        return bool(x == y)
    if op == "!=":
        return bool(x != y)
    if op == "in":
        return x in y
    if op == "not in":
        return x not in y
    if op == ">":
        return x is not None and y is not None and x > y
    if op == "<=":
        return x is None or y is None or x <= y
    raise SpecError(f"unknown condition operator {op!r}")


def all_hold(eng: Engine, tx: Tx, fr: WFrame, conds: tuple[Cond, ...]) -> bool:
    return all(holds(eng, tx, fr, c) for c in conds)
