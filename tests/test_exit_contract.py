"""The exit-status contract, command by command: 0 success, 1 findings or rejection, 2 bad input
(one line, naming the file, key or line), 3 internal error (the traceback in a file), 4 an
incomplete run (a default cap or an interrupt); each case the robustness review found, fixed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.cli.exits import BAD_INPUT, FINDINGS, INCOMPLETE, INTERNAL, OK

DATA = Path(__file__).resolve().parent / "data"
SMALL = str(DATA / "small.toml")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line(err: str) -> bool:
    return err.count("\n") == 1 and "Traceback" not in err and err.startswith("nova-resize")


def variant(tmp_path: Path, text: str) -> str:
    p = tmp_path / "variant.toml"
    p.write_text(text)
    return str(p)


LOOP = """[[replace]]
row = "compute.resize_instance.migrating"
effects = []
then = "start"
"""


@pytest.mark.parametrize("command", [
    ["check", "--config", SMALL, "--quiet"],
    ["prove", "--quiet"],
    ["diagram", "--format", "dot", "--quiet"],
    ["simulate", "--config", SMALL, "--runs", "3", "--quiet"],
    ["bmc", "--depth", "2", "--quiet"],
])
def test_a_variant_looping_without_a_blocking_step_is_refused_before_anything_runs(
        command, tmp_path, capsys):
    if command[0] == "diagram":
        command = [*command, "--out", str(tmp_path / "d")]
    code, _, err = run([*command, "--variant", variant(tmp_path, LOOP)], capsys)
    assert code == BAD_INPUT and one_line(err)
    assert "compute.resize_instance.migrating loop" in err and "variant.toml" in err


@pytest.mark.parametrize(("text", "named"), [
    ('[[replace]]\nrow = "compute.resize_instance.task_migrating"\n'
     'when = ["instance.bogus_field == 1"]\n', "instance.bogus_field"),
    ('[[guard]]\nrow = "compute.resize_instance.task_migrating"\n'
     'expected_task_state = ["resize_bananas"]\n', "resize_bananas"),
    ('[[replace]]\nrow = "compute.resize_instance.migrating"\n'
     'effects = [{type = "Set", target = "migration", name = "status", value = "wobbly"}]\n',
     "'wobbly'"),
    ('[[replace]]\nrow = "compute.resize_instance.migrating"\nthen = "nowhere"\n', "nowhere"),
    ('[[replace]]\nrow = "compute.resize_instance.migrating"\n'
     'effects = [{type = "Driver", op = "explode"}]\n', "explode"),
    ('[[replace]]\nrow = "compute.resize_instance.migrating"\n'
     'effects = [{type = "Send", kind = "cast", method = "nosuch", target = "instance.host"}]\n',
     "nosuch"),
    ('[[replace]]\nrow = "compute.resize_instance.migrating"\nwhen = ["config.bogus is truthy"]\n',
     "config.bogus"),
])
def test_unknown_names_and_values_in_a_variant_are_input_errors(text, named, tmp_path, capsys):
    code, _, err = run(["check", "--config", SMALL, "--quiet", "--variant",
                        variant(tmp_path, text)], capsys)
    assert code == BAD_INPUT and one_line(err) and named in err


def test_a_step_that_would_never_end_is_refused_even_past_the_static_checks():
    # the static check sees label cycles; the engine also refuses a runaway step (here a Goto
    # between two handlers' memory-only rows, which no per-handler graph shows)
    from nova_resize.checker.variants import apply_variant_text
    from nova_resize.engine.facade import Cloud
    from nova_resize.engine.presets import load_preset
    from nova_resize.spec import LIBERTY

    from nova_resize.errors import RunawayStep

    text = ('[[replace]]\nrow = "compute.resize_instance.migrating"\neffects = [{type = "Goto", '
            'handler = "finish_resize", label = "start"}]\n'
            '[[replace]]\nrow = "compute.finish_resize.stash_old_flavor"\neffects = [{type = '
            '"Goto", handler = "resize_instance", label = "start"}]\n')
    v = apply_variant_text(LIBERTY, text, "goto.toml")
    cloud = Cloud(load_preset("ci"), v.spec, strict=False)
    cloud.api.resize("vm1", "medium")
    with pytest.raises(RunawayStep, match=r"compute\.resize_instance\.migrating"):
        cloud.run_until_quiescent()


@pytest.mark.parametrize(("args", "named"), [
    (["walk", "--instance", "nosuch"], "--instance nosuch"),
    (["walk", "--flavor", "nosuch"], "--flavor nosuch"),
    (["walk", "--flavor", "m1.tiny"], "refuses"),
    (["validate", "--max-requests", "-1", SMALL], "--max-requests"),
    (["prove", "--baseline", SMALL, "--quiet"], "unknown key"),
    (["check", "--max-states", "0"], "--max-states"),
    (["bmc", "--config", "SIX_HOSTS", "--depth", "1"], "at most 5 hosts"),
])
def test_bad_flags_and_values_are_input_errors(args, named, tmp_path, capsys):
    six = tmp_path / "six.toml"
    six.write_text(Path(SMALL).read_text() + "".join(f'[[hosts]]\nname = "x{i}"\n'
                                                     for i in range(4)))
    args = [str(six) if a == "SIX_HOSTS" else a for a in args]
    code, _, err = run(args, capsys)
    assert code == BAD_INPUT and one_line(err) and named in err


def test_outputs_are_checked_before_the_run(tmp_path, capsys):
    code, out, err = run(["check", "--config", SMALL, "--json",
                          str(tmp_path / "missing" / "r.json")], capsys)
    assert code == BAD_INPUT and one_line(err) and "does not exist" in err and out == ""
    a_file = tmp_path / "f"
    a_file.write_text("x")
    code, _, err = run(["diagram", "--out", str(a_file), "--quiet"], capsys)
    assert code == BAD_INPUT and one_line(err) and "not a directory" in err


def test_a_failed_write_keeps_the_previous_report(tmp_path, monkeypatch, capsys):
    report = tmp_path / "r.json"
    assert run(["check", "--config", SMALL, "--quiet", "--json", str(report)], capsys)[0] == OK
    before = report.read_text()
    import nova_resize.files as files

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", broken_replace)
    code, _, err = run(["check", "--config", SMALL, "--quiet", "--json", str(report)], capsys)
    assert code == BAD_INPUT and "No space left" in err
    assert report.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]  # no temporary file left


@pytest.mark.parametrize("content", [b"\x00\x01\x02binary\xff", b"[" * 100_000 + b"]" * 100_000])
def test_binary_and_deeply_nested_observations_are_input_errors(content, tmp_path, capsys):
    f = tmp_path / "obs.json"
    f.write_bytes(content)
    for args in (["explain", str(f)], ["explain", str(DATA / "server-show-stuck.json"),
                                       "--migrations", str(f)], ["validate", str(f)]):
        code, _, err = run(args, capsys)
        assert code == BAD_INPUT and one_line(err), (args, err)


def test_a_default_cap_ends_the_run_incomplete_and_a_chosen_bound_does_not(capsys):
    code, out, err = run(["check", "--max-states", "500", "--quiet"], capsys)
    assert code == INCOMPLETE and "PARTIAL: max states 500" in out and "incomplete" in err
    code, out, _ = run(["check", "--max-states", "500", "--quiet", "--allow-partial"], capsys)
    assert code == OK and "PARTIAL" in out


def test_new_findings_in_a_partial_run_still_fail(tmp_path, capsys):
    guard = ('[[guard]]\nrow = "compute.finish_resize.resized"\n'
             'expected_task_state = "none"\n')
    code, _, _ = run(["check", "--config", SMALL, "--max-states", "2000", "--quiet",
                      "--no-baseline", "--variant", variant(tmp_path, guard)], capsys)
    assert code == FINDINGS


def test_the_memory_cap_stops_cleanly(capsys):
    # a cap below what the process already uses: the first check stops the run
    code, out, _ = run(["check", "--max-memory", "1", "--quiet"], capsys)
    assert code == INCOMPLETE and "memory limit 1 MiB" in out


def test_a_bug_of_ours_is_status_3_with_the_traceback_in_a_file(monkeypatch, capsys):
    import nova_resize.checker.cli.traces as traces

    def boom(*a: object, **k: object) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr("nova_resize.checker.traces.walk.seed_walk", boom)
    monkeypatch.setattr(traces, "cmd_walk", lambda args: boom())
    from nova_resize.checker.cli import main as fresh_main

    code = fresh_main(["walk"])
    err = capsys.readouterr().err
    assert code == INTERNAL and one_line(err) and "simulated bug" in err
    path = err.rsplit("traceback in ", 1)[1].rstrip(")\n")
    assert "ZeroDivisionError" in Path(path).read_text()
    os.unlink(path)


def _start(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "nova_resize.checker.cli.main", *args],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "CI": "1"})


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_check_writes_its_partial_report_and_exits_4(sig, tmp_path):
    report = tmp_path / "r.json"
    p = _start(["check", "--quiet", "--json", str(report)], tmp_path)
    deadline = time.monotonic() + 60
    time.sleep(3)  # well into the exploration (imports take about a second)
    p.send_signal(sig)
    _, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
    assert p.returncode == INCOMPLETE, err
    doc = json.loads(report.read_text())
    assert doc["complete"] is False and "interrupted" in doc["stop_reason"]
    assert "Traceback" not in err


def test_simulate_hypothesis_runs_on_the_default_configuration(capsys):
    code, out, err = run(["simulate", "--hypothesis", "--examples", "3", "--steps", "15",
                          "--seed", "1"], capsys)
    assert code == OK and "Traceback" not in err
    assert "no finding outside the baseline" in out


def test_every_command_prints_its_help_and_exits_0(capsys):
    # given each command of the CLI (a help text with a bare '%' once crashed argparse)
    from nova_resize.checker.cli.main import build_parser

    sub = next(a for a in build_parser()._actions if a.choices and isinstance(a.choices, dict))
    names = sorted(sub.choices)
    assert len(names) >= 10
    for name in names:
        # when its help is asked for
        code, out, err = run([name, "--help"], capsys)
        # then it prints the usage and exits 0
        assert code == OK, (name, err)
        assert out.startswith("usage: nova-resize " + name), name
