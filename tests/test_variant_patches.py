"""The variant format expresses Nova's real patches: each test loads a variant of
spec/variants/ that re-applies a patch Nova merged (its commit in the file) to the Liberty
tables, and shows the behaviour the patch changed, against Liberty on the same scenario."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import config
from nova_resize.checker.explicit.run import check
from nova_resize.checker.variants import apply_variant_text, build_spec
from nova_resize.engine.facade import Cloud
from nova_resize.spec import LIBERTY

from nova_resize.errors import ConfigError

VARIANTS = Path(__file__).resolve().parent.parent / "spec" / "variants"


def spec_of(name: str):  # type: ignore[no-untyped-def]
    return build_spec([str(VARIANTS / f"{name}.toml")])[0]


def resized(spec, **kw):  # type: ignore[no-untyped-def]
    c = Cloud.from_config(config(**kw), spec)
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert c.instance("vm").vm_state == "resized"
    return c


# ---- [[handler]] and [[migration_edge]]: 408ef8f84a (+ 1b3fad3a23) ---------------------------

def _failed_confirm(spec):  # type: ignore[no-untyped-def]
    c = resized(spec)
    c.api.confirm_resize("vm")
    c.fail("compute.confirm_resize.confirm_migration_fails")
    c.run_until_quiescent()
    return c


def test_an_error_chain_change_errors_out_a_failed_confirm():
    # given a resize whose confirm fails in the driver
    # then in Liberty the migration is left 'confirming' (confirm_resize has no
    # errors_out_migration)
    assert _failed_confirm(LIBERTY).migration("vm").status == "confirming"
    # and with 408ef8f84a's decorator it is 'error', and the instance ERROR as before
    c = _failed_confirm(spec_of("confirm-errors-out-migration"))
    assert c.migration("vm").status == "error"
    assert c.instance("vm").vm_state == "error"


def _findings(cfg, variants: list[str], tmp_path: Path) -> set[tuple[str, str]]:
    res = check(cfg, variants, [])
    return {(f.prop, f.key) for f, _, _, _ in res.report.findings}


def test_a_declared_migration_edge_makes_the_new_status_write_legal(tmp_path):
    cfg = config(actions={"resize": 1, "resize_flavors": ["medium"], "confirm_resize": 1},
                 faults={"driver": 1})
    key = ("migration-status-legal", "errors_out_migration.error: confirming -> error")
    with_edge = _findings(cfg, [str(VARIANTS / "confirm-errors-out-migration.toml")], tmp_path)
    assert key not in with_edge
    # the same patch without its [[migration_edge]] reports the move as illegal
    text = (VARIANTS / "confirm-errors-out-migration.toml").read_text()
    no_edge = tmp_path / "no-edge.toml"
    no_edge.write_text(text.split("[[migration_edge]]")[0])
    assert key in _findings(cfg, [str(no_edge)], tmp_path)
    # and Liberty, which never writes error over confirming, has neither
    assert key not in _findings(cfg, [], tmp_path)


# ---- a condition reading the migration: e4601c77fb ----------------------------------------------

def test_confirm_is_refused_while_the_source_is_down():
    for spec, outcome, status in ((LIBERTY, "accepted", "confirming"),
                                  (spec_of("confirm-source-up"), "refused", "finished")):
        # given a finished resize whose source compute service is gone
        c = resized(spec)
        c.stay_down("host1")
        # when the user confirms
        res = c.api.confirm_resize("vm")
        c.run_until_quiescent()
        # then Liberty casts to the dead source and leaves the migration confirming for ever;
        # the patched API refuses with HTTP 409 and nothing changes
        assert (res.outcome or "").startswith(outcome)
        assert c.migration("vm").status == status
    assert "ServiceUnavailable (HTTP 409)" in (res.outcome or "")


def test_a_validation_can_read_the_operations_migration_lookup():
    text = """
[[validation]]
operation = "confirm_resize"
id = "api.confirm_resize.source_down"
cite = "nova/compute/api.py:API.confirm_resize"
migration = ["finished"]
when = ["migration.source_compute is down"]
exc = "ServiceUnavailable"
http = 409
summary = "e4601c77fb, as a precondition of the request"
"""
    spec = apply_variant_text(LIBERTY, text, "v.toml").spec
    c = resized(spec)
    c.stay_down("host1")
    assert c.api.confirm_resize("vm").outcome == "refused: ServiceUnavailable (HTTP 409)"
    # a validation that reads the migration without naming its lookup is refused up front
    with pytest.raises(ConfigError, match="reads the migration"):
        apply_variant_text(LIBERTY, text.replace('migration = ["finished"]\n', ""), "v.toml")


# ---- a value expression: 5a20996405 (+ 46cb2fdfe2) --------------------------------------------

def test_a_rolled_back_resize_of_a_stopped_instance_stays_stopped():
    for spec, vm_state in ((LIBERTY, "active"), (spec_of("rollback-keeps-vm-state"), "stopped")):
        # given a stopped instance whose resize the driver rolls back (InstanceFaultRollback)
        c = Cloud.from_config(config(vm_state="stopped"), spec)
        c.api.resize("vm", "medium")
        c.fail("compute.resize_instance.migrate_disk_rollback")
        c.run_until_quiescent()
        # then Liberty makes it ACTIVE; the patch restores the state resize_instance began with
        assert (c.instance("vm").vm_state, c.instance("vm").task_state) == (vm_state, None)


def test_value_expressions_are_parsed_and_bad_ones_named():
    from nova_resize.checker.variants import parse_value
    from nova_resize.spec import model as m

    assert parse_value({"default": "local.x", "value": "active"}) == m.Default("local.x",
                                                                                "active")
    assert parse_value({"if_eq": "instance.vm_state", "value": "stopped", "then": False,
                        "else": True}) == m.IfEq("instance.vm_state", "stopped", False, True)
    assert parse_value({"inc": "local.n"}) == m.Inc("local.n")
    assert parse_value({"append": "local.t", "value": {"ref": "self.host"}}) == m.Append(
        "local.t", m.Ref("self.host"))
    with pytest.raises(ConfigError, match="expected an expression table"):
        parse_value({"defualt": "local.x", "value": 1}, "effects[0].value")


# ---- a new API operation: 81ffd2065d, d2ce4ca9ec ------------------------------------------------

def test_a_new_operation_migrates_to_the_requested_host():
    spec = spec_of("migrate-to-host")
    cfg = config(hosts=3, actions={"migrate_to_host": 1})
    # when the admin migrates to host3 (the scheduler alone would have picked host2 first)
    c = Cloud.from_config(cfg, spec)
    assert c.request("migrate_to_host", "vm", "host3").outcome == "accepted"
    c.run_until_quiescent()
    # then it lands there, waiting for confirmation
    vm = c.instance("vm")
    assert (vm.vm_state, vm.host) == ("resized", "host3")
    # and its own host is refused by the new validation
    c2 = Cloud.from_config(cfg, spec)
    res = c2.request("migrate_to_host", "vm", "host1")
    assert res.outcome == "refused: CannotMigrateToSameHost (HTTP 400)"
    # a configuration naming the operation without the variant is refused, naming the key
    from nova_resize.engine.core import Engine

    with pytest.raises(ConfigError, match=r"actions\.migrate_to_host"):
        Engine(cfg, LIBERTY)


def test_a_requested_host_is_not_rescheduled():
    spec = spec_of("migrate-to-host")
    c = Cloud.from_config(config(hosts=3), spec)
    c.request("migrate_to_host", "vm", "host2")
    c.fail("compute.prep_resize.claim_refused_injected")
    c.run_until_quiescent()
    # the refused claim is not rescheduled elsewhere: no retry without populate_retry
    assert "reschedule.rescheduled" not in c.rows()
    assert c.instance("vm").host == "host1"


# ---- the resource tracker's rules: 25bc5a6639 ---------------------------------------------------

def test_the_drop_rule_frees_the_old_flavor_on_a_same_host_confirm():
    opts = {"allow_resize_to_same_host": True}
    for spec, usage in ((LIBERTY, (3, 2560, 30)),
                        (spec_of("drop-claim-without-flavor-match"), (2, 2048, 20))):
        # given a same-host resize confirmed before any audit
        c = resized(spec, hosts=1, options=opts)
        c.api.confirm_resize("vm")
        c.run_until_quiescent()
        # then Liberty's tracker keeps counting both flavors (bug 1647370); the patched rule
        # drops the old one
        assert c.host("host1").usage == usage


def test_tracker_rules_are_checked():
    for text, named in (("[resource_tracker]\nlatest_migration = \"newest\"\n", "latest_migration"),
                        ("[resource_tracker]\nclaim_resources = [\"gpus\"]\n", "gpus"),
                        ("[resource_tracker]\nbogus = 1\n", "bogus")):
        with pytest.raises(ConfigError, match=named):
            apply_variant_text(LIBERTY, text, "v.toml")
