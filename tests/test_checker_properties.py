"""Each property comes as a pair on one configuration: a deliberately broken variant of the
spec makes it fire (a pinned key), and Liberty's tables keep it silent there although the
property is evaluated on every state (or step) the configuration reaches."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from conftest import config
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explicit.properties import BY_NAME, PROPERTY_NAMES
from nova_resize.checker.explicit.run import check
from nova_resize.checker.explorer import explore
from nova_resize.engine.core import Engine
from nova_resize.spec import LIBERTY

ROOT = Path(__file__).resolve().parent.parent
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


def findings(cfg, variant: str | None, tmp_path: Path) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f, _, _, _ in run(cfg, variant, tmp_path).report.findings:
        out.setdefault(f.prop, set()).add(f.key)
    return out


def silent_on_liberty(prop: str, cfg, tmp_path: Path) -> None:
    """Liberty shows no ``prop`` finding on ``cfg``, and the property was looked at there."""
    res = run(cfg, None, tmp_path)
    base = {f.key for f, *_ in res.report.findings if f.prop == prop}
    assert not base, f"Liberty is not silent on {prop} here: {sorted(base)}"
    if BY_NAME[prop].recoverable is None:
        assert res.report.ex.evaluations[prop] > 0, f"{prop} was never evaluated"
    else:
        assert res.report.ex.liveness[prop].good, f"{prop}: no state was looked at"


def fires(prop: str, cfg, variant: str, tmp_path: Path) -> set[str]:
    """The keys of ``prop`` on the broken variant (non-empty), on a configuration where Liberty
    keeps ``prop`` silent."""
    silent_on_liberty(prop, cfg, tmp_path)
    new = findings(cfg, variant, tmp_path).get(prop, set())
    assert new, f"{prop} did not catch the broken variant"
    return new


def test_legal_state(tmp_path):
    cfg = config(actions=RESIZE)
    new = fires("legal-state", cfg, """
[[replace]]
row = "compute.finish_resize.resized"
effects = [
  {type = "Set", target = "instance", name = "vm_state", value = "stopped"},
  {type = "Set", target = "instance", name = "task_state", value = "resize_reverting"},
  {type = "SaveInstance", guard = ["resize_finish"]},
]
""", tmp_path)
    assert "stopped/resize_reverting" in new


def test_no_lost_update_when_the_api_save_loses_its_guard(tmp_path):
    # two racing resize requests: with expected_task_state=[None] the second save fails
    cfg = config(actions={"resize": 2, "resize_flavors": ["medium"]})
    new = fires("no-lost-update", cfg, """
[[guard]]
row = "api.resize.save"
expected_task_state = "none"
""", tmp_path)
    assert any(k.startswith("api.resize.save overwrote resize_") for k in new)


def test_quota_resolved_once_on_a_duplicated_commit(tmp_path):
    cfg = config(actions={**RESIZE, "confirm_resize": 1})
    new = fires("quota-resolved-once", cfg, """
[[replace]]
row = "compute.finish_resize.commit"
effects = [{type = "Quota", op = "commit"}, {type = "Quota", op = "rollback"}]
""", tmp_path)
    assert any("compute.finish_resize.commit after committed" in k for k in new)


def test_quota_resolved_once_and_usage_on_a_removed_commit(tmp_path):
    cfg = config(actions={**RESIZE, "confirm_resize": 1})
    variant = """
[[replace]]
row = "compute.finish_resize.commit"
effects = []
"""
    assert "pending from api.resize.reserve_upsize" in fires("quota-resolved-once", cfg, variant,
                                                             tmp_path)
    assert fires("quota-usage-consistent", cfg, variant, tmp_path)


def test_claims_consistent_on_a_broken_tracker_rule(tmp_path):
    cfg = config(actions={**RESIZE, "confirm_resize": 1},
                 periodic={"update_available_resource": True})
    base = _findings_with_spec(cfg, LIBERTY).get("claims-consistent", set())
    # the outbound rule counting the new flavor instead of the old one
    rules = tuple(dataclasses.replace(r, prefix="new_") if r.direction == "outbound" else r
                  for r in LIBERTY.usage_rules)
    broken = dataclasses.replace(LIBERTY, usage_rules=rules, _index={})
    new = _findings_with_spec(cfg, broken).get("claims-consistent", set()) - base
    assert any("over-counts resized/None, migration finished, migration's source" in k
               for k in new)


def test_claims_consistent_pair_on_a_cold_migration(tmp_path):
    # a cold migration, confirmed, audited: Liberty's tracker rules count what the hosts hold
    cfg = config(actions={"migrate": 1, "confirm_resize": 1},
                 periodic={"update_available_resource": True})
    silent_on_liberty("claims-consistent", cfg, tmp_path)
    # a tracker that does not count 'migration' migrations: until the confirm, the source
    # keeps the old flavor's claim, which an audit no longer counts
    broken = dataclasses.replace(LIBERTY, trackable_migration_types=("resize",), _index={})
    new = _findings_with_spec(cfg, broken).get("claims-consistent", set())
    assert "audit under-counts resized/None, migration finished, migration's source" in new


def _findings_with_spec(cfg, spec) -> dict[str, set[str]]:
    ex = explore(NovaModel(Engine(cfg, spec)))
    out: dict[str, set[str]] = {}
    for prop, key, _ in ex.findings:
        out.setdefault(prop, set()).add(key)
    return out


SEND_FINISH = (
    '{type = "Send", kind = "cast", method = "finish_resize", target = "migration.dest_compute",'
    ' args = [["reservations", {ref = "local.reservations"}]]}'
)


def test_host_consistent(tmp_path):
    cfg = config(hosts=3, actions=RESIZE)
    new = fires("host-consistent", cfg, """
[[replace]]
row = "compute.resize_instance.task_migrated"
effects = [
  {type = "Set", target = "instance", name = "host", value = "host3"},
  {type = "Set", target = "instance", name = "task_state", value = "resize_migrated"},
  {type = "SaveInstance", guard = ["resize_migrating"]},
  SEND,
]
""".replace("SEND", SEND_FINISH), tmp_path)
    assert "resized/None with migration finished: host elsewhere" in new


def test_disk_never_lost(tmp_path):
    # a stop and a start: the disk stays where the instance lives (resize configurations are
    # not silent on Liberty: see the baseline)
    cfg = config(actions={"stop": 1, "start": 1})
    new = fires("disk-never-lost", cfg, """
[[replace]]
row = "compute.stop_instance.power_off"
effects = [
  {type = "Driver", op = "destroy_guest"},
  {type = "Set", target = "instance", name = "power_state", value = 4},
  {type = "Set", target = "instance", name = "vm_state", value = "stopped"},
  {type = "Set", target = "instance", name = "task_state", value = "None"},
  {type = "SaveInstance", guard = ["powering-off"]},
]
""", tmp_path)
    assert "stopped/None: has no disk on any host" in new


def test_migration_status_legal(tmp_path):
    cfg = config(actions=RESIZE)
    new = fires("migration-status-legal", cfg, """
[[remove]]
row = "compute.resize_instance.post_migrating"
""", tmp_path)
    assert "compute.finish_resize.finished: migrating -> finished" in new


def test_migration_endpoints_fixed_liberty_and_its_fix(tmp_path):
    # Liberty rewrites dest_compute on revert (bug 1625462); the fix variant does not
    cfg = config(actions={**RESIZE, "revert_resize": 1})
    liberty = findings(cfg, None, tmp_path).get("migration-endpoints-fixed", set())
    assert liberty == {"compute.finish_revert_resize.migration_dest rewrote dest_compute"}
    fixed = check(cfg, [str(ROOT / "spec" / "variants" / "bug-1625462.toml")], [])
    assert not [f for f, *_ in fixed.report.findings if f.prop == "migration-endpoints-fixed"]
    # and a variant that rewrites the source on confirm is caught too
    new = fires("migration-endpoints-fixed", config(actions={**RESIZE, "confirm_resize": 1}), """
[[replace]]
row = "compute.confirm_resize.confirmed"
effects = [
  {type = "Set", target = "migration", name = "status", value = "confirmed"},
  {type = "Set", target = "migration", name = "source_compute", value = "host2"},
  {type = "SaveMigration"},
]
""", tmp_path)
    assert "compute.confirm_resize.confirmed rewrote source_compute" in new


def test_vm_state_restored(tmp_path):
    cfg = config(vm_state="stopped", actions={**RESIZE, "confirm_resize": 1})
    new = fires("vm-state-restored", cfg, """
[[replace]]
row = "compute.confirm_resize.save_stopped"
effects = [
  {type = "Set", target = "instance", name = "vm_state", value = "active"},
  {type = "Set", target = "instance", name = "task_state", value = "None"},
  {type = "SaveInstance", guard = ["None", "deleting"]},
]
""", tmp_path)
    assert "stopped -> active" in new


def test_no_orphan(tmp_path):
    cfg = config(actions={"delete": 1})
    new = fires("no-orphan", cfg, """
[[replace]]
row = "compute.terminate_instance.shutdown"
effects = []
""", tmp_path)
    assert "disk left on the instance's host" in new


def test_delete_completes(tmp_path):
    cfg = config(actions={**RESIZE, "delete": 1})
    new = fires("delete-completes", cfg, """
[[replace]]
row = "api.delete.terminate"
effects = []
""", tmp_path)
    # the delete was accepted while the instance was resized: it stays active, undeleted
    assert "active/None" in new


def test_no_stuck_resize(tmp_path):
    cfg = config(actions=RESIZE)
    new = fires("no-stuck-resize", cfg, """
[[replace]]
row = "compute.finish_resize.resized"
effects = [{type = "Set", target = "instance", name = "launched", value = true}]
then = "commit"
""", tmp_path)
    assert any(k.startswith("active/resize_finish") for k in new)


def test_guest_matches_state(tmp_path):
    # finish_migration powers the guest on whatever the instance was: a stopped instance's
    # resize ends in VERIFY_RESIZE with its guest running
    cfg = config(vm_state="stopped", actions=RESIZE)
    new = fires("guest-matches-state", cfg, """
[[replace]]
row = "compute.finish_resize.finish_migration"
effects = [{type = "Driver", op = "spawn", power_on = true}]
""", tmp_path)
    assert new == {"resized from stopped, guest running on its host"}


def test_guest_matches_state_stop_without_power_off(tmp_path):
    # stop_instance saves STOPPED without powering the guest off
    cfg = config(actions={"stop": 1})
    new = fires("guest-matches-state", cfg, """
[[replace]]
row = "compute.stop_instance.power_off"
effects = [
  {type = "Set", target = "instance", name = "power_state", value = 4},
  {type = "Set", target = "instance", name = "vm_state", value = "stopped"},
  {type = "Set", target = "instance", name = "task_state", value = "None"},
  {type = "SaveInstance", guard = ["powering-off"]},
]
""", tmp_path)
    assert new == {"stopped, guest running on its host"}


def test_quota_resolved_once_names_the_row_that_abandons_a_reservation(tmp_path):
    # a second delete finds the first one running; without its rollback the reservation it
    # made is left with no one to resolve it, and the finding says where
    cfg = config(actions={"delete": 2})
    new = fires("quota-resolved-once", cfg, """
[[replace]]
row = "api.delete.already_deleting"
effects = []
""", tmp_path)
    assert "api.delete.reserve abandoned at api.delete.already_deleting" in new


def test_a_reservation_handed_on_and_then_lost_is_not_abandoned_by_its_sender(tmp_path):
    # the resize's cast to prep_resize is lost after the conductor took the reservation on:
    # pending at quiescence, but no handler abandoned it
    cfg = config(actions=RESIZE, faults={"lose": 1})
    keys = findings(cfg, None, tmp_path).get("quota-resolved-once", set())
    assert "pending from api.resize.reserve_upsize" in keys
    assert not any("abandoned" in k for k in keys), keys


def test_guest_matches_state_on_a_soft_deleted_instance(tmp_path):
    # the soft delete no longer powers the guest off: SOFT_DELETED with its guest running
    cfg = config(actions={"delete": 1}, options={"reclaim_instance_interval": 3600})
    new = fires("guest-matches-state", cfg, """
[[replace]]
row = "compute.soft_delete_instance.power_off"
effects = [
  {type = "Set", target = "instance", name = "vm_state", value = "soft-delete"},
  {type = "Set", target = "instance", name = "task_state", value = "None"},
  {type = "SaveInstance", guard = ["soft-deleting"]},
]
""", tmp_path)
    assert new == {"soft-deleted, guest running on its host"}


def test_api_answers_expected(tmp_path):
    # over quota, nova-api answers 403 TooManyInstances; without that conversion the OverQuota
    # escapes as HTTP 500 (a refused request's step is a self-loop the property sees)
    cfg = config(actions=RESIZE, quota={"cores": 1})
    new = fires("api-answers-expected", cfg, """
[[remove]]
row = "api.resize.except.over_quota"
""", tmp_path)
    assert new == {"resize answered HTTP 500 (OverQuota)"}


def test_an_exception_a_controller_catches_is_not_a_500():
    from nova_resize.engine.outcome import answer_http
    assert answer_http("migrate", "InstanceNotFound") == 404
    assert answer_http("resize", "InstanceNotFound") == 500  # _resize does not catch it
    assert answer_http("revert_resize", "MigrationNotFoundByStatus") == 400
    assert answer_http("delete", "InstanceNotFound") == 404
    assert answer_http("resize", "UnexpectedDeletingTaskStateError") == 500
    assert answer_http("restore", "TooManyInstances") == 403


def test_notifications_paired(tmp_path):
    # confirm_resize no longer ends what it started: a returning handler leaves
    # resize.confirm.start unanswered
    cfg = config(actions={**RESIZE, "confirm_resize": 1})
    new = fires("notifications-paired", cfg, """
[[replace]]
row = "compute.confirm_resize.save_active"
notify = []
""", tmp_path)
    assert new == {"confirm_resize returned with resize.confirm.start unanswered"}


def test_notifications_paired_end_without_start(tmp_path):
    # resize_instance no longer starts what it ends
    cfg = config(actions=RESIZE)
    new = fires("notifications-paired", cfg, """
[[replace]]
row = "compute.resize_instance.task_migrating"
notify = []
""", tmp_path)
    assert new == {"resize_instance sent resize.end without resize.start"}


@pytest.mark.parametrize("prop", ["legal-state", "host-consistent", "disk-never-lost",
                                  "no-lost-update", "quota-resolved-once", "vm-state-restored",
                                  "no-orphan", "delete-completes", "migration-status-legal",
                                  "notifications-paired", "guest-matches-state"])
def test_every_property_is_evaluated(prop, tmp_path):
    # a property that is never evaluated would hold vacuously
    cfg = config(actions={**RESIZE, "confirm_resize": 1, "delete": 1})
    res = check(cfg, [], [])
    assert res.report.ex.evaluations[prop] > 0


def test_every_property_has_its_pair():
    # each property goes through fires() (or its own silent_on_liberty pair) in this module,
    # or has a test named test_<property>_fires_... and one test_<property>_silent_... in
    # test_promise_properties.py
    text = Path(__file__).read_text()
    paired = set(re.findall(r'(?:fires|silent_on_liberty)\("([a-z-]+)"', text))
    promise = (Path(__file__).parent / "test_promise_properties.py").read_text()
    tests = set(re.findall(r"^def test_([a-z_]+?)_(fires|silent)_", promise, re.M))
    for name in PROPERTY_NAMES:
        u = name.replace("-", "_")
        if (u, "fires") in tests and (u, "silent") in tests:
            paired.add(name)
    assert paired == set(PROPERTY_NAMES)


def test_a_transition_check_skipped_by_its_triggers_would_have_found_nothing(tmp_path):
    # each transition property names the event kinds it can fire on; on ci-like runs every
    # skipped call must be one that finds nothing (run it anyway and compare)
    from nova_resize.checker.explicit.model import NovaModel
    from nova_resize.engine.core import Engine

    cfg = config(actions={**RESIZE, "revert_resize": 1, "delete": 1, "stop": 1},
                 faults={"driver": 1})
    model = NovaModel(Engine(cfg, LIBERTY))
    trans = [p for p in model.properties() if p.transition is not None]
    assert trans and all(p.triggers for p in trans)
    seen, level, skipped = set(), list(model.init_states()), 0
    while level and len(seen) < 3000:
        nxt = []
        for w in level:
            for a in model.actions(w):
                st = model.step(w, a)
                if st is None:
                    continue
                kinds = model.step_kinds(st)
                for p in trans:
                    if p.triggers.isdisjoint(kinds):
                        skipped += 1
                        assert p.transition(model, w, st) == [], (p.name, a)
                if st.state not in seen:
                    seen.add(st.state)
                    nxt.append(st.state)
        level = nxt
    assert skipped > 1000


def test_an_instance_without_a_flavor_is_a_finding_not_a_crash():
    # a broken variant can leave a live instance with no flavor (a mutant dropping
    # finish_resize's stash did): quota-usage-consistent reports the usage the quota still
    # holds for it instead of raising KeyError
    from nova_resize.checker.explicit.model import NovaModel
    from nova_resize.engine.core import Engine

    model = NovaModel(Engine(config(), LIBERTY))
    w = model.init_states()[0]
    broken = w._replace(instances=tuple(i._replace(flavor=None) for i in w.instances))
    keys = {v[0] for v in BY_NAME["quota-usage-consistent"].always(model, broken)}
    assert keys and all("over-counted" in k for k in keys), keys
