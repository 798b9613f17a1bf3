"""Running a handler's rows (mirrors :mod:`nova_resize.engine.handlers`): which row applies at a
control point, executing it, the next label, raising into the error chain, ending."""

from __future__ import annotations

from typing import Any

import z3
from nova_resize.spec import END, RAISE
from nova_resize.spec import model as m

from .atoms import (
    Ctl,
    Path,
    eager_row,
)
from .base import EncodingBase


class HandlerRules(EncodingBase):
    def _at(self, s: dict[str, Any], slot: str, ctl: Ctl) -> Any:
        f = f"f.{slot}"
        return z3.And(s[f"{f}.on"] == self.a(True), s[f"{f}.ctl"] == self.a(ctl.key()))

    def _after_row(self, s: dict[str, Any], paths: list[Path]) -> list[Path]:
        out = []
        for p in paths:
            if p.ctl.ended:
                out.append(p)
            else:
                out.extend(self._eager(s, p))
        return out

    # ---- rows ------------------------------------------------------------------------------
    def _applicable(self, s: dict[str, Any], p: Path) -> list[tuple[m.Row, Any]]:
        rows = self.rows.get((p.ctl.handler, p.ctl.label), [])
        plain = [(r, self._when(s, p, r.when)) for r in rows if not r.otherwise]
        other = [(r, self._when(s, p, r.when)) for r in rows if r.otherwise]
        any_plain = z3.Or([c for _, c in plain]) if plain else self.false
        out = list(plain)
        for r, c in other:
            out.append((r, z3.And(z3.Not(any_plain), c)))
        return out

    def _eager(self, s: dict[str, Any], p: Path) -> list[Path]:
        """Run the rows that touch only the handler's memory, as the engine does at once."""
        out: list[Path] = []
        todo = [p]
        while todo:
            p = todo.pop()
            if p.ctl.ended:
                out.append(p)
                continue
            key = (p.ctl.handler, p.ctl.label)
            if key in self.fault_rows:
                out.append(p)
                continue
            choices = self._applicable(s, p)
            none = z3.Not(z3.Or([c for _, c in choices])) if choices else self.true
            out.append(p.fork(none))
            for row, cond in choices:
                q = p.fork(cond)
                if not eager_row(row):
                    out.append(q)
                    continue
                todo.extend(self._exec_row(s, q, row))
        return out

    def _exec_row(self, s: dict[str, Any], p: Path, row: m.Row) -> list[Path]:
        paths = [p]
        done: list[Path] = []
        for eff in row.effects:
            nxt = []
            for q in paths:
                for r in self._effect(s, q, eff, row):
                    if isinstance(r, tuple):  # (path, exception)
                        path, exc = r
                        if row.on_fail is not None:
                            path.ctl.inner_exc = exc
                            self._goto(path, row.on_fail)
                        else:
                            self._raise(path, exc, row.scope)
                        done.append(path)
                    else:
                        nxt.append(r)
            paths = nxt
        for q in paths:
            if q.ctl.ended:
                done.append(q)
                continue
            gotos = [e for e in row.effects if isinstance(e, m.Goto)]
            if gotos:
                done.append(q)  # a Goto chose where to continue
                continue
            self._goto(q, row.then)
            done.append(q)
        return done

    def _goto(self, p: Path, target: str) -> None:
        if target == END:
            self._end(p)
        elif target == RAISE:
            self._enter_chain(p, p.ctl.chain or ())
        else:
            p.ctl.label = target

    def _raise(self, p: Path, exc: str, scope: str) -> None:
        p.ctl.exc = exc
        if p.ctl.chain is not None:
            chain = p.ctl.chain
        elif p.ctl.override is not None:
            chain = p.ctl.override
        else:
            chain = self.handlers[p.ctl.handler].chain(scope)
        self._enter_chain(p, chain)

    def _enter_chain(self, p: Path, chain: tuple[str, ...]) -> None:
        if not chain:
            self._end(p)
            return
        p.ctl.handler = chain[0]
        p.ctl.label = self.handlers[chain[0]].entry
        p.ctl.chain = chain[1:]

    def _end(self, p: Path) -> None:
        """The handler returns: its slot is free (a new frame writes every other variable of
        the slot, so they need no reset)."""
        p.ctl.ended = True
        f = f"f.{p.slot}"
        p.upd[f"{f}.on"] = self.a(False)
        p.upd[f"{f}.ctl"] = self.a(None)
        p.upd[f"{f}.lock"] = self.a(False)



__all__ = ["HandlerRules"]
