"""Symbolic proofs with z3 over the spec's tables, for all values the explicit checker cannot
enumerate.

* **disjoint**: at every label of every handler the conditions of its rows exclude each other,
  so the engine is deterministic given the action (``otherwise`` rows are disjoint by
  construction; fault rows are alternatives chosen by an injection).
* **legal-result**: every row that writes an instance's (vm_state, task_state), applied to any
  pair Nova defines that its guard and conditions admit, yields a pair Nova defines (transient
  pairs included); an error handler's save may also write the task_state a failed guarded save
  left dirty.
* **quota** (:mod:`.quota_proofs`): the quota arithmetic of each path for all flavor sizes.
* **inductive** (:mod:`.induction`): one-step induction of per-instance properties.
"""

from __future__ import annotations

import time

import z3
from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.query import error_handler_names, instance_writes

from . import encoding as _z3
from .encoding import (
    Encoder,
    Result,
    assigned,
    const,
    dirty_tasks_by_error_handler,
    model_text,
    show,
)

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
        s = _z3.new_solver()
        overlaps = []
        undecided = []
        formulas = [(r, enc.when(r.when)) for r in plain]
        dom = enc.domain()
        for i in range(len(formulas)):
            for j in range(i + 1, len(formulas)):
                s.push()
                s.add(*dom, formulas[i][1], formulas[j][1])
                verdict = _z3.decide(s)
                if verdict == "sat":
                    overlaps.append(f"{formulas[i][0].id} and {formulas[j][0].id} both apply "
                                    f"when {model_text(s.model(), enc)}")
                elif verdict == "unknown":
                    undecided.append(f"z3 could not decide whether {formulas[i][0].id} and "
                                     f"{formulas[j][0].id} overlap ({_z3.why_unknown(s)})")
                s.pop()
        if overlaps:
            status, detail = "refuted", "; ".join(overlaps + undecided)
        elif undecided:
            status, detail = "unknown", "; ".join(undecided)
        else:
            status, detail = "proved", f"{len(plain)} rows exclude each other"
        out.append(Result("disjoint", f"{handler}:{label}", status, detail,
                          time.monotonic() - t0))
    return out


def prove_legal_results(spec: Spec) -> list[Result]:
    """Each row that saves a (vm_state, task_state) yields a defined pair from any defined pair
    it admits."""
    legal = [(p.vm_state, p.task_state) for p in spec.state_pairs]
    legal_vms = sorted({v for v, _ in legal})
    errs = error_handler_names(spec)
    dirty = dirty_tasks_by_error_handler(spec)
    out = []
    for r in spec.rows:
        saves = [e for e in r.effects if isinstance(e, (m.SaveInstance, m.FreshSave))]
        vm_w, task_w = instance_writes(r, "vm_state"), instance_writes(r, "task_state")
        carry = r.handler in errs or r.on_fail is not None
        if not saves or (not vm_w and not task_w and not carry):
            continue
        t0 = time.monotonic()
        enc = Encoder(spec)
        vm0, task0 = enc.var("instance.vm_state"), enc.var("instance.task_state")
        s = _z3.new_solver()
        s.add(z3.Or([z3.And(vm0 == z3.StringVal(v), task0 == z3.StringVal(const(t)))
                     for v, t in legal]))
        s.add(*enc.domain())
        s.add(enc.when(r.when))
        guard = next((e.guard for e in r.effects if isinstance(e, m.SaveInstance)), None)
        if guard is not None:
            s.add(z3.Or([task0 == z3.StringVal(const(g)) for g in guard]))
        vm1, task1 = z3.String("vm'"), z3.String("task'")
        s.add(assigned(vm1, vm0, vm_w, legal_vms, [], False))
        s.add(assigned(task1, task0, task_w, spec.task_states,
                      sorted(dirty.get(r.handler, set())), carry))
        s.add(z3.Not(z3.Or([z3.And(vm1 == z3.StringVal(v), task1 == z3.StringVal(const(t)))
                            for v, t in legal])))
        verdict = _z3.decide(s)
        if verdict == "sat":
            mdl = s.model()
            a = (mdl.eval(vm0), mdl.eval(task0))
            b = (mdl.eval(vm1), mdl.eval(task1))
            out.append(Result("legal-result", r.id, "refuted",
                              f"from ({show(a[0])}, {show(a[1])}) it writes ({show(b[0])}, "
                              f"{show(b[1])})", time.monotonic() - t0))
        elif verdict == "unknown":
            out.append(Result("legal-result", r.id, "unknown", f"z3 could not decide "
                              f"({_z3.why_unknown(s)})", time.monotonic() - t0))
        else:
            out.append(Result("legal-result", r.id, "proved", "every admitted defined pair "
                              "yields a defined pair", time.monotonic() - t0))
    return out


def prove_all(spec: Spec) -> list[Result]:
    """Every proof: disjoint guards, legal results, quota arithmetic, induction."""
    from .induction import prove_inductive
    from .quota_proofs import prove_quota

    return (prove_disjoint(spec) + prove_legal_results(spec) + prove_quota(spec)
            + prove_inductive(spec))


__all__ = ["Result", "prove_all", "prove_disjoint", "prove_legal_results"]
