"""Trace validation and explanations against observations of a real cloud."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.traces.observe import read_all, read_nova_list
from nova_resize.checker.traces.validate import validate
from nova_resize.engine.presets import load_preset
from nova_resize.spec import LIBERTY

from nova_resize.errors import ObservationError

DATA = Path(__file__).parent / "data"
SEED = DATA / "seed-walk.txt"


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def check(*paths, fmt="auto", **kw):
    return validate(load_preset("seed"), LIBERTY, read_all([str(p) for p in paths], fmt,
                                                            LIBERTY), **kw)


def test_the_seed_walk_is_accepted(capsys, tmp_path):
    # given the nova list snapshots the seed document took, as pasted (no-break spaces, borders
    # and rows run together on one line, a `nova show` table in between)
    obs = read_all([str(SEED)], "auto", LIBERTY)
    assert [o.get("task_state") for o in obs.observations] == [
        "resize_prep", "resize_migrating", "resize_migrated", "resize_finish", None]
    # when validated
    j = tmp_path / "v.json"
    code, out, _ = run(["validate", str(SEED), "--json", str(j)], capsys)
    # then some behaviour of the spec explains it, with a witness aligned to each snapshot
    assert code == 0 and out.startswith("ACCEPTED: 5 observations of test-cirros-1")
    doc = json.loads(j.read_text())
    assert doc["accepted"] and len(doc["witness"]) == 5
    rows = [r for w in doc["witness"] for s in w["steps"] for r in s["rows"]]
    assert "compute.resize_instance.task_migrated" in rows
    assert "compute.finish_resize.resized" in rows


def _tables(text: str) -> list[str]:
    parts = text.split("[root@controller1")
    return parts


def test_swapped_snapshots_are_rejected_at_the_right_observation(tmp_path):
    text = SEED.read_text()
    a, b = "resize_migrating", "resize_migrated "
    swapped = text.replace(a, "@@A@@").replace(b, a + " ").replace("@@A@@", b.strip())
    p = tmp_path / "swapped.txt"
    p.write_text(swapped)
    v = check(p)
    assert not v.accepted
    # resize_migrated is fine after resize_prep; resize_migrating after it is not
    assert v.rejected_at == 2
    assert v.observations[2].get("task_state") == "resize_migrating"
    assert any("resize_migrated" in s or "resize_finish" in s for s in v.allowed)


def test_a_task_state_nova_never_shows_is_rejected(tmp_path):
    text = SEED.read_text().replace("resize_finish", "resize_confirming", 1)
    p = tmp_path / "confirming.txt"
    p.write_text(text)
    v = check(p)
    assert not v.accepted and v.rejected_at == 3
    assert v.nearest is not None


def test_confirm_and_revert_notification_streams_are_accepted():
    assert check(DATA / "notifications-resize-confirm.jsonl").accepted
    assert check(DATA / "notifications-resize-revert.jsonl").accepted


def test_resize_end_after_finish_resize_start_is_accepted():
    # resize.end is sent after the finish_resize cast: the destination may notify first
    lines = (DATA / "notifications-resize-end-late.jsonl").read_text().splitlines()
    types = [json.loads(x)["event_type"] for x in lines]
    assert types.index("compute.instance.resize.end") > types.index(
        "compute.instance.finish_resize.start")
    assert check(DATA / "notifications-resize-end-late.jsonl").accepted


def test_a_second_finish_resize_without_a_new_resize_is_rejected():
    v = check(DATA / "notifications-second-finish.jsonl")
    assert not v.accepted
    assert v.observations[v.rejected_at].get("event_type") == \
        "compute.instance.finish_resize.start"


def test_server_show_snapshots_and_instance_actions(tmp_path):
    snaps = [
        {"name": "vm9", "OS-EXT-STS:vm_state": "active", "OS-EXT-STS:task_state": None,
         "OS-EXT-SRV-ATTR:host": "nodeA", "flavor": "m1.tiny (1)", "status": "ACTIVE",
         "updated": "2016-04-17T13:00:00Z"},
        {"name": "vm9", "OS-EXT-STS:vm_state": "active",
         "OS-EXT-STS:task_state": "resize_migrated", "OS-EXT-SRV-ATTR:host": "nodeB",
         "flavor": "m1.tiny (1)", "status": "RESIZE", "updated": "2016-04-17T13:00:05Z"},
        {"name": "vm9", "OS-EXT-STS:vm_state": "resized", "OS-EXT-STS:task_state": None,
         "OS-EXT-SRV-ATTR:host": "nodeB", "flavor": "m1.small (2)", "status": "VERIFY_RESIZE",
         "updated": "2016-04-17T13:00:09Z"},
    ]
    p = tmp_path / "show.jsonl"
    p.write_text("".join(json.dumps(s) + "\n" for s in snaps))
    v = check(p)
    assert v.accepted, v.allowed
    actions = {"instanceActions": [{"action": "resize", "instance_uuid": "vm9",
                                    "start_time": "2016-04-17T13:00:01",
                                    "events": [{"event": "compute_prep_resize",
                                                "start_time": "2016-04-17T13:00:02",
                                                "finish_time": "2016-04-17T13:00:03",
                                                "result": "Success"}]}]}
    a = tmp_path / "actions.json"
    a.write_text(json.dumps(actions))
    assert check(p, a).accepted


def test_files_are_merged_by_timestamp(tmp_path):
    obs = read_all([str(DATA / "notifications-resize-confirm.jsonl")], "auto", LIBERTY)
    assert [o.time for o in obs.observations] == sorted(o.time for o in obs.observations)


@pytest.mark.parametrize(
    "name, text, needle",
    [
        ("trunc.jsonl", '{"event_type": "compute.instance.update", "payload": {\n',
         "not valid JSON"),
        ("cols.txt", "| ID | Name | Power State |\n| x | vm | Running |\n", "Status"),
        ("unknown.jsonl",
         '{"event_type": "compute.instance.snapshot.start", "publisher_id": "compute.h",'
         ' "payload": {"display_name": "vm"}}\n', "unknown event type"),
        ("show.json", '{"name": "vm"}', "OS-EXT-STS:vm_state"),
        ("rows.txt", "| ID | Name | Status | Task State |\n| a | b | c |\n", "3 cells"),
    ],
)
def test_malformed_files_are_one_line_errors_with_exit_2(tmp_path, capsys, name, text, needle):
    p = tmp_path / name
    p.write_text(text)
    fmt = {"show.json": "server-show", "cols.txt": "nova-list"}.get(name, "auto")
    code, out, err = run(["validate", "--format", fmt, str(p)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(p) in err and needle in err


def test_nova_list_rows_split_across_lines_are_joined():
    text = ("+----+------+--------+------------+-------------+----------+\n"
            "| ID | Name | Status | Task State | Power State | Networks |\n"
            "+----+------+--------+------------+-------------+----------+\n"
            "| 1  | vm   | RESIZE | resize_    | Running     | a=1      |\n"
            "|    |      |        | prep       |             | b=2      |\n"
            "+----+------+--------+------------+-------------+----------+\n")
    obs = read_nova_list(text, "t")
    assert len(obs) == 1 and obs[0].get("task_state") == "resize_prep"


def test_unreadable_files(capsys):
    code, _, err = run(["validate", "/no/such/file"], capsys)
    assert code == 2 and "/no/such/file" in err
    with pytest.raises(ObservationError):
        read_all(["/no/such/file"], "auto", LIBERTY)


def test_explain_names_the_fault_a_stuck_state_needs(capsys, tmp_path):
    j = tmp_path / "e.json"
    code, out, _ = run(["explain", str(DATA / "server-show-stuck.json"), "--migrations",
                        str(DATA / "migration-list-stuck.json"), "--json", str(j),
                        "--max-states", "30000"], capsys)
    assert code == 0
    doc = json.loads(j.read_text())
    ways = {w["faults"]: w for w in doc["ways"]}
    # a lost resize_instance cast leaves it there for good
    lost = ways["a lost resize_instance message"]
    assert lost["stuck"]
    # a crash of the source's service before it takes the cast: restart recovery clears
    # resize_prep, and the resize then errors out (W10)
    assert any("ERROR (error, resize_migrating)" in s for w in doc["ways"]
               for s in w["by_itself"])
    assert any(o["action"] == "delete" and o["result"] == "deleted" for o in doc["admin"])
    assert "STUCK" in out


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
