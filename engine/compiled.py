"""The spec's conditions compiled into Python: each label's choice of row, and each list of
conditions, as one generated function instead of an interpretation per step.

A condition ``ref op value`` becomes an expression over the running handler (``fr``), the step
in progress (``tx``) and the tables (``tb``): ``instance.vm_state == 'resized'`` reads
``fr.instance.vm_state`` directly, a configuration option is a constant, and what has no
direct form (``db.*``, ``self.*``, flavor attributes) goes through
:func:`~nova_resize.engine.refs.resolve`. The generated code evaluates the conditions in the
spec's order and stops at the first that fails, so a condition that would raise (a handler
without a migration) raises only when the ones before it hold. :mod:`.refs`' ``holds``,
``all_hold`` and ``compile_cond`` answer through the same code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nova_resize.spec import model as m
from nova_resize.spec.model import Append, Cond, Default, IfEq, Inc, NotEq, Ref

from nova_resize.errors import SpecError

from .refs import _self, resolve, value
from .tx import Tx, WFrame, get_local
from .world import INSTANCE_FIELDS, Frame, Migration

if TYPE_CHECKING:
    from .tables import Tables

Test = Callable[["Tables", Tx, "Frame | WFrame"], Any]
"""A compiled list of conditions: truthy when all hold."""

Chooser = Callable[["Tables", Tx, "Frame | WFrame"], list[m.Row]]
"""A label's compiled choice: the rows that apply (see handlers.applicable)."""

_EXPRESSIONS = (Ref, Default, NotEq, Inc, Append, IfEq)
MIGRATION_FIELDS = frozenset(Migration._fields)


def _mig(fr: Frame | WFrame, path: str) -> Migration:
    if fr.migration is None:
        raise SpecError(f"{path}: the handler has no migration")
    return fr.migration


def _up(tx: Tx, name: Any) -> bool:
    h = tx.host(name)
    return h is not None and h.status == "up"


def _unknown(tb: Tables, tx: Tx, name: Any) -> bool:
    return name not in tb.flavors or name in tx.deleted_flavors


def _gt(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a > b


def _lt(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a < b


def _ge(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a >= b


def _le(a: Any, b: Any) -> bool:
    return a is not None and b is not None and a <= b


_BASE: dict[str, Any] = {
    "_mig": _mig, "_up": _up, "_unknown": _unknown, "_gt": _gt, "_lt": _lt, "_ge": _ge,
    "_le": _le, "_local": get_local, "_resolve": resolve, "_value": value, "_self": _self,
    "SpecError": SpecError,
}
_COMPARE = {">": "_gt", "<": "_lt", ">=": "_ge", "<=": "_le"}
_UNARY = {"truthy": "({})", "falsy": "(not {})", "up": "_up(tx, {})",
          "down": "(not _up(tx, {}))", "unknown_flavor": "_unknown(tb, tx, {})"}


class _Source:
    """Constants of the code being generated, by name."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = dict(_BASE)

    def const(self, v: Any) -> str:
        name = f"k{len(self.ns)}"
        self.ns[name] = v
        return name

    def ref(self, tb: Tables, path: str) -> str:
        """An expression for the value of the reference ``path``."""
        parts = path.split(".")
        if len(parts) == 2:
            head, name = parts
            if head == "instance" and name in INSTANCE_FIELDS:
                return f"fr.instance.{name}"
            if head == "local":
                return f"_local(fr, {self.const(name)})"
            if head == "migration" and name in MIGRATION_FIELDS:
                return f"_mig(fr, {self.const(path)}).{name}"
            if head == "self" and name == "host":
                return "fr.service"
            if head == "self":
                return f"_self(tb, tx, fr, {self.const(name)})"
            if head == "config":
                try:
                    return self.const(tb.config.option(name))
                except KeyError:
                    pass  # an unknown option raises when the condition is evaluated
        if path == "exc":
            return "fr.exc"
        return f"_resolve(tb, tx, fr, {self.const(path)})"

    def rhs(self, v: Any) -> str:
        if isinstance(v, _EXPRESSIONS):
            return f"_value(tb, tx, fr, {self.const(v)})"
        return self.const(v)

    def cond(self, tb: Tables, c: Cond) -> str:
        """An expression, truthy when ``c`` holds (operands evaluated left to right)."""
        g = self.ref(tb, c.ref)
        op = c.op
        unary = _UNARY.get(op)
        if unary is not None:
            return unary.format(g)
        if op == "fits":
            return f"tb.resources.fits(tx, {g}, {self.rhs(c.value)})"
        if op in ("==", "!=", "in", "not in"):
            return f"({g} {op} {self.rhs(c.value)})"
        if op in _COMPARE:
            return f"{_COMPARE[op]}({g}, {self.rhs(c.value)})"
        raise SpecError(f"unknown condition operator {op!r}")

    def conj(self, tb: Tables, conds: tuple[Cond, ...]) -> str:
        return " and ".join(self.cond(tb, c) for c in conds) if conds else "True"

    def build(self, name: str, body: list[str]) -> Any:
        src = f"def {name}(tb, tx, fr):\n" + "".join(f"    {line}\n" for line in body)
        exec(compile(src, f"<compiled {name}>", "exec"), self.ns)
        return self.ns[name]


def compile_test(tb: Tables, conds: tuple[Cond, ...]) -> Test:
    """The conditions ``conds`` as one function of (tables, step, handler)."""
    s = _Source()
    return s.build("test", [f"return {s.conj(tb, conds)}"])  # type: ignore[no-any-return]


def compile_chooser(tb: Tables, rows: list[m.Row], where: str) -> Chooser:
    """The choice of row at one label: the non-fault rows whose conditions hold, the
    ``otherwise`` rows only when none does, and a :class:`SpecError` when more than one
    applies (``where`` names the label)."""
    normal = [r for r in rows if not r.otherwise]
    other = [r for r in rows if r.otherwise]
    s = _Source()
    if not rows:
        return s.build("choose", ["return []"])  # type: ignore[no-any-return]
    if len(normal) == 1 and not normal[0].when:
        return s.build("choose", [f"return [{s.const(normal[0])}]"])  # type: ignore[no-any-return]
    body = ["found = []"]
    for r in normal:
        body += [f"if {s.conj(tb, r.when)}:", f"    found.append({s.const(r)})"]
    if other:
        body.append("if not found:")
        for r in other:
            body += [f"    if {s.conj(tb, r.when)}:", f"        found.append({s.const(r)})"]
    body += ["if len(found) > 1:",
             f"    raise SpecError('rows ' + ', '.join(r.id for r in found) + "
             f"{s.const(' all apply at ' + where)})",
             "return found"]
    return s.build("choose", body)  # type: ignore[no-any-return]


__all__ = ["Chooser", "Test", "compile_chooser", "compile_test"]
