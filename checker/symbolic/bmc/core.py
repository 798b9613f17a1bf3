"""The engine's actions (mirrors :mod:`nova_resize.engine.core`): which actions exist, the control
points each handler can be at, and what each action does to the symbolic state, user requests
included."""

from __future__ import annotations

from typing import Any

import z3
from nova_resize.spec import model as m

from .atoms import (
    INSTANCE_FIELDS,
    MIGRATION_FIELDS,
    Ctl,
    CtlKey,
    Path,
)
from .base import EncodingBase


class CoreRules(EncodingBase):
    # ---- the actions -----------------------------------------------------------------------
    def _actions(self) -> list[tuple[str, Any]]:
        """(kind, detail) for every action; control points found by a fixpoint over the
        paths this interpreter itself takes from each handler's entry."""
        acts: list[tuple[str, Any]] = []
        for op in self.ops:
            opd = self.spec.operation(op)
            if opd.takes_flavor:
                for fl in self.config.resize_flavors:
                    acts.append(("api", (op, fl)))
            else:
                acts.append(("api", (op, None)))
        for meth in self.methods:
            acts.append(("deliver", meth))
        # control points: run the interpreter symbolically on free variables
        free = self.variables(-1)
        todo: list[tuple[str, Ctl]] = []
        seen: set[tuple[str, CtlKey]] = set()
        for kind, detail in acts:
            for p in self._apply(free, kind, detail):
                if not p.ctl.ended:
                    todo.append((p.slot, p.ctl))
        while todo:
            slot, ctl = todo.pop()
            if (slot, ctl.key()) in seen:
                continue
            seen.add((slot, ctl.key()))
            self.ctls.setdefault(slot, []).append(ctl)
            for act in self._frame_actions(slot, ctl):
                for p in self._apply(free, *act):
                    if not p.ctl.ended:
                        todo.append((p.slot, p.ctl))
        for slot in sorted(self.ctls):
            for ctl in sorted(self.ctls[slot], key=lambda c: repr(c.key())):
                acts.extend(self._frame_actions(slot, ctl))
        return acts

    def _frame_actions(self, slot: str, ctl: Ctl) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        rows = self.rows.get((ctl.handler, ctl.label), [])
        if any(any(isinstance(e, m.SelectDestination) for e in r.effects) for r in rows):
            for h in (*self.hosts, None):
                out.append(("run", (slot, ctl, h)))
        elif rows:
            out.append(("run", (slot, ctl, None)))
        for r in self.fault_rows.get((ctl.handler, ctl.label), []):
            out.append(("fail", (slot, ctl, r.id)))
        return out

    def _apply(self, s: dict[str, Any], kind: str, detail: Any) -> list[Path]:
        """The paths of one action from the symbolic state ``s``; each path's ``pc`` includes
        the action's enabling condition, and a handler still running rests at its control
        point."""
        paths = self._apply_raw(s, kind, detail)
        for p in paths:
            if not p.ctl.ended:
                p.upd[f"f.{p.slot}.ctl"] = self.a(p.ctl.key())
        return paths

    def _apply_raw(self, s: dict[str, Any], kind: str, detail: Any) -> list[Path]:
        a = self.a
        if kind == "api":
            op, flavor = detail
            return self._api(s, op, flavor)
        if kind == "deliver":
            meth = detail
            q = f"q.{meth}"
            handler = f"conductor.{meth}" if meth in self.to_conductor else meth
            if handler not in self.handlers:
                return []
            p0 = Path(s[f"{q}.on"] == a(True), {}, Ctl("", ""), meth)
            target = s[f"{q}.target"]
            # the slot must be free: otherwise the encoding cannot represent the second frame
            busy = p0.fork(s[f"f.{meth}.on"] == a(True))
            busy.upd["overflow"] = a(True)
            busy.ctl.ended = True
            p = p0.fork(s[f"f.{meth}.on"] == a(False))
            self._clear_message(p, meth)
            f = f"f.{meth}"
            p.upd[f"{f}.on"] = a(True)
            p.upd[f"{f}.svc"] = target
            p.upd[f"{f}.lock"] = a(False)
            for x in INSTANCE_FIELDS:
                p.upd[f"{f}.i.{x}"] = s[f"{q}.i.{x}"]
                p.upd[f"{f}.d.{x}"] = a(False)
            p.upd[f"{f}.m.present"] = s[f"{q}.m.present"]
            for x in MIGRATION_FIELDS:
                p.upd[f"{f}.m.{x}"] = s[f"{q}.m.{x}"]
                p.upd[f"{f}.md.{x}"] = a(False)
            for loc in self.locals:
                p.upd[f"{f}.l.{loc}"] = s[f"{q}.a.{loc}"]
            p.ctl = Ctl(handler, self.handlers[handler].entry)
            return [busy, *self._eager(s, p)]
        if kind == "run":
            slot, ctl, choice = detail
            p = Path(self._at(s, slot, ctl), {}, Ctl(**vars(ctl)), slot, choice)
            out = []
            for row, cond in self._applicable(s, p):
                branch = p.fork(cond)
                out.extend(self._after_row(s, self._exec_row(s, branch, row)))
            return out
        if kind == "fail":
            slot, ctl, row_id = detail
            row = self.spec.row(row_id)
            budget = f"b.fault:{row.fault}"
            if budget not in self.layout.default:
                return []
            p = Path(z3.And(self._at(s, slot, ctl), z3.UGT(s[budget], 0),
                            self._when(s, Path(self.true, {}, ctl, slot), row.when)),
                     {budget: s[budget] - 1}, Ctl(**vars(ctl)), slot)
            return self._after_row(s, self._exec_row(s, p, row))
        raise ValueError(kind)

    def _api(self, s: dict[str, Any], op: str, flavor: str | None) -> list[Path]:
        a = self.a
        opd = self.spec.operation(op)
        slot = opd.handler
        f = f"f.{slot}"
        budget = f"b.op:{op}"
        probe = Path(self.true, {}, Ctl(slot, "start"), slot)
        # a probe frame: the database instance as its copy
        for x in INSTANCE_FIELDS:
            probe.upd[f"{f}.i.{x}"] = s[f"i.{x}"]
        for loc in self.locals:
            probe.upd[f"{f}.l.{loc}"] = a(None)
        probe.upd[f"{f}.l.flavor_id"] = a(flavor)
        probe.upd[f"{f}.svc"] = a("api")
        accept = [z3.UGT(s[budget], 0), s["i.deleted"] == a(False)]
        if opd.lock_check:
            accept.append(s["i.locked"] == a(False))
        if opd.vm_states is not None:
            accept.append(self._in(s["i.vm_state"], opd.vm_states))
        if opd.task_states is not None:
            accept.append(self._in(s["i.task_state"], opd.task_states))
        if opd.must_have_launched:
            accept.append(self._truthy(s["i.launched"]))
        if opd.name in ("stop", "start"):
            accept.append(self._truthy(s["i.host"]))
        for v in opd.validations:
            accept.append(z3.Not(self._when(s, probe, v.when)))
        busy = Path(z3.And(*accept, s[f"{f}.on"] == a(True)), {"overflow": a(True)},
                    Ctl("", "", ended=True), slot)
        p = Path(z3.And(*accept, s[f"{f}.on"] == a(False)), dict(probe.upd), Ctl(slot, "start"),
                 slot)
        p.upd[f"{f}.on"] = a(True)
        p.upd[f"{f}.lock"] = a(False)
        p.upd[f"{f}.m.present"] = a(False)
        for x in INSTANCE_FIELDS:
            p.upd[f"{f}.d.{x}"] = a(False)
        for x in MIGRATION_FIELDS:
            p.upd[f"{f}.m.{x}"] = a(None)
            p.upd[f"{f}.md.{x}"] = a(False)
        out = []
        for q in self._eager(s, p):
            if q.ctl.ended:
                out.append(q)
                continue
            for row, cond in self._applicable(s, q):
                r = q.fork(cond)
                out.extend(self._after_row(s, self._exec_row(s, r, row)))
        result = []
        for q in out:
            if q.ctl.refused:
                # Nova answered with an error before changing anything: the same state
                result.append(Path(q.pc, {}, q.ctl, slot))
                continue
            # the slot's own variables are scratch once the handler has returned
            own = f"{f}."
            diffs = [q.upd[n] != s[n] for n in q.upd if n != budget and not n.startswith(own)]
            changed = self.true if not q.ctl.ended else z3.Or(diffs) if diffs else \
                self.false
            q.upd[budget] = z3.If(changed, s[budget] - 1, s[budget])
            result.append(q)
        return [busy, *result]



__all__ = ["CoreRules"]
