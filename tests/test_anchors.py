"""The anchors bench's baseline and its own checks, kept to seconds: the plain Python BFS of
bench/anchors/plain_bfs.py and the project's explorer agree on the two-phase commit's counts at
N = 3, and the bench compares, parses and refuses as it says. TLC and Spin are never run here
(the bench installs and runs them: bench/bench_anchors.py)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from nova_resize.checker.explorer import explore

from examples.twophase import TwoPhaseCommit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench" / "bench_anchors.py"


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


plain_bfs = _load("plain_bfs", ROOT / "bench" / "anchors" / "plain_bfs.py")
bench = _load("bench_anchors", BENCH)


def test_the_plain_bfs_and_the_explorer_count_the_same_states():
    distinct, generated = plain_bfs.bfs(3)
    ex = explore(TwoPhaseCommit(3), "bfs", liveness=False)
    assert ex.complete and not ex.findings
    assert (distinct, generated) == (ex.distinct_states, ex.transitions + 1)
    assert (distinct, generated) == bench.REFERENCE[3]


def test_the_plain_bfs_sees_a_broken_invariant():
    # a TM that commits on the first Prepared it receives lets one participant commit while
    # another aborts: the baseline must notice, not count on
    real = plain_bfs.successors

    def broken(s, n, f, lost):
        out = real(s, n, f, lost)
        if s[0] == plain_bfs.INIT and any(s[3 + n:3 + 2 * n]):
            x = list(s)
            x[0] = plain_bfs.T_COMMITTED
            x[3 + 3 * n:3 + 4 * n] = [plain_bfs.COMMIT] * n
            out.append(tuple(x))
        return out

    plain_bfs.successors = broken
    try:
        with pytest.raises(AssertionError, match="TCConsistent"):
            plain_bfs.bfs(3)
    finally:
        plain_bfs.successors = real


def test_the_tlc_and_spin_summaries_are_read_as_documented():
    tlc = ("Progress(7) at 2024-01-01: 1,000 states generated, 900 distinct states found, "
           "12 states left on queue.\n"
           "Model checking completed. No error has been found.\n"
           "10656 states generated, 3101 distinct states found, 0 states left on queue.\n")
    assert bench.TLC_COUNTS.findall(tlc)[-1] == ("10656", "3101", "0")
    spin = ("State-vector 28 byte, depth reached 11, errors: 0\n"
            "     3101 states, stored\n     7555 states, matched\n"
            "    10656 transitions (= stored+matched)\n        0 atomic steps\n"
            "    0.378\tactual memory usage for states\n")
    assert bench._spin_number(spin, "states, stored") == 3101
    assert bench._spin_number(spin, "transitions (= stored+matched)") == 10656
    assert bench._spin_number(spin, "actual memory usage for states") == 0.378
    with pytest.raises(bench.Failed):
        bench._spin_number(spin, "states, lost")


def test_the_bench_runs_the_python_tools_and_refuses_bad_flags(tmp_path):
    out = tmp_path / "r.json"
    ok = subprocess.run([sys.executable, str(BENCH), "--n", "3", "--repeat", "1", "--quiet",
                         "--tools", "explorer,explorer-packed,plain-bfs", "--json",
                         str(out)],
                        capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "plain-bfs" in ok.stdout and "1.00x" in ok.stdout and "explorer-packed" in ok.stdout
    assert ok.stderr == ""
    assert '"disagreements": []' in out.read_text()
    for flags in (["--n", "9"], ["--repeat", "0"], ["--tools", "nusmv"], ["--bogus"]):
        bad = subprocess.run([sys.executable, str(BENCH), *flags], capture_output=True,
                             text=True, cwd=ROOT, timeout=60)
        assert bad.returncode == 2, flags
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_a_count_that_differs_from_the_reference_fails_the_bench(monkeypatch, capsys):
    monkeypatch.setitem(bench.REFERENCE, 3, (3_101, 10_655))
    code = bench.main(["--n", "3", "--repeat", "1", "--quiet", "--tools", "plain-bfs"])
    assert code == 1
    assert "DISAGREE: plain-bfs at N=3: 3,101 distinct / 10,656 generated, expected " \
           "3,101 / 10,655" in capsys.readouterr().err


def test_a_single_threaded_run_that_shared_its_core_is_flagged():
    spin = bench.Run("spin", 6, seconds=[5.6], cpu=[2.8])
    tlc = bench.Run("tlc-w1", 6, seconds=[50.0], cpu=[38.0])  # many threads: not judged
    quiet = bench.Run("explorer", 6, seconds=[25.0], cpu=[24.9])
    (warning,) = bench.busy_warnings([spin, tlc, quiet])
    assert "spin N=6 50%" in warning and "tlc" not in warning and "explorer" not in warning
    assert bench.busy_warnings([quiet, tlc]) == []


def test_an_anchor_that_is_not_installed_is_skipped_not_an_error(monkeypatch, capsys):
    monkeypatch.setattr(bench.shutil, "which", lambda name: None)
    assert bench.missing("spin") == "spin and gcc not installed"
    assert bench.missing("tlc-w1") == "java not installed"
    code = bench.main(["--n", "3", "--repeat", "1", "--quiet", "--tools", "spin,tlc-w2"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{'spin':15}  3  skipped: spin and gcc not installed" in out
    assert f"{'tlc-w2':15}  3  skipped: java not installed" in out
