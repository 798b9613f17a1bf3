"""Ported from nova 12.0.0 nova/tests/unit/compute/test_compute_api.py: what nova-api does for
resize, migrate, confirm, revert and the delete of a resized instance."""

from __future__ import annotations

from conftest import (
    FLAVORS,
    Oracle,
    arg,
    migration_of,
    nova,
    one,
    oracle,
    resized,
    resized_down,
)

API = "nova/tests/unit/compute/test_compute_api.py::ComputeAPIUnitTestCase::"



# ---- delete of a RESIZED instance --------------------------------------------------------------

@nova(API + "test_delete_in_resized")
def test_delete_of_a_resized_instance_confirms_first():
    # given an instance resized from medium down to small, waiting for confirmation on host2
    o = resized_down()
    start = o.mark()
    # when the user deletes it
    o.api.delete("vm")
    # then nova-api first set task_state deleting with a save that expects nothing
    save = one(o.saves(start))
    assert (save.row, save.guard, save.after) == ("api.delete.set_deleting", None,
                                                  ("resized", "deleting"))
    # and reserved the delete (one instance less, the current flavor's cores and ram), then
    # the downsize for the confirm, in that order
    delete_r, downsize_r = o.reservations[-2:]
    assert dict(delete_r.deltas) == {"instances": -1, "cores": -1, "ram": -512}
    assert dict(downsize_r.deltas) == {"cores": -1, "ram": -1536}
    # and called (not cast) confirm_resize on the migration's source, with the downsize
    call = one(o.sent(start))
    assert (call.kind, call.method, call.target) == ("call", "confirm_resize",
                                                     migration_of(o).source_compute)
    assert arg(call, "reservations") == (downsize_r.id,)
    # when the confirm returns
    o.deliver("confirm_resize")
    after_confirm = o.mark()
    o.run_until("compute.confirm_resize.commit")
    while any(f.service == "api" for f in o.world.frames):
        o.run(service="api")
    # then nova-api casts terminate_instance to the instance's host with the delete's
    # reservation
    cast = one(m for m in o.sent(after_confirm) if m.method == "terminate_instance")
    assert (cast.kind, cast.target) == ("cast", o.instance("vm").host)
    assert arg(cast, "reservations") == (delete_r.id,)


# ---- confirm ---------------------------------------------------------------------------------

def _api_confirm(o: Oracle, start: int) -> None:
    # then the downsize was reserved, the migration saved as 'confirming' (no instance save)
    # and confirm_resize cast to the migration's source host with that reservation
    downsize = o.reservations[-1]
    assert (downsize.row, downsize.status) == ("api.confirm_resize.reserve_downsize", "pending")
    assert o.migration_writes(start) == [("api.confirm_resize.confirming", "finished",
                                          "confirming")]
    assert o.saves(start) == []
    cast = one(o.sent(start))
    assert (cast.kind, cast.method, cast.target) == ("cast", "confirm_resize", "host1")
    assert arg(cast, "reservations") == (downsize.id,)
    rows = o.rows_since(start)
    assert rows.index("api.confirm_resize.reserve_downsize") < rows.index(
        "api.confirm_resize.confirming")


@nova(API + "test_confirm_resize")
def test_confirm_resize():
    # given a resize waiting for confirmation
    o = resized_down()
    start = o.mark()
    # when the user confirms
    assert o.api.confirm_resize("vm").outcome == "accepted"
    # then nova-api looked the migration up by status 'finished'
    assert "api.confirm_resize.lookup" in o.rows_since(start)
    _api_confirm(o, start)


@nova(API + "test_confirm_resize_with_migration_ref")
def test_confirm_resize_with_the_migration_given():
    # given a resize waiting for confirmation past resize_confirm_window
    o = oracle(flavor="medium", options={"resize_confirm_window": 60})
    o.api.resize("vm", "small")
    o.run_until_quiescent()
    start = o.mark()
    # when the periodic task confirms it, passing the migration to API.confirm_resize
    o.periodic("poll_unconfirmed_resizes", "host2", migration_of(o).id)
    while any(f.method == "poll_unconfirmed_resizes" for f in o.world.frames):
        o.run("poll_unconfirmed_resizes")
    # then nova-api did not look the migration up
    rows = o.rows_since(start)
    assert "api.confirm_resize.migration_given" in rows
    assert "api.confirm_resize.lookup" not in rows
    _api_confirm(o, start)


# ---- revert ----------------------------------------------------------------------------------

@nova(API + "test_revert_resize")
def test_revert_resize():
    # given a resize from small to medium waiting for confirmation
    o = resized()
    start = o.mark()
    # when the user reverts
    assert o.api.revert_resize("vm").outcome == "accepted"
    # then the reverse upsize (read from the migration) was reserved first
    rev = o.reservations[-1]
    assert rev.row == "api.revert_resize.reserve_reverse_upsize"
    assert dict(rev.deltas) == {"cores": -1, "ram": -1536}
    # then the instance saved resize_reverting, expecting task_state None
    save = one(o.saves(start))
    assert (save.guard, save.after) == ((None,), ("resized", "resize_reverting"))
    # then the migration saved as 'reverting'
    assert o.migration_writes(start) == [("api.revert_resize.reverting", "finished",
                                          "reverting")]
    # and revert_resize cast to the migration's destination with the reservation
    cast = one(o.sent(start))
    assert (cast.kind, cast.method, cast.target) == ("cast", "revert_resize", "host2")
    assert arg(cast, "reservations") == (rev.id,)
    rows = o.rows_since(start)
    assert (rows.index("api.revert_resize.reserve_reverse_upsize")
            < rows.index("api.revert_resize.save") < rows.index("api.revert_resize.reverting"))


@nova(API + "test_revert_resize_concurrent_fail")
def test_revert_resize_losing_a_race_rolls_back():
    # given two revert requests for the same RESIZED instance, both past the API's state check
    o = resized()
    o.do(("api", "revert_resize", "vm", None))
    o.do(("api", "revert_resize", "vm", None))
    first, second = sorted(f.id for f in o.world.frames if f.service == "api")
    # when the first one completes
    while any(f.id == first for f in o.world.frames):
        o.do(("run", first, 0))
    assert o.instance("vm").task_state == "resize_reverting"
    start = o.mark()
    # and the second one goes on
    while any(f.id == second for f in o.world.frames):
        o.do(("run", second, 0))
    # then its save expecting task_state None fails on resize_reverting ...
    end = one(e for e in o.ends(start) if e.method == "revert_resize")
    assert (end.ok, end.exc) == (False, "UnexpectedTaskStateError")
    # ... and its reservation is rolled back; the first one's stays pending
    assert o.reservation_states()[-2:] == ["pending", "rolled_back"]
    assert "api.revert_resize.except.rollback" in o.rows_since(start)
    # and only one revert_resize was cast
    assert [m.method for m in o.world.messages] == ["revert_resize"]


# ---- resize and migrate ----------------------------------------------------------------------

def _resize_request(flavor: str | None, allow_same_host: bool) -> None:
    # given an ACTIVE instance on host1
    o = oracle(options={"allow_resize_to_same_host": allow_same_host})
    start = o.mark()
    # when a resize (flavor given) or a migrate (no flavor) is requested
    if flavor is None:
        assert o.api.migrate("vm").outcome == "accepted"
    else:
        assert o.api.resize("vm", flavor).outcome == "accepted"
    # then a resize reserves the upsize before the save, a migrate reserves nothing
    if flavor is None:
        assert o.reservations == ()
    else:
        assert one(o.reservations).row == "api.resize.reserve_upsize"
        rows = o.rows_since(start)
        assert rows.index("api.resize.reserve_upsize") < rows.index(next(
            r for r in rows if r.startswith("api.resize.save")))
    # and the instance is saved with task_state resize_prep, expecting None
    save = one(o.saves(start))
    assert (save.guard, save.after) == ((None,), ("active", "resize_prep"))
    # and the conductor is called with the flavor (the current one for a migrate), the
    # reservations, and the instance's host to ignore unless allow_resize_to_same_host
    call = one(o.sent(start))
    assert (call.kind, call.method, call.target) == ("call", "migrate_server", "conductor")
    assert arg(call, "flavor") == (flavor or "small")
    expected_resv = () if flavor is None else (o.reservations[0].id,)
    assert tuple(arg(call, "reservations") or ()) == expected_resv
    ignored = arg(call, "ignore_hosts")
    assert ignored == (None if allow_same_host else "host1")


@nova(API + "test_resize", API + "test_resize_same_host_and_not_allowed")
def test_resize():
    _resize_request("medium", allow_same_host=False)


@nova(API + "test_resize_same_host_and_allowed")
def test_resize_same_host_allowed():
    _resize_request("medium", allow_same_host=True)


@nova(API + "test_migrate", API + "test_migrate_same_host_and_not_allowed")
def test_migrate():
    _resize_request(None, allow_same_host=False)


@nova(API + "test_migrate_same_host_and_allowed")
def test_migrate_same_host_allowed():
    _resize_request(None, allow_same_host=True)


def _refused(o: Oracle, flavor: str, exc: str) -> None:
    start = o.mark()
    res = o.api.resize("vm", flavor)
    # then the request is refused with exc, before any save, reservation or message
    assert res.outcome is not None and res.outcome.startswith(f"refused: {exc}")
    assert o.saves(start) == []
    assert o.reservations == ()
    assert o.quota_reserved == {"instances": 0, "cores": 0, "ram": 0}
    assert o.world.messages == ()
    assert o.instance("vm").task_state is None


@nova(API + "test_resize_invalid_flavor_fails")
def test_resize_to_an_unknown_flavor():
    _refused(oracle(), "no-such-flavor", "FlavorNotFound")


@nova(API + "test_resize_disabled_flavor_fails")
def test_resize_to_a_disabled_flavor():
    _refused(oracle(), "retired", "FlavorNotFound")


@nova(API + "test_resize_to_zero_disk_flavor_fails")
def test_resize_to_a_zero_disk_flavor():
    # given an image-backed instance (nova: is_volume_backed_instance is False)
    _refused(oracle(), "nodisk", "CannotResizeDisk")


@nova(API + "test_resize_same_flavor_fails")
def test_resize_to_the_same_flavor():
    _refused(oracle(), "small", "CannotResizeToSameFlavor")


@nova(API + "test_resize_quota_exceeds_fails")
def test_resize_over_quota():
    # given a cores quota the upsize would pass
    _refused(oracle(quota={"cores": 1}), "medium", "TooManyInstances")


@nova(API + "test_resize_instance_quota_exceeds_with_multiple_resources")
def test_resize_over_quota_on_cores_and_ram():
    # given quotas of 1 core and 512 MB, both used, and a flavor that needs 2 and 1024 more
    triple = {"name": "triple", "id": 9, "vcpus": 3, "memory_mb": 1536, "root_gb": 10}
    o = oracle(quota={"cores": 1, "ram": 512}, flavors=[*FLAVORS, triple])
    assert (o.quota_usage["cores"], o.quota_usage["ram"]) == (1, 512)
    # then the resize is refused with TooManyInstances (the facade's outcome does not carry
    # nova's overs/req/used/allowed detail)
    _refused(o, "triple", "TooManyInstances")
