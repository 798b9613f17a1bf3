"""References and conditions as the engine resolves them (``db.*`` against the database, the
handler's copy otherwise; comparisons false when either side is None, in the engine and in the
BMC's mirror alike), and the variant overlays users write: ``[[move_quota]]``, ``[[add]]``,
``[[validation]]``, condition literals, and the shipped seed-smaller-disk variant."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import z3
from conftest import cloud, config
from nova_resize.checker.symbolic.bmc import Encoding
from nova_resize.checker.symbolic.bmc.atoms import Path as SymPath
from nova_resize.checker.variants import apply_variant, apply_variant_text, parse_cond
from nova_resize.engine.facade import Cloud
from nova_resize.engine.presets import load_preset
from nova_resize.engine.refs import compile_cond, holds, resolve, value
from nova_resize.engine.tx import Tx, WFrame
from nova_resize.spec import LIBERTY
from nova_resize.spec import model as m

from nova_resize.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SEED_SMALLER_DISK = ROOT / "spec" / "variants" / "seed-smaller-disk.toml"


@functools.cache
def _cloud() -> Cloud:
    return cloud()


def _frame_with_locals(**locals_):
    """A running handler stand-in holding ``locals_`` (all a local reference reads), on a
    two-host cloud that nothing has happened to."""
    c = _cloud()
    inst = c.instance("vm")
    return c, WFrame("vm.0", "host1", "m", "h", "l", inst, set(), None, None, set(),
                     dict(locals_), None, None, None, False, None, False)


# ---- db.* references read the database, not the handler's copy ----------------------------


def test_given_a_handler_copy_older_than_the_database_then_db_refs_read_the_database():
    # given: a resize accepted (the database says resize_prep) and the conductor's copy of the
    # instance edited to say something else, as a stale copy would
    c = cloud(actions={"resize": 1, "resize_flavors": ["medium"]})
    c.api.resize("vm", "medium")
    c.deliver("migrate_server")
    conductor = next(f for f in c.world.frames if f.service == "conductor")
    stale = conductor._replace(instance=conductor.instance._replace(task_state="stale"))
    tx = Tx.of(c.world)
    tb = c.engine.tables
    # then: instance.* reads the copy, db.instance.* the row
    assert resolve(tb, tx, stale, "instance.task_state") == "stale"
    assert resolve(tb, tx, stale, "db.instance.task_state") == "resize_prep"
    # and a flavor attribute may follow a flavor reference, on either side
    assert resolve(tb, tx, stale, "db.instance.flavor.root_gb") == 10
    assert resolve(tb, tx, stale, "instance.flavor.memory_mb") == 512


def test_given_a_migration_copy_older_than_the_database_then_db_migration_reads_the_row():
    c = cloud(actions={"resize": 1, "resize_flavors": ["medium"]})
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    mig = c.migration("vm")
    assert mig is not None and mig.status == "finished"
    # a periodic task's frame holding an old copy of the migration
    frame = _frame_with_locals()[1]
    frame.migration = mig._replace(status="migrating")
    frame.instance = c.instance("vm")
    tx = Tx.of(c.world)
    tb = c.engine.tables
    assert resolve(tb, tx, frame, "migration.status") == "migrating"
    assert resolve(tb, tx, frame, "db.migration.status") == "finished"
    assert resolve(tb, tx, frame, "db.migration.new_flavor.vcpus") == 2


def test_given_a_handler_without_a_migration_then_a_migration_ref_is_a_spec_error():
    from nova_resize.errors import SpecError

    c, frame = _frame_with_locals()
    tb, tx = c.engine.tables, Tx.of(c.world)
    for path in ("migration.status", "db.migration.status", "db.nothing.status"):
        with pytest.raises(SpecError):
            resolve(tb, tx, frame, path)
    with pytest.raises(SpecError, match="only a flavor attribute"):
        resolve(tb, tx, frame, "instance.flavor.colour")


def test_value_expressions_on_a_handler_locals():
    c, frame = _frame_with_locals(attempts=2, host="host2", tried=("host1",), missing=None)
    tb, tx = c.engine.tables, Tx.of(c.world)
    assert value(tb, tx, frame, m.Inc("local.attempts")) == 3
    assert value(tb, tx, frame, m.Inc("local.missing")) == 1
    assert value(tb, tx, frame, m.Default("local.missing", "fallback")) == "fallback"
    assert value(tb, tx, frame, m.Default("local.host", "fallback")) == "host2"
    assert value(tb, tx, frame, m.NotEq("local.host", "host2")) is False
    assert value(tb, tx, frame, m.Append("local.tried", m.Ref("local.host"))) == ("host1",
                                                                                  "host2")
    assert value(tb, tx, frame, m.IfEq("local.host", "host2", "yes", "no")) == "yes"
    assert value(tb, tx, frame, m.IfEq("local.host", "host1", "yes", "no")) == "no"
    assert resolve(tb, tx, frame, "self.host") == "host1"
    assert resolve(tb, tx, frame, "config.scheduler_max_attempts") == 3


# ---- comparisons: false when either side is None, in the engine and the BMC -----------------

CASES = [(a, b) for a in (None, 1, 2, 3) for b in (None, 1, 2, 3)]
PY = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b,
      ">=": lambda a, b: a >= b}


@pytest.mark.parametrize("op", sorted(PY))
def test_the_engine_compares_numbers_and_never_none(op):
    c, _ = _frame_with_locals()
    tb = c.engine.tables
    for a, b in CASES:
        _, frame = _frame_with_locals(a=a, b=b)
        got = holds(tb, Tx.of(c.world), frame, m.Cond("local.a", op, m.Ref("local.b")))
        want = a is not None and b is not None and PY[op](a, b)
        assert got is want, f"{a!r} {op} {b!r}"


def test_less_or_equal_is_false_on_none_like_the_other_comparisons():
    c, frame = _frame_with_locals(a=None, b=5)
    fn = compile_cond(m.Cond("local.a", "<=", m.Ref("local.b")))
    assert fn(c.engine.tables, Tx.of(c.world), frame) is False
    fn = compile_cond(m.Cond("local.b", "<=", None))
    assert fn(c.engine.tables, Tx.of(c.world), frame) is False


def test_the_bmc_mirror_compares_as_the_engine_does():
    enc = Encoding(load_preset("bmc"), LIBERTY)
    a = enc.a
    for v in (None, 1, 2, 3):
        a(v)  # intern the atoms the comparison ranges over
    slot = "0"
    p = SymPath(z3.BoolVal(True, ctx=enc.ctx), {}, None, slot)  # type: ignore[arg-type]
    c, _ = _frame_with_locals()
    for op, x, y in [(op, x, y) for op in sorted(PY) for x, y in CASES]:
        s = {f"f.{slot}.l.a": a(x), f"f.{slot}.l.b": a(y)}
        cond = m.Cond("local.a", op, m.Ref("local.b"))
        sym = z3.simplify(enc._cond(s, p, cond))
        _, frame = _frame_with_locals(a=x, b=y)
        engine = holds(c.engine.tables, Tx.of(c.world), frame, cond)
        assert z3.is_true(sym) is engine and z3.is_false(sym) is not engine, \
            f"{x!r} {op} {y!r}: bmc {sym}, engine {engine}"


# ---- condition literals ---------------------------------------------------------------------


@pytest.mark.parametrize("text,ref,op,val", [
    ("instance.task_state == None", "instance.task_state", "==", None),
    ("local.x != null", "local.x", "!=", None),
    ("local.flag == true", "local.flag", "==", True),
    ("local.flag == False", "local.flag", "==", False),
    ("local.attempts >= 3", "local.attempts", ">=", 3),
    ("local.attempts <= 3", "local.attempts", "<=", 3),
    ("local.attempts < 3", "local.attempts", "<", 3),
    ('migration.status == "confirmed"', "migration.status", "==", "confirmed"),
    ("migration.status == confirmed", "migration.status", "==", "confirmed"),
    ('instance.task_state in ["resize_prep", "resize_migrating"]', "instance.task_state", "in",
     ("resize_prep", "resize_migrating")),
    ("instance.vm_state not in [\"error\"]", "instance.vm_state", "not in", ("error",)),
    ("local.host == db.instance.host", "local.host", "==", m.Ref("db.instance.host")),
    ("local.err == exc", "local.err", "==", m.Ref("exc")),
])
def test_a_condition_string_reads_its_literal(text, ref, op, val):
    assert parse_cond(text) == m.Cond(ref, op, val)


def test_condition_tests_and_malformed_conditions():
    assert parse_cond("migration.dest_compute is up") == m.Cond("migration.dest_compute", "up")
    assert parse_cond("local.flavor is unknown flavor") == m.Cond("local.flavor",
                                                                  "unknown_flavor")
    for bad, msg in (("local.x is purple", "unknown test"), ("local.x ~ 3", "expected"),
                     ("local.x == [1,", "cannot read")):
        with pytest.raises(ValueError, match=msg):
            parse_cond(bad)


# ---- [[move_quota]] ---------------------------------------------------------------------------

MOVE_COMMIT = """
[[move_quota]]
from = "compute.finish_resize.commit"
to = "compute.finish_resize.resized"
"""


def test_given_move_quota_then_the_quota_action_leaves_one_row_for_the_other():
    spec = apply_variant_text(LIBERTY, MOVE_COMMIT, "move.toml").spec
    src = spec.row("compute.finish_resize.commit")
    dst = spec.row("compute.finish_resize.resized")
    assert not any(isinstance(e, m.Quota) for e in src.effects)
    moved = [e for e in dst.effects if isinstance(e, m.Quota)]
    assert [e.op for e in moved] == ["commit"]
    # inserted before the row's first send, raise or goto (else at its end)
    kinds = [type(e) for e in dst.effects]
    stops = [i for i, k in enumerate(kinds) if k in (m.Send, m.Raise, m.Goto)]
    assert kinds.index(m.Quota) == (stops[0] if stops else len(kinds) - 1)


def test_given_move_quota_when_a_resize_finishes_then_the_reservation_commits_at_the_new_row():
    spec = apply_variant_text(LIBERTY, MOVE_COMMIT, "move.toml").spec
    c = Cloud.from_config(config(), spec)
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    assert c.instance("vm").vm_state == "resized"
    assert [r.status for r in c.reservations] == ["committed"]
    assert c.quota_usage == {"instances": 1, "cores": 2, "ram": 2048}
    rows = c.rows()
    assert "compute.finish_resize.commit" in rows and "compute.finish_resize.resized" in rows


def test_move_quota_from_a_row_without_quota_is_refused():
    with pytest.raises(ConfigError, match=r"move_quota\[0\]\.from: .* has no quota action"):
        apply_variant_text(LIBERTY, """
[[move_quota]]
from = "compute.finish_resize.resized"
to = "compute.finish_resize.commit"
""", "bad.toml")


# ---- [[add]] --------------------------------------------------------------------------------

ADD_ROW = """
[[replace]]
row = "compute.finish_resize.resized"
then = "audit_note"

[[add]]
id = "compute.finish_resize.audit_note"
handler = "finish_resize"
at = "audit_note"
then = "THEN"
cite = "nova/compute/manager.py:ComputeManager._finish_resize"
summary = "a patch's extra step: remember that the resize finished"
effects = [{type = "Set", target = "local", name = "noted", value = true}]
"""


def test_given_an_added_row_when_a_resize_finishes_then_it_runs_between_its_neighbours():
    then = LIBERTY.row("compute.finish_resize.resized").then
    v = apply_variant_text(LIBERTY, ADD_ROW.replace("THEN", then), "add.toml")
    assert "compute.finish_resize.audit_note" in v.changed_rows
    c = Cloud.from_config(config(), v.spec)
    c.api.resize("vm", "medium")
    c.run_until_quiescent()
    rows = c.rows()
    i = rows.index("compute.finish_resize.resized")
    assert rows[i + 1] == "compute.finish_resize.audit_note"
    assert c.instance("vm").vm_state == "resized"


@pytest.mark.parametrize("extra,msg", [
    ('id = "compute.finish_resize.resized"\nhandler = "finish_resize"\nat = "x"\n'
     'cite = "c"\nsummary = "s"', "exists already"),
    ('id = "new.row"\nhandler = "no_such_handler"\nat = "x"\ncite = "c"\nsummary = "s"',
     "no handler"),
    ('id = "new.row"\nhandler = "finish_resize"\nat = "x"\nsummary = "s"', r"\.cite: missing"),
    ('id = "new.row"\nhandler = "finish_resize"\nat = "x"\ncite = "c"\nsummary = "s"\n'
     'colour = "red"', "unknown row field"),
])
def test_a_malformed_added_row_is_refused_naming_its_key(extra, msg):
    with pytest.raises(ConfigError, match=msg):
        apply_variant_text(LIBERTY, "[[add]]\n" + extra + "\n", "bad.toml")


# ---- [[validation]] and the shipped seed-smaller-disk variant --------------------------------


def test_given_seed_smaller_disk_when_a_medium_vm_resizes_to_small_then_the_api_refuses_it():
    v = apply_variant(LIBERTY, SEED_SMALLER_DISK)
    assert v.name == "seed-smaller-disk" and v.changed_rows == ("api.resize.smaller_disk",)
    c = Cloud.from_config(config(flavor="medium"), v.spec)
    res = c.api.resize("vm", "small")
    assert res.outcome == "refused: CannotResizeDisk (HTTP 400)"
    assert c.instance("vm").task_state is None and c.migrations("vm") == []
    # a larger disk is still accepted
    assert c.api.resize("vm", "large").outcome == "accepted"


def test_given_liberty_when_a_medium_vm_resizes_to_small_then_the_api_accepts_it():
    c = Cloud.from_config(config(flavor="medium"))
    assert c.api.resize("vm", "small").outcome == "accepted"


def test_seed_smaller_disk_loads_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert apply_variant(LIBERTY, SEED_SMALLER_DISK).name == "seed-smaller-disk"


@pytest.mark.parametrize("body,msg", [
    ('operation = "rebuild"\nid = "x"\ncite = "c"\nexc = "E"\nsummary = "s"', "operation"),
    ('operation = "resize"\nid = "x"\ncite = "c"\nexc = "E"\nsummary = "s"\nhttp = "400"',
     "http: expected an HTTP status"),
    ('operation = "resize"\nid = "x"\ncite = "c"\nsummary = "s"',
     "exc: expected a non-empty string"),
    ('operation = "resize"\nid = "x"\ncite = "c"\nexc = "E"\nsummary = "s"\n'
     'when = ["local.x ~ 1"]', r"when\[0\]"),
])
def test_a_malformed_validation_is_refused_naming_its_key(body, msg):
    with pytest.raises(ConfigError, match=msg):
        apply_variant_text(LIBERTY, "[[validation]]\n" + body + "\n", "bad.toml")


# ---- self.* references ------------------------------------------------------------------------


def test_self_lock_is_another_handler_on_this_service_holding_the_instance_lock():
    c, me = _frame_with_locals()
    tb = c.engine.tables
    tx = Tx.of(c.world)

    def other(fid, service="host1", name="vm", lock=True):
        f = _frame_with_locals()[1]
        f.id, f.service, f.lock = fid, service, lock
        f.instance = f.instance._replace(name=name)
        return f

    assert resolve(tb, tx, me, "self.lock") is False
    me.lock = True  # its own lock does not count
    tx.frames[me.id] = me
    assert resolve(tb, tx, me, "self.lock") is False
    for f in (other("x.1", service="host2"), other("x.2", name="vm2"), other("x.3", lock=False)):
        tx.frames[f.id] = f
    assert resolve(tb, tx, me, "self.lock") is False
    tx.frames["x.4"] = other("x.4")
    assert resolve(tb, tx, me, "self.lock") is True


def test_self_guest_running_and_init_pending_read_this_service_host():
    c, fr = _frame_with_locals()
    tb, tx = c.engine.tables, Tx.of(c.world)
    assert resolve(tb, tx, fr, "self.guest_running") is True  # vm runs on host1
    fr.service = "host2"
    assert resolve(tb, tx, fr, "self.guest_running") is False
    fr.service = "nowhere"
    assert resolve(tb, tx, fr, "self.guest_running") is False
    fr.service = "host1"
    assert resolve(tb, tx, fr, "self.init_pending") == 0
    for n, svc in enumerate(("host1", "host1", "host2")):
        f = _frame_with_locals()[1]
        f.id, f.service, f.method = f"i.{n}", svc, "init_instance"
        tx.frames[f.id] = f
    assert resolve(tb, tx, fr, "self.init_pending") == 2
    from nova_resize.errors import SpecError

    for unknown in ("self.weather", "self.clock", "self.a"):  # sorting after and before
        with pytest.raises(SpecError, match=unknown.replace(".", r"\.")):
            resolve(tb, tx, fr, unknown)
