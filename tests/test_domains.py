"""checker/symbolic/domains.py: the values each field can hold from any configuration, the rows
that can therefore never run, and ``mutate`` calling a mutant of such rows equivalent."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import nova_resize.engine
import pytest
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import Limits, Visitor, explore
from nova_resize.checker.mutate.campaign import mutants_of
from nova_resize.checker.mutate.runner import judge, never_raises, never_runs, reference
from nova_resize.checker.symbolic.domains import NAME, analyse, outside, unreachable_rows
from nova_resize.checker.symbolic.exceptions import ENGINE_EXCEPTIONS
from nova_resize.checker.variants import apply_variant_text
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset
from nova_resize.spec import LIBERTY
from nova_resize.spec import model as m

BY_ID = {x.id: x for x in mutants_of()}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NOVA_RESIZE_CACHE", str(tmp_path / "cache"))


def test_liberty_rows_that_need_an_instance_without_a_host_are_proved_unreachable():
    never = unreachable_rows(LIBERTY)
    assert sorted(never) == ["api.restore.no_host", "compute.prep_resize.no_source_host",
                             "conductor.cold_migrate.other", "error_out.not_implemented"]
    assert "instance.host is falsy" in never["api.restore.no_host"]
    assert "exc == NotImplementedError" in never["error_out.not_implemented"]
    d = analyse(LIBERTY)
    assert d.instance["host"] == frozenset({NAME})
    # what the fixpoint learnt from the rows, beyond the configuration
    assert {"resized", "soft-delete"} <= d.instance["vm_state"]
    assert "confirmed" in d.migration["status"] and "failed" in d.migration["status"]
    # a request about a flavor has "no instance" (host None): nothing is concluded there
    assert "api.delete_flavor" in d.tainted
    assert d.of("instance.host", "api.delete_flavor") is None


def _with_row(spec, row_id: str, **changes):
    rows = tuple(dataclasses.replace(r, **changes) if r.id == row_id else r for r in spec.rows)
    return dataclasses.replace(spec, rows=rows, _index={})


def test_a_row_that_writes_a_host_of_none_makes_them_reachable():
    # finish_resize's row that moves the instance to the destination, writing None instead
    row = next(r for r in LIBERTY.rows
               if any(isinstance(e, m.Set) and e.target == "instance" and e.name == "host"
                      for e in r.effects))
    effects = tuple(m.Set("instance", "host", None)
                    if isinstance(e, m.Set) and e.name == "host" else e for e in row.effects)
    broken = _with_row(LIBERTY, row.id, effects=effects)
    assert {NAME, None} <= analyse(broken).instance["host"]
    assert sorted(unreachable_rows(broken)) == ["conductor.cold_migrate.other",
                                                "error_out.not_implemented"]


class _Outside(Visitor):
    def __init__(self, d) -> None:
        self.d, self.found = d, []

    def on_state(self, state, index, depth) -> None:
        self.found.extend(outside(self.d, state))


def _outside(d, preset: str) -> list[str]:
    v = _Outside(d)
    ex = explore(NovaModel(Engine(load_preset(preset), LIBERTY)), "bfs", None, [v])
    assert ex.complete
    return v.found


@pytest.mark.parametrize("preset", ["regression-cleanup", "regression-soft-delete-races",
                                    "regression-revert-delete", "regression-reschedule"])
def test_every_reached_value_is_within_the_fixpoint(preset):
    assert _outside(analyse(LIBERTY), preset) == []


def test_the_soundness_check_fires_on_a_value_the_analysis_left_out():
    d = analyse(LIBERTY)
    d.instance["vm_state"] = d.instance["vm_state"] - {"resized"}
    d.migration["status"] = d.migration["status"] - {"failed"}
    d.exc = d.exc - {"InstanceNotFound"}
    d.handler_exc["error_out"] = d.handler_exc["error_out"] - {"InstanceFaultRollback"}
    found = _outside(d, "regression-cleanup")
    assert any("vm_state = 'resized'" in f for f in found)
    assert any("status = 'failed'" in f for f in found)
    assert any("raising 'InstanceNotFound'" in f for f in found)
    assert any("'InstanceFaultRollback' in error_out" in f for f in found)


def test_what_reaches_an_error_handler_follows_its_scope_chains():
    d = analyse(LIBERTY)
    # the conductor's migrate task: the scheduler's NoValidHost and populate_retry's
    # MaxRetriesExceeded, through the task's rollback; its message goes to the host the
    # scheduler chose in the same step, never None
    assert d.handler_exc["conductor.cold_migrate.except"] == {"NoValidHost", "MaxRetriesExceeded"}
    assert d.handler_exc["conductor.task_rollback"] == {"NoValidHost", "MaxRetriesExceeded"}
    assert "every exception that reaches conductor.cold_migrate.except (MaxRetriesExceeded, " \
        "NoValidHost) is taken by another of its rows" in unreachable_rows(LIBERTY)[
            "conductor.cold_migrate.other"]
    # a delete re-raises its confirm call's answer: anything a callee raises, or a timeout
    assert {"Exception", "MessagingTimeout", "InstanceFaultRollback"} <= d.handler_exc[
        "api.delete.except"]
    # body handlers run with no exception
    assert d.handler_exc["api.resize"] == {None}


@pytest.mark.parametrize("extra", [m.Raise("Exception"), m.Quota("reserve", "upsize", "r"),
                                   m.Send("cast", "prep_resize", "local.elsewhere", ())])
def test_a_conductor_row_that_can_raise_something_else_makes_the_other_branch_reachable(extra):
    row = next(r for r in LIBERTY.rows if r.id == "conductor.migrate_server.select_destinations")
    broken = _with_row(LIBERTY, row.id, effects=(*row.effects, extra))
    assert len(analyse(broken).handler_exc["conductor.cold_migrate.except"]) > 2
    assert "conductor.cold_migrate.other" not in unreachable_rows(broken)


def test_the_exceptions_the_engine_raises_by_itself_are_all_listed():
    # every exception name the engine's own code raises or answers a call with
    src = "\n".join(p.read_text(encoding="utf-8")
                    for p in (Path(nova_resize.engine.__file__).parent).glob("*.py"))
    named = set(re.findall(r'NovaError\("(\w+)"\)', src))
    named |= set(re.findall(r'locals\["reply"\] = "(\w+)"', src))
    named |= set(re.findall(r'fr\.exc or "(\w+)"', src))
    named.discard("ok")  # a call's answer when nothing was raised
    assert {"InstanceNotFound", "MessagingTimeout", "OverQuota"} <= named
    assert named - ENGINE_EXCEPTIONS == set()
    d = analyse(LIBERTY)
    assert ENGINE_EXCEPTIONS <= d.exc
    assert {"InstanceFaultRollback", "UnableToMigrateToSelf"} <= d.exc  # the rows' Raise
    assert "MigrationError" not in d.exc  # raised only by a row that can never run


def test_a_row_that_raises_not_implemented_makes_its_handler_reachable():
    # a driver call that lets libvirt's NotImplementedError escape, say from soft_delete
    row = next(r for r in LIBERTY.rows if r.id == "compute.prep_resize.start")
    broken = _with_row(LIBERTY, row.id, effects=(*row.effects, m.Raise("NotImplementedError")))
    assert "NotImplementedError" in analyse(broken).exc
    assert "error_out.not_implemented" not in unreachable_rows(broken)
    # a re-raise of a local the analysis cannot follow: any exception
    odd = _with_row(LIBERTY, row.id, effects=(*row.effects, m.Raise(m.Ref("local.whatever"))))
    assert analyse(odd).exc is None
    assert "error_out.not_implemented" not in unreachable_rows(odd)


def test_a_mutant_of_a_row_no_configuration_runs_is_proved_equivalent():
    refs = [reference(load_preset("regression-soft-delete"), Limits())]
    for mid in ("guard-drop:api.restore.no_host", "drop-row:compute.prep_resize.no_source_host",
                "swap-effects:api.restore.no_host#1"):
        o = judge(BY_ID[mid], refs)
        assert o.status == "equivalent", (mid, o.status)
        assert "can never run" in o.detail and "instance.host is falsy" in o.detail
    # a mutant that also changes a row that runs is judged by its runs
    mixed = BY_ID["move-quota:api.restore.commit:earlier:api.restore.no_host"]
    spec = apply_variant_text(LIBERTY, mixed.text, "x.toml").spec
    assert never_runs(mixed, spec) == ""


def test_a_mutant_that_makes_such_a_row_reachable_is_not_proved():
    x = BY_ID["guard-drop:api.restore.no_host"]
    spec = apply_variant_text(LIBERTY, x.text, "x.toml").spec
    row = next(r for r in spec.rows
               if any(isinstance(e, m.Set) and e.target == "instance" and e.name == "host"
                      for e in r.effects))
    effects = tuple(m.Set("instance", "host", None)
                    if isinstance(e, m.Set) and e.name == "host" else e for e in row.effects)
    assert never_runs(x, spec) != ""
    assert never_runs(x, _with_row(spec, row.id, effects=effects)) == ""


def test_a_chain_no_row_of_its_scope_can_raise_into_is_proved_never_entered():
    # prep_resize's outer scope only sends usage notifications: dropping an error handler
    # from its chain changes nothing
    refs = [reference(load_preset("regression-migrate"), Limits())]
    for mid in ("drop-chain-entry:prep_resize:outer:0:error_out",
                "drop-chain-entry:prep_resize:outer:1:reverts_task_state"):
        o = judge(BY_ID[mid], refs)
        assert o.status == "equivalent", (mid, o.status, o.detail)
        assert "no row of the scope" in o.detail and "can raise" in o.detail
    # the body scope's rows save and call the driver: judged by its runs
    x = BY_ID["drop-chain-entry:resize_instance:body:0:error_out"]
    spec = apply_variant_text(LIBERTY, x.text, "x.toml").spec
    assert never_raises(x, spec) == ""
    # a row of the outer scope that saves could raise: no longer proved
    y = BY_ID["drop-chain-entry:prep_resize:outer:0:error_out"]
    row = next(r for r in LIBERTY.rows if r.id == "compute.prep_resize.start")
    noisy = _with_row(apply_variant_text(LIBERTY, y.text, "y.toml").spec, row.id,
                      effects=(m.SaveInstance(None),))
    assert never_raises(y, noisy) == ""
