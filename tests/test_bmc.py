"""Bounded model checking: the z3 unrolling of the tables and the explicit explorer reach the
same (vm_state, task_state, migration status) combinations at every depth; a deliberately broken
interpreter on either side makes them disagree."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.symbolic.bmc import (
    Encoding,
    OutsideFragment,
    format_projection,
    iter_cross_check,
)
from nova_resize.engine import effects
from nova_resize.engine.presets import load_preset
from nova_resize.spec import model as m

# The suite keeps a shallow cross-check (seconds); the deep one (depth 15 on bmc, past the
# driver failure of resize_instance and its error handlers; depth 8 on bmc-races) is a bench:
# `make bench-bmc` (bench/bench_bmc.py).
DEPTH = 6
RACES_DEPTH = 4
# the smallest depth at which a Migration.save that writes nothing shows (the migration's
# 'migrating' status is the first status it writes)
BROKEN_DEPTH = 10


def _sides(results):
    lines = []
    for r in results:
        if not r.agree:
            lines.append(f"depth {r.depth}: z3 {sorted(map(format_projection, r.symbolic))}"
                         f" explicit {sorted(map(format_projection, r.explicit))}"
                         + (" (overflow)" if r.overflow else ""))
    return "\n".join(lines)


def test_z3_and_the_explicit_explorer_agree_depth_by_depth():
    results = list(iter_cross_check(Encoding(load_preset("bmc")), DEPTH))
    assert len(results) == DEPTH + 1
    assert all(r.agree for r in results), _sides(results)
    # not vacuous: the resize has started on both sides
    assert ("active", "resize_prep", None) in results[-1].symbolic
    assert [len(r.explicit) for r in results] == [1, 1, 2, 2, 2, 2, 2]


def test_agreement_with_a_racing_delete_and_stop():
    """terminate_instance, stop_instance, the instance lock and the destroyed row, racing the
    resize from its first step."""
    results = list(iter_cross_check(Encoding(load_preset("bmc-races")), RACES_DEPTH))
    assert all(r.agree for r in results), _sides(results)
    assert len(results[-1].explicit) == 6
    assert any(vm == "deleted" or task == "deleting" for vm, task, _ in results[-1].symbolic)


class _NoMigrationSave(Encoding):
    """A broken z3 interpreter: Migration.save writes nothing."""

    def _effect(self, s, p, eff, row):  # type: ignore[no-untyped-def]
        if isinstance(eff, m.SaveMigration):
            return [p]
        return super()._effect(s, p, eff, row)


def test_a_broken_z3_interpreter_disagrees_and_both_sides_are_shown():
    results = list(iter_cross_check(_NoMigrationSave(load_preset("bmc")), BROKEN_DEPTH))
    bad = [r for r in results if not r.agree]
    assert bad, "the cross-check did not notice a Migration.save that writes nothing"
    first = bad[0]
    assert ("active", "resize_prep", "migrating") in first.explicit - first.symbolic


def test_a_broken_engine_disagrees(monkeypatch):
    """The other side: the engine's Migration.save forgets the fields it changed."""

    def forgetful(tx, fr, row):  # type: ignore[no-untyped-def]
        fr.mig_dirty.clear()

    monkeypatch.setattr(effects, "_save_migration", forgetful)
    results = list(iter_cross_check(Encoding(load_preset("bmc")), BROKEN_DEPTH))
    bad = [r for r in results if not r.agree]
    assert bad, "the cross-check did not notice an engine whose Migration.save writes nothing"
    assert ("active", "resize_prep", "migrating") in bad[0].symbolic - bad[0].explicit


def test_configurations_outside_the_encoding_are_refused_in_one_line(capsys):
    with pytest.raises(OutsideFragment, match="outside the encoding"):
        Encoding(load_preset("ci"))
    with pytest.raises(OutsideFragment, match="one instance"):
        Encoding(load_preset("full"))
    assert main(["bmc", "--config", "ci", "--depth", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nova-resize: --config ci: bmc:")


def test_cli_reports_every_depth_as_text_and_json(tmp_path, capsys):
    out = tmp_path / "bmc.json"
    assert main(["bmc", "--depth", "3", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "agree at every depth 0..3" in text
    data = json.loads(out.read_text())
    assert data["agree"] is True and [d["depth"] for d in data["depths"]] == [0, 1, 2, 3]
    assert data["depths"][2]["z3"] == data["depths"][2]["explicit"]


def _soft_delete_races():
    """bmc-races' cloud with reclaim_instance_interval set: the delete is a soft delete, racing
    a stop."""
    cfg = load_preset("bmc-races")
    return replace(cfg.with_options(reclaim_instance_interval=60), name="bmc-soft",
                   actions=(("delete", 1), ("stop", 1)))


def test_agreement_with_a_soft_delete():
    """The soft delete's rows (soft-deleting, soft_delete_instance) are inside the encoding."""
    results = list(iter_cross_check(Encoding(_soft_delete_races()), 6))
    assert all(r.agree for r in results), _sides(results)
    final = results[-1].symbolic
    assert ("soft-delete", None, None) in final and ("stopped", "soft-deleting", None) in final


def test_restore_and_flavor_deletion_are_outside_the_encoding():
    soft = _soft_delete_races()
    with pytest.raises(OutsideFragment, match="request 'restore' is outside the encoding"):
        Encoding(replace(soft, actions=(("delete", 1), ("restore", 1))))
    with pytest.raises(OutsideFragment, match="request 'delete_flavor' is outside"):
        Encoding(replace(soft, actions=(("delete_flavor", 1),), deletable_flavors=("medium",)))
    with pytest.raises(OutsideFragment, match="periodic tasks are outside"):
        Encoding(replace(soft, periodic=(("reclaim_queued_deletes", True),)))
