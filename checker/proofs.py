"""Symbolic proofs with z3 over the spec's tables, for all values the explicit checker cannot
enumerate.

* **disjoint**: at every label of every handler the conditions of its rows exclude each other,
  so the engine is deterministic given the action (``otherwise`` rows are disjoint by
  construction; fault rows are alternatives chosen by an injection).
* **legal-result**: every row that writes an instance's (vm_state, task_state), applied to any
  pair Nova defines that its guard and conditions admit, yields a pair Nova defines (transient
  pairs included); an error handler's save may also write the task_state a failed guarded save
  left dirty.
* **quota**: for symbolic old and new flavors (vcpus and memory_mb unbounded non-negative
  integers), the reserve / commit / rollback actions that the spec executes on each path leave
  ``in_use`` equal to what the instance's flavor needs, ``reserved`` at zero, and never negative.
  The paths are the row sequences the engine runs (they do not depend on the sizes, except for
  which deltas are empty, which the encoding covers).
* **inductive**: one-step induction of per-instance properties over an abstraction of the
  transition relation (one instance, one migration, symbolic hosts), and a Houdini search for the
  strengthening that makes them inductive, from candidate lemmas read off the explicit-state
  run.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import z3
from nova_resize.engine.config import parse_config
from nova_resize.engine.facade import Cloud
from nova_resize.spec import Spec
from nova_resize.spec import model as m

NONE = "<None>"
TRUE = "<True>"
FALSE = "<False>"
INT_ATTRS = ("vcpus", "memory_mb", "root_gb", "id")
INT_REFS = ("local.attempts", "config.scheduler_max_attempts", "config.resize_confirm_window",
            "instance.power_state", "db.instance.power_state",
            "self.init_pending")


@dataclass
class Result:
    group: str
    name: str
    status: str  # proved | refuted | unknown
    detail: str = ""
    seconds: float = 0.0


def _const(v: Any) -> Any:
    if v is None:
        return NONE
    if v is True:
        return TRUE
    if v is False:
        return FALSE
    return v


class Encoder:
    """Conditions as z3 formulas. A reference is a String (None, True and False as marker
    strings) or, when it is used as a number, an Int with a None flag."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.vars: dict[str, Any] = {}
        self.up = z3.Function("up", z3.StringSort(), z3.BoolSort())
        self.fits = z3.Function("fits", z3.StringSort(), z3.StringSort(), z3.BoolSort())
        self.unknown = z3.Function("unknown_flavor", z3.StringSort(), z3.BoolSort())

    @staticmethod
    def is_int(path: str) -> bool:
        return path in INT_REFS or path.split(".")[-1] in INT_ATTRS

    def var(self, path: str) -> Any:
        v = self.vars.get(path)
        if v is None:
            if self.is_int(path):
                v = (z3.Int(path), z3.Bool(path + "#none"))
            else:
                v = z3.String(path)
            self.vars[path] = v
        return v

    def domain(self) -> list[Any]:
        """What the references can be: the enumerations the spec defines."""
        out = []
        enums = {
            "instance.vm_state": self.spec.vm_states,
            "instance.task_state": self.spec.task_states,
            "db.instance.task_state": self.spec.task_states,
            "migration.status": self.spec.migration_statuses,
            "db.migration.status": self.spec.migration_statuses,
        }
        for path, values in enums.items():
            if path in self.vars:
                out.append(z3.Or([self.vars[path] == z3.StringVal(_const(x)) for x in values]))
        return out

    def truthy(self, path: str) -> Any:
        v = self.var(path)
        if isinstance(v, tuple):
            x, none = v
            return z3.And(z3.Not(none), x != 0)
        return z3.And(v != z3.StringVal(NONE), v != z3.StringVal(FALSE), v != z3.StringVal(""))

    def value(self, v: Any, as_int: bool) -> Any:
        if isinstance(v, m.Ref):
            return self.var(v.path)
        if as_int:
            if v is None:
                return None
            return z3.IntVal(int(v))
        return z3.StringVal(_const(v))

    def cond(self, c: m.Cond) -> Any:
        op = c.op
        if op == "truthy":
            return self.truthy(c.ref)
        if op == "falsy":
            return z3.Not(self.truthy(c.ref))
        if op == "up":
            return self.up(self.var(c.ref))
        if op == "down":
            return z3.Not(self.up(self.var(c.ref)))
        if op == "unknown_flavor":
            return self.unknown(self.var(c.ref))
        if op == "fits":
            rhs = self.var(c.value.path) if isinstance(c.value, m.Ref) else z3.StringVal(
                str(c.value))
            return self.fits(self.var(c.ref), rhs)
        lhs = self.var(c.ref)
        if isinstance(lhs, tuple):
            x, none = lhs
            if op in ("in", "not in"):
                alts = [none if v is None else z3.And(z3.Not(none), x == int(v))
                        for v in c.value]
                f = z3.Or(alts) if alts else z3.BoolVal(False)
                return f if op == "in" else z3.Not(f)
            rhs = self.value(c.value, True)
            if rhs is None:
                return none if op == "==" else z3.Not(none)
            if isinstance(rhs, tuple):
                y, ynone = rhs
                both = z3.And(z3.Not(none), z3.Not(ynone))
            else:
                y, both = rhs, z3.Not(none)
            rel = {"==": x == y, "!=": x != y, "<": x < y, "<=": x <= y, ">": x > y,
                   ">=": x >= y}[op]
            if op == "!=":
                return z3.Or(z3.Not(both), rel)
            return z3.And(both, rel)
        if op in ("in", "not in"):
            f = z3.Or([lhs == z3.StringVal(_const(v)) for v in c.value]) if c.value else \
                z3.BoolVal(False)
            return f if op == "in" else z3.Not(f)
        rhs = self.value(c.value, False)
        if op == "==":
            return lhs == rhs
        if op == "!=":
            return lhs != rhs
        raise ValueError(f"cannot encode {c}")

    def when(self, conds: Iterable[m.Cond]) -> Any:
        return z3.And([self.cond(c) for c in conds]) if conds else z3.BoolVal(True)


def _model_text(model: Any, enc: Encoder) -> str:
    parts = []
    for path, v in sorted(enc.vars.items()):
        if isinstance(v, tuple):
            x, none = v
            if model.eval(none, model_completion=True):
                parts.append(f"{path}=None")
            else:
                parts.append(f"{path}={model.eval(x, model_completion=True)}")
        else:
            parts.append(f"{path}={model.eval(v, model_completion=True)}")
    return ", ".join(parts)


# ---- well-formedness ----------------------------------------------------------------------


def prove_disjoint(spec: Spec) -> list[Result]:
    out = []
    labels: dict[tuple[str, str], list[m.Row]] = {}
    for r in spec.rows:
        labels.setdefault((r.handler, r.at), []).append(r)
    for (handler, label), rows in sorted(labels.items()):
        plain = [r for r in rows if not r.fault and not r.otherwise]
        if len(plain) < 2:
            continue
        t0 = time.monotonic()
        enc = Encoder(spec)
        s = z3.Solver()
        overlaps = []
        formulas = [(r, enc.when(r.when)) for r in plain]
        dom = enc.domain()
        for i in range(len(formulas)):
            for j in range(i + 1, len(formulas)):
                s.push()
                s.add(*dom, formulas[i][1], formulas[j][1])
                if s.check() == z3.sat:
                    overlaps.append(f"{formulas[i][0].id} and {formulas[j][0].id} both apply "
                                    f"when {_model_text(s.model(), enc)}")
                s.pop()
        status = "refuted" if overlaps else "proved"
        out.append(Result("disjoint", f"{handler}:{label}", status,
                          "; ".join(overlaps) or f"{len(plain)} rows exclude each other",
                          time.monotonic() - t0))
    return out


def _error_handlers(spec: Spec) -> set[str]:
    names: set[str] = set()
    for h in spec.handlers:
        for _, chain in h.scopes:
            names.update(chain)
    for r in spec.rows:
        for e in r.effects:
            if isinstance(e, m.Goto) and e.chain:
                names.update(e.chain)
    return names


def _writes(row: m.Row, field: str) -> list[Any]:
    out: list[Any] = []
    for e in row.effects:
        if isinstance(e, m.Set) and e.target == "instance" and e.name == field:
            out.append(e.value)
        if isinstance(e, m.FreshSave):
            out.extend(v for k, v in e.fields if k == field)
    return out


def prove_legal_results(spec: Spec) -> list[Result]:
    """Each row that saves a (vm_state, task_state) yields a defined pair from any defined pair
    it admits."""
    legal = [(p.vm_state, p.task_state) for p in spec.state_pairs]
    legal_vms = sorted({v for v, _ in legal})
    errs = _error_handlers(spec)
    dirty = _dirty_tasks_by_error_handler(spec)
    out = []
    for r in spec.rows:
        saves = [e for e in r.effects if isinstance(e, (m.SaveInstance, m.FreshSave))]
        vm_w, task_w = _writes(r, "vm_state"), _writes(r, "task_state")
        carry = r.handler in errs or r.on_fail is not None
        if not saves or (not vm_w and not task_w and not carry):
            continue
        t0 = time.monotonic()
        enc = Encoder(spec)
        vm0, task0 = enc.var("instance.vm_state"), enc.var("instance.task_state")
        s = z3.Solver()
        s.add(z3.Or([z3.And(vm0 == z3.StringVal(v), task0 == z3.StringVal(_const(t)))
                     for v, t in legal]))
        s.add(*enc.domain())
        s.add(enc.when(r.when))
        guard = next((e.guard for e in r.effects if isinstance(e, m.SaveInstance)), None)
        if guard is not None:
            s.add(z3.Or([task0 == z3.StringVal(_const(g)) for g in guard]))
        vm1, task1 = z3.String("vm'"), z3.String("task'")
        s.add(_result(vm1, vm0, vm_w, legal_vms, [], False))
        s.add(_result(task1, task0, task_w, spec.task_states,
                      sorted(dirty.get(r.handler, set())), carry))
        s.add(z3.Not(z3.Or([z3.And(vm1 == z3.StringVal(v), task1 == z3.StringVal(_const(t)))
                            for v, t in legal])))
        if s.check() == z3.sat:
            mdl = s.model()
            a = (mdl.eval(vm0), mdl.eval(task0))
            b = (mdl.eval(vm1), mdl.eval(task1))
            out.append(Result("legal-result", r.id, "refuted",
                              f"from ({_s(a[0])}, {_s(a[1])}) it writes ({_s(b[0])}, "
                              f"{_s(b[1])})", time.monotonic() - t0))
        else:
            out.append(Result("legal-result", r.id, "proved", "every admitted defined pair "
                              "yields a defined pair", time.monotonic() - t0))
    return out


def _dirty_tasks_by_error_handler(spec: Spec) -> dict[str, set[str]]:
    """For each error handler, the task_state values a failed guarded save of a handler it
    serves can leave dirty (the error save then writes them)."""
    served: dict[str, set[str]] = {}
    for h in spec.handlers:
        for _, chain in h.scopes:
            for e in chain:
                served.setdefault(e, set()).add(h.name)
    for r in spec.rows:
        for e in r.effects:
            if isinstance(e, m.Goto) and e.chain:
                for name in e.chain:
                    served.setdefault(name, set()).add(e.handler)
    out: dict[str, set[str]] = {}
    for err, handlers in served.items():
        vals: set[str] = set()
        for r in spec.rows:
            if r.handler not in handlers:
                continue
            if any(isinstance(e, m.SaveInstance) and e.guard is not None for e in r.effects):
                vals.update(_const(v) for v in _writes(r, "task_state")
                            if not isinstance(v, m.Ref))
        out[err] = vals
    return out


def _s(v: Any) -> str:
    text = str(v).strip('"')
    return "None" if text == NONE else text


def _result(new: Any, old: Any, writes: list[Any], universe: Iterable[Any],
            dirty: list[Any], carry: bool) -> Any:
    if writes:
        last = writes[-1]
        if isinstance(last, (m.Ref, m.Default, m.NotEq, m.IfEq, m.Inc, m.Append)):
            return z3.Or([new == z3.StringVal(_const(x)) for x in universe])
        return new == z3.StringVal(_const(last))
    alts = [new == old]
    if carry:
        alts += [new == z3.StringVal(d) for d in dirty]
    return z3.Or(alts)


# ---- quota arithmetic ---------------------------------------------------------------------

# Scripted paths: ("resize", flavor) and the other requests, ("run", None) to let Nova run,
# ("fail", row) to arm a fault, ("deliver", method) to take one message.
SCENARIOS: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = (
    ("resize, confirm", (("resize", "new"), ("run", None), ("confirm_resize", None),
                         ("run", None))),
    ("resize, revert", (("resize", "new"), ("run", None), ("revert_resize", None),
                        ("run", None))),
    ("resize, awaiting confirmation", (("resize", "new"), ("run", None))),
    ("resize, delete while resized", (("resize", "new"), ("run", None), ("delete", None),
                                      ("run", None))),
    ("migrate, confirm", (("migrate", None), ("run", None), ("confirm_resize", None),
                          ("run", None))),
    ("resize, migrate_disk_and_power_off fails",
     (("resize", "new"), ("fail", "compute.resize_instance.migrate_disk_fails"), ("run", None))),
    ("resize, InstanceFaultRollback",
     (("resize", "new"), ("fail", "compute.resize_instance.migrate_disk_rollback"),
      ("run", None))),
    ("resize, finish_migration fails",
     (("resize", "new"), ("fail", "compute.finish_resize.finish_migration_fails"),
      ("run", None))),
    ("resize, no valid host", (("resize", "new"), ("deliver", "migrate_server"),
                               ("fail", "conductor.migrate_server.no_valid_host"),
                               ("run", None))),
    ("resize, confirm fails", (("resize", "new"), ("run", None), ("confirm_resize", None),
                               ("fail", "compute.confirm_resize.confirm_migration_fails"),
                               ("run", None))),
    ("resize, revert fails on the destination",
     (("resize", "new"), ("run", None), ("revert_resize", None),
      ("fail", "compute.revert_resize.destroy_fails"), ("run", None))),
    ("resize, revert fails on the source",
     (("resize", "new"), ("run", None), ("revert_resize", None),
      ("fail", "compute.finish_revert_resize.finish_revert_migration_fails"), ("run", None))),
)

UP = ((1, 512), (2, 2048))
DOWN = ((2, 2048), (1, 512))
# more vcpus and less memory: every resize delta is non-empty, so every reserve makes a
# reservation and the trace links each commit and rollback to it
MIXED = ((1, 2048), (2, 512))


def _quota_cloud(spec: Spec, old: tuple[int, int], new: tuple[int, int]) -> Cloud:
    data = {
        "name": "quota-proof",
        "flavors": [
            {"name": "old", "id": 1, "vcpus": old[0], "memory_mb": old[1], "root_gb": 10},
            {"name": "new", "id": 2, "vcpus": new[0], "memory_mb": new[1], "root_gb": 20},
        ],
        "hosts": [{"name": "host1"}, {"name": "host2"}],
        "instances": [{"name": "vm1", "host": "host1", "flavor": "old"}],
        "quota": {"cores": -1, "ram": -1, "instances": -1},
    }
    return Cloud(parse_config(data, "<quota proof>", "quota"), spec, strict=False)


def _run_script(spec: Spec, script: tuple[tuple[str, Any], ...],
                sizes: tuple[tuple[int, int], tuple[int, int]]) -> Cloud:
    cloud = _quota_cloud(spec, *sizes)
    for what, arg in script:
        if what == "run":
            cloud.run_until_quiescent()
        elif what == "fail":
            cloud.fail(arg)
        elif what == "deliver":
            cloud.deliver(arg)
        else:
            cloud.request(what, "vm1", arg)
    cloud.run_until_quiescent()
    return cloud


def _rows_taken(spec: Spec, script: tuple[tuple[str, Any], ...],
                sizes: tuple[tuple[int, int], tuple[int, int]]) -> list[str]:
    return _run_script(spec, script, sizes).rows()


def _quota_trace(spec: Spec, script: tuple[tuple[str, Any], ...],
                 sizes: tuple[tuple[int, int], tuple[int, int]]) -> list[tuple[str, str, Any]]:
    """Run a scripted path on concrete flavors and note each quota action: the reservation it
    makes (and, for a delete, whether it read the new flavor) or the ones it resolves; then the
    final instance."""
    cloud = _run_script(spec, script, sizes)
    ids = {r.id for r in spec.rows}
    trace: list[tuple[str, str, Any]] = []
    w = cloud.engine.initial()
    for rec in cloud.history:
        res = cloud.engine.step(w, rec.action)
        before = {r.id: r for r in w.reservations}
        after = {r.id: r for r in res.world.reservations}
        for rid in rec.rows:
            if rid not in ids:
                continue
            for e in spec.row(rid).effects:
                if not isinstance(e, m.Quota):
                    continue
                if e.op == "reserve":
                    made = [k for k in after if k not in before]
                    if not made:
                        continue  # empty deltas: reserve_quota_delta made nothing
                    ds = dict(after[made[0]].deltas)
                    read_new = ds.get("cores") == -sizes[1][0]
                    trace.append((rid, "reserve", (e.delta, made[0], read_new)))
                else:
                    changed = tuple(k for k in after if k in before
                                    and before[k].status != after[k].status)
                    trace.append((rid, e.op, changed))
        w = res.world
    inst = w.instances[0]
    trace.append(("<end>", "final", (inst.vm_state, inst.deleted, inst.flavor)))
    return trace


def prove_quota(spec: Spec) -> list[Result]:
    out = []
    for name, script in SCENARIOS:
        t0 = time.monotonic()
        paths = {label: _rows_taken(spec, script, sizes)
                 for label, sizes in (("upsize", UP), ("downsize", DOWN), ("mixed", MIXED))}
        if len({tuple(p) for p in paths.values()}) != 1:
            out.append(Result("quota", name, "unknown",
                              "the rows taken depend on the flavor sizes: "
                              + "; ".join(f"{k}: {len(v)} rows" for k, v in paths.items()),
                              time.monotonic() - t0))
            continue
        res = _prove_quota_path(name, _quota_trace(spec, script, MIXED))
        res.seconds = time.monotonic() - t0
        out.append(res)
    return out


def _prove_quota_path(name: str, trace: list[tuple[str, str, Any]]) -> Result:
    oc, orr, nc, nr = z3.Ints("old.vcpus old.memory_mb new.vcpus new.memory_mb")
    s = z3.Solver()
    s.add(oc >= 0, orr >= 0, nc >= 0, nr >= 0)
    in_use: list[Any] = [oc, orr]
    reserved: list[Any] = [z3.IntVal(0), z3.IntVal(0)]
    res_deltas: dict[str, list[Any]] = {}
    negatives = []
    # resize_quota_delta(new, old, sense, compare) per nova_resize.spec.quota
    resize_deltas = {"upsize": (1, 1), "downsize": (1, -1), "reverse_upsize": (-1, -1)}
    for _rid, op, detail in trace:
        if op == "reserve":
            delta, res_id, read_new = detail
            if delta in resize_deltas:
                sense, compare = resize_deltas[delta]
                ds = []
                for new, old in ((nc, oc), (nr, orr)):
                    d = sense * (new - old)
                    ds.append(z3.If(compare * d > 0, d, 0))
            else:  # a delete: minus the flavor it read
                ds = [-(nc if read_new else oc), -(nr if read_new else orr)]
            res_deltas[res_id] = ds
            for i in range(2):
                reserved[i] = reserved[i] + z3.If(ds[i] > 0, ds[i], 0)
        elif op in ("commit", "rollback"):
            for res_id in detail:
                ds = res_deltas.get(res_id)
                if ds is None:
                    continue
                for i in range(2):
                    if op == "commit":
                        in_use[i] = in_use[i] + ds[i]
                    reserved[i] = reserved[i] - z3.If(ds[i] >= 0, ds[i], 0)
                negatives.append(z3.Or(in_use[0] < 0, in_use[1] < 0))
    vm_state, deleted, flavor = trace[-1][2]
    if deleted:
        want, expect = [z3.IntVal(0), z3.IntVal(0)], "nothing (deleted)"
    elif vm_state == "resized":  # awaiting confirmation: the larger of the two
        want, expect = [z3.If(nc > oc, nc, oc), z3.If(nr > orr, nr, orr)], "the larger flavor"
    elif flavor == "new":
        want, expect = [nc, nr], f"the new flavor ({vm_state})"
    else:
        want, expect = [oc, orr], f"the old flavor ({vm_state})"
    bad = z3.Or(in_use[0] != want[0], in_use[1] != want[1], reserved[0] != 0,
                reserved[1] != 0, *negatives)
    s.add(bad)
    verdict = s.check()
    rows = ", ".join(f"{r} {o}" for r, o, _ in trace[:-1]) or "no quota action"
    if verdict == z3.unsat:
        return Result("quota", name, "proved", f"in_use ends at {expect}, reserved at 0, "
                      f"never negative, for every flavor size [{rows}]")
    if verdict == z3.sat:
        mdl = s.model()
        vals = ", ".join(f"{d}={mdl[d]}" for d in sorted(mdl.decls(), key=str))
        got = [mdl.eval(x, model_completion=True) for x in in_use]
        rsv = [mdl.eval(x, model_completion=True) for x in reserved]
        return Result("quota", name, "refuted",
                      f"with {vals}: in_use ends at cores={got[0]} ram={got[1]}, reserved "
                      f"{rsv[0]}/{rsv[1]}, but the instance needs {expect} [{rows}]")
    return Result("quota", name, "unknown", str(s.reason_unknown()))


# ---- everything -----------------------------------------------------------------------------


def prove_all(spec: Spec) -> list[Result]:
    from .induction import prove_inductive

    return (prove_disjoint(spec) + prove_legal_results(spec) + prove_quota(spec)
            + prove_inductive(spec))
