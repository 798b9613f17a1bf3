"""The properties drawn from what Nova promises its users and operators: each fires on a broken
variant and stays silent on a correct path where it is evaluated on states it could fail on."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import config
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explicit.properties.verify import api_attempt
from nova_resize.checker.explicit.run import check
from nova_resize.engine.core import Engine
from nova_resize.engine.world import quiescent
from nova_resize.spec.states import ERROR, RESIZED

RESIZE = {"resize": 1, "resize_flavors": ["medium"]}


def run(cfg, variant: str | None, tmp_path: Path):
    paths = []
    if variant is not None:
        p = tmp_path / "variant.toml"
        p.write_text(variant)
        paths.append(str(p))
    res = check(cfg, paths, [])
    assert res.report.ex.complete
    return res


def keys(res, prop: str) -> set[str]:
    return {f.key for f, *_ in res.report.findings if f.prop == prop}


def reached(res, pred) -> bool:
    """Whether some reachable state satisfies ``pred`` (replaying every finding's witness is
    not enough: walk the graph again)."""
    from nova_resize.checker.explorer import Visitor, explore

    class Seen(Visitor):
        hit = False

        def on_state(self, state, index, depth):
            if pred(state):
                Seen.hit = True

    explore(res.model, visitors=[Seen()])
    return Seen.hit


# ---- tracker-matches-audit -----------------------------------------------------------------

def test_tracker_matches_audit_silent_on_a_resize_reverted(tmp_path):
    cfg = config(actions={**RESIZE, "revert_resize": 1})
    res = run(cfg, None, tmp_path)
    assert res.report.ex.evaluations["tracker-matches-audit"] >= 3
    assert keys(res, "tracker-matches-audit") == set()


def test_tracker_matches_audit_fires_on_liberty_confirm_until_the_audit(tmp_path):
    # Liberty 12.0.0: drop_move_claim only releases a tracked migration; the source tracks the
    # instance itself (no audit ran since the resize), so it keeps counting the old flavor
    # until update_available_resource runs
    cfg = config(actions={**RESIZE, "confirm_resize": 1})
    assert keys(run(cfg, None, tmp_path), "tracker-matches-audit") == {
        "live usage over-counts the audit on the migration's source"}


def test_tracker_matches_audit_fires_when_revert_keeps_the_destination_claim(tmp_path):
    cfg = config(actions={**RESIZE, "revert_resize": 1})
    res = run(cfg, """
[[replace]]
row = "compute.revert_resize.drop_claim"
[[replace.effects]]
type = "SaveInstance"
[[replace.effects]]
type = "Send"
kind = "cast"
method = "finish_revert_resize"
target = "migration.source_compute"
args = [["reservations", {ref = "local.reservations"}]]
""", tmp_path)
    # the destination is "other host": finish_revert_resize rewrote the migration's
    # dest_compute to the source (bug 1625462)
    assert "live usage over-counts the audit on the other host" in keys(
        res, "tracker-matches-audit")


# ---- error-has-cause -----------------------------------------------------------------------

def test_error_has_cause_silent_when_nova_errors_out_after_faults(tmp_path):
    # finish_resize failing puts the instance into ERROR through the error handlers
    cfg = config(actions=RESIZE, faults={"driver": 1})
    res = run(cfg, None, tmp_path)
    assert reached(res, lambda w: any(i.vm_state == ERROR for i in w.instances))
    assert res.report.ex.evaluations["error-has-cause"] > 0
    assert keys(res, "error-has-cause") == set()


def test_error_has_cause_fires_on_an_error_set_in_the_body(tmp_path):
    cfg = config(actions=RESIZE)
    res = run(cfg, """
[[replace]]
row = "compute.finish_resize.resized"
effects = [
  {type = "Set", target = "instance", name = "vm_state", value = "error"},
  {type = "Set", target = "instance", name = "task_state", value = "None"},
  {type = "SaveInstance", guard = ["resize_finish"]},
]
""", tmp_path)
    assert "compute.finish_resize.resized set ERROR with no failure" in keys(
        res, "error-has-cause")


# ---- verify-resize-actionable --------------------------------------------------------------

def test_verify_resize_actionable_silent_on_a_plain_resize(tmp_path):
    cfg = config(actions=RESIZE)
    res = run(cfg, None, tmp_path)
    assert reached(res, lambda w: quiescent(w) and any(
        i.vm_state == RESIZED and i.task_state is None for i in w.instances))
    assert keys(res, "verify-resize-actionable") == set()


def test_verify_resize_actionable_fires_when_confirm_looks_for_the_wrong_status(tmp_path):
    cfg = config(actions=RESIZE)
    res = run(cfg, """
[[replace]]
row = "api.confirm_resize.lookup"
effects = [{type = "LookupMigration", statuses = ["confirming"]}]
""", tmp_path)
    got = keys(res, "verify-resize-actionable")
    assert any(k.startswith("VERIFY_RESIZE but confirm_resize refused (MigrationNotFound")
               for k in got), got
    # revert still works there: only confirm is named
    assert not any("revert_resize" in k for k in got)


def test_api_attempt_runs_the_api_handler_to_its_end():
    cfg = config(actions=RESIZE)
    eng = Engine(cfg)
    w = eng.initial()
    assert api_attempt(eng, w, "confirm_resize", "vm") is not None  # not resized: refused
    assert api_attempt(eng, w, "stop", "vm") is None


# ---- migration-agrees ----------------------------------------------------------------------

@pytest.mark.parametrize("then", ["confirm_resize", "revert_resize"])
def test_migration_agrees_silent_on_a_resize_confirmed_or_reverted(then, tmp_path):
    cfg = config(actions={**RESIZE, then: 1})
    res = run(cfg, None, tmp_path)
    assert res.report.ex.evaluations["migration-agrees"] >= 3
    assert keys(res, "migration-agrees") == set()


def test_migration_agrees_fires_on_liberty_confirm_racing_revert(tmp_path):
    # Liberty: both API calls find the migration finished; finish_revert_resize fails on the
    # flavors confirm already dropped, and the migration says reverted while the instance
    # stays on the destination (or confirmed while it is back on the source)
    cfg = config(actions={**RESIZE, "confirm_resize": 1, "revert_resize": 1})
    got = keys(run(cfg, None, tmp_path), "migration-agrees")
    assert "active/None with migration reverted: host and flavor disagree" in got


def test_migration_agrees_fires_when_confirm_leaves_the_migration_finished(tmp_path):
    cfg = config(actions={**RESIZE, "confirm_resize": 1})
    res = run(cfg, """
[[replace]]
row = "compute.confirm_resize.confirmed"
[[replace.effects]]
type = "Set"
target = "migration"
name = "status"
value = "finished"
[[replace.effects]]
type = "SaveMigration"
[[replace.effects]]
type = "Claim"
op = "drop_move_claim"
host = "migration.source_compute"
flavor = "local.old_flavor"
prefix = "old_"
""", tmp_path)
    assert "active/None with migration finished: status disagree" in keys(res,
                                                                          "migration-agrees")


def test_migration_agrees_fires_when_confirm_leaves_a_stashed_flavor(tmp_path):
    # _cleanup_stored_instance_types forgets new_flavor: the confirmed instance keeps it
    cfg = config(actions={**RESIZE, "confirm_resize": 1})
    res = run(cfg, """
[[replace]]
row = "compute.confirm_resize.cleanup_stored_flavors"
effects = [
  {type = "Set", target = "local", name = "old_flavor", value = "instance.old_flavor"},
  {type = "Set", target = "instance", name = "old_flavor", value = "None"},
  {type = "Set", target = "instance", name = "old_vm_state", value = "None"},
  {type = "SaveInstance", columns = ["system_metadata"]},
]
""", tmp_path)
    assert keys(res, "migration-agrees") == {
        "active/None with migration confirmed: flavor stash disagree"}


def test_migration_agrees_names_the_host_and_flavor():
    from nova_resize.checker.explicit.properties.migration import migration_agrees

    cfg = config(actions={**RESIZE, "confirm_resize": 1})
    model = NovaModel(Engine(cfg))
    # the happy path to a confirmed resize, then the instance moved back by hand
    from nova_resize.engine.facade import Cloud

    c = Cloud.from_config(cfg)
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    w = c.world
    bad = w._replace(instances=tuple(i._replace(host="host1") for i in w.instances))
    got = migration_agrees(model, bad)
    assert [v[0] for v in got] == ["active/None with migration confirmed: host disagree"]



# ---- task-cleared-on-failure ---------------------------------------------------------------

SOFT_DELETE = {"actions": {"delete": 1}, "faults": {"driver": 1},
               "options": {"reclaim_instance_interval": 3600}}


def test_task_cleared_on_failure_silent_when_reverts_task_state_clears_a_failed_soft_delete(
        tmp_path):
    # soft_delete_instance's power-off fails: reverts_task_state sets task_state back to None
    res = run(config(**SOFT_DELETE), None, tmp_path)
    assert res.report.rows_executed["compute.soft_delete_instance.power_off_fails"] > 0
    assert res.report.ex.evaluations["task-cleared-on-failure"] > 0
    assert keys(res, "task-cleared-on-failure") == set()


def test_task_cleared_on_failure_fires_without_the_reverts_task_state_decorator(tmp_path):
    res = run(config(**SOFT_DELETE), """
[[handler]]
name = "soft_delete_instance"
scopes = {"body" = ["soft_delete_instance.except"]}
""", tmp_path)
    assert keys(res, "task-cleared-on-failure") == {
        "soft_delete_instance raised Exception: left active/soft-deleting"}


# ---- retries-bounded -------------------------------------------------------------------------

def test_retries_bounded_silent_when_max_retries_stops_a_reschedule(tmp_path):
    # two claims refused among four hosts with scheduler_max_attempts = 2: one reschedule,
    # then MaxRetriesExceeded although a host is left
    from nova_resize.engine.presets import load_preset
    res = run(load_preset("regression-reschedule"), None, tmp_path)
    assert res.report.rows_executed["reschedule.call_conductor"] > 0
    assert res.report.rows_executed["conductor.migrate_server.max_retries"] > 0
    assert res.report.ex.evaluations["retries-bounded"] > 0
    assert keys(res, "retries-bounded") == set()


def test_retries_bounded_fires_when_populate_retry_never_gives_up(tmp_path):
    from nova_resize.engine.presets import load_preset
    res = run(load_preset("regression-reschedule"), """
[[remove]]
row = "conductor.migrate_server.max_retries"
""", tmp_path)
    assert keys(res, "retries-bounded") == {"prep_resize cast beyond scheduler_max_attempts"}


# ---- same-host-migrate-supported -----------------------------------------------------------

def test_same_host_migrate_supported_silent_when_the_driver_supports_it(tmp_path):
    # one host: the migrate can only land where it is, and the driver says it can
    cfg = config(hosts=1, actions={"migrate": 1},
                 options={"allow_resize_to_same_host": True,
                          "supports_migrate_to_same_host": True})
    res = run(cfg, None, tmp_path)
    assert reached(res, lambda w: any(
        m.source_compute == m.dest_compute and m.migration_type == "migration"
        for m in w.migrations))
    assert res.report.ex.evaluations["same-host-migrate-supported"] > 0
    assert keys(res, "same-host-migrate-supported") == set()


def test_same_host_migrate_supported_fires_without_unable_to_migrate_to_self(tmp_path):
    from nova_resize.engine.presets import load_preset
    res = run(load_preset("regression-same-host"), """
[[remove]]
row = "compute.prep_resize.same_host_unsupported"
""", tmp_path)
    assert keys(res, "same-host-migrate-supported") == {
        "same-host migration with a driver that cannot"}


# ---- task-settles ----------------------------------------------------------------------------

def test_task_settles_silent_when_a_stop_and_a_start_finish(tmp_path):
    res = run(config(actions={"stop": 1, "start": 1}), None, tmp_path)
    assert reached(res, lambda w: quiescent(w) and any(
        i.vm_state == "stopped" for i in w.instances))
    assert res.report.ex.evaluations["task-settles"] > 0
    assert keys(res, "task-settles") == set()


def test_task_settles_fires_when_stop_instance_never_saves(tmp_path):
    res = run(config(actions={"stop": 1}), """
[[replace]]
row = "compute.stop_instance.power_off"
effects = [
  {type = "Driver", op = "power_off"},
  {type = "Set", target = "instance", name = "power_state", value = 4},
  {type = "Set", target = "instance", name = "vm_state", value = "stopped"},
  {type = "Set", target = "instance", name = "task_state", value = "None"},
]
""", tmp_path)
    assert keys(res, "task-settles") == {"active/powering-off at quiescence"}


# ---- changes-saved ---------------------------------------------------------------------------

def test_changes_saved_silent_when_the_poll_marks_migrations_in_error(tmp_path):
    from nova_resize.engine.presets import load_preset
    res = run(load_preset("regression-autoconfirm-faults"), None, tmp_path)
    # the branches that set a status and save it ran: had they not saved, it would fire
    assert {"compute.poll_unconfirmed_resizes.not_resized",
            "compute.poll_unconfirmed_resizes.instance_not_found"} <= set(res.report.rows_executed)
    assert res.report.ex.evaluations["changes-saved"] > 0
    assert keys(res, "changes-saved") == set()


def test_changes_saved_fires_when_the_poll_forgets_to_save(tmp_path):
    from nova_resize.engine.presets import load_preset
    res = run(load_preset("regression-autoconfirm-faults"), """
[[replace]]
row = "compute.poll_unconfirmed_resizes.not_resized"
effects = [{type = "Set", target = "migration", name = "status", value = "error"}]
""", tmp_path)
    assert keys(res, "changes-saved") == {
        "returned at compute.poll_unconfirmed_resizes.not_resized with migration.status unsaved"}


def test_changes_saved_fires_when_a_field_is_set_after_the_last_save(tmp_path):
    res = run(config(actions=RESIZE), """
[[replace]]
row = "compute.finish_resize.resized"
effects = [
  {type = "Set", target = "instance", name = "vm_state", value = "resized"},
  {type = "Set", target = "instance", name = "launched", value = true},
  {type = "SaveInstance", guard = ["resize_finish"]},
  {type = "Set", target = "instance", name = "task_state", value = "None"},
]
""", tmp_path)
    assert keys(res, "changes-saved") == {
        "returned at compute.finish_resize.commit with instance.task_state unsaved"}
