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
        if x is not None and (type(x) is not int):
            raise SpecError(f"{fr.handler}:{fr.label}: inc of {v.path}: expected a number or "
                            f"None, found {x!r}")
        return (x or 0) + 1
    if isinstance(v, Append):
        x = resolve(tb, tx, fr, v.path) or ()
        if type(x) is not tuple:
            raise SpecError(f"{fr.handler}:{fr.label}: append to {v.path}: expected a list or "
                            f"None, found {x!r}")
        return (*x, value(tb, tx, fr, v.value))
    if isinstance(v, IfEq):
        x = resolve(tb, tx, fr, v.path)
        return value(tb, tx, fr, v.then if x == v.value else v.orelse)
    return v


def holds(tb: Tables, tx: Tx, fr: Frame | WFrame, c: Cond) -> bool:
    """Whether one condition holds (through its generated code: engine/compiled.py)."""
    return bool(tb.test((c,))(tb, tx, fr))


CondFn = Callable[["Tables", Tx, "Frame | WFrame"], bool]


def compile_cond(c: Cond) -> CondFn:
    """A condition as a function of (engine, step, frame): the tables' generated code for it
    (built the first time it is evaluated against those tables)."""
    conds = (c,)
    return lambda tb, tx, fr: bool(tb.test(conds)(tb, tx, fr))


def all_hold(tb: Tables, tx: Tx, fr: Frame | WFrame, conds: tuple[Cond, ...]) -> bool:
    """Whether every condition of ``conds`` holds, evaluated in order up to the first that
    does not."""
    return bool(tb.test(conds)(tb, tx, fr))
