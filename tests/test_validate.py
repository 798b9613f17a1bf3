"""Trace validation and explanations against observations of a real cloud, in Liberty's
formats (tests/data/README.md says which code each sample follows)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.traces.explain import read_migration_status, read_observation
from nova_resize.checker.traces.observe import Obs, detect, read_all, read_nova_list
from nova_resize.checker.traces.timestamps import parse_time
from nova_resize.checker.traces.validate import validate, validate_observations
from nova_resize.engine.presets import load_preset
from nova_resize.spec import LIBERTY

from nova_resize.errors import ObservationError

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed-walk.txt"
CONFIRM = DATA / "notifications-resize-confirm.jsonl"
REVERT = DATA / "notifications-resize-revert.jsonl"
UPDATES = {"notify_on_state_change": "vm_and_task_state"}


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def check(*paths, fmt="auto", options=None, **kw):
    config = load_preset("seed").with_options(**(options or UPDATES))
    return validate(config, LIBERTY, read_all([str(p) for p in paths], fmt, LIBERTY), **kw)


def lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def write(tmp_path, name, msgs):
    p = tmp_path / name
    p.write_text("".join(json.dumps(m) + "\n" for m in msgs))
    return p


# ---- pasted tables ----------------------------------------------------------------------------


def test_the_seed_walk_is_accepted(capsys, tmp_path):
    # given the seed document's pastes: a nova show, then nova list polls, starting with the
    # shell prompt (no-break spaces, a prompt run into a border, prose in between)
    assert SEED.read_text().startswith("[root@controller1 ~(keystone_admin)]# nova show")
    obs = read_all([str(SEED)], "auto", LIBERTY)
    assert [o.get("task_state") for o in obs.observations] == [
        None, "resize_prep", "resize_migrating", "resize_migrated", "resize_finish", None]
    assert obs.observations[0].get("vm_state") == "active"
    assert obs.observations[0].get("host") == "compute-1"
    # when validated
    j = tmp_path / "v.json"
    code, out, _ = run(["validate", str(SEED), "--json", str(j)], capsys)
    # then some behaviour of the spec explains it, with a witness aligned to each snapshot
    assert code == 0 and out.startswith("ACCEPTED: 6 observations of test-cirros-1")
    doc = json.loads(j.read_text())
    assert doc["accepted"] and len(doc["witness"]) == 6
    rows = [r for w in doc["witness"] for s in w["steps"] for r in s["rows"]]
    assert "compute.resize_instance.task_migrated" in rows
    assert "compute.finish_resize.resized" in rows


def test_a_paste_that_starts_with_the_prompt_is_a_nova_list():
    text = ("[root@controller1 ~(keystone_admin)]# nova list\n"
            "+----+------+--------+------------+-------------+----------+\n"
            "| ID | Name | Status | Task State | Power State | Networks |\n"
            "+----+------+--------+------------+-------------+----------+\n"
            "| 1  | vm   | RESIZE | resize_prep| Running     | a=1      |\n"
            "+----+------+--------+------------+-------------+----------+\n"
            "[root@controller1 ~(keystone_admin)]# \n")
    assert detect(text) == "nova-list"
    assert read_nova_list(text, "t")[0].get("task_state") == "resize_prep"


def test_swapped_snapshots_are_rejected_at_the_right_observation(tmp_path):
    text = SEED.read_text()
    a, b = "resize_migrating", "resize_migrated "
    swapped = text.replace(a, "@@A@@").replace(b, a + " ").replace("@@A@@", b.strip())
    p = tmp_path / "swapped.txt"
    p.write_text(swapped)
    v = check(p)
    assert not v.accepted
    # resize_migrated is fine after resize_prep; resize_migrating after it is not
    assert v.rejected_at == 3
    assert v.observations[3].get("task_state") == "resize_migrating"
    assert any("resize_migrated" in s or "resize_finish" in s for s in v.allowed)


def test_a_task_state_nova_never_shows_here_is_rejected(tmp_path):
    # resize_confirming is a Liberty task state that 12.0.0 never assigns
    text = SEED.read_text().replace("resize_finish", "resize_confirming", 1)
    p = tmp_path / "confirming.txt"
    p.write_text(text)
    v = check(p)
    assert not v.accepted and v.rejected_at == 4
    assert v.nearest is not None


def test_nova_list_rows_split_across_lines_are_joined():
    text = ("+----+------+--------+------------+-------------+----------+\n"
            "| ID | Name | Status | Task State | Power State | Networks |\n"
            "+----+------+--------+------------+-------------+----------+\n"
            "| 1  | vm   | RESIZE | resize_    | Running     | a=1      |\n"
            "|    |      |        | prep       |             | b=2      |\n"
            "+----+------+--------+------------+-------------+----------+\n")
    obs = read_nova_list(text, "t")
    assert len(obs) == 1 and obs[0].get("task_state") == "resize_prep"


# ---- notification streams as Liberty sends them ------------------------------------------------


@pytest.mark.parametrize("name, n", [
    ("notifications-resize-confirm.jsonl", 18),
    ("notifications-resize-confirm-envelope.json", 18),
    ("notifications-resize-revert.jsonl", 22),
    ("notifications-resize-revert-envelope.jsonl", 22),
    ("notifications-resize-end-late.jsonl", 18),
])
def test_liberty_streams_are_accepted(name, n):
    # given a stream as nova 12.0.0 emits it (bare or in the oslo.messaging envelope)
    v = check(DATA / name)
    # then it fits, with nova-api and nova-conductor found on controller1
    assert v.accepted, (v.rejected_at, v.allowed)
    assert len(v.observations) == n
    assert (v.assumptions["api_host"], v.assumptions["conductor_host"]) == (
        "controller1", "controller1")


def test_the_envelope_is_unwrapped_and_its_context_ignored():
    bare = read_all([str(CONFIRM)], "auto", LIBERTY).observations
    env = read_all([str(DATA / "notifications-resize-confirm-envelope.json")], "auto",
                   LIBERTY).observations
    assert [o.fields for o in bare] == [o.fields for o in env]
    raw = json.loads((DATA / "notifications-resize-confirm-envelope.json").read_text())[0]
    assert raw["oslo.version"] == "2.0" and "_context_request_id" in raw["oslo.message"]


def test_the_option_setting_decides_which_streams_fit():
    vm_state = DATA / "notifications-resize-confirm-vm_state.jsonl"
    assert check(vm_state, options={"notify_on_state_change": "vm_state"}).accepted
    # a task-only change reported without its transition is not what vm_and_task_state sends
    v = check(vm_state)
    assert not v.accepted
    assert v.observations[v.rejected_at].get("old_task_state") == "resize_migrating"
    # and the other way round
    assert not check(CONFIRM, options={"notify_on_state_change": "vm_state"}).accepted
    # with the option unset Liberty sends no update at all
    assert not check(CONFIRM, options={"notify_on_state_change": ""}).accepted


def test_updates_need_the_option_chosen(tmp_path, capsys):
    code, out, err = run(["validate", str(CONFIRM)], capsys)
    assert code == 2 and out == "" and "notify_on_state_change" in err
    code, out, _ = run(["validate", str(CONFIRM), "--notify-on-state-change",
                        "vm_and_task_state", "--quiet"], capsys)
    assert code == 0


def test_publishers_must_be_the_saving_processes():
    msgs = lines(CONFIRM)
    # compute-1's save published by compute-1 (not by nova-conductor): not Liberty
    i = next(n for n, m in enumerate(msgs) if m["event_type"] == "compute.instance.update"
             and m["payload"]["new_task_state"] == "resize_migrating")
    msgs[i]["publisher_id"] = "compute.compute-1"
    v = validate_observations(msgs, **UPDATES)
    assert not v.accepted and v.rejected_at == i
    # configured hosts are used as given
    assert not validate_observations(lines(CONFIRM), api_host="other", **UPDATES).accepted
    assert validate_observations(lines(CONFIRM), api_host="controller1",
                                 conductor_host="controller1", **UPDATES).accepted


# ---- tampered streams ---------------------------------------------------------------------------


def test_a_reordered_pair_is_rejected():
    msgs = lines(CONFIRM)
    # the conductor's update for resize_migrating is sent before the RPC returns to
    # compute-1, which then sends resize.start: the reverse order is not Liberty's
    i = next(n for n, m in enumerate(msgs) if m["event_type"] == "compute.instance.resize.start")
    ta, tb = msgs[i - 1]["timestamp"], msgs[i]["timestamp"]
    msgs[i - 1], msgs[i] = msgs[i], msgs[i - 1]
    msgs[i - 1]["timestamp"], msgs[i]["timestamp"] = ta, tb  # times in the new order
    v = validate_observations(msgs, **UPDATES)
    assert not v.accepted and v.rejected_at == i - 1
    assert v.observations[i - 1].get("event_type") == "compute.instance.resize.start"


def test_a_wrong_state_is_rejected():
    msgs = lines(CONFIRM)
    i = next(n for n, m in enumerate(msgs) if m["event_type"] == "compute.instance.update"
             and m["payload"]["state"] == "resized")
    msgs[i]["payload"]["state"] = "active"
    v = validate_observations(msgs, **UPDATES)
    assert not v.accepted and v.rejected_at == i


@pytest.mark.parametrize("path, event, nth", [
    # the update of the save that changes no state (system_metadata['old_vm_state'])
    (CONFIRM, "compute.instance.update", 3),
    # the revert's compute.instance.exists (the stream shows the prep_resize one)
    (REVERT, "compute.instance.exists", 1),
])
def test_a_missing_notification_of_a_type_the_stream_contains_is_rejected(path, event, nth):
    msgs = lines(path)
    idx = [n for n, m in enumerate(msgs) if m["event_type"] == event][nth]
    del msgs[idx]
    v = validate_observations(msgs, **UPDATES)
    assert not v.accepted and v.rejected_at == idx
    # while the untouched stream fits
    assert validate_observations(lines(path), **UPDATES).accepted


def test_a_second_finish_resize_without_a_new_resize_is_rejected():
    v = check(DATA / "notifications-second-finish.jsonl")
    assert not v.accepted
    assert v.observations[v.rejected_at].get("event_type") == \
        "compute.instance.finish_resize.start"


def test_a_missing_type_is_allowed_a_stream_is_complete_only_for_its_types():
    # a capture without updates (the option unset in that cloud) fits a configuration that
    # sends them: the stream does not claim to show that type
    msgs = [m for m in lines(CONFIRM) if m["event_type"] != "compute.instance.update"]
    assert validate_observations(msgs, **UPDATES).accepted


# ---- times ---------------------------------------------------------------------------------------


def test_liberty_timestamps_are_read_as_times():
    assert parse_time("2016-04-17 13:30:00.250000", "t") == parse_time(
        "2016-04-17T13:30:00.250000", "t")
    assert parse_time("2016-04-17 13:30:00", "t") == parse_time("2016-04-17T13:30:00Z", "t")
    assert parse_time("2016-04-17 15:30:00+02:00", "t") == parse_time("2016-04-17T13:30:00",
                                                                      "t")
    with pytest.raises(ObservationError, match="cannot read the timestamp"):
        parse_time("17/04/2016 13:30", "t")


def test_files_in_different_formats_are_merged_by_time(tmp_path):
    # a notification at 13:30:05 (space) and a snapshot at 13:30:01 (T, Z): as text the
    # notification would sort first (' ' < 'T'); as times the snapshot comes first
    note = lines(CONFIRM)[0]
    note["timestamp"] = "2016-04-17 13:30:05.000000"
    n = write(tmp_path, "n.jsonl", [note])
    s = tmp_path / "s.json"
    s.write_text(json.dumps({"name": "test-cirros-1", "OS-EXT-STS:vm_state": "active",
                             "OS-EXT-STS:task_state": None, "OS-EXT-SRV-ATTR:host": "compute-1",
                             "status": "ACTIVE", "updated": "2016-04-17T13:30:01Z"}))
    obs = read_all([str(n), str(s)], "auto", LIBERTY)
    assert [o.kind for o in obs.observations] == ["snapshot", "notification"]
    assert check(n, s).accepted


def test_out_of_order_input_is_sorted_with_a_warning(tmp_path, capsys):
    msgs = lines(CONFIRM)
    msgs[3], msgs[4] = msgs[4], msgs[3]  # the file's order, not the times'
    p = write(tmp_path, "shuffled.jsonl", msgs)
    obs = read_all([str(p)], "auto", LIBERTY)
    assert [o.get("event_type") for o in obs.observations] == [
        m["event_type"] for m in lines(CONFIRM)]
    assert obs.warnings and "out of time order" in obs.warnings[0]
    code, _, err = run(["validate", str(p), "--notify-on-state-change", "vm_and_task_state",
                        "--quiet"], capsys)
    assert code == 0 and err.startswith("warning: ") and "sorted by timestamp" in err


# ---- bad input: exit 2, never a verdict ---------------------------------------------------------


@pytest.mark.parametrize(
    "name, text, extra, needle",
    [
        ("trunc.jsonl", '{"event_type": "compute.instance.update", "payload": {\n', [],
         "not valid JSON"),
        ("cols.txt", "| ID | Name | Power State |\n| x | vm | Running |\n", ["--format",
                                                                           "nova-list"],
         "Status"),
        ("unknown.jsonl",
         '{"event_type": "compute.instance.snapshot.start", "publisher_id": "compute.h",'
         ' "payload": {"display_name": "vm"}}\n', [], "not an event of the resize family"),
        ("show.json", '{"name": "vm"}', ["--format", "server-show"], "OS-EXT-STS:vm_state"),
        ("rows.txt", "| ID | Name | Status | Task State |\n| a | b | c |\n", [], "3 cells"),
        ("empty.json", "[]", [], "no observations"),
        ("state.json", '{"name": "vm", "OS-EXT-STS:vm_state": "resizing"}', [],
         "unknown vm_state 'resizing'"),
        ("task.txt", "| ID | Name | Status | Task State |\n| a | vm | RESIZE | resize_finnish |\n",
         [], "unknown task_state 'resize_finnish'"),
        ("time.jsonl", '{"event_type": "compute.instance.exists", "publisher_id": "compute.h",'
         ' "timestamp": "yesterday", "payload": {"display_name": "vm"}}\n', [],
         "cannot read the timestamp"),
        ("env.jsonl", '{"oslo.version": "3.0", "oslo.message": "{}"}\n', [], "oslo.version"),
        ("list.txt", "[root@controller1 ~]# nova list\n" + SEED.read_text().split(
            "nova list", 2)[2].split("Polling")[0], ["--instance", "nosuch"],
         "--instance nosuch: no observation of it"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_2(tmp_path, capsys, name, text, extra,
                                                   needle):
    p = tmp_path / name
    p.write_text(text)
    code, out, err = run(["validate", *extra, str(p)], capsys)
    assert code == 2 and out == "", out
    assert err.count("\n") == 1 and needle in err, err


def test_unreadable_files(capsys):
    code, _, err = run(["validate", "/no/such/file"], capsys)
    assert code == 2 and "/no/such/file" in err
    with pytest.raises(ObservationError):
        read_all(["/no/such/file"], "auto", LIBERTY)


# ---- other formats ------------------------------------------------------------------------------


def test_server_show_snapshots_and_instance_actions(tmp_path):
    snaps = [
        {"name": "vm9", "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": None,
         "OS-EXT-SRV-ATTR:host": "nodeA", "flavor": "m1.tiny (1)", "status": "ACTIVE",
         "updated": "2016-04-17T13:00:00Z"},
        {"server": {"name": "vm9", "OS-EXT-STS:vm_state": "active",
                    "OS-EXT-STS:task_state": "resize_migrated", "OS-EXT-SRV-ATTR:host": "nodeB",
                    "flavor": {"id": "1", "links": []}, "status": "RESIZE",
                    "updated": "2016-04-17T13:00:05Z"}},
        {"name": "vm9", "OS-EXT-STS:vm_state": "resized", "OS-EXT-STS:task_state": None,
         "OS-EXT-SRV-ATTR:host": "nodeB", "flavor": "m1.small (2)", "status": "VERIFY_RESIZE",
         "updated": "2016-04-17T13:00:09Z"},
    ]
    p = tmp_path / "show.jsonl"
    p.write_text("".join(json.dumps(s) + "\n" for s in snaps))
    v = check(p)
    assert v.accepted, v.allowed
    actions = {"instanceActions": [{"action": "resize", "instance_uuid": "vm9",
                                    "start_time": "2016-04-17T13:00:01.000000",
                                    "events": [{"event": "compute_prep_resize",
                                                "start_time": "2016-04-17T13:00:02.000000",
                                                "finish_time": "2016-04-17T13:00:03.000000",
                                                "result": "Success"}]}]}
    a = tmp_path / "actions.json"
    a.write_text(json.dumps(actions))
    assert check(p, a).accepted


def test_validate_from_python_values():
    # notification messages as a consumer receives them, in envelopes, and Obs records
    env = json.loads((DATA / "notifications-resize-confirm-envelope.json").read_text())
    v = validate_observations(env, notify_on_state_change="vm_and_task_state")
    assert v.accepted and len(v.witness) == 18
    snaps = [Obs("snapshot", "poll 1", "test-cirros-1",
                 fields=(("status", "RESIZE"), ("task_state", "resize_migrated"))),
             Obs("snapshot", "poll 2", "test-cirros-1",
                 fields=(("status", "VERIFY_RESIZE"), ("task_state", None)))]
    assert validate_observations(snaps).accepted
    assert not validate_observations(list(reversed(snaps))).accepted
    with pytest.raises(ObservationError, match="no observations"):
        validate_observations([])


# ---- explain -----------------------------------------------------------------------------------


@pytest.mark.parametrize("show", ["server-show-stuck.json", "server-show-stuck-api.json"])
@pytest.mark.parametrize("migrations", ["migration-list-stuck.json", "migration-list-stuck.txt"])
def test_explain_reads_liberty_server_and_migration_formats(show, migrations):
    # the client's and the API's server JSON; the API's migration JSON and the client's table
    fields, name = read_observation(str(DATA / show))
    assert name == "test-cirros-1"
    assert (fields["vm_state"], fields["task_state"], fields["host"]) == (
        "active", "resize_prep", "compute-1")
    assert fields["flavor_id"] == "1"
    assert read_migration_status(str(DATA / migrations), fields["id"]) == "pre-migrating"


def test_explain_names_the_fault_a_stuck_state_needs(capsys, tmp_path):
    j = tmp_path / "e.json"
    code, out, _ = run(["explain", str(DATA / "server-show-stuck-api.json"), "--migrations",
                        str(DATA / "migration-list-stuck.txt"), "--json", str(j),
                        "--max-states", "30000"], capsys)
    assert code == 0
    doc = json.loads(j.read_text())
    assert doc["observation"] == ("test-cirros-1 (active, resize_prep) on compute-1, migration "
                                  "pre-migrating")
    ways = {w["faults"]: w for w in doc["ways"]}
    # a lost resize_instance cast leaves it there for good
    assert ways["a lost resize_instance message"]["stuck"]
    assert "STUCK" in out
    # a crash of the source's service before it takes the cast: restart recovery clears
    # resize_prep, and the resize then errors out (W10)
    assert any("ERROR (error, resize_migrating)" in s for w in doc["ways"]
               for s in w["by_itself"])
    assert any(o["action"] == "delete" and o["result"] == "deleted" for o in doc["admin"])


def test_explain_reads_a_nova_show_table(tmp_path, capsys):
    # the seed's nova show table (no-break spaces and all), as if taken during prep_resize
    rows = []
    for line in SEED.read_text().split("Polling")[0].splitlines():
        if "OS-EXT-STS:task_state" in line:
            line = "| OS-EXT-STS:task_state | resize_prep |"
        elif line.startswith("| status"):
            line = "| status | RESIZE |"
        rows.append(line)
    p = tmp_path / "show.txt"
    p.write_text("\n".join(rows) + "\n")
    code, out, _ = run(["explain", str(p), "--config", "seed", "--max-states", "20000"], capsys)
    assert code == 0 and out.startswith("observation: test-cirros-1 (active, resize_prep) on "
                                        "compute-1")


def test_explain_of_an_unreachable_state(tmp_path, capsys):
    p = tmp_path / "s.json"
    p.write_text(json.dumps({"name": "test-cirros-1", "OS-EXT-STS:vm_state": "stopped",
                             "OS-EXT-STS:task_state": "resize_reverting",
                             "OS-EXT-SRV-ATTR:host": "compute-1"}))
    code, out, err = run(["explain", str(p), "--config", "seed", "--max-states", "20000"],
                         capsys)
    # the seed cloud has crashes and losses: 20,000 states do not exhaust it, so the answer is
    # "not found within the bound" (incomplete), never "unreachable"
    assert code == 4 and "NOT REACHED" in out and "bounded" in out and "incomplete" in err
    # a cloud whose search does finish (one resize, no fault): then it is a verdict
    q = tmp_path / "vm1.json"
    q.write_text(json.dumps({"name": "vm1", "OS-EXT-STS:vm_state": "stopped",
                             "OS-EXT-STS:task_state": "resize_reverting",
                             "OS-EXT-SRV-ATTR:host": "host1"}))
    from nova_resize.checker.traces.explain import explain, explanation_text, read_observation
    from nova_resize.engine.config import load_config

    cfg = tmp_path / "one-resize.toml"
    cfg.write_text((DATA / "small.toml").read_text().replace("confirm_resize = 1\n", ""))
    fields, name = read_observation(str(q))
    e = explain(load_config(cfg), LIBERTY, fields, name, None)
    assert not e.reachable and e.complete
    assert "NOT REACHABLE" in explanation_text(e) and "all of them" in explanation_text(e)
