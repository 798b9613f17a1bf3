"""Scenario tests: an admin deletes a flavor while a resize uses it. Only the lookups by id see
the deletion (the resize's target, revert's reverse_upsize_quota_delta, the delete's
reservation during resize_migrated/resize_finish); the flavors stashed with the instance keep
everything else working."""

import re

import pytest
from conftest import cloud, config
from nova_resize.checker.explicit.world_json import world_json
from nova_resize.engine.actions import ApiRequest, from_json, to_json
from nova_resize.engine.core import Engine, describe

from nova_resize.errors import ConfigError


def run_until(c, predicate, limit=200):
    for _ in range(limit):
        if predicate(c):
            return
        if c.step() is None:
            break
    assert predicate(c), "condition never reached"


def resized(**kw):
    c = cloud(**kw)
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert c.instance("vm").vm_state == "resized"
    return c


def test_deleting_a_flavor_marks_it_deleted_once():
    # given a cloud
    c = cloud()
    before = c.world
    # when an admin deletes a flavor
    res = c.api.delete_flavor("medium")
    # then it is marked deleted in the database, and nothing else changed
    assert res.outcome == "accepted" and res.rows == ["api.delete_flavor.destroy"]
    assert c.world.deleted_flavors == frozenset({"medium"})
    assert c.world._replace(deleted_flavors=frozenset(), budgets=before.budgets) == before
    # and a second deletion does not find it
    again = c.api.delete_flavor("medium")
    assert again.outcome == "refused: FlavorNotFound (HTTP 404)"
    assert c.api.delete_flavor("nosuch").outcome == "refused: FlavorNotFound (HTTP 404)"


def test_a_resize_to_a_deleted_flavor_is_refused():
    c = cloud()
    c.api.delete_flavor("medium")
    before = c.world
    res = c.api.resize("vm", "medium")
    assert res.outcome == "refused: FlavorNotFound (HTTP 400)"
    assert c.world == before
    assert c.api.resize("vm", "large").outcome == "accepted"


def test_reverting_after_the_new_flavor_was_deleted_fails_bug_1570748():
    # given a resize to medium waiting for confirmation
    c = resized()
    # when an admin deletes medium and the user reverts
    c.api.delete_flavor("medium")
    before = c.world
    res = c.api.revert_resize("vm")
    # then reverse_upsize_quota_delta's Flavor.get_by_id raises: HTTP 400, before any save
    assert res.outcome == "refused: FlavorNotFound (HTTP 400)"
    assert res.rows == ["api.revert_resize.lookup", "api.revert_resize.old_flavor_found",
                        "api.revert_resize.new_flavor_not_found"]
    assert c.world == before
    # and confirming still works: it reads the stashed flavors only
    assert c.api.confirm_resize("vm").outcome == "accepted"
    c.run_until_quiescent()
    vm = c.instance("vm")
    assert (vm.vm_state, vm.task_state, vm.flavor) == ("active", None, "medium")
    assert c.quota_usage == {"instances": 1, "cores": 2, "ram": 2048}


def test_reverting_after_the_old_flavor_was_deleted_fails_too():
    c = resized()
    c.api.delete_flavor("small")
    res = c.api.revert_resize("vm")
    assert res.outcome == "refused: FlavorNotFound (HTTP 400)"
    assert res.rows == ["api.revert_resize.lookup", "api.revert_resize.old_flavor_not_found"]
    assert c.instance("vm").task_state is None


def test_a_resize_in_flight_finishes_after_its_flavors_are_deleted():
    # given a resize just requested
    c = cloud()
    c.api.resize("vm", "medium")
    # when an admin deletes both flavors meanwhile
    c.api.delete_flavor("medium")
    c.api.delete_flavor("small")
    c.run_until_quiescent()
    # then the resize finishes on the stashed copies, and so does the confirm
    assert c.instance("vm").vm_state == "resized"
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    assert (c.instance("vm").vm_state, c.instance("vm").flavor) == ("active", "medium")
    assert c.migration("vm").status == "confirmed"


def test_deleting_an_instance_whose_old_flavor_was_deleted_mid_resize_drifts_the_quota():
    # given a resize whose destination has switched the instance to the new flavor but not
    # committed the upsize (resize_migrated, migration post-migrating)
    c = cloud()
    c.api.resize("vm", "medium")
    run_until(c, lambda c: c.instance("vm").flavor == "medium")
    assert c.instance("vm").task_state == "resize_migrated"
    # when an admin deletes the old flavor and the user deletes the instance
    c.api.delete_flavor("small")
    c.api.delete("vm")
    # then get_inst_attrs_from_migration logs FlavorNotFound and the delete reserves the
    # current (new) flavor's cores and ram
    delete_r = c.reservations[-1]
    assert delete_r.row == "api.delete.old_flavor_not_found"
    assert dict(delete_r.deltas) == {"instances": -1, "cores": -2, "ram": -2048}
    c.run_until_quiescent()
    # the instance is gone, the upsize rolled back, and the project's usage is negative
    assert c.instance("vm").deleted
    assert c.quota_usage == {"instances": 0, "cores": -1, "ram": -1536}


def test_with_the_old_flavor_present_the_delete_reserves_it():
    c = cloud()
    c.api.resize("vm", "medium")
    run_until(c, lambda c: c.instance("vm").flavor == "medium")
    c.api.delete("vm")
    assert c.reservations[-1].row == "api.delete.reserve_old_flavor"
    c.run_until_quiescent()
    assert c.quota_usage == {"instances": 0, "cores": 0, "ram": 0}


def test_admin_requests_are_enumerated_described_and_serialised():
    cfg = config(actions={"delete_flavor": 1, "deletable_flavors": ["medium", "large"]})
    eng = Engine(cfg)
    w = eng.initial()
    admin = [a for a in eng.enabled(w) if isinstance(a, ApiRequest)]
    assert admin == [ApiRequest("delete_flavor", "", "medium"),
                     ApiRequest("delete_flavor", "", "large")]
    assert describe(w, admin[0]) == "admin: delete_flavor medium"
    assert from_json(to_json(admin[0])) == admin[0]
    w2 = eng.step(w, admin[0]).world
    assert dict(w2.budgets)["op:delete_flavor"] == 0
    assert world_json(w2)["deleted_flavors"] == ["medium"]
    assert eng.api_refusal(w2, "delete_flavor", "", "medium") == "FlavorNotFound (HTTP 404)"


def test_the_configuration_keys_are_checked():
    needed = "actions.deletable_flavors: expected at least one flavor when delete_flavor > 0"
    with pytest.raises(ConfigError, match=re.escape(needed)):
        config(actions={"delete_flavor": 1})
    with pytest.raises(ConfigError, match=re.escape("actions.deletable_flavors: expected "
                                                    "flavors among")):
        config(actions={"delete_flavor": 1, "deletable_flavors": ["nosuch"]})
    with pytest.raises(ConfigError, match=re.escape("actions.targets.delete_flavor: unknown "
                                                    "key")):
        config(actions={"delete_flavor": 1, "deletable_flavors": ["medium"],
                        "targets": {"delete_flavor": ["vm"]}})


def test_a_report_keeps_the_deletable_flavors_for_its_replay():
    from dataclasses import replace

    from nova_resize.checker.explicit.replay import config_data
    from nova_resize.engine.config import parse_config

    cfg = config(actions={"delete_flavor": 1, "deletable_flavors": ["medium"]})
    back = parse_config(config_data(cfg), "<data>", cfg.name)
    assert back.deletable_flavors == ("medium",)
    assert back == replace(cfg, source="<data>")
