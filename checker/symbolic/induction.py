"""One-step induction of per-instance properties over an abstraction of the spec's transition
relation, and a Houdini search for a strengthening that makes them inductive.

The abstract state is one instance and its latest migration: ``vm``, ``task`` (the instance row),
``status`` (the migration's, or ``<none>``) and ``role`` (where instance.host is: the migration's
``src``, ``dst``, ``both`` for a same-host resize, or ``other``). Each row that saves the
instance or the migration is one transition. The handler's in-memory copies are not tracked: any
condition on them may hold, a host or status it writes may concern an older migration, and a
value it copies may be anything -- an over-approximation, so a property proved inductive holds in
every reachable state; a property refuted may still hold (the counterexample to induction may be
unreachable), which is what the strengthening is for.

Candidate lemmas are read off an explicit-state run (for each migration status, the
(vm_state, task_state) pairs and host roles seen with it); Houdini drops the candidates that are
not inductive relative to the others until the rest are, and reports them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import z3
from nova_resize.engine.config import Config, parse_config
from nova_resize.engine.core import Engine
from nova_resize.engine.world import World
from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.query import instance_writes

from ..explicit.model import NovaModel
from ..explorer import StepFunction, explore
from . import encoding as _z3
from .encoding import NONE, Encoder, Result, const, dirty_tasks_by_error_handler

ROLES = ("src", "dst", "both", "other")
NO_MIG = "<none>"
UNRESOLVED = ("pre-migrating", "migrating", "post-migrating", "finished", "confirming",
              "reverting")


class Abstract:
    def __init__(self, spec: Spec, tag: str) -> None:
        self.vm = z3.String(f"vm{tag}")
        self.task = z3.String(f"task{tag}")
        self.status = z3.String(f"status{tag}")
        self.role = z3.String(f"role{tag}")

    def vars(self) -> list[Any]:
        return [self.vm, self.task, self.status, self.role]


def _in(x: Any, values: Any) -> Any:
    return z3.Or([x == z3.StringVal(const(v)) for v in values]) if values else \
        z3.BoolVal(False)


def domain(spec: Spec, s: Abstract) -> Any:
    return z3.And(_in(s.vm, spec.vm_states), _in(s.task, spec.task_states),
                  _in(s.status, (*spec.migration_statuses, NO_MIG)), _in(s.role, ROLES))


def legal_state(spec: Spec, s: Abstract) -> Any:
    pairs = [(p.vm_state, p.task_state) for p in spec.state_pairs]
    return z3.Or([z3.And(s.vm == z3.StringVal(v), s.task == z3.StringVal(const(t)))
                  for v, t in pairs])


def host_consistent(spec: Spec, s: Abstract) -> Any:
    return z3.Implies(_in(s.status, UNRESOLVED), _in(s.role, ("src", "dst", "both")))


PROPERTIES = {"legal-state": legal_state, "host-consistent": host_consistent}


def _host_value(v: Any) -> tuple[str, ...]:
    """The roles instance.host can take when a row writes ``v`` to it."""
    if isinstance(v, m.Ref) and v.path == "migration.dest_compute":
        return ("dst", "both", "other")  # the copy may be an older migration
    if isinstance(v, m.Ref) and v.path == "migration.source_compute":
        return ("src", "both", "other")
    return ROLES


def transitions(spec: Spec, a: Abstract, b: Abstract) -> list[tuple[str, Any]]:
    """(row id, formula relating state a to state b) for each row that writes."""
    dirty = dirty_tasks_by_error_handler(spec)
    errs = set(dirty)
    out = []
    legal_vms = sorted({p.vm_state for p in spec.state_pairs})
    for r in spec.rows:
        saves_inst = any(isinstance(e, (m.SaveInstance, m.FreshSave)) for e in r.effects)
        saves_mig = any(isinstance(e, (m.SaveMigration, m.CreateMigration)) for e in r.effects)
        if not saves_inst and not saves_mig:
            continue
        enc = Encoder(spec)
        parts = [enc.when(r.when)]
        # the compare-and-swap is on the row: its guard constrains the current task_state
        guard = next((e.guard for e in r.effects if isinstance(e, m.SaveInstance)), None)
        if guard is not None:
            parts.append(_in(a.task, guard))
        # instance writes
        vm_w, task_w = instance_writes(r, "vm_state"), instance_writes(r, "task_state")
        host_w = instance_writes(r, "host")
        carry = r.handler in errs or r.on_fail is not None
        if saves_inst:
            parts.append(_assign(b.vm, a.vm, vm_w, legal_vms, ()))
            parts.append(_assign(b.task, a.task, task_w, spec.task_states,
                                 sorted(dirty.get(r.handler, ())) if carry else ()))
        else:
            parts += [b.vm == a.vm, b.task == a.task]
        # migration writes: a status write may concern an older migration
        status_w = [e.value for e in r.effects if isinstance(e, m.Set)
                    and e.target == "migration" and e.name == "status"]
        creates = any(isinstance(e, m.CreateMigration) for e in r.effects)
        if creates:
            parts.append(b.status == z3.StringVal("pre-migrating"))
            parts.append(_in(b.role, ("src", "both", "other")))
        else:
            if status_w and saves_mig:
                parts.append(z3.Or(b.status == z3.StringVal(const(status_w[-1])),
                                   b.status == a.status))
            else:
                parts.append(b.status == a.status)
            if host_w and saves_inst:
                parts.append(_in(b.role, _host_value(host_w[-1])))
            else:
                parts.append(b.role == a.role)
        out.append((r.id, z3.And(parts)))
    return out


def _assign(new: Any, old: Any, writes: list[Any], universe: Any, dirty: Any) -> Any:
    if writes:
        last = writes[-1]
        if isinstance(last, (m.Ref, m.Default, m.NotEq, m.IfEq, m.Inc, m.Append)):
            return _in(new, universe)
        return new == z3.StringVal(const(last))
    return z3.Or([new == old] + [new == z3.StringVal(d) for d in dirty])


def initial(spec: Spec, s: Abstract) -> Any:
    return z3.And(_in(s.vm, ("active", "stopped")), s.task == z3.StringVal(NONE),
                  s.status == z3.StringVal(NO_MIG), s.role == z3.StringVal("other"))


# ---- candidates from an explicit run ------------------------------------------------------


def _role(w: World) -> tuple[str, str, str, str]:
    i = w.instances[0]
    migs = [mg for mg in w.migrations if mg.instance == i.name]
    if not migs:
        return (i.vm_state, const(i.task_state), NO_MIG, "other")
    mg = migs[-1]
    if i.host == mg.source_compute and i.host == mg.dest_compute:
        role = "both"
    elif i.host == mg.source_compute:
        role = "src"
    elif i.host == mg.dest_compute:
        role = "dst"
    else:
        role = "other"
    return (i.vm_state, const(i.task_state), mg.status, role)


def observed(config: Config, spec: Spec) -> set[tuple[str, str, str, str]]:
    """The (vm_state, task_state, migration status, host role) combinations an exhaustive run
    reaches: where the candidate lemmas come from."""
    seen: set[tuple[str, str, str, str]] = set()

    def hook(before: World, res: Any) -> None:
        if not res.world.instances[0].deleted:
            seen.add(_role(res.world))

    explore(NovaModel(Engine(config, spec), ()), "bfs", visitors=[StepFunction(hook)],
            liveness=False)
    return seen


def candidate_lemmas(spec: Spec, seen: set[tuple[str, str, str, str]], s: Abstract
                     ) -> dict[str, Any]:
    by_status: dict[str, set[tuple[str, str]]] = defaultdict(set)
    roles: dict[str, set[str]] = defaultdict(set)
    for vm, task, status, role in seen:
        by_status[status].add((vm, task))
        roles[status].add(role)
    out = {}
    for status in sorted(by_status):
        pairs = sorted(by_status[status])
        out[f"status {status} -> (vm, task) in {pairs}"] = z3.Implies(
            s.status == z3.StringVal(status),
            z3.Or([z3.And(s.vm == z3.StringVal(v), s.task == z3.StringVal(t)) for v, t in pairs]))
        out[f"status {status} -> host role in {sorted(roles[status])}"] = z3.Implies(
            s.status == z3.StringVal(status), _in(s.role, sorted(roles[status])))
    return out


def _houdini(spec: Spec, lemmas: dict[str, Any], a: Abstract, b: Abstract,
             trans: list[tuple[str, Any]], rename: Any) -> dict[str, Any]:
    current = dict(lemmas)
    s = _z3.new_solver()
    changed = True
    while changed:
        changed = False
        inv_a = z3.And(list(current.values())) if current else z3.BoolVal(True)
        for name in sorted(current):
            lemma_b = rename(current[name])
            for _rid, t in trans:
                s.push()
                s.add(domain(spec, a), domain(spec, b), inv_a, t, z3.Not(lemma_b))
                if _z3.decide(s) != "unsat":  # unknown drops the lemma too: never unsound
                    s.pop()
                    del current[name]
                    changed = True
                    break
                s.pop()
            if changed:
                break
    return current


def prove_inductive(spec: Spec, config: Config | None = None) -> list[Result]:
    a, b = Abstract(spec, ""), Abstract(spec, "'")
    trans = transitions(spec, a, b)

    def rename(f: Any) -> Any:
        return z3.substitute(f, *zip(a.vars(), b.vars(), strict=True))

    out = []
    for name, prop in PROPERTIES.items():
        t0 = time.monotonic()
        pa, pb = prop(spec, a), prop(spec, b)
        s = _z3.new_solver()
        undecided: list[str] = []
        s.push()
        s.add(initial(spec, a), z3.Not(pa))
        verdict = _z3.decide(s)
        base = verdict == "unsat"
        if verdict == "unknown":
            undecided.append(f"the initial states ({_z3.why_unknown(s)})")
        s.pop()
        ctis = []
        for rid, t in trans:
            s.push()
            s.add(domain(spec, a), domain(spec, b), pa, t, z3.Not(pb))
            verdict = _z3.decide(s)
            if verdict == "sat":
                mdl = s.model()
                ctis.append(f"{rid}: ({_v(mdl, a)}) -> ({_v(mdl, b)})")
            elif verdict == "unknown":
                undecided.append(f"{rid} ({_z3.why_unknown(s)})")
            s.pop()
        if undecided:
            out.append(Result("inductive", name, "unknown",
                              "z3 could not decide " + "; ".join(undecided[:3])
                              + (f" (+{len(undecided) - 3} more)" if len(undecided) > 3
                                 else ""), time.monotonic() - t0))
            continue
        if base and not ctis:
            out.append(Result("inductive", name, "proved", "inductive on its own",
                              time.monotonic() - t0))
            continue
        # strengthen with Houdini from what the explicit run reaches
        seen = observed(config or _induction_cloud(), spec)
        lemmas = _houdini(spec, candidate_lemmas(spec, seen, a), a, b, trans, rename)
        inv = z3.And(list(lemmas.values())) if lemmas else z3.BoolVal(True)
        still = []
        for rid, t in trans:
            s.push()
            s.add(domain(spec, a), domain(spec, b), pa, inv, t, z3.Not(pb))
            verdict = _z3.decide(s)
            if verdict == "sat":
                still.append(rid)
            elif verdict == "unknown":
                undecided.append(f"{rid} ({_z3.why_unknown(s)})")
            s.pop()
        if undecided and not still:
            out.append(Result("inductive", name, "unknown",
                              "z3 could not decide whether the strengthened invariant is kept "
                              "by " + "; ".join(undecided[:3])
                              + (f" (+{len(undecided) - 3} more)" if len(undecided) > 3
                                 else ""), time.monotonic() - t0))
            continue
        first = "; ".join(ctis[:3]) + (f" (+{len(ctis) - 3} more)" if len(ctis) > 3 else "")
        if not still and lemmas:
            out.append(Result("inductive", name, "proved",
                              f"not inductive on its own ({first}); inductive with the "
                              f"strengthening {sorted(lemmas)}", time.monotonic() - t0))
        else:
            out.append(Result("inductive", name, "refuted",
                              f"not inductive on its own ({first}); no strengthening among the "
                              f"candidate lemmas removes the counterexamples of "
                              f"{', '.join(still[:6])}" + (f" (+{len(still) - 6})"
                                                          if len(still) > 6 else "")
                              + f"; {len(lemmas)} lemmas survive Houdini",
                              time.monotonic() - t0))
    # migration-endpoints-fixed: no row but the creation writes a migration's endpoints
    t0 = time.monotonic()
    movers = [r.id for r in spec.rows for e in r.effects
              if isinstance(e, m.Set) and e.target == "migration"
              and e.name in ("source_compute", "dest_compute")]
    out.append(Result("inductive", "migration-endpoints-fixed",
                      "refuted" if movers else "proved",
                      f"rewritten by {', '.join(movers)}" if movers else
                      "no row writes source_compute or dest_compute after creation",
                      time.monotonic() - t0))
    return out


def _v(mdl: Any, s: Abstract) -> str:
    return ", ".join(str(mdl.eval(x, model_completion=True)).strip('"').replace(NONE, "None")
                     for x in s.vars())


def _induction_cloud() -> Config:
    data = {
        "name": "induction",
        "flavors": [{"name": "small", "id": 1, "vcpus": 1, "memory_mb": 512, "root_gb": 10},
                    {"name": "medium", "id": 2, "vcpus": 2, "memory_mb": 2048,
                     "root_gb": 20}],
        "hosts": [{"name": "host1"}, {"name": "host2"}],
        "instances": [{"name": "vm1", "host": "host1", "flavor": "small"}],
        "actions": {"resize": 1, "resize_flavors": ["medium"], "confirm_resize": 1,
                    "revert_resize": 1},
        "faults": {"driver": 1},
    }
    return parse_config(data, "<induction>", "induction")
