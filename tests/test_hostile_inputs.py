"""Hostile inputs a sweep of every command found mishandled (a hang, unbounded memory, an
internal error for a user's mistake, a wrong answer given silently), each now bad input: exit 2
and one line naming the file, key or option."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.cli.exits import BAD_INPUT, INCOMPLETE

DATA = Path(__file__).resolve().parent / "data"
SMALL = DATA / "small.toml"
SERVER = DATA / "server-show-stuck-api.json"
STREAM = DATA / "notifications-resize-confirm.jsonl"
MIGRATIONS = DATA / "migration-list-stuck.json"


def bad(args: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == BAD_INPUT, err
    assert err.count("\n") == 1 and err.startswith("nova-resize: "), err
    for n in needles:
        assert n in err, err
    return err


@pytest.mark.parametrize("command", [
    ["validate"], ["check", "--config"], ["check", "--variant"], ["replay"],
])
def test_a_named_pipe_is_refused_without_opening_it(command, tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    args = [*command, str(fifo)] + (["--finding", "0"] if command == ["replay"] else [])
    bad(args, capsys, str(fifo), "a named pipe")


def test_a_device_is_refused_rather_than_read_for_ever(capsys):
    bad(["validate", "/dev/zero"], capsys, "/dev/zero", "a device")
    bad(["check", "--config", "/dev/zero"], capsys, "a device")


def test_worker_counts_and_bmc_depths_are_bounded(capsys):
    bad(["check", "--config", str(SMALL), "--workers", "1000000000"], capsys, "--workers")
    bad(["bmc", "--depth", "1000000000"], capsys, "--depth", "at most 1,000")


def test_simulate_honours_its_time_limit_inside_an_endless_walk(tmp_path):
    # one walk of a trillion steps (the audit runs for ever): the limit and the signals are
    # checked within the walk
    cfg = tmp_path / "c.toml"
    text = SMALL.read_text()
    assert "[periodic]" not in text and "[faults]" not in text
    text = text.replace("confirm_resize = 1", "confirm_resize = 1\ndelete = 1", 1)
    cfg.write_text(f"{text}\n[faults]\ndriver = 1\n\n[periodic]\n"
                   f"update_available_resource = true\n")
    proc = subprocess.run([sys.executable, "-c", "import sys; from nova_resize.checker.cli "
                           "import main; sys.exit(main(sys.argv[1:]))", "simulate",
                           "--config", str(cfg), "--runs", "1", "--depth", "1000000000000",
                           "--max-seconds", "1", "--seed", "0", "--quiet"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == INCOMPLETE and "time limit" in proc.stderr


def _config(tmp_path: Path, old: str, new: str) -> str:
    text = SMALL.read_text()
    assert old in text
    p = tmp_path / "c.toml"
    p.write_text(text.replace(old, new, 1))
    return str(p)


@pytest.mark.parametrize("old,new,needle", [
    ('name = "vm1"', 'name = ""', "instances[0].name"),
    ('name = "vm1"', 'name = "a/b"', "instances[0].name"),
    ('name = "vm1"', 'name = "a#1"', "instances[0].name"),
    ('name = "host1"', 'name = "a\\nb"', "hosts[0].name"),
])
def test_names_the_engine_builds_ids_from_are_checked(old, new, needle, tmp_path, capsys):
    # an empty instance name was taken for the host-wide handlers' placeholder (fewer states);
    # a '/' made two reservations' findings one
    text = SMALL.read_text()
    if old not in text:
        pytest.skip(f"{old} is not in small.toml")
    bad(["check", "--config", _config(tmp_path, old, new), "--quiet"], capsys, needle)


def test_option_floors_and_caps(tmp_path, capsys):
    p = tmp_path / "c.toml"
    text = SMALL.read_text()
    assert "[options]" not in text
    for line, needle in (("scheduler_max_attempts = 0", "a positive integer"),
                         ("resize_confirm_window = 10000000000000000", "at most")):
        p.write_text(f"{text}\n[options]\n{line}\n")
        bad(["check", "--config", str(p), "--quiet"], capsys, "options.", needle)


@pytest.mark.parametrize("text,needle", [
    ('[[replace]]\nrow = "compute.resize_instance.task_migrating"\nid = "other"\n',
     "replace[0].id"),
    ('[[replace]]\nrow = "compute.resize_instance.task_migrating"\neffects = [{type = "Set", '
     'target = "instance", name = "vm_state", value = {default = "local.nothing", '
     'value = "bogus_vm"}}]\n', "'bogus_vm' is not one the spec defines"),
    ('[[replace]]\nrow = "compute.resize_instance.task_migrating"\neffects = [{type = "Goto", '
     'label = "start"}]\n', "Goto needs handler"),
])
def test_a_variant_breaking_the_documented_rules_is_refused(text, needle, tmp_path, capsys):
    v = tmp_path / "v.toml"
    v.write_text(text)
    bad(["check", "--config", str(SMALL), "--variant", str(v), "--quiet"], capsys, needle)


@pytest.mark.parametrize("text,needle", [
    ('[[replace]]\nrow = "compute.resize_instance.task_migrating"\neffects = [{type = "Set", '
     'target = "instance", name = "task_state", value = {inc = "instance.task_state"}}]\n',
     "inc of instance.task_state"),
    ('[[replace]]\nrow = "compute.resize_instance.task_migrating"\nwhen = '
     + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
])
def test_a_variant_the_engine_cannot_run_is_bad_input(text, needle, tmp_path, capsys):
    v = tmp_path / "v.toml"
    v.write_text(text)
    bad(["check", "--config", "ci", "--variant", str(v), "--quiet"], capsys, needle)


def test_a_malformed_report_is_bad_input_to_replay(tmp_path, capsys):
    r = tmp_path / "r.json"
    j = tmp_path / "ok.json"
    main(["check", "--config", str(SMALL), "--quiet", "--json", str(j)])
    origin = json.loads(j.read_text())["origin"]
    capsys.readouterr()
    for doc, needle in (({"findings": [None]}, "findings[0]"),
                        ({"findings": [{"property": "legal-state", "key": None}]},
                         "findings[0]"),
                        ({"findings": [{"property": "legal-state", "key": "k", "actions": 5}]},
                         "finding.actions")):
        r.write_text(json.dumps({**doc, "origin": origin}))
        bad(["replay", str(r), "--finding", "0"], capsys, str(r), needle)


def _edited(tmp_path: Path, src: Path, edit: object) -> str:
    doc = json.loads(src.read_text())
    edit(doc)  # type: ignore[operator]
    p = tmp_path / src.name
    p.write_text(json.dumps(doc))
    return str(p)


def test_server_fields_of_the_wrong_type_are_refused(tmp_path, capsys):
    def server(doc: dict) -> dict:
        return doc.get("server", doc)

    for key, value in (("OS-EXT-STS:vm_state", None), ("OS-EXT-SRV-ATTR:host", 12345),
                       ("status", {"a": 1}), ("updated", []), ("flavor", 7)):
        path = _edited(tmp_path, SERVER, lambda d, k=key, v=value: server(d).__setitem__(k, v))
        bad(["validate", path], capsys, key)


def test_notification_payloads_of_the_wrong_type_are_refused(tmp_path, capsys):
    lines = STREAM.read_text().splitlines()
    for key, value in (("state", None), ("host", 12345), ("host", ["a"])):
        first = json.loads(lines[0])
        first["payload"][key] = value
        p = tmp_path / "n.jsonl"
        p.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
        bad(["validate", str(p)], capsys, f"payload {key}")
    first = json.loads(lines[0])
    first["event_type"] = "compute.instance.update\nx"
    p = tmp_path / "n.jsonl"
    p.write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    bad(["validate", str(p)], capsys, "event_type")
    deep = {"oslo.version": "2.0", "oslo.message": "[" * 100_000 + "]" * 100_000}
    p = tmp_path / "e.json"
    p.write_text(json.dumps([deep]))
    bad(["validate", "--format", "notifications", str(p)], capsys, "nested too deeply")


def test_migration_fields_of_the_wrong_type_are_refused(tmp_path, capsys):
    for key, value in (("id", "abc"), ("updated_at", 12345), ("created_at", []),
                       ("instance_uuid", 7)):
        path = _edited(tmp_path, MIGRATIONS,
                       lambda d, k=key, v=value: d["migrations"][0].__setitem__(k, v))
        bad(["explain", str(SERVER), "--migrations", path], capsys, key)


def test_a_long_message_is_cut(tmp_path, capsys):
    v = tmp_path / "v.toml"
    v.write_text('[[replace]]\nrow = "' + "x" * 200_000 + '"\n')
    err = bad(["check", "--variant", str(v), "--quiet"], capsys, "characters)")
    assert len(err) < 1200
