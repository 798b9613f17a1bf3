"""References, values and conditions over the symbolic state (mirrors
:mod:`nova_resize.engine.refs`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import z3
from nova_resize.spec import model as m

from .atoms import (
    OutsideFragment,
    Path,
)
from .base import EncodingBase


class RefRules(EncodingBase):
    # ---- references and values ---------------------------------------------------------------
    def get(self, s: dict[str, Any], p: Path, name: str) -> Any:
        return p.upd[name] if name in p.upd else s[name]

    def resolve(self, s: dict[str, Any], p: Path, path: str) -> Any:
        a = self.a
        f = f"f.{p.slot}"
        parts = path.split(".")
        head = parts[0]
        if head == "instance":
            x = self.get(s, p, f"{f}.i.{parts[1]}")
            rest = parts[2:]
        elif head == "migration":
            x = self.get(s, p, f"{f}.m.{parts[1]}")
            rest = parts[2:]
        elif head == "db":
            x = self.get(s, p, f"{'i' if parts[1] == 'instance' else 'm'}.{parts[2]}")
            rest = parts[3:]
        elif head == "local":
            if parts[1] == "inner_exc":
                return a(p.ctl.inner_exc)
            x = self.get(s, p, f"{f}.l.{parts[1]}")
            rest = parts[2:]
        elif head == "config":
            x = a(self.config.option(parts[1]))
            rest = parts[2:]
        elif head == "exc":
            return a(p.ctl.exc)
        elif head == "self":
            return self._self(s, p, parts[1])
        else:
            raise OutsideFragment(f"bmc: unknown reference {path}")
        if rest:
            attr = rest[0]
            out = a(None)
            for fl in self.flavors.values():
                out = z3.If(x == a(fl.name), a(getattr(fl, attr)), out)
            return out
        return x

    def _self(self, s: dict[str, Any], p: Path, what: str) -> Any:
        a = self.a
        svc = self.get(s, p, f"f.{p.slot}.svc")
        if what == "host":
            return svc
        if what == "lock":
            held = [z3.And(self.get(s, p, f"f.{o}.on") == a(True),
                           self.get(s, p, f"f.{o}.lock") == a(True),
                           self.get(s, p, f"f.{o}.svc") == svc)
                    for o in self.slots() if o != p.slot]
            return z3.If(z3.Or(held), a(True), a(False)) if held else a(False)
        if what == "guest_running":
            run = z3.Or([z3.And(svc == a(h), self.get(s, p, f"h.{h}.run") == a(True))
                         for h in self.hosts])
            return z3.If(run, a(True), a(False))
        if what == "init_pending":
            return a(0)
        raise OutsideFragment(f"bmc: unknown reference self.{what}")

    def value(self, s: dict[str, Any], p: Path, v: Any) -> Any:
        a = self.a
        if isinstance(v, m.Ref):
            return self.resolve(s, p, v.path)
        if isinstance(v, m.Default):
            x = self.resolve(s, p, v.path)
            return z3.If(x == a(None), a(v.value), x)
        if isinstance(v, m.NotEq):
            x = self.resolve(s, p, v.path)
            return z3.If(x != a(v.value), a(True), a(False))
        if isinstance(v, m.Inc):
            x = self.resolve(s, p, v.path)
            out = a(1)  # None (or anything falsy) + 1
            for n in self.a.ints():
                if 0 < n < 11:
                    out = z3.If(x == a(n), a(n + 1), out)
            return out
        if isinstance(v, m.Append):
            x = self.resolve(s, p, v.path)
            y = self.value(s, p, v.value)
            out = a(None)
            for t in self.a.tuples():
                for h in self.hosts:
                    if (*t, h) in self.a.values and h not in t:
                        base = z3.Or(x == a(t), x == a(None)) if t == () else x == a(t)
                        out = z3.If(z3.And(base, y == a(h)), a((*t, h)), out)
            return out
        if isinstance(v, m.IfEq):
            x = self.resolve(s, p, v.path)
            return z3.If(x == a(v.value), self.value(s, p, v.then), self.value(s, p, v.orelse))
        return a(v)

    def _truthy(self, x: Any) -> Any:
        a = self.a
        return z3.And([x != a(v) for v in (None, False, "", 0, ())])

    def _or(self, xs: list[Any]) -> Any:
        return z3.Or(xs) if xs else self.false

    def _in(self, x: Any, values: Iterable[Any]) -> Any:
        return self._or([x == self.a(v) for v in values])

    def _contains(self, coll: Any, x: Any) -> Any:
        """``x in coll`` for a tuple-of-hosts atom, or a single host (ignore_hosts)."""
        a = self.a
        alts = [z3.And(coll == a(t), z3.Or([x == a(e) for e in t]))
                for t in self.a.tuples() if t]
        alts.append(z3.And(coll == x, x != a(None)))
        return z3.Or(alts)

    def _cond(self, s: dict[str, Any], p: Path, c: m.Cond) -> Any:
        a = self.a
        op = c.op
        x = self.resolve(s, p, c.ref)
        if op == "truthy":
            return self._truthy(x)
        if op == "falsy":
            return z3.Not(self._truthy(x))
        if op in ("up", "down"):
            up = self._in(x, self.hosts)
            return up if op == "up" else z3.Not(up)
        if op == "unknown_flavor":
            return z3.Not(self._in(x, self.flavors))
        if op == "fits":
            return self.true  # the fragment has room for every flavor everywhere
        if op in ("in", "not in"):
            if isinstance(c.value, (m.Ref, m.Default, m.IfEq)):
                f = self._contains(self.value(s, p, c.value), x)
            else:
                f = self._in(x, c.value)
            return f if op == "in" else z3.Not(f)
        y = self.value(s, p, c.value)
        if op == "==":
            return x == y
        if op == "!=":
            return x != y
        ints = self.a.ints()
        rel: Callable[[int, int], bool] = {">": lambda i, j: i > j, "<": lambda i, j: i < j,
               ">=": lambda i, j: i >= j, "<=": lambda i, j: i <= j}[op]
        # as the engine: false when either side is None (no None atom is an int)
        return self._or([z3.And(x == a(i), y == a(j)) for i in ints for j in ints if rel(i, j)])

    def _when(self, s: dict[str, Any], p: Path, conds: Iterable[m.Cond]) -> Any:
        fs = [self._cond(s, p, c) for c in conds]
        return z3.And(fs) if fs else self.true



__all__ = ["RefRules"]
