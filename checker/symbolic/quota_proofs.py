"""The quota arithmetic of each path, proved for every flavor size.

For symbolic old and new flavors (vcpus and memory_mb unbounded non-negative integers), the
reserve / commit / rollback actions that the spec executes on each path leave ``in_use`` equal
to what the instance's flavor needs, ``reserved`` at zero, and never negative. The paths are the
row sequences the engine runs (they do not depend on the sizes, except for which deltas are
empty, which the encoding covers).
"""

from __future__ import annotations

import time
from typing import Any

import z3
from nova_resize.engine.config import parse_config
from nova_resize.engine.facade import Cloud
from nova_resize.spec import Spec
from nova_resize.spec import model as m

from . import encoding as _z3
from .encoding import Result

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
    s = _z3.new_solver()
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
                if res_id not in res_deltas:
                    continue
                ds = res_deltas[res_id]
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
    verdict = _z3.decide(s)
    rows = ", ".join(f"{r} {o}" for r, o, _ in trace[:-1]) or "no quota action"
    if verdict == "unsat":
        return Result("quota", name, "proved", f"in_use ends at {expect}, reserved at 0, "
                      f"never negative, for every flavor size [{rows}]")
    if verdict == "sat":
        mdl = s.model()
        vals = ", ".join(f"{d}={mdl[d]}" for d in sorted(mdl.decls(), key=str))
        got = [mdl.eval(x, model_completion=True) for x in in_use]
        rsv = [mdl.eval(x, model_completion=True) for x in reserved]
        return Result("quota", name, "refuted",
                      f"with {vals}: in_use ends at cores={got[0]} ram={got[1]}, reserved "
                      f"{rsv[0]}/{rsv[1]}, but the instance needs {expect} [{rows}]")
    return Result("quota", name, "unknown", f"z3 could not decide ({_z3.why_unknown(s)}) "
                  f"[{rows}]")


__all__ = ["SCENARIOS", "prove_quota"]
