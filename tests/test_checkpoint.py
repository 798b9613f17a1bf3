"""Checkpoints and resumed runs (``check --checkpoint DIR``, ``check --resume DIR``): a run
stopped anywhere -- by a bound, a signal or SIGKILL -- and resumed reaches the same states,
transitions, findings and liveness verdicts as a run never stopped; a checkpoint that is torn,
alien or another run's is refused in one line with exit status 2."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.explicit.run import check, run_identity
from nova_resize.checker.explorer import Checkpointer, Limits, explore
from nova_resize.checker.explorer import checkpoint as ckpt
from nova_resize.engine.presets import load_preset

from examples.twophase import TwoPhaseCommit

PRESET = "regression-revert-autoconfirm"  # 8,507 states in about 1.5 s, liveness findings
TIMINGS = ("seconds", "states_per_second", "peak_rss_bytes")


def outcome(res):
    """Everything a resumed run must reproduce."""
    ex = res.report.ex
    return {
        "states": ex.distinct_states, "transitions": ex.transitions, "diameter": ex.diameter,
        "complete": ex.complete, "stuck": ex.stuck_states,
        "findings": sorted((f.prop, f.key, f.where, f.count, f.depth, f.kind, f.state)
                           for f, _, _, _ in res.report.findings),
        "evaluations": dict(ex.evaluations), "rows": dict(res.report.rows_executed),
    }


@pytest.fixture(scope="module")
def reference():
    config = load_preset(PRESET)
    return outcome(check(config, [], []))


def checkpointed(tmp_path, limits=None, resume=False):
    config = load_preset(PRESET)
    cp = Checkpointer(tmp_path, 3600, run_identity(config, [], PRESET),
                      tmp_path if resume else None)
    return check(config, [], [], limits=limits, checkpoint=cp), cp


@pytest.mark.parametrize("rebuild", [False, True])
def test_a_run_stopped_twice_and_resumed_equals_one_never_stopped(tmp_path, reference,
                                                                   monkeypatch, rebuild):
    res, cp = checkpointed(tmp_path, Limits(max_states=700))
    assert not res.report.ex.complete and cp.written == 1  # the final checkpoint
    res, cp = checkpointed(tmp_path, Limits(max_states=5_000), resume=True)
    assert res.report.ex.stop_kind == "states" and cp.resumed_states >= 700
    if rebuild:  # as in another process, whose hash differs: the table is rebuilt
        monkeypatch.setattr(ckpt, "hash_probe", lambda: 0)
    res, cp = checkpointed(tmp_path, resume=True)
    assert cp.rebuilt is rebuild and cp.resumed_states >= 5_000
    assert outcome(res) == reference


def test_a_run_stopped_at_a_depth_bound_goes_deeper_when_resumed(tmp_path):
    model = TwoPhaseCommit(3)
    whole = explore(model, "bfs", liveness=False)
    cp = Checkpointer(tmp_path, 3600, {"model": "twophase"})
    part = explore(model, "bfs", Limits(max_depth=6), liveness=False, checkpoint=cp)
    assert part.stop_kind == "depth" and part.distinct_states < whole.distinct_states
    cp = Checkpointer(tmp_path, 3600, {"model": "twophase"}, resume=tmp_path)
    ex = explore(model, "bfs", liveness=False, checkpoint=cp)
    assert (ex.distinct_states, ex.transitions, ex.diameter, ex.complete) == \
        (whole.distinct_states, whole.transitions, whole.diameter, True)
    assert list(ex.parent) == list(whole.parent) and ex.actions == whole.actions


def test_a_stored_table_the_saved_states_disagree_with_is_rebuilt(tmp_path):
    model = TwoPhaseCommit(3)
    cp = Checkpointer(tmp_path, 3600, {})
    explore(model, "bfs", Limits(max_states=1_000), liveness=False, checkpoint=cp)
    blob = (tmp_path / "checkpoint").read_bytes()
    data = pickle.loads(blob.split(b"\n", 2)[2])
    data["fingerprints"] = type(data["fingerprints"])("q", (h ^ 1 for h in data["fingerprints"]))
    (tmp_path / "checkpoint").write_bytes(_forge(blob, pickle.dumps(data, protocol=5)))
    cp = Checkpointer(tmp_path, 3600, {}, resume=tmp_path)
    ex = explore(model, "bfs", liveness=False, checkpoint=cp)
    assert cp.rebuilt and ex.distinct_states == 3_101 and ex.transitions + 1 == 10_656


def test_periodic_checkpoints_replace_each_other_and_leave_no_temporary_file(tmp_path):
    config = load_preset(PRESET)
    progress: list[str] = []
    cp = Checkpointer(tmp_path, 1e-9, run_identity(config, [], PRESET))
    check(config, [], [], checkpoint=cp, progress=progress.append)  # about 1.5 s
    assert cp.written >= 1 and [p.name for p in tmp_path.iterdir()] == ["checkpoint"]
    assert any(p.startswith("checkpoint written: ") for p in progress)


def test_a_checkpoint_torn_by_a_kill_is_never_loaded_and_the_last_good_one_is(tmp_path):
    model = TwoPhaseCommit(3)
    cp = Checkpointer(tmp_path, 3600, {})
    explore(model, "bfs", Limits(max_states=1_000), liveness=False, checkpoint=cp)
    # a write killed midway leaves its temporary file beside the good checkpoint
    (tmp_path / ".checkpoint.x1y2.tmp").write_bytes(b"nova-resize checkpoint\n{trunc")
    cp = Checkpointer(tmp_path, 3600, {}, resume=tmp_path)
    ex = explore(model, "bfs", liveness=False, checkpoint=cp)
    assert ex.complete and ex.distinct_states == 3_101 and cp.resumed_states == 1_000
    assert not list(tmp_path.glob(".checkpoint.*"))


def _cli(args, capsys):
    code = main(args)
    err = capsys.readouterr().err
    return code, err


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small checkpoint of the ci preset (the state cap stops the run)."""
    d = tmp_path_factory.mktemp("saved")
    assert main(["check", "--config", "ci", "--max-states", "300", "--quiet",
                 "--checkpoint", str(d)]) == 4
    return (d / "checkpoint").read_bytes()


def _resume_with(tmp_path, capsys, blob, *extra):
    d = tmp_path / "ck"
    d.mkdir(parents=True)
    (d / "checkpoint").write_bytes(blob)
    code, err = _cli(["check", "--resume", str(d), "--quiet", *extra], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and str(d / "checkpoint") in lines[0], err
    return lines[0]


def _forge(header_and_payload: bytes, payload: bytes) -> bytes:
    """A checkpoint with another payload and a header whose checksum fits it."""
    head = json.loads(header_and_payload.split(b"\n")[1])
    head["payload_bytes"] = len(payload)
    head["payload_sha256"] = hashlib.sha256(payload).hexdigest()
    return ckpt.MAGIC + json.dumps(head).encode() + b"\n" + payload


def test_bad_checkpoints_are_refused_in_one_line_naming_the_file(tmp_path, capsys, saved):
    assert "not a nova-resize checkpoint" in _resume_with(tmp_path / "a", capsys,
                                                          b"P4\n1 1\n0\n")
    cut = saved[:len(saved) - 100]
    assert "corrupt checkpoint (" in _resume_with(tmp_path / "b", capsys, cut)
    flipped = bytearray(saved)
    flipped[-50] ^= 0xFF
    assert "torn or altered" in _resume_with(tmp_path / "c", capsys, bytes(flipped))
    head = saved.replace(b'"format": 2', b'"format": 9', 1)
    assert "checkpoint format 9, expected 2" in _resume_with(tmp_path / "d", capsys, head)
    # a payload with the right checksum that would run code when unpickled is not loaded
    marker = tmp_path / "ran"
    evil = pickle.dumps(_Evil(str(marker)), protocol=5)
    msg = _resume_with(tmp_path / "e", capsys, _forge(saved, evil))
    assert "corrupt checkpoint payload" in msg and "is not checkpoint data" in msg
    assert not marker.exists()


class _Evil:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


def test_a_checkpoint_of_another_run_is_refused_naming_what_differs(tmp_path, capsys, saved):
    msg = _resume_with(tmp_path / "a", capsys, saved, "--config", PRESET)
    assert f'(config: "ci" there, "{PRESET}" in this run)' in msg
    variant = Path(__file__).parent / "data" / "break-guard.toml"
    msg = _resume_with(tmp_path / "b", capsys, saved, "--variant", str(variant))
    assert "(variants: [] there" in msg
    msg = _resume_with(tmp_path / "c", capsys, saved.replace(b'"code_sha256": "', b'"code_sha'
                                                             b'256": "0', 1))
    assert "(code_sha256: " in msg
    # partial-order reduction reaches other states: a run with it is another run
    msg = _resume_with(tmp_path / "d", capsys, saved, "--por")
    assert '(reductions: null there, ["partial-order"] in this run)' in msg


def test_checkpoint_flags_refuse_what_cannot_be_resumed(tmp_path, capsys):
    code, err = _cli(["check", "--config", "seed", "--strategy", "dfs", "--checkpoint",
                      str(tmp_path)], capsys)
    assert code == 2 and "bfs only" in err
    code, err = _cli(["check", "--config", "seed", "--resume", str(tmp_path)], capsys)
    assert code == 2 and "no checkpoint to resume" in err
    (tmp_path / "checkpoint").write_bytes(b"")
    code, err = _cli(["check", "--config", "seed", "--checkpoint", str(tmp_path)], capsys)
    assert code == 2 and "an earlier run's checkpoint is there" in err
    code, err = _cli(["check", "--checkpoint-every", "0", "--checkpoint", str(tmp_path)], capsys)
    assert code == 2 and "positive number of seconds" in err


# ---- across processes: SIGKILL and SIGTERM, then resume in a new process ---------------------

def _nova(*args: str) -> list[str]:
    return [sys.executable, "-m", "nova_resize.checker.cli.main", *args]


def _start(d: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(_nova("check", "--config", PRESET, "--checkpoint", str(d),
                                  "--checkpoint-every", "0.1", *extra),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> None:
    while not path.exists():
        assert proc.poll() is None, "the run ended before its first checkpoint"
        time.sleep(0.005)


def _report(path: Path) -> dict:
    doc = json.loads(path.read_text())
    for k in TIMINGS:
        doc.pop(k)
    return doc


@pytest.fixture(scope="module")
def whole_json(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "r.json"
    subprocess.run(_nova("check", "--config", PRESET, "--quiet", "--json", str(out)),
                   check=True, capture_output=True)
    return _report(out)


def _hashes_alike_across_processes() -> bool:
    """Whether the command can re-execute itself to hash as another process did (Python 3.12,
    or Linux letting a process turn off address-space randomisation)."""
    if sys.version_info >= (3, 12):
        return True
    probe = subprocess.run([sys.executable, "-c", "from nova_resize.checker.cli.resume import "
                            "no_aslr; print(no_aslr())"], capture_output=True, text=True)
    return probe.stdout.strip() == "True"


def test_a_run_killed_by_sigkill_resumes_to_the_same_report(tmp_path, whole_json):
    d = tmp_path / "ck"
    proc = _start(d, "--quiet")
    _wait_for(d / "checkpoint", proc)
    proc.kill()
    assert proc.wait() == -signal.SIGKILL
    out = tmp_path / "r.json"
    done = subprocess.run(_nova("check", "--resume", str(d), "--json", str(out)),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # both commands re-executed themselves to hash alike, where that can be done
    alike = _hashes_alike_across_processes()
    assert ("fingerprint table as saved" if alike else "fingerprints rebuilt") in done.stderr
    resumed = re.search(r"resumed from .*: ([\d,]+) states", done.stderr)
    assert resumed and 0 < int(resumed[1].replace(",", "")) < whole_json["distinct_states"]
    assert _report(out) == whole_json


def test_sigterm_writes_the_partial_report_and_a_final_checkpoint_to_resume(tmp_path,
                                                                            whole_json, capsys):
    d = tmp_path / "ck"
    part = tmp_path / "part.json"
    proc = _start(d, "--json", str(part))
    _wait_for(d / "checkpoint", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate()
    assert proc.returncode == 4, err
    assert f"resume it with --resume {d}" in err
    head = json.loads((d / "checkpoint").read_bytes().split(b"\n")[1])
    partial = json.loads(part.read_text())
    assert head["final"] and head["stop_reason"] == "interrupted by SIGTERM"
    assert head["states"] == partial["distinct_states"] and not partial["complete"]
    # resumed in this process, which hashes unlike the one that wrote it: the table is rebuilt
    out = tmp_path / "r.json"
    assert main(["check", "--resume", str(d), "--json", str(out)]) == 0
    assert "fingerprints rebuilt" in capsys.readouterr().err
    assert _report(out) == whole_json


def test_a_checkpointed_run_is_one_worker_and_refuses_ray(tmp_path, capsys):
    from nova_resize.checker.cli import main

    # --ray cannot be checkpointed: refused in one line before any work
    code = main(["check", "--config", "regression-migrate", "--checkpoint",
                 str(tmp_path / "ck"), "--ray", "local", "--quiet"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--checkpoint" in err[0] and "--ray" in err[0]
    # without --workers, a checkpointed run is a one-worker search (not the default of one
    # per core): stopped by a bound, it leaves its checkpoint
    code = main(["check", "--config", "regression-migrate", "--checkpoint",
                 str(tmp_path / "ck2"), "--quiet", "--max-states", "20"])
    assert code == 4
    assert (tmp_path / "ck2" / "checkpoint").is_file()
