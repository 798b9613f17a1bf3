"""Scenarios about the object semantics the tables rely on and the races their guards decide:
Migration.save writes only what the handler changed; a revert that loses the race to another
revert is refused by its guarded save and rolls its reservation back; confirm's save of a stopped
instance accepts a delete in progress; the automatic confirm errors a finished migration whose
instance is no longer resized.

Each test reads given / when / then; each would fail if the rule it names were broken."""

from __future__ import annotations

import pytest
from conftest import cloud
from nova_resize.engine import effects
from nova_resize.engine.actions import ApiRequest, Periodic, Run
from nova_resize.engine.tx import Tx, WFrame
from nova_resize.spec import LIBERTY
from nova_resize.spec import model as m


def _resized(**kw):
    """A cloud whose instance ``vm`` was resized small -> medium and awaits confirmation."""
    c = cloud(**kw)
    assert c.api.resize("vm", "medium").outcome == "accepted"
    c.run_until_quiescent()
    assert c.instance("vm").vm_state == "resized"
    return c


def _frame(fid, inst, mig):
    return WFrame(fid, "host1", "m", "h", "l", inst, set(), inst.task_state, mig, set(), {},
                  None, None, None, False, None, False)


# ---- Migration.save ---------------------------------------------------------------------------


def test_given_two_copies_of_a_migration_when_each_saves_another_field_then_both_writes_stay():
    # given: two handlers read the same finished migration
    c = _resized()
    tb, tx = c.engine.tables, Tx.of(c.world)
    mig = c.migration("vm")
    inst = c.instance("vm")
    first, second = _frame("vm.8", inst, mig), _frame("vm.9", inst, mig)
    row = LIBERTY.row("api.revert_resize.reverting")
    # when: the first sets the status and saves, then the second, still holding the old copy,
    # sets dest_compute and saves
    effects.apply(tb, tx, first, m.Set("migration", "status", "reverting"), row)
    effects.apply(tb, tx, first, m.SaveMigration(), row)
    effects.apply(tb, tx, second, m.Set("migration", "dest_compute", "host1"), row)
    effects.apply(tb, tx, second, m.SaveMigration(), row)
    # then: the row has both changes: a save writes only the fields its handler changed
    db = tx.migrations[mig.id]
    assert (db.status, db.dest_compute) == ("reverting", "host1")
    # and the saving handler's copy is refreshed from the row, its dirty set emptied
    assert second.migration == db and not second.mig_dirty
    writes = [e.data for e in tx.events if e.kind == "migration_write"]
    assert [w[1].status for w in writes] == ["reverting", "reverting"]


def test_given_no_change_when_a_migration_is_saved_then_nothing_is_written():
    c = _resized()
    tb, tx = c.engine.tables, Tx.of(c.world)
    mig = c.migration("vm")
    fr = _frame("vm.8", c.instance("vm"), mig._replace(status="stale-copy"))
    effects.apply(tb, tx, fr, m.SaveMigration(), LIBERTY.row("api.revert_resize.reverting"))
    assert tx.migrations[mig.id] == mig
    assert not [e for e in tx.events if e.kind == "migration_write"]
    assert fr.migration == mig  # the copy is the row again


# ---- two reverts racing -------------------------------------------------------------------------


def _two_reverts_racing():
    """Two revert requests read the resized instance before either saves; then each runs."""
    c = _resized()
    first = c.do(ApiRequest("revert_resize", "vm"))
    second = c.do(ApiRequest("revert_resize", "vm"))
    # each reads the 'finished' migration (and, at 12.0.0, the old flavor) before either saves
    assert first.rows == second.rows and first.rows[0] == "api.revert_resize.lookup"
    assert not any(r.endswith((".save", ".reverting")) for r in first.rows)
    outcomes = {}
    for _ in range(10):
        api = [f for f in c.world.frames if f.service == "api"]
        if not api:
            break
        for f in api:
            res = c.do(Run(f.id, 0))
            if res.outcome is not None:
                outcomes[f.id] = (res.outcome, res.rows)
    return c, outcomes


def test_given_two_reverts_racing_then_the_second_save_is_refused_by_its_guard():
    c, outcomes = _two_reverts_racing()
    # then: one revert goes on, the other's save(expected_task_state=[None]) fails
    assert sorted(o for o, _ in outcomes.values()) == ["accepted",
                                                       "error: UnexpectedTaskStateError"]
    # exactly one revert_resize is cast to the destination
    assert [(msg.method, msg.target) for msg in c.world.messages] == [("revert_resize",
                                                                       "host2")]
    inst = c.instance("vm")
    assert (inst.vm_state, inst.task_state) == ("resized", "resize_reverting")
    assert c.migration("vm").status == "reverting"


def test_given_two_reverts_racing_then_the_refused_one_rolls_its_reservation_back():
    c, outcomes = _two_reverts_racing()
    refused = next(rows for o, rows in outcomes.values() if o.startswith("error"))
    assert refused == ["api.revert_resize.except.rollback"]
    by_row = [(r.row, r.status) for r in c.reservations]
    # the resize's reservation was committed by finish_resize; of the two reverse-upsize
    # reservations, the winner's waits for finish_revert_resize, the loser's is rolled back
    assert by_row == [("api.resize.reserve_upsize", "committed"),
                      ("api.revert_resize.reserve_reverse_upsize", "pending"),
                      ("api.revert_resize.reserve_reverse_upsize", "rolled_back")]
    # when the winning revert completes, nothing is left pending
    c.run_until_quiescent()
    assert [r.status for r in c.reservations] == ["committed", "committed", "rolled_back"]
    assert c.instance("vm").flavor == "small"
    assert c.quota_usage == {"instances": 1, "cores": 1, "ram": 512}
    assert c.quota_reserved == {"instances": 0, "cores": 0, "ram": 0}


# ---- confirm of a stopped instance while a delete is in progress -------------------------------


def test_given_a_stopped_resized_instance_being_deleted_when_confirm_saves_it_accepts_deleting():
    # given: a stopped instance resized, the user confirms, then deletes before the confirm runs
    c = _resized(vm_state="stopped")
    assert c.api.confirm_resize("vm").outcome == "accepted"
    assert c.api.delete("vm").outcome == "accepted"
    assert c.instance("vm").task_state == "deleting"
    # when: the first confirm_resize runs on the source
    c.deliver("confirm_resize")
    rows, events = [], []
    while any(f.method == "confirm_resize" for f in c.world.frames):
        res = c.run("confirm_resize")
        rows += res.rows
        events += res.events
    # then: its save (expected_task_state=[None, deleting]) goes through: the instance is
    # stopped again, with no refused guard on the way
    assert "compute.confirm_resize.save_stopped" in rows
    assert "compute.confirm_resize.commit" in rows
    assert not [e for e in events if e.kind == "guard_refused"]
    inst = c.instance("vm")
    assert (inst.vm_state, inst.flavor, inst.old_flavor) == ("stopped", "medium", None)


# ---- the automatic confirm --------------------------------------------------------------------


def _auto_confirm(c, mig_id):
    """The destination's _poll_unconfirmed_resizes for one migration, run to its end."""
    res = c.do(Periodic("poll_unconfirmed_resizes", "host2", mig_id))
    rows = list(res.rows)
    while any(f.method == "poll_unconfirmed_resizes" for f in c.world.frames):
        res = c.run("poll_unconfirmed_resizes")
        rows += res.rows
    res.rows = rows
    return res


def test_given_a_finished_migration_of_an_active_instance_when_auto_confirm_runs_then_it_errors():
    # given: a finished migration whose instance is active again (no longer awaiting a confirm)
    c = _resized()
    mig = c.migration("vm")
    inst = c.instance("vm")._replace(vm_state="active")
    c.world = c.world._replace(instances=(inst,))
    # when: the destination's periodic task looks at it
    res = _auto_confirm(c, mig.id)
    # then: the migration is set to error (not confirmed, not failed)
    assert "compute.poll_unconfirmed_resizes.not_resized" in res.rows
    assert c.migration("vm").status == "error"
    assert c.instance("vm").vm_state == "active"
    assert not c.world.messages


def test_given_a_finished_migration_of_an_errored_instance_when_auto_confirm_runs_then_it_errors():
    c = _resized()
    mig = c.migration("vm")
    c.world = c.world._replace(instances=(c.instance("vm")._replace(vm_state="error"),))
    res = _auto_confirm(c, mig.id)
    assert "compute.poll_unconfirmed_resizes.instance_error" in res.rows
    assert c.migration("vm").status == "error"


def test_given_an_instance_being_deleted_when_auto_confirm_runs_then_it_skips_the_migration():
    c = _resized()
    mig = c.migration("vm")
    c.world = c.world._replace(instances=(c.instance("vm")._replace(task_state="deleting"),))
    res = _auto_confirm(c, mig.id)
    assert "compute.poll_unconfirmed_resizes.busy" in res.rows
    assert c.migration("vm").status == "finished"


# ---- the instance lock on a compute host ------------------------------------------------------


def test_given_a_stop_holding_the_instance_lock_when_a_terminate_arrives_then_it_waits():
    # given: a stop and a delete accepted; the stop runs first on host1 and takes the lock
    c = cloud()
    assert c.api.stop("vm").outcome == "accepted"
    assert c.api.delete("vm").outcome == "accepted"
    c.deliver("stop_instance")
    (stop,) = c.world.frames
    assert stop.lock
    # when: terminate_instance reaches host1
    c.deliver("terminate_instance")
    term = next(f for f in c.world.frames if f.method == "terminate_instance")
    # then: only the stop can go on; terminate waits at its lock
    runs = [a for a in c.engine.enabled(c.world) if isinstance(a, Run)]
    assert runs == [Run(stop.id, 0)]
    # and once the stop has finished, the terminate takes the lock and runs
    while any(f.method == "stop_instance" for f in c.world.frames):
        c.run("stop_instance")
    assert Run(term.id, 0) in c.engine.enabled(c.world)
    res = c.run("terminate_instance")
    assert res.rows == ["compute.terminate_instance.lock"] or \
        res.rows[0] == "compute.terminate_instance.lock"
    assert next(f for f in c.world.frames if f.method == "terminate_instance").lock


# ---- the hypervisor's files: <path> and <path>_resize -----------------------------------------


def _host_files(disks, resize_disks, running=(), lives_on="host1"):
    """``vm``'s files on host1, and host1's files after a driver effect run there."""
    c = cloud()
    tb, tx = c.engine.tables, Tx.of(c.world)
    h = tx.host("host1")
    tx.set_host(h._replace(disks=frozenset(disks), resize_disks=frozenset(resize_disks),
                           running=frozenset(running)))
    fr = _frame("vm.8", c.instance("vm")._replace(host=lives_on), None)

    def after(op, **kw):
        effects.apply(tb, tx, fr, m.Driver(op, **kw), LIBERTY.rows[0])
        h = tx.host("host1")
        return sorted(h.disks), sorted(h.resize_disks), sorted(h.running)
    return after


def test_deleting_instance_files_removes_the_path_first_then_the_resize_copy():
    after = _host_files({"vm"}, {"vm"})
    assert after("delete_files") == ([], ["vm"], [])  # one of the two per call
    assert after("delete_files") == ([], [], [])
    assert after("delete_files") == ([], [], [])  # nothing left: nothing happens


def test_destroying_a_guest_stops_it_and_deletes_its_files_unless_asked_to_keep_them():
    after = _host_files({"vm"}, set(), running={"vm"})
    assert after("destroy_guest", keep_disk=True) == (["vm"], [], [])
    after = _host_files({"vm"}, set(), running={"vm"})
    assert after("destroy_guest") == ([], [], [])
    after = _host_files(set(), set(), running={"vm"})
    assert after("destroy_guest") == ([], [], [])


def test_restoring_the_resize_copy_moves_it_back_only_when_it_exists():
    after = _host_files(set(), {"vm"})
    assert after("restore_resize_copy") == (["vm"], [], [])
    after = _host_files({"vm"}, set())
    assert after("restore_resize_copy") == (["vm"], [], [])


def test_cleaning_up_a_resize_removes_the_copy_and_the_guest_of_an_instance_living_elsewhere():
    after = _host_files({"vm"}, {"vm"}, running={"vm"})
    # the instance lives on host1 (the frame's copy says so): a same-host resize keeps its guest
    assert after("cleanup_resize") == (["vm"], [], ["vm"])
    after = _host_files(set(), {"vm"}, running={"vm"}, lives_on="host2")
    assert after("cleanup_resize") == ([], [], [])


def test_given_two_migrations_when_the_older_is_saved_then_it_becomes_the_most_recently_updated():
    # given: a resize confirmed, then a second resize: two migrations of vm
    c = _resized()
    c.api.confirm_resize("vm")
    c.run_until_quiescent()
    c.api.resize("vm", "large")
    c.run_until_quiescent()
    old, new = c.migrations("vm")
    assert new.updated_at is not None and old.updated_at is not None
    assert new.updated_at > old.updated_at  # the second one was written last
    # when: a handler holding the first one changes it and saves
    tb, tx = c.engine.tables, Tx.of(c.world)
    fr = _frame("vm.8", c.instance("vm"), old)
    row = LIBERTY.row("api.revert_resize.reverting")
    effects.apply(tb, tx, fr, m.Set("migration", "status", "error"), row)
    effects.apply(tb, tx, fr, m.SaveMigration(), row)
    # then: it is now the most recently updated; the order is all the ranks keep
    first, second = tx.migrations[old.id], tx.migrations[new.id]
    assert first.updated_at > second.updated_at
    assert sorted([first.updated_at, second.updated_at]) == [1, 2]


def test_destroying_a_disk_removes_the_path_and_leaves_the_resize_copy():
    after = _host_files({"vm"}, {"vm"}, running={"vm"})
    assert after("destroy_disk") == ([], ["vm"], ["vm"])
    from nova_resize.errors import SpecError

    with pytest.raises(SpecError, match="unknown driver op"):
        after("reboot")
