"""Partial-order reduction (checker/explicit/reduction.py) from the rows' static footprints
(engine/footprint.py): which rows are local, which labels start a local step, the one action
the reduced search takes, and the same findings with and without it -- on ci (where the
reduction has nothing to take: proved from the tables), on a patch that makes steps local,
combined with a broken guard and a moved quota action, with host symmetry and with workers.
A reduction that ignores the footprints loses findings on the same configuration, so the
comparisons are not vacuous."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import config
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import explore
from nova_resize.checker.variants import build_spec
from nova_resize.engine.core import Engine
from nova_resize.engine.footprint import (
    FRAME,
    FRAME_SHARED,
    local_steps,
    row_footprint,
)
from nova_resize.engine.presets import load_preset
from nova_resize.spec import END, RAISE
from nova_resize.spec import model as m

DATA = Path(__file__).parent / "data"
SKIP = str(DATA / "skip-drivers.toml")
MOVE_QUOTA = """
[[move_quota]]
from = "compute.finish_resize.commit"
to = "compute.finish_resize.task_finish"
"""
LOCAL_LABELS = {("resize_instance", "migrate_disk"), ("finish_resize", "finish_migration"),
                ("confirm_resize", "confirm_migration"),
                ("finish_revert_resize", "finish_revert_migration")}


def two_instances() -> Any:
    return config(hosts=2, instances=2,
                  actions={"resize": 1, "resize_flavors": ["medium"], "confirm_resize": 1,
                           "revert_resize": 1},
                  faults={"driver": 1})


def three_hosts() -> Any:
    return config(hosts=3, actions={"resize": 1, "resize_flavors": ["medium"],
                                    "confirm_resize": 1, "delete": 1},
                  faults={"driver": 1})


def row(**kw: Any) -> m.Row:
    base: dict[str, Any] = {"id": "t.r", "handler": "h", "at": "a", "cite": "c", "summary": "s",
                            "then": "b"}
    base.update(kw)
    return m.Row(**base)


def test_a_row_of_the_handlers_own_memory_is_local() -> None:
    r = row(when=(m.Cond("local.x", "==", 1), m.Cond("instance.vm_state", "==", "active")),
            effects=(m.Set("local", "y", m.Ref("migration.status")),
                     m.Set("instance", "task_state", None)))
    fp = row_footprint(r)
    assert fp.local and fp.reads == {FRAME} and fp.writes == {FRAME}


@pytest.mark.parametrize("kw,part", [
    ({"when": (m.Cond("db.instance.task_state", "==", None),)}, "db.instance"),
    ({"when": (m.Cond("local.dest", "up"),)}, "hosts"),
    ({"when": (m.Cond("self.lock", "falsy"),)}, "frames"),
    ({"effects": (m.Set("local", "x", m.Ref("db.migration.status")),)}, "db.migration"),
    ({"effects": (m.SaveInstance(guard=None),)}, "db.instance"),
    ({"effects": (m.Set("instance", "name", "other"),)}, FRAME_SHARED),
    ({"effects": (m.Lock("acquire"),)}, FRAME_SHARED),
    ({"effects": (m.Raise("Boom"),)}, FRAME_SHARED),
    ({"notify": ("compute.instance.resize.start",)}, "notifications"),
    ({"then": END}, "frames"),
    ({"then": RAISE}, FRAME_SHARED),
])
def test_a_row_touching_anything_else_is_not_local(kw: dict[str, Any], part: str) -> None:
    fp = row_footprint(row(**kw))
    assert not fp.local
    assert part in fp.reads | fp.writes


def test_liberty_has_no_local_step_on_ci_so_the_reduction_takes_every_action() -> None:
    # every memory-only row of Liberty's tables runs in the step before it (run_eager), and
    # each label with a fault alternative runs a row that touches a host: no label starts a
    # local step, so on ci the reduced search is the full one, state for state
    eng = Engine(load_preset("ci"))
    tb = eng.tables
    assert local_steps(tb) == {}
    # why: a local row is memory-only, so it runs in the step of the row before it unless a
    # fault alternative stands beside it, and no fault label of Liberty has a local row (the
    # footprints are the tables', the same under every configuration)
    local_rows = [r for r in tb.spec.rows if row_footprint(r).local]
    assert local_rows and all(tb.eager[r.id] for r in local_rows)
    assert not any(row_footprint(r).local for key in tb.fault_rows for r in tb.rows.get(key, []))
    model = NovaModel(eng, por=True)
    w = eng.initial()
    for _ in range(30):
        acts = eng.enabled(w)
        assert model.actions(w) == acts
        runs = [a for a in acts if a[0] in ("run", "deliver")] or acts
        w = eng.step(w, runs[0]).world


def test_a_patch_that_drops_the_driver_calls_makes_their_labels_local() -> None:
    spec, _ = build_spec([SKIP])
    local = local_steps(Engine(two_instances(), spec).tables)
    assert set(local) == LOCAL_LABELS
    assert all(kinds == {"driver"} for kinds in local.values())


def test_labels_a_local_step_can_come_back_to_are_left_out() -> None:
    # the engine refuses such tables (engine/wellformed.py: a loop of rows that neither block,
    # write nor send); the reduction leaves them out on its own as well (the cycle proviso)
    import dataclasses

    from nova_resize.engine.tables import Tables

    spec, _ = build_spec([SKIP])
    rows = tuple(dataclasses.replace(r, then="finish_migration")
                 if r.id == "compute.finish_resize.finish_migration" else r for r in spec.rows)
    local = local_steps(Tables.compile(two_instances(), dataclasses.replace(spec, rows=rows)))
    assert ("finish_resize", "finish_migration") not in local
    assert ("resize_instance", "migrate_disk") in local


def test_the_reduced_search_takes_the_local_step_alone_once_no_fault_can_be_injected() -> None:
    spec, _ = build_spec([SKIP])
    eng = Engine(two_instances(), spec)
    model = NovaModel(eng, por=True)
    seen_budget_left = seen_reduced = False
    w0 = eng.initial()
    frontier, seen = [w0], {w0}
    while frontier and not (seen_budget_left and seen_reduced):
        nxt = []
        for w in frontier:
            acts = eng.enabled(w)
            at_local = [f for f in w.frames
                        if (f.handler, f.label) in LOCAL_LABELS and not f.waiting]
            if at_local:
                budget = dict(w.budgets).get("fault:driver", 0)
                reduced = model.actions(w)
                if budget > 0:
                    assert reduced == acts
                    seen_budget_left = True
                elif len(acts) > 1:
                    assert len(reduced) == 1 and reduced[0][0] == "run"
                    assert reduced[0][1] in {f.id for f in at_local}
                    seen_reduced = True
            for a in acts:
                res = eng.explore_step(w, a)
                if res is not None and res.world not in seen:
                    seen.add(res.world)
                    nxt.append(res.world)
        frontier = nxt
    assert seen_budget_left and seen_reduced


def _variants(name: str | None, tmp_path: Path) -> list[str]:
    if name == "break-guard":
        return [SKIP, str(DATA / "break-guard.toml")]
    if name == "move-quota":
        p = tmp_path / "move.toml"
        p.write_text(MOVE_QUOTA)
        return [SKIP, str(p)]
    return [SKIP]


def _stuck(ex: Any) -> list[Any]:
    return sorted(k for k in ex.findings if k[0] == "no-stuck-resize")


@pytest.mark.parametrize("variant", [None, "break-guard", "move-quota"])
def test_same_findings_with_and_without_the_reduction(variant: str | None,
                                                      tmp_path: Path) -> None:
    spec, _ = build_spec(_variants(variant, tmp_path))
    # the broken guard ends two instances' resizes early: one instance on three hosts
    cfg = three_hosts() if variant == "break-guard" else two_instances()
    full = explore(NovaModel(Engine(cfg, spec)))
    reduced = explore(NovaModel(Engine(cfg, spec), por=True))
    assert full.complete and reduced.complete
    assert reduced.distinct_states < full.distinct_states
    assert set(full.findings) == set(reduced.findings)
    assert _stuck(full) == _stuck(reduced)
    # a local step taken earlier may make a trace longer, never shorter
    assert all(reduced.findings[k].depth >= f.depth for k, f in full.findings.items())
    assert full.findings


def test_with_host_symmetry_and_with_workers_the_findings_are_the_same() -> None:
    spec, _ = build_spec([SKIP])
    three = three_hosts()
    model = NovaModel(Engine(three, spec), por=True)
    assert model.symmetry.active
    full = explore(NovaModel(Engine(three, spec)))
    reduced = explore(model)
    assert reduced.distinct_states < full.distinct_states
    assert set(full.findings) == set(reduced.findings)
    two = explore(NovaModel(Engine(three, spec), por=True), "bfs", workers=2)
    assert (two.distinct_states, two.transitions) == (reduced.distinct_states,
                                                      reduced.transitions)
    assert {k: f.depth for k, f in two.findings.items()} == {
        k: f.depth for k, f in reduced.findings.items()}


def test_a_reduction_that_ignores_the_footprints_loses_findings() -> None:
    # the comparisons above are not vacuous: take any step that does not end its handler
    # alone, whatever it reads and writes, and findings disappear on the same configuration
    eng = Engine(two_instances())
    full = explore(NovaModel(eng))
    model = NovaModel(Engine(two_instances()), por=True)
    assert model.reduction is not None
    tb = model.engine.tables
    model.reduction.local = {
        key: frozenset(r.fault for r in tb.fault_rows.get(key, []) if r.fault)
        for key, rows in tb.rows.items() if all(r.then not in (END, RAISE) for r in rows)}
    wrong = explore(model)
    assert set(full.findings) - set(wrong.findings)


def test_the_command_line_says_the_reduction_is_on(capsys: Any, tmp_path: Path) -> None:
    from nova_resize.checker.cli.main import main

    out = tmp_path / "r.json"
    code = main(["check", "--config", "ci", "--por", "--max-states", "300", "--json",
                 str(out), "--no-baseline"])
    assert code in (0, 1)
    assert "partial-order reduction" in capsys.readouterr().out
    import json

    assert json.loads(out.read_text())["reductions"] == ["partial-order"]


def test_depth_first_with_the_reduction_reaches_what_breadth_first_does() -> None:
    # the cycle proviso holds under DFS too (no cycle of reduced states alone)
    spec, _ = build_spec([SKIP])
    bfs = explore(NovaModel(Engine(two_instances(), spec), por=True), "bfs")
    dfs = explore(NovaModel(Engine(two_instances(), spec), por=True), "dfs")
    assert dfs.complete and dfs.distinct_states == bfs.distinct_states
    assert set(dfs.findings) == set(bfs.findings)
