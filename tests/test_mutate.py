"""``nova-resize mutate``: mutants of Liberty's tables, each judged by diff against Liberty."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.explorer import Limits
from nova_resize.checker.mutate.campaign import mutants_of, sample
from nova_resize.checker.mutate.equivalence import same_tables
from nova_resize.checker.mutate.operators import OPERATORS, commute
from nova_resize.checker.mutate.runner import judge, reference
from nova_resize.checker.mutate.variant_text import replace_table
from nova_resize.checker.variants import apply_variant_text
from nova_resize.engine.presets import load_preset
from nova_resize.spec import LIBERTY
from nova_resize.spec import model as m

from nova_resize.errors import InputError

ALL = mutants_of()
BY_ID = {x.id: x for x in ALL}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("NOVA_RESIZE_CACHE", str(d))
    return d


def ref(name: str):
    return reference(load_preset(name), Limits())


def test_every_row_of_liberty_reads_back_from_its_variant_text():
    fields = ("effects", "notify", "notify_before", "notify_late", "then", "scope", "otherwise")
    for r in LIBERTY.rows:
        v = apply_variant_text(LIBERTY, replace_table(r, fields), "round-trip.toml")
        assert v.spec.row(r.id) == r, r.id


def test_every_operator_generates_and_every_mutant_is_a_variant_or_refused_by_its_checks():
    ops = Counter(x.operator for x in ALL)
    assert set(ops) == set(OPERATORS) and all(ops.values())
    assert len(BY_ID) == len(ALL), "mutant ids are unique"
    refused = Counter()
    for x in ALL:
        try:
            spec = apply_variant_text(LIBERTY, x.text, f"{x.slug}.toml").spec
        except InputError:
            refused[x.operator] += 1
            continue
        assert not same_tables(spec, LIBERTY), x.id  # each mutant changes the tables
    # only a removed row can leave rows no other row leads to (the variant checks refuse it)
    assert set(refused) <= {"drop-row"}, refused


def test_two_assignments_commute_unless_one_reads_the_other():
    a = m.Set("instance", "task_state", None)
    b = m.Set("local", "x", m.Ref("instance.vm_state"))
    assert commute(a, b) and commute(b, a)
    assert not commute(m.Set("local", "x", m.Ref("instance.task_state")), a)
    assert not commute(a, m.Set("instance", "task_state", "deleting"))
    assert not commute(a, m.SaveInstance(None))
    proved = [x for x in ALL if x.proof]
    assert proved and {x.operator for x in proved} == {"swap-effects", "guard-drop",
                                                       "guard-widen"}


def test_a_hypervisor_effect_that_cannot_raise_commutes_with_a_constant_it_does_not_read():
    off = m.Driver("power_off")
    state = m.Set("instance", "power_state", 4)
    assert commute(off, state) and commute(state, off)
    # a disk copy to another host can raise, and so can a spawn
    assert not commute(m.Driver("power_off", to="migration.dest_compute"), state)
    assert not commute(m.Driver("spawn"), state)
    # the hypervisor effect reads the instance's host
    assert not commute(off, m.Set("instance", "host", "host2"))
    # a value read from the handler's memory is fine, one read from a host is not
    assert commute(off, m.Set("local", "x", m.Ref("instance.old_vm_state")))
    assert not commute(off, m.Set("local", "x", m.Ref("self.guest_running")))
    # a jump to another label reads nothing: an assignment commutes with it
    jump = m.Goto("terminate_instance", "delete_instance")
    assert commute(jump, m.Set("local", "reservations", None))
    assert not commute(jump, m.SaveInstance(None))
    proved = BY_ID["swap-effects:compute.stop_instance.power_off#0"]
    assert "hypervisor effect that cannot raise" in proved.proof
    # and where the row runs, the mutant's graph is Liberty's
    o = judge(dataclasses.replace(proved, proof=""), [ref("regression-stop-start")])
    assert o.status == "equivalent-on-configs" and o.reached, o.detail


def test_a_guard_the_api_check_already_ensured_in_the_same_step_is_proved_redundant():
    # nova-api's start and stop check task_state None and save in the same atomic step
    for mid in ("guard-drop:api.start.powering_on", "guard-widen:api.stop.powering_off:"
                "[None, deleting]"):
        assert "same atomic step as nova-api's" in BY_ID[mid].proof, mid
    # resize reserves its quota first (a step of its own), so its save can meet a racing change
    assert not BY_ID["guard-drop:api.resize.save"].proof
    # a compute manager's save is never in the API's step
    assert not BY_ID["guard-drop:compute.finish_revert_resize.launched"].proof
    # a narrowed guard that no longer admits what the check admits is not proved
    assert not any(x.proof for x in ALL if x.operator == "guard-narrow")
    # and the proof holds where the rows run: without it, the mutant's graph is Liberty's
    unproved = dataclasses.replace(BY_ID["guard-drop:api.start.powering_on"], proof="")
    o = judge(unproved, [ref("regression-stop-start")])
    assert o.status == "equivalent-on-configs" and o.reached, o.detail


def test_an_api_save_and_its_cast_in_the_checks_step_are_proved_to_commute():
    # stop and start save and cast in the step of nova-api's check: neither can raise
    for mid in ("swap-effects:api.stop.powering_off#1", "swap-effects:api.start.powering_on#1"):
        assert "neither can raise" in BY_ID[mid].proof, mid
    # restore reserves quota before its save (the save can meet a racing change); confirm
    # saves the migration; a compute manager's save is never in the API's step
    for mid in ("swap-effects:api.restore.restoring#1", "swap-effects:api.confirm_resize."
                "confirming#1", "swap-effects:compute.prep_resize.resize_claim#2"):
        assert not BY_ID[mid].proof, mid
    # without the proof the mutant's graph is Liberty's where the rows run
    unproved = dataclasses.replace(BY_ID["swap-effects:api.stop.powering_off#1"], proof="")
    o = judge(unproved, [ref("regression-stop-start")])
    assert o.status == "equivalent-on-configs" and o.reached, o.detail


def test_a_message_may_raise_only_when_its_target_may_be_none():
    from nova_resize.checker.symbolic.exceptions import message_may_raise
    r = LIBERTY.row("api.stop.powering_off")
    assert not message_may_raise(LIBERTY, r, 2)  # instance.host: every instance has one
    for target, may in (("local.never_assigned", True), ("migration.dest_compute", False),
                        ("instance.node", True)):
        send = dataclasses.replace(r.effects[2], target=target)
        row = dataclasses.replace(r, effects=(*r.effects[:2], send))
        assert message_may_raise(LIBERTY, row, 2) is may, target
    with pytest.raises(TypeError):
        message_may_raise(LIBERTY, r, 0)


def test_a_sample_is_seeded_and_keeps_every_operator_in_proportion():
    s = sample(ALL, 40, 7)
    assert len(s) == 40 and s == sample(ALL, 40, 7) and s != sample(ALL, 40, 8)
    assert set(x.operator for x in s) == set(OPERATORS)
    assert s == [x for x in ALL if x in s]  # generation order
    assert sample(ALL, None, 0) == ALL


@pytest.mark.parametrize("mid, config, change", [
    # the survivors: confirm's stopped save narrowed to [None] races a delete
    ("guard-narrow:compute.confirm_resize.save_stopped:[None]",
     "regression-stopped-confirm-delete", "new"),
    # a dropped commit leaves the upsize's reservation pending (a cold migrate reserves
    # nothing, so regression-migrate cannot see this one)
    ("drop-quota:compute.finish_resize.commit#0", "regression-driver-confirm", "new"),
])
def test_a_mutant_is_killed_by_a_finding_diff_reports_on_the_same_variant(
        mid, config, change, tmp_path, capsys):
    x = BY_ID[mid]
    o = judge(x, [ref(config)], out_dir=tmp_path)
    assert o.status == "killed" and o.killed_by is not None
    kb = o.killed_by
    assert kb["configuration"] == config and kb["change"] == change
    # the variant file is what `diff` reads, and diff shows the same finding
    j = tmp_path / "d.json"
    assert o.file is not None and Path(o.file).exists()
    assert main(["diff", "--config", config, "--variant", o.file, "--quiet",
                 "--json", str(j)]) == (1 if change == "new" else 0)
    d = json.loads(j.read_text())
    assert any((f["property"], f["key"], f["where"]) == (kb["property"], kb["key"], kb["where"])
               for f in d[change])


def test_survivors_are_told_apart_by_their_reachable_graphs():
    migrate = ref("regression-migrate")
    # the notification is sent on this path, and no property reads compute.instance.exists
    dropped = judge(BY_ID["drop-notification:compute.prep_resize.start:"
                          "compute.instance.exists"], [migrate])
    assert dropped.status == "survived" and dropped.reached
    assert "different notifications" in dropped.detail
    # a survivor says where it first behaves differently: the shortest trace to the step
    dv = dropped.divergence
    assert dv is not None and dv.configuration == "regression-migrate"
    assert "prep_resize" in dv.step
    assert dv.trace and dv.trace[-1].startswith("conductor")
    assert dv.liberty == ["sends compute.instance.exists, compute.instance.resize.prep.start"]
    assert dv.mutant == ["sends compute.instance.resize.prep.start"]
    # a start no end answers is a finding (notifications-paired) that kills the mutant
    paired = judge(BY_ID["drop-notification:compute.resize_instance.task_migrating:"
                         "compute.instance.resize.start"], [migrate])
    assert paired.status == "killed"
    assert paired.killed_by["property"] == "notifications-paired"
    # a cold migration never reverts
    unreached = judge(BY_ID["drop-row:compute.finish_revert_resize.commit"], [migrate])
    assert unreached.status == "unreached" and unreached.reached is False
    # one atomic step: the save and the cast it precedes are seen together
    same = judge(BY_ID["swap-effects:api.resize.save#2"], [migrate])
    assert same.status == "equivalent-on-configs", same.detail


def test_proved_and_refused_mutants_are_not_run():
    proved = next(x for x in ALL if x.proof)
    o = judge(proved, [])
    assert o.status == "equivalent" and o.detail.startswith("proved:") and not o.runs
    refused = judge(BY_ID["drop-row:api.confirm_resize.lookup"], [])
    assert refused.status == "invalid" and "unreachable" in refused.detail


def test_a_sampled_run_writes_its_report_and_variants(tmp_path, capsys):
    j, out = tmp_path / "m.json", tmp_path / "mutants"
    code = main(["mutate", "--config", "regression-migrate", "--config",
                 "regression-delete-only", "--operators", "drop-quota,guard-drop",
                 "--sample", "4", "--seed", "3", "--json", str(j), "--out", str(out)])
    assert code == 0
    doc = json.loads(j.read_text())
    assert doc["kind"] == "mutate" and doc["run"] == 4 and doc["complete"]
    assert [c["name"] for c in doc["configurations"]] == ["regression-migrate",
                                                          "regression-delete-only"]
    assert set(doc["operators"]) == {"drop-quota", "guard-drop"}
    t = doc["total"]
    assert sum(t[s] for s in ("killed", "survived", "unreached", "equivalent-on-configs",
                              "equivalent", "invalid", "incomplete")) == 4
    for x in doc["mutants"]:
        assert Path(x["file"]).exists()
        if x["status"] == "killed":
            assert x["killed_by"]["configuration"] in ("regression-migrate",
                                                       "regression-delete-only")
        else:
            assert x["variant"].startswith("name = ")
    # what pinning the counts too would catch: at least the killed, and every survivor whose
    # numbers of states or transitions differ from Liberty's on a configuration
    liberty = {c["name"]: (c["liberty_states"], c["liberty_transitions"])
               for c in doc["configurations"]}
    differ = [x for x in doc["mutants"] if x["status"] == "survived" and any(
        not r.get("skipped") and (r["states"], r["transitions"]) != liberty[r["configuration"]]
        for r in x["runs"])]
    assert [x["id"] for x in doc["mutants"] if x["pinned_counts_differ"]] == [
        x["id"] for x in differ]
    assert doc["manifest"]["caught"] == t["killed"] + len(differ)
    text = capsys.readouterr().out
    assert "kill rate" in text and text.strip().splitlines()[-1].endswith(
        f"kill rate {100 * t['kill_rate']:.1f}%")
    assert "as the regression manifest does) catches" in text


def test_fail_under_and_bad_input(tmp_path, capsys):
    args = ["mutate", "--config", "regression-migrate", "--operators", "drop-notification",
            "--sample", "1", "--quiet"]
    assert main([*args, "--fail-under", "100"]) == 1  # a notification is no finding
    assert main([*args, "--fail-under", "0"]) == 0
    capsys.readouterr()
    for bad in (["--operators", "no-such"], ["--fail-under", "101"],
                ["--config", "no-such-preset"]):
        assert main(["mutate", *bad, "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "Traceback" not in err


def test_list_shows_the_mutants_without_running_them(capsys):
    assert main(["mutate", "--operators", "drop-quota", "--list"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == f"{sum(1 for x in ALL if x.operator == 'drop-quota')} mutants"
    assert out[0].startswith("drop-quota:")


def test_divergence_names_the_parts_of_the_state_that_differ():
    from conftest import config
    from nova_resize.checker.mutate.divergence import first_divergence

    cfg = config(vm_state="stopped", actions={"resize": 1, "resize_flavors": ["medium"]})
    spec = apply_variant_text(LIBERTY, """
[[replace]]
row = "compute.finish_resize.finish_migration"
effects = [{type = "Driver", op = "spawn", power_on = true}]
""", "power-on.toml").spec
    dv = first_divergence(cfg, spec)
    assert dv is not None and "finish_resize" in dv.step
    assert any(t.startswith("user: resize vm") for t in dv.trace)
    assert dv.liberty == ["host host2: running frozenset()"]
    assert dv.mutant == ["host host2: running frozenset({'vm'})"]
    assert "first differs on" in dv.text()
    # Liberty against itself: no divergence
    assert first_divergence(cfg, LIBERTY) is None


def test_a_mutant_on_which_nova_resize_raises_is_an_error_and_the_campaign_goes_on(
        monkeypatch, tmp_path):
    from nova_resize.checker.mutate import runner

    real = runner.explore_spec

    def explode(config, spec, *a, **kw):
        if spec is not LIBERTY:
            raise KeyError(None)  # as a property once did on a mutant that lost the flavor
        return real(config, spec, *a, **kw)

    monkeypatch.setattr(runner, "explore_spec", explode)
    o = judge(BY_ID["drop-row:compute.finish_resize.stash_old_flavor"], [ref("regression-migrate")])
    assert o.status == "error" and "KeyError" in o.detail and "a bug" in o.detail
    # through the command: every mutant is judged, the report is written, then exit 3
    j = tmp_path / "m.json"
    code = main(["mutate", "--config", "regression-migrate", "--operators", "change-status",
                 "--sample", "4", "--seed", "0", "--json", str(j), "--quiet"])
    doc = json.loads(j.read_text())
    assert doc["complete"] and doc["run"] == 4
    assert doc["total"]["error"] >= 1 and code == 3


def test_a_dropped_fault_row_diverges_where_liberty_takes_the_fault():
    # Liberty offers the scheduler's NoValidHost; the mutant has no such row, so that action is
    # taken on Liberty's side only (stepping the mutant with it once raised a KeyError)
    from nova_resize.checker.mutate.divergence import first_divergence
    from nova_resize.engine.presets import load_preset

    x = BY_ID["drop-row:conductor.migrate_server.no_valid_host"]
    spec = apply_variant_text(LIBERTY, x.text, "x.toml").spec
    dv = first_divergence(load_preset("regression-no-host"), spec)
    assert dv is not None
    assert "conductor.migrate_server.no_valid_host" in dv.step
    assert dv.mutant == [] or "changes nothing" in dv.text()
