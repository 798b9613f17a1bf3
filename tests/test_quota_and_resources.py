"""Quota reservations (limits, deltas, commit and rollback) and the scheduler's view of host
resources, as scenarios on a small cloud: flavors small (1 vCPU, 512 MB, 10 GB), medium (2,
2048, 20) and large (4, 4096, 40); the instance ``vm`` starts small on host1."""

from __future__ import annotations

import pytest
from conftest import FLAVORS, cloud
from nova_resize.engine import quota
from nova_resize.engine.actions import Periodic
from nova_resize.engine.config import parse_config
from nova_resize.engine.facade import Cloud
from nova_resize.engine.tx import NovaError, Tx
from nova_resize.engine.world import Reservation

NOTHING = {"instances": 0, "cores": 0, "ram": 0}


def cloud_on(hosts: list[dict]) -> Cloud:
    """``vm`` (small) on host1 of ``hosts``."""
    return Cloud.from_config(parse_config({
        "flavors": FLAVORS, "hosts": hosts,
        "instances": [{"name": "vm", "host": "host1", "flavor": "small"}],
    }, "<test>", "test"))


# ---- limits ----------------------------------------------------------------------------------


def test_given_a_cores_limit_when_an_upsize_would_pass_it_then_the_api_refuses_it():
    c = cloud(quota={"cores": 2})
    res = c.api.resize("vm", "large")  # 1 -> 4 cores
    assert res.outcome == "refused: TooManyInstances (HTTP 403)"
    assert "api.resize.except.over_quota" in res.rows
    assert c.quota_reserved == NOTHING and c.reservations == ()
    assert c.instance("vm").task_state is None


def test_given_a_cores_limit_when_an_upsize_reaches_it_exactly_then_it_is_accepted():
    c = cloud(quota={"cores": 2})
    assert c.api.resize("vm", "medium").outcome == "accepted"  # 1 -> 2 cores: at the limit
    assert c.quota_reserved == {"instances": 0, "cores": 1, "ram": 1536}


def test_given_a_ram_limit_then_ram_is_checked_too():
    c = cloud(quota={"ram": 2047})
    assert c.api.resize("vm", "medium").outcome == "refused: TooManyInstances (HTTP 403)"
    c = cloud(quota={"ram": 2048})
    assert c.api.resize("vm", "medium").outcome == "accepted"


def test_given_no_limit_or_minus_one_then_any_upsize_is_accepted():
    for q in ({}, {"cores": -1, "ram": -1}):
        c = cloud(quota=q)
        assert c.api.resize("vm", "large").outcome == "accepted"


def test_given_other_reservations_pending_then_the_limit_counts_them():
    # two instances at 1 core each, limit 4: the first upsize reserves 1, the second's 1 more
    # fits (1 + 1 + 1 + 1 = 4), a third core would not
    c = cloud(instances=2, quota={"cores": 4})
    assert c.api.resize("vm", "medium").outcome == "accepted"
    assert c.api.resize("vm2", "medium").outcome == "accepted"
    assert c.quota_reserved["cores"] == 2
    c = cloud(instances=2, quota={"cores": 4})
    assert c.api.resize("vm", "medium").outcome == "accepted"
    assert c.api.resize("vm2", "large").outcome == "refused: TooManyInstances (HTTP 403)"


# ---- deltas, commit, rollback -------------------------------------------------------------------


def test_given_an_upsize_then_the_delta_is_reserved_and_becomes_usage_when_it_finishes():
    c = cloud()
    c.api.resize("vm", "medium")
    (r,) = c.reservations
    assert (r.deltas, r.status) == ((("cores", 1), ("ram", 1536)), "pending")
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}
    c.run_until_quiescent()
    assert c.reservations[0].status == "committed"
    assert c.quota_usage == {"instances": 1, "cores": 2, "ram": 2048}
    assert c.quota_reserved == NOTHING


def test_given_an_upsize_reverted_then_usage_returns_to_the_old_flavor():
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.revert_resize("vm")
    c.run_until_quiescent()
    assert [(r.row, r.deltas, r.status) for r in c.reservations][1] == (
        "api.revert_resize.reserve_reverse_upsize", (("cores", -1), ("ram", -1536)),
        "committed")
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}
    assert c.quota_reserved == NOTHING


def test_given_a_downsize_then_nothing_is_reserved_until_the_confirm_frees_the_difference():
    c = cloud(flavor="medium")
    c.api.resize("vm", "small")
    c.run_until_quiescent()
    assert c.reservations == ()
    assert c.quota_usage == {"instances": 1, "cores": 2, "ram": 2048}
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    (r,) = c.reservations
    assert (r.row, r.deltas, r.status) == ("api.confirm_resize.reserve_downsize",
                                           (("cores", -1), ("ram", -1536)), "committed")
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}


def test_given_a_delete_then_the_instance_and_its_flavor_leave_the_usage():
    c = cloud(flavor="medium")
    c.api.delete("vm")
    c.run_until_quiescent()
    assert c.quota_usage == NOTHING and c.quota_reserved == NOTHING
    deltas = [r.deltas for r in c.reservations]
    assert deltas == [(("instances", -1), ("cores", -2), ("ram", -2048))]


def _tx_with(*reservations: Reservation, reserved=(0, 1, 1536)) -> Tx:
    tx = Tx.of(cloud().world)
    for r in reservations:
        tx.reservations[r.id] = r
    tx.reserved = list(reserved)
    return tx


def test_a_pending_reservation_resolves_once_and_a_second_resolution_is_a_conflict_or_nothing():
    r = Reservation("vm/00", (("cores", 1), ("ram", 1536)), "pending", "api.resize.reserve")
    tx = _tx_with(r)
    quota.resolve(tx, ("vm/00",), True, "first")
    assert tx.reservations["vm/00"].status == "committed"
    assert tx.in_use == [1, 2, 2048] and tx.reserved == [0, 0, 0]
    # committing again finds nothing to do: no change, no conflict
    quota.resolve(tx, ("vm/00",), True, "again")
    assert tx.in_use == [1, 2, 2048] and not tx.events
    # rolling it back now is a conflict (it was committed), and changes nothing
    quota.resolve(tx, ("vm/00",), False, "late")
    assert [(e.kind, e.row, e.data) for e in tx.events] == [
        ("quota_conflict", "late", ("vm/00", "committed", "rolled_back"))]
    assert tx.in_use == [1, 2, 2048] and tx.reserved == [0, 0, 0]


def test_a_rollback_frees_the_reserved_amount_and_leaves_usage():
    r = Reservation("vm/00", (("cores", 1), ("ram", 1536)), "pending", "api.resize.reserve")
    tx = _tx_with(r)
    quota.resolve(tx, ("vm/00",), False, "rollback")
    assert tx.reservations["vm/00"].status == "rolled_back"
    assert tx.in_use == [1, 1, 512] and tx.reserved == [0, 0, 0]
    quota.resolve(tx, None, True, "nothing")  # no reservation to resolve
    assert tx.reservations["vm/00"].status == "rolled_back"


def test_a_negative_delta_is_never_reserved_and_is_used_only_on_commit():
    r = Reservation("vm/00", (("cores", -1), ("ram", -1536)), "pending", "api.revert")
    tx = _tx_with(r, reserved=(0, 0, 0))
    quota.resolve(tx, ("vm/00",), True, "commit")
    assert tx.in_use == [1, 0, -1024] and tx.reserved == [0, 0, 0]


def test_quota_deltas_of_a_missing_flavor_raise_type_error_as_nova_does():
    c = cloud()
    tb = c.engine.tables
    spec = next(iter(tb.quota_deltas.values()))
    with pytest.raises(NovaError, match="TypeError"):
        quota.deltas(tb, spec, None, "small")


# ---- the scheduler's and the claim's view of a host ------------------------------------------


def test_given_a_destination_with_exactly_the_room_needed_then_the_resize_goes_there():
    c = cloud(host_ram=2048)  # host2 empty: 2048 MB free, medium needs 2048
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert (c.instance("vm").vm_state, c.instance("vm").host) == ("resized", "host2")
    assert c.host("host2").usage == (2, 2048, 20)


def test_given_a_destination_one_mb_short_then_no_valid_host_and_the_instance_stays():
    c = cloud(host_ram=2047)
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    inst = c.instance("vm")
    assert (inst.vm_state, inst.task_state, inst.host, inst.flavor) == ("active", None, "host1",
                                                                        "small")
    assert "conductor.cold_migrate.no_valid_host" in c.rows()
    assert c.quota_reserved == NOTHING


def test_given_the_only_other_host_is_down_then_no_valid_host():
    c = cloud_on([{"name": "host1", "vcpus": 16, "memory_mb": 8192, "disk_gb": 200},
                  {"name": "host2", "vcpus": 16, "memory_mb": 8192, "disk_gb": 200,
                   "up": False}])
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert c.instance("vm").host == "host1"
    assert "conductor.cold_migrate.no_valid_host" in c.rows()


def test_given_two_candidates_then_the_scheduler_offers_both_in_name_order():
    c = cloud(hosts=3)
    engine = c.engine
    c.api.resize("vm", "medium")
    c.deliver("migrate_server")
    tx = Tx.of(c.world)
    assert engine.resources.candidates(tx, "medium", ("host1",), ()) == ["host2", "host3"]
    assert engine.resources.candidates(tx, "medium", ("host1",), ("host2",)) == ["host3"]
    assert engine.resources.candidates(tx, "medium", "host1", ()) == ["host2", "host3"]


def test_given_a_disk_too_small_then_the_host_does_not_fit():
    c = cloud_on([{"name": "host1", "vcpus": 16, "memory_mb": 8192, "disk_gb": 200},
                  {"name": "host2", "vcpus": 16, "memory_mb": 8192, "disk_gb": 19}])
    tx = Tx.of(c.world)
    res = c.engine.resources
    assert not res.fits(tx, "medium", "host2")  # 20 GB root disk
    assert res.fits(tx, "small", "host2")
    assert not res.fits(tx, "small", "nowhere")


def test_given_a_confirmed_resize_when_the_source_is_audited_then_it_counts_nothing():
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    assert c.host("host2").usage == (2, 2048, 20)
    c.do(Periodic("update_available_resource", "host1"))
    h1 = c.host("host1")
    assert (h1.usage, h1.tracked_instances, h1.tracked_migrations) == ((0, 0, 0), frozenset(),
                                                                       frozenset())
    c.do(Periodic("update_available_resource", "host2"))
    h2 = c.host("host2")
    assert (h2.usage, h2.tracked_instances) == ((2, 2048, 20), frozenset({"vm"}))


def test_given_a_resize_awaiting_confirmation_when_audited_then_each_host_holds_its_flavor():
    c = cloud()
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    for h in ("host1", "host2"):
        c.do(Periodic("update_available_resource", h))
    # the source keeps the old flavor for a revert, the destination holds the new one
    assert c.host("host1").usage == (1, 512, 10)
    assert c.host("host2").usage == (2, 2048, 20)


def test_given_two_resizes_then_each_source_audit_counts_its_outbound_migration():
    # given vm resized from host1 to host2 and vm2 from host3 to host1 (both RESIZED): the
    # migrations in creation order are vm#00 (host1 -> host2) then vm2#00 (host3 -> host1)
    from nova_resize.engine.config import parse_config
    from nova_resize.engine.facade import Cloud

    data = {
        "flavors": FLAVORS,
        "hosts": [{"name": f"host{i}", "vcpus": 16, "memory_mb": 3000, "disk_gb": 200}
                  for i in (1, 2, 3)],
        "instances": [{"name": "vm", "host": "host1", "flavor": "small"},
                      {"name": "vm2", "host": "host3", "flavor": "small"}],
    }
    c = Cloud.from_config(parse_config(data, "<test>", "test"))
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    c.api.resize("vm2", "medium")
    c.run_until_quiescent()
    migs = {m.instance: m for m in c.world.migrations}
    assert (migs["vm"].source_compute, migs["vm"].dest_compute) == ("host1", "host2")
    assert (migs["vm2"].source_compute, migs["vm2"].dest_compute) == ("host3", "host1")
    # when host3 audits
    c.periodic("update_available_resource", "host3")
    # then it keeps the old flavor of the instance that left it, for a revert (outbound and not
    # tracked as an instance): the audit passes over vm#00, which is not host3's, and goes on
    assert {mid for _, _, mid in c.host("host3").tracked_migrations} == {migs["vm2"].id}
    assert c.host("host3").usage == (1, 512, 10)
