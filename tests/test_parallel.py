"""A parallel search (``--workers N``, ``--ray``) gives the sequential search's results: the
same states with the same indices and parent links, the same transitions, findings (identity,
count, depth, witness), liveness verdicts and row coverage; and it leaves no process behind."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import config as small_config
from nova_resize.checker.cli.common import resolve_config
from nova_resize.checker.cli.main import main
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explicit.run import check
from nova_resize.checker.explorer import Control, Limits, Visitor, explore, parallel
from nova_resize.checker.explorer.pool import FingerprintMismatch, WorkerError
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset

DATA = Path(__file__).parent / "data"


def three_hosts() -> Any:
    """Two interchangeable hosts (a symmetry reduction) and a fault."""
    return small_config(hosts=3, actions={"resize": 1, "resize_flavors": ["medium"],
                                          "confirm_resize": 1, "delete": 1},
                        faults={"driver": 1})

SPEC_VARIANTS = Path(__file__).parent.parent / "spec" / "variants"


def summary(config: Any, variants: list[str], limits: Limits | None = None,
            **kw: Any) -> dict[str, Any]:
    """Everything a run's results are made of, in comparable form."""
    res = check(config, variants, [], limits=limits, **kw)
    ex = res.report.ex
    return {
        "states": ex.distinct_states, "transitions": ex.transitions, "diameter": ex.diameter,
        "complete": ex.complete, "stop": ex.stop_kind,
        "parent": list(ex.parent), "depth": list(ex.depth),
        "via": [ex.actions[a] if a >= 0 else None for a in ex.via],
        "findings": sorted((f.ident, f.count, f.depth, f.state, f.kind, f.message, f.subject,
                            tuple(steps_actions(s))) for f, s, _, _ in res.report.findings),
        "stuck": ex.stuck_states, "evaluations": dict(ex.evaluations),
        "rows": dict(res.report.rows_executed),
        "own": sorted(zip(ex.own_src, ex.own_dst, strict=True)),
    }


def states_part(s: dict[str, Any]) -> dict[str, Any]:
    """What a run stopped by a state cap part-way through a level shares with the sequential
    run: the number of states, and every state check evaluated on each of them once."""
    return {"states": s["states"], "stop": s["stop"],
            "checked": {k for k, v in s["evaluations"].items() if v == s["states"]}}


def steps_actions(steps: list[Any]) -> list[str]:
    return [repr(getattr(s, "action", s)) for s in steps]


@pytest.mark.parametrize(("config", "variants"), [
    ("regression-racing-reverts", []),
    ("regression-crash-restart", []),
    ("regression-driver-confirm", [str(SPEC_VARIANTS / "confirm-errors-out-migration.toml")]),
    (str(DATA / "small.toml"), [str(DATA / "break-guard.toml")]),
    ("three-hosts", [str(DATA / "break-guard.toml")]),  # symmetric hosts
])
def test_two_and_three_workers_give_the_sequential_results(config: str,
                                                           variants: list[str]) -> None:
    cfg = three_hosts() if config == "three-hosts" else resolve_config(config)
    one = summary(cfg, variants)
    assert one["complete"] and one["findings"]
    for n in (2, 3):
        assert summary(cfg, variants, workers=n) == one


def test_ci_to_a_depth_bound_is_the_same_with_two_workers() -> None:
    # the whole of ci takes a minute a run: bench/bench_check.py --workers 1,2 compares it
    cfg = load_preset("ci")
    lim = Limits(max_depth=17)
    one = summary(cfg, [], lim)
    assert one["stop"] == "depth" and one["states"] > 1000 and one["findings"]
    assert summary(cfg, [], lim, workers=2) == one


def test_a_state_cap_keeps_exactly_that_many_states() -> None:
    model = NovaModel(Engine(load_preset("ci")))
    ex = explore(model, "bfs", Limits(max_states=777), workers=2)
    assert (ex.distinct_states, ex.stop_kind, len(ex.parent)) == (777, "states", 777)
    seq = explore(model, "bfs", Limits(max_states=777))
    assert seq.distinct_states == 777


def test_an_interrupt_ends_the_run_incomplete_without_workers_left() -> None:
    import multiprocessing

    control = Control()
    control.request_stop("interrupted by SIGINT")
    ex = explore(NovaModel(Engine(load_preset("ci"))), "bfs", control=control, workers=2)
    assert (ex.complete, ex.stop_kind) == (False, "interrupt")
    assert multiprocessing.active_children() == []


class Boom(Visitor):
    def __init__(self) -> None:
        self.steps = 0

    def on_step(self, before: Any, action: Any, step: Any) -> None:
        self.steps += 1
        if self.steps == 20:
            raise RuntimeError("boom in a worker")

    def merge(self, other: Visitor) -> None:
        pass


def test_an_exception_in_a_worker_is_raised_with_its_traceback_and_no_worker_lives_on() -> None:
    import multiprocessing

    model = NovaModel(Engine(load_preset("ci")))
    with pytest.raises(RuntimeError, match="boom in a worker") as e:
        explore(model, "bfs", visitors=[Boom()], workers=2)
    cause = e.value.__cause__
    assert isinstance(cause, WorkerError)
    assert "Traceback" in str(cause) and "on_step" in str(cause)
    assert multiprocessing.active_children() == []


def test_a_broken_variant_is_bad_input_with_workers_as_without(tmp_path: Path,
                                                                capsys: Any) -> None:
    # the engine's SpecError (a variant that leaves no row to run) is raised again as itself
    v = tmp_path / "v.toml"
    v.write_text('name = "fuzz"\n[[remove]]\nrow = "api.resize.reserve_upsize"\n')
    codes = []
    for n in ("1", "2"):
        codes.append(main(["check", "--config", str(DATA / "small.toml"), "--quiet",
                           "--no-baseline", "--variant", str(v), "--workers", n]))
        assert "no row applies at api.resize:start" in capsys.readouterr().err
    assert codes == [2, 2]


def test_a_visitor_that_cannot_merge_needs_one_worker() -> None:
    with pytest.raises(ValueError, match="one worker"):
        explore(NovaModel(Engine(load_preset("seed"))), "bfs", visitors=[Visitor()],
                workers=2)


class PerProcess(NovaModel):
    """Fingerprints that differ between processes (as str hashes under different
    PYTHONHASHSEEDs do)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.fingerprint = lambda w: hash((w, os.getpid()))


def test_workers_that_disagree_on_fingerprints_are_refused() -> None:
    with pytest.raises(FingerprintMismatch, match="depends on the process"):
        explore(PerProcess(Engine(load_preset("seed"))), "bfs", workers=2)


def test_the_command_line_gives_the_same_report_with_workers(capsys: Any) -> None:
    outs = []
    for n in ("1", "2"):
        code = main(["check", "--config", str(DATA / "small.toml"), "--variant",
                     str(DATA / "break-guard.toml"), "--workers", n])
        out = capsys.readouterr().out
        outs.append((code, re.sub(r"[\d.]+ ?s\b|\([\d,]+ states/s\)", "", out)))
    assert outs[0][0] == 1 and outs[0] == outs[1]


def test_workers_need_breadth_first(capsys: Any) -> None:
    assert main(["check", "--config", "seed", "--strategy", "dfs", "--workers", "2"]) == 2
    assert "--strategy bfs" in capsys.readouterr().err


def test_a_worker_crash_is_an_internal_error(monkeypatch: Any, capsys: Any) -> None:
    def broken(self: Any, w: Any, action: Any) -> Any:
        raise KeyError("a bug in a worker")

    # the model's step is the engine's explore_step (bound when the model is built)
    monkeypatch.setattr(Engine, "explore_step", broken)
    assert main(["check", "--config", "seed", "--workers", "2", "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err
    crash = Path(err.split("traceback in ")[1].split(")")[0])
    text = crash.read_text()
    crash.unlink()
    assert "a bug in a worker" in text and "worker" in text


def test_sigint_stops_a_parallel_check_with_exit_4_and_no_process_left() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from nova_resize.checker.cli "
                             "import main; sys.exit(main())", "check", "--config", "ci",
                             "--workers", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first progress line: the workers are exploring
    assert b"states/s" in first and b"2 workers" in first, first
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole group
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, err
    assert b"PARTIAL: interrupted by SIGINT" in out
    time.sleep(0.5)
    left = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == proc.pid:  # the process group the run started
            left.append(stat.parent.name)
    assert left == []


def test_on_a_local_ray_cluster_the_results_are_the_same() -> None:
    ray = pytest.importorskip("ray", reason="Ray is an optional extra (pip install -e "
                              "'.[ray]'); the default install does not have it")
    cfg = resolve_config(str(DATA / "small.toml"))
    variants = [str(DATA / "break-guard.toml")]
    one = summary(cfg, variants)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        assert summary(cfg, variants, workers=2, ray="auto") == one
        cfg2 = three_hosts()  # symmetric: the model's stable fingerprint
        assert summary(cfg2, [], workers=2, ray="auto") == summary(cfg2, [])
        # an actor's exception is raised again as itself (a broken variant: bad input)
        from nova_resize.errors import SpecError

        broken = Path(tempfile.mkdtemp()) / "v.toml"
        broken.write_text('name = "fuzz"\n[[remove]]\nrow = "api.resize.reserve_upsize"\n')
        with pytest.raises(SpecError, match="no row applies"):
            check(cfg, [str(broken)], [], workers=2, ray="auto")
        # more actors than CPUs would wait for ever: refused
        from nova_resize.errors import InputError

        with pytest.raises(InputError, match="2 CPUs"):
            check(cfg, [], [], workers=3, ray="auto")
    finally:
        ray.shutdown()


def test_the_stable_fingerprint_is_the_same_in_another_process() -> None:
    # what Ray's actors compute: Python's hash of the same world differs between processes
    # (str salts; None's address on Python 3.11)
    code = ("import sys; sys.path.insert(0, 'tests'); from test_parallel import fingerprints; "
            "print(fingerprints())")
    here = fingerprints()
    env = {**os.environ, "PYTHONHASHSEED": "1"}
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=env, check=True, cwd=Path(__file__).parent.parent).stdout
    assert there.strip() == str(here)
    assert len(set(here)) == len(here) > 3


def fingerprints() -> list[int]:
    """Stable fingerprints of the first worlds of a symmetric configuration."""
    model = NovaModel(Engine(three_hosts()))
    assert model.symmetry.active
    w = model.init_states()[0]
    out = [model.stable_fingerprint(w)]
    for a in model.actions(w):
        st = model.step(w, a)
        if st is not None:
            out.append(model.stable_fingerprint(st.state))
            out.extend(model.stable_fingerprint(s.state) for b in model.actions(st.state)
                       if (s := model.step(st.state, b)) is not None)
    return list(dict.fromkeys(out))


def test_another_model_lean_and_with_liveness_is_the_same() -> None:
    # the two-phase commit example: its successors() path (nothing looks at the steps) and a
    # recoverable property over its own steps
    from nova_resize.checker.explorer import Property, Recoverable

    from examples.twophase import TwoPhaseCommit

    def done(model: Any, s: Any) -> bool:
        return all(r in (2, 3, 4) for r in s[3:3 + model.n])

    class WithLiveness(TwoPhaseCommit):
        def properties(self) -> list[Property]:
            return [Property("terminates", "every participant can still decide",
                             recoverable=Recoverable(done, lambda m, s, own: "undecided"
                                                     if not done(m, s) else None))]

    def view(ex: Any) -> Any:
        return (ex.distinct_states, ex.transitions, list(ex.parent), list(ex.depth),
                [ex.actions[a] if a >= 0 else None for a in ex.via], ex.stuck_states,
                {k: (f.count, f.depth, f.state) for k, f in ex.findings.items()})

    for model, live in ((TwoPhaseCommit(3, 1, 1), False), (WithLiveness(3, 1, 1), True)):
        one = view(explore(model, "bfs", liveness=live))
        assert one == view(explore(model, "bfs", liveness=live, workers=2))
    assert one[-1] and one[5]  # a stuck state found


def test_progress_lines_count_every_worker() -> None:
    lines: list[str] = []
    ex = explore(NovaModel(Engine(load_preset("regression-racing-reverts"))), "bfs",
                 progress=lines.append, progress_every=0.0, workers=2)
    assert lines and all("states/s" in line and "2 workers" in line for line in lines)
    assert int(lines[-1].split(" states")[0].replace(",", "")) <= ex.distinct_states


def test_the_memory_cap_counts_every_process() -> None:
    model = NovaModel(Engine(load_preset("regression-racing-reverts")))
    ex = explore(model, "bfs", Limits(max_memory_bytes=2**20), workers=2)
    assert (ex.complete, ex.stop_kind) == (False, "memory")
    assert ex.distinct_states == len(ex.parent) > 0


def test_a_state_received_from_another_worker_gets_its_sharing_back():
    import pickle

    from nova_resize.checker.explicit.model import NovaModel
    from nova_resize.engine.core import Engine
    from nova_resize.engine.presets import load_preset

    model = NovaModel(Engine(load_preset("regression-migrate")))
    w = model.init_states()[0]
    nxt = [model.step(w, a) for a in model.actions(w)]
    first = model.intern(nxt[0].state)
    copy = pickle.loads(pickle.dumps(nxt[0].state))
    assert copy == first and copy.instances is not first.instances
    again = model.intern(copy)
    assert again == first and again.instances is first.instances
    assert all(a is b for a, b in zip(again.hosts, first.hosts, strict=True))


@pytest.mark.parametrize("counts", [[0, 0], [1, 0], [500, 0, 0], [7, 300, 40], [100, 100],
                                    [1000, 10, 10, 980], [3, 1, 4, 1, 5, 9, 2, 6]])
@pytest.mark.parametrize("slack", [0, 32])
def test_a_level_is_balanced_by_moving_only_the_surplus(counts: list[int], slack: int) -> None:
    gives = parallel._balance(counts, slack)
    n, total = len(counts), sum(counts)
    after = [c - sum(gives[w]) + sum(g[w] for g in gives) for w, c in enumerate(counts)]
    assert sum(after) == total and all(g[w] == 0 for w, g in enumerate(gives))
    assert all(x >= 0 for g in gives for x in g)
    for w in range(n):  # a worker gives only what it holds above its share, or receives
        assert sum(gives[w]) == 0 or not any(g[w] for g in gives)
        assert sum(gives[w]) <= max(0, counts[w] - total // n)
    assert max(after) - total / n <= slack + 1


def test_states_given_away_to_balance_levels_change_no_result(monkeypatch: Any) -> None:
    """Every state that can move does (no slack), and levels span many chunks (so a candidate
    an owner chose is often beaten by another worker's in a later chunk): the results are still
    the sequential ones, findings, evaluations and parent links included. A run stopped by a
    state cap part-way through a level evaluates every state it keeps, those it never expanded
    included. (Which states of the last level it keeps differs: workers expand their frontiers
    side by side, so the successors they found by the stop are not the sequential search's
    first ones.)"""
    moved: list[int] = []
    balance = parallel._balance

    def spy(counts: list[int], slack: int | None = None) -> list[list[int]]:
        gives = balance(counts, 0)
        moved.append(sum(map(sum, gives)))
        return gives

    cfg = three_hosts()
    one = summary(cfg, [str(DATA / "break-guard.toml")])
    capped = summary(cfg, [str(DATA / "break-guard.toml")], Limits(max_states=777))
    assert capped["stop"] == "states" and capped["findings"] and capped["evaluations"]
    monkeypatch.setattr(parallel, "_balance", spy)
    monkeypatch.setattr(parallel, "CHUNK", 4)
    for n in (2, 3):
        assert summary(cfg, [str(DATA / "break-guard.toml")], workers=n) == one
        got = summary(cfg, [str(DATA / "break-guard.toml")], Limits(max_states=777),
                      workers=n)
        assert states_part(got) == states_part(capped)
    assert sum(moved) > 300


def test_interning_keeps_every_state_equal_and_shares_its_parts() -> None:
    """Every state a search keeps is interned: equal to what the step made, sharing every
    part with the equal parts of states interned before, and itself when nothing is new."""
    import pickle

    model = NovaModel(Engine(load_preset("ci")))
    frontier = [model.init_states()[0]]
    seen = 0
    while frontier and seen < 300:
        w = frontier.pop(0)
        for a in model.actions(w):
            st = model.step(w, a)
            if st is None:
                continue
            seen += 1
            s = model.intern(st.state)
            assert s == st.state and hash(s) == hash(st.state)
            assert model.intern(s) is s
            copy = model.intern(pickle.loads(pickle.dumps(st.state)))
            assert copy == s and all(x is y for x, y in zip(copy, s, strict=True))
            frontier.append(s)
    assert seen >= 300
