"""What each kind of effect does to the symbolic state (mirrors :mod:`nova_resize.engine.effects`):
saves with their guard and dirty fields, migration writes, messages, the hypervisor, the
scheduler."""

from __future__ import annotations

from typing import Any

import z3
from nova_resize.spec import model as m
from nova_resize.spec.states import DELETING, PRE_MIGRATING

from .atoms import (
    FLAVOR_SLOTS,
    IN_PLACE_FIELDS,
    INSTANCE_FIELDS,
    MIGRATION_FIELDS,
    OBJECT_FIELDS,
    OutsideFragment,
    Path,
    const_of,
)
from .base import EncodingBase


class EffectRules(EncodingBase):
    # ---- effects ---------------------------------------------------------------------------
    def _effect(self, s: dict[str, Any], p: Path, eff: Any, row: m.Row) -> list[Any]:
        """The paths after one effect: a Path to go on with, or (Path, exception)."""
        a = self.a
        f = f"f.{p.slot}"
        kind = type(eff)
        if kind is m.Set:
            v = self.value(s, p, eff.value)
            if eff.target == "local":
                p.upd[f"{f}.l.{eff.name}"] = v
            elif eff.target == "instance":
                p.upd[f"{f}.i.{eff.name}"] = v
                p.upd[f"{f}.d.{eff.name}"] = a(True)
            elif eff.target == "migration":
                p.upd[f"{f}.m.{eff.name}"] = v
                p.upd[f"{f}.md.{eff.name}"] = a(True)
            return [p]
        if kind is m.SaveInstance:
            return self._save_instance(s, p, eff.guard, bool(eff.columns))
        if kind is m.FreshSave:
            gone = p.fork(self.get(s, p, "i.deleted") == a(True))
            ok = p.fork(self.get(s, p, "i.deleted") == a(False))
            for k, v in eff.fields:
                ok.upd[f"i.{k}"] = self.value(s, p, v)
            return [(gone, "InstanceNotFound"), ok]
        if kind is m.SaveMigration:
            for x in MIGRATION_FIELDS:
                d = self.get(s, p, f"{f}.md.{x}") == a(True)
                p.upd[f"m.{x}"] = z3.If(d, self.get(s, p, f"{f}.m.{x}"), self.get(s, p, f"m.{x}"))
            for x in MIGRATION_FIELDS:
                p.upd[f"{f}.m.{x}"] = p.upd[f"m.{x}"]
                p.upd[f"{f}.md.{x}"] = a(False)
            return [p]
        if kind is m.Send:
            return self._send(s, p, eff)
        if kind is m.Quota:
            if eff.op == "reserve":
                spec = self.quota_deltas[eff.delta or ""]
                bad = []
                if spec.kind != "delete":
                    bad.append(self.resolve(s, p, spec.new) == a(None) if spec.new else
                               self.true)
                bad.append(self.resolve(s, p, spec.old) == a(None))
                err = p.fork(z3.Or(bad))
                ok = p.fork(z3.Not(z3.Or(bad)))
                ok.upd[f"{f}.l.{eff.var}"] = a("<reservations>")
                return [(err, "TypeError"), ok]
            return [p]  # commit and rollback: quota is not encoded
        if kind is m.Claim:
            return [p]  # claims are not encoded
        if kind is m.Driver:
            return self._driver(s, p, eff)
        if kind is m.Raise:
            exc = self.value(s, p, eff.exc)
            return [(p, a.value(const_of(exc)))]
        if kind is m.Refuse:
            p.ctl.refused = True
            self._end(p)
            return [p]
        if kind is m.Reread:
            if eff.target == "instance":
                found = self.get(s, p, "i.deleted") == a(False)
                yes = p.fork(found)
                no = p.fork(z3.Not(found))
                for x in INSTANCE_FIELDS:
                    yes.upd[f"{f}.i.{x}"] = self.get(s, p, f"i.{x}")
                    yes.upd[f"{f}.d.{x}"] = a(False)
                yes.upd[f"{f}.l.instance_found"] = a(True)
                no.upd[f"{f}.l.instance_found"] = a(False)
                return [yes, no]
            self._read_migration(s, p)
            return [p]
        if kind is m.LookupMigration:
            found = z3.And(self.get(s, p, "m.exists") == a(True),
                           self._in(self.get(s, p, "m.status"), eff.statuses))
            yes = p.fork(found)
            no = p.fork(z3.Not(found))
            yes.upd[f"{f}.m.present"] = a(True)
            self._read_migration(s, yes)
            no.upd[f"{f}.l.migration_found"] = a(False)
            return [yes, no]
        if kind is m.CreateMigration:
            new = self.resolve(s, p, eff.new_flavor)
            old = self.get(s, p, f"{f}.i.flavor")
            ids_differ = self._or([z3.And(new == a(x.name), old == a(y.name))
                                for x in self.flavors.values() for y in self.flavors.values()
                                if x.id != y.id])
            host = self.get(s, p, f"{f}.i.host")
            vals = {"source_compute": z3.If(host == a(None), a(""), host),
                    "dest_compute": self.get(s, p, f"{f}.svc"), "old_flavor": old,
                    "new_flavor": new, "status": a(PRE_MIGRATING),
                    "migration_type": z3.If(ids_differ, a("resize"), a("migration"))}
            p.upd["overflow"] = z3.If(self.get(s, p, "m.exists") == a(True), a(True),
                                      self.get(s, p, "overflow"))
            p.upd["m.exists"] = a(True)
            p.upd[f"{f}.m.present"] = a(True)
            for x, v in vals.items():
                p.upd[f"m.{x}"] = v
                p.upd[f"{f}.m.{x}"] = v
                p.upd[f"{f}.md.{x}"] = a(False)
            return [p]
        if kind is m.Lock:
            p.upd[f"{f}.lock"] = a(eff.op == "acquire")
            return [p]
        if kind is m.Destroy:
            p.upd["i.deleted"] = a(True)
            return [p]
        if kind is m.SelectDestination:
            return self._select(s, p)
        if kind is m.Goto:
            p.ctl.handler = eff.handler
            p.ctl.label = eff.label
            if eff.chain is not None:
                p.ctl.override = eff.chain
            return [p]
        return [self._beyond(p)]  # Spawn, Service: compute restart

    def _beyond(self, p: Path) -> Path:
        """A path the encoding does not follow: it marks ``overflow`` and stops, so that the
        cross-check fails if the path is feasible."""
        p.upd["overflow"] = self.a(True)
        p.ctl.ended = True
        return p

    def _read_migration(self, s: dict[str, Any], p: Path) -> None:
        """The handler's migration copy := the database row, nothing dirty; found."""
        f = f"f.{p.slot}"
        for x in MIGRATION_FIELDS:
            p.upd[f"{f}.m.{x}"] = self.get(s, p, f"m.{x}")
            p.upd[f"{f}.md.{x}"] = self.a(False)
        p.upd[f"{f}.l.migration_found"] = self.a(True)

    def _save_instance(self, s: dict[str, Any], p: Path, guard: Any,
                       columns: bool = False) -> list[Any]:
        a = self.a
        f = f"f.{p.slot}"
        deleted = self.get(s, p, "i.deleted") == a(True)
        cols = [x for x in INSTANCE_FIELDS if x not in OBJECT_FIELDS]

        def changed(x: str) -> Any:
            d = self.get(s, p, f"{f}.d.{x}") == a(True)
            if x in IN_PLACE_FIELDS:
                return z3.And(d, self.get(s, p, f"{f}.i.{x}") != self.get(s, p, f"i.{x}"))
            return d

        # an UPDATE: a column changed, or the save writes columns the encoding does not hold
        anycol = self.true if columns else z3.Or([changed(x) for x in cols])
        # _save_flavor: the three flavors together, from the copy, whenever one is dirty
        anyflavor = z3.Or([self.get(s, p, f"{f}.d.{x}") == a(True) for x in FLAVOR_SLOTS])
        local = p.slot in self.api_slots.values()  # nova-api saves locally: the flavors reset
        for x in FLAVOR_SLOTS:
            p.upd[f"i.{x}"] = z3.If(z3.And(anyflavor, z3.Not(deleted)),
                                    self.get(s, p, f"{f}.i.{x}"), self.get(s, p, f"i.{x}"))
            if local:
                p.upd[f"{f}.d.{x}"] = a(False)
            else:  # a remote save resets the copy only when the call succeeds
                p.upd[f"{f}.d.{x}"] = z3.If(anycol, self.get(s, p, f"{f}.d.{x}"), a(False))
        none = p.fork(z3.Not(anycol))  # no UPDATE: the copy's changes are dropped
        for x in cols:
            none.upd[f"{f}.d.{x}"] = a(False)
        out: list[Any] = [none]
        w = p.fork(anycol)
        out.append((w.fork(deleted), "InstanceNotFound"))
        w = w.fork(z3.Not(deleted))
        if guard is not None:
            task = self.get(s, p, "i.task_state")
            ok = self._in(task, guard)
            out.append((w.fork(z3.And(z3.Not(ok), task == a(DELETING))),
                        "UnexpectedDeletingTaskStateError"))
            out.append((w.fork(z3.And(z3.Not(ok), task != a(DELETING))),
                        "UnexpectedTaskStateError"))
            w = w.fork(ok)
        for x in cols:
            d = self.get(s, p, f"{f}.d.{x}") == a(True)
            w.upd[f"i.{x}"] = z3.If(d, self.get(s, p, f"{f}.i.{x}"), self.get(s, p, f"i.{x}"))
        for x in INSTANCE_FIELDS:
            w.upd[f"{f}.i.{x}"] = w.upd.get(f"i.{x}", s[f"i.{x}"])
            w.upd[f"{f}.d.{x}"] = a(False)
        out.append(w)
        return out

    def _send(self, s: dict[str, Any], p: Path, eff: m.Send) -> list[Any]:
        a = self.a
        f = f"f.{p.slot}"
        if eff.wait:
            return [self._beyond(p)]  # a call that waits for its reply
        target = a("conductor") if eff.target == "conductor" else self.resolve(s, p, eff.target)
        none = p.fork(target == a(None))
        p = p.fork(target != a(None))
        q = f"q.{eff.method}"
        if eff.method not in self.methods:
            self.wanted.add(eff.method)  # while the layout is still growing
            return [(none, "InstanceNotReady"), p]
        p.upd["overflow"] = z3.If(self.get(s, p, f"{q}.on") == a(True), a(True),
                                  self.get(s, p, "overflow"))
        p.upd[f"{q}.on"] = a(True)
        p.upd[f"{q}.target"] = target
        for x in INSTANCE_FIELDS:
            p.upd[f"{q}.i.{x}"] = self.get(s, p, f"{f}.i.{x}")
        p.upd[f"{q}.m.present"] = self.get(s, p, f"{f}.m.present")
        for x in MIGRATION_FIELDS:
            p.upd[f"{q}.m.{x}"] = self.get(s, p, f"{f}.m.{x}")
        args = dict(eff.args)
        for loc in self.locals:
            p.upd[f"{q}.a.{loc}"] = self.value(s, p, args[loc]) if loc in args else a(None)
        return [(none, "InstanceNotReady"), p]

    def _clear_message(self, p: Path, meth: str) -> None:
        """The message is consumed (a new one writes every other variable of the slot)."""
        p.upd[f"q.{meth}.on"] = self.a(False)

    def _driver(self, s: dict[str, Any], p: Path, eff: m.Driver) -> list[Any]:
        a = self.a
        host = self.resolve(s, p, eff.host)

        def setbool(name: str, cond: Any, v: bool) -> None:
            for h in self.hosts:
                n = f"h.{h}.{name}"
                p.upd[n] = z3.If(z3.And(cond, host == a(h)), a(v), self.get(s, p, n))

        def disk_at(x: Any) -> Any:
            return z3.Or([z3.And(x == a(h), self.get(s, p, f"h.{h}.disk") == a(True))
                          for h in self.hosts])

        def flag(h: str, name: str) -> Any:
            return self.get(s, p, f"h.{h}.{name}") == a(True)

        if eff.op == "power_off":
            setbool("run", self.true, False)
            if eff.to is None:
                return [p]
            dest = self.resolve(s, p, eff.to)
            bad_dest = z3.Not(self._in(dest, self.hosts))
            e1 = p.fork(bad_dest)
            q = p.fork(z3.Not(bad_dest))
            has = disk_at(host)
            e2 = q.fork(z3.Not(has))
            ok = q.fork(has)
            for h in self.hosts:
                # the directory moved aside to <path>_resize, the disks copied to the dest
                here = host == a(h)
                ok.upd[f"h.{h}.resize"] = z3.If(here, a(True), self.get(s, ok, f"h.{h}.resize"))
                ok.upd[f"h.{h}.disk"] = z3.If(dest == a(h), a(True),
                                              z3.If(here, a(False), self.get(s, ok, f"h.{h}.disk")))
            return [(e1, "Exception"), (e2, "InstanceDiskMissing"), ok]
        if eff.op == "cleanup_resize":
            inst_host = self.get(s, p, f"f.{p.slot}.i.host")
            for h in self.hosts:
                here = host == a(h)
                p.upd[f"h.{h}.resize"] = z3.If(here, a(False), self.get(s, p, f"h.{h}.resize"))
                p.upd[f"h.{h}.run"] = z3.If(z3.And(here, inst_host != a(h)), a(False),
                                            self.get(s, p, f"h.{h}.run"))
            return [p]
        if eff.op == "restore_resize_copy":
            for h in self.hosts:
                move = z3.And(host == a(h), flag(h, "resize"))
                p.upd[f"h.{h}.disk"] = z3.If(move, a(True), self.get(s, p, f"h.{h}.disk"))
                p.upd[f"h.{h}.resize"] = z3.If(move, a(False), self.get(s, p, f"h.{h}.resize"))
            return [p]
        if eff.op == "spawn":
            has = disk_at(host)
            err = p.fork(z3.Not(has))
            ok = p.fork(has)
            on = self._truthy(self.value(s, ok, eff.power_on))
            for h in self.hosts:
                n = f"h.{h}.run"
                ok.upd[n] = z3.If(z3.And(on, host == a(h)), a(True), self.get(s, ok, n))
            return [(err, "InstanceDiskMissing"), ok]
        if eff.op in ("destroy_guest", "delete_files"):
            keep = (self._truthy(self.value(s, p, eff.keep_disk)) if eff.op == "destroy_guest"
                    else self.false)
            if eff.op == "destroy_guest":
                setbool("run", self.true, False)
            for h in self.hosts:
                # delete_instance_files: <path>, or when there is none <path>_resize
                dele = z3.And(host == a(h), z3.Not(keep))
                has = flag(h, "disk")
                p.upd[f"h.{h}.disk"] = z3.If(dele, a(False), self.get(s, p, f"h.{h}.disk"))
                p.upd[f"h.{h}.resize"] = z3.If(z3.And(dele, z3.Not(has)), a(False),
                                               self.get(s, p, f"h.{h}.resize"))
            return [p]
        if eff.op == "destroy_disk":
            setbool("disk", self.true, False)
            return [p]
        raise OutsideFragment(f"bmc: driver op {eff.op} is outside the encoding")

    def _select(self, s: dict[str, Any], p: Path) -> list[Any]:
        a = self.a
        f = f"f.{p.slot}"
        ignore = self.get(s, p, f"{f}.l.ignore_hosts")
        tried = self.get(s, p, f"{f}.l.tried")
        cand = {h: z3.And(z3.Not(self._contains(ignore, a(h))),
                          z3.Not(self._contains(tried, a(h)))) for h in self.hosts}
        if p.choice is None:
            return [(p.fork(z3.Not(z3.Or(list(cand.values())))), "NoValidHost")]
        h = p.choice
        q = p.fork(cand[h])
        q.upd[f"{f}.l.host"] = a(h)
        attempts = self.get(s, q, f"{f}.l.attempts")
        appended = self.value(s, q, m.Append("local.tried", h))
        q.upd[f"{f}.l.tried"] = z3.If(attempts != a(None), appended, tried)
        return [q]



__all__ = ["EffectRules"]
