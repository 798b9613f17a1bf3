"""The Hypothesis state machine: long random interleavings of a 3-instance, 4-host cloud."""

from __future__ import annotations

from pathlib import Path

from nova_resize.checker.cli import main
from nova_resize.checker.explicit.baseline import load_baseline, load_baseline_reasons
from nova_resize.checker.explicit.hypothesis import large_config, machine_for, run_machine
from nova_resize.checker.variants import build_spec
from nova_resize.engine.presets import load_preset

DATA = Path(__file__).parent / "data"


def test_liberty_on_a_large_cloud_shows_only_known_findings():
    # given three instances on four hosts, every operation, faults and periodic tasks
    known = load_baseline(None) + load_baseline_reasons()
    # when Hypothesis drives random interleavings (seeded, small budget for the suite)
    out = run_machine(large_config(), examples=12, steps=40, seed=20261124, known=known)
    # then every violation it meets is a known Liberty behaviour
    assert out.prop is None, f"{out.prop}: {out.key}: {out.message} after {out.actions}"


def test_a_broken_variant_is_found_and_shrunk():
    spec, _ = build_spec([str(DATA / "break-guard.toml")])
    known = load_baseline(None) + load_baseline_reasons()
    out = run_machine(load_preset("seed"), examples=60, steps=40, seed=3, spec=spec,
                      known=known)
    assert out.prop == "legal-state" and out.key == "stopped/resize_reverting"
    # shrunk to the happy path that reaches the broken row (21 steps), give or take
    assert 15 <= len(out.actions) <= 30
    assert out.actions[0][0] == "api"


def test_the_machine_class_is_a_hypothesis_state_machine():
    cls = machine_for(load_preset("seed"))
    rules = set(vars(cls))
    assert {"user_request", "deliver_message", "run_handler_step", "inject_failure",
            "crash_compute", "restart_compute", "lose_message", "time_out_call",
            "periodic_task"} <= rules


def test_simulate_hypothesis_command(capsys):
    code = main(["simulate", "--hypothesis", "--config", str(DATA / "small.toml"), "--variant",
                 str(DATA / "break-guard.toml"), "--examples", "60", "--steps", "40",
                 "--seed", "3"])
    out = capsys.readouterr().out
    assert code == 1
    assert "legal-state: stopped/resize_reverting  [NEW]" in out and "shortest trace" in out


def _actions_taken(monkeypatch, **kw):
    """The actions a Hypothesis run takes (every engine step, in order)."""
    from nova_resize.engine.core import Engine

    taken = []
    real = Engine.step

    def step(self, w, action):
        taken.append(tuple(action))
        return real(self, w, action)

    monkeypatch.setattr(Engine, "step", step)
    run_machine(load_preset("seed"), examples=8, steps=10, **kw)
    monkeypatch.setattr(Engine, "step", real)
    return taken


def test_given_a_seed_the_hypothesis_run_repeats_and_another_seed_explores_otherwise(
        monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    first = _actions_taken(monkeypatch, seed=1)
    assert first and first == _actions_taken(monkeypatch, seed=1)
    others = [_actions_taken(monkeypatch, seed=s) for s in (2, 3)]
    assert any(o != first for o in others)
    # no example database is written into the working directory
    assert not (tmp_path / ".hypothesis").exists()


def test_without_a_seed_the_suite_profile_keeps_the_hypothesis_run_derandomized(monkeypatch):
    first = _actions_taken(monkeypatch)
    assert first and first == _actions_taken(monkeypatch)


def test_the_suite_keeps_hypothesis_out_of_the_checkout():
    from hypothesis import settings
    from hypothesis.configuration import storage_directory

    assert settings.default.database is None and settings.default.derandomize
    home = storage_directory("x", intent_to_write=False).path.resolve()
    assert not home.is_relative_to(Path(__file__).resolve().parent.parent)
    assert not home.is_relative_to(Path.cwd().resolve())
