"""Replayable counterexamples: a JSON report's findings re-run on the engine, and printed as
pytest tests that pass."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.explicit.replay import config_data, replay_finding
from nova_resize.engine.config import parse_config
from nova_resize.engine.presets import load_preset, preset_names

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    d = tmp_path_factory.mktemp("replay")
    plain, broken = d / "plain.json", d / "broken.json"
    assert main(["check", "--config", str(DATA / "small-delete.toml"), "--quiet",
                 "--json", str(plain)]) == 0
    assert main(["check", "--config", str(DATA / "small.toml"), "--no-baseline", "--quiet",
                 "--variant", str(DATA / "break-guard.toml"), "--json", str(broken)]) == 1
    return plain, broken


def load(p: Path) -> dict:
    return json.loads(p.read_text())


def test_every_finding_carries_its_actions_and_replays(reports):
    for path in reports:
        doc = load(path)
        assert doc["origin"]["config"]["data"]["flavors"]
        for f in doc["findings"]:
            assert f["actions"] == [s["action_data"] for s in f["trace"]]
            _, rep = replay_finding(doc, f"{f['property']}: {f['key']} @ {f['where']}")
            assert rep.reproduced, (f["property"], f["key"], rep.diverged, rep.keys)
            assert [s.text for s in rep.steps] == [s["action"] for s in f["trace"]]


def test_replay_command_prints_the_steps_and_the_verdict(reports, capsys):
    plain, _ = reports
    doc = load(plain)
    n = next(i for i, f in enumerate(doc["findings"]) if f["property"] == "no-lost-update")
    assert main(["replay", str(plain), "--finding", str(n)]) == 0
    out = capsys.readouterr().out
    f = doc["findings"][n]
    assert f"reproduced: no-lost-update reports {f['key']!r}" in out
    assert "rows: api.delete.set_deleting" in out


def test_pytest_output_round_trips_into_passing_tests(reports, tmp_path, capsys):
    plain, broken = reports
    chosen = [(plain, "no-lost-update"), (plain, "claims-consistent"),
              (broken, "no-stuck-resize")]
    for k, (path, prop) in enumerate(chosen):
        doc = load(path)
        f = next(f for f in doc["findings"] if f["property"] == prop)
        out = tmp_path / f"test_replayed_{k}.py"
        assert main(["replay", str(path), "--finding", f"{prop}: {f['key']} @ {f['where']}",
                     "--pytest",
                     "--out", str(out)]) == 0
        src = out.read_text()
        assert "engine.step(world, action)" in src and f"{f['key']!r}" in src
    assert "apply_variant_text" in src  # the broken run's variant travels with the test
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(tmp_path)], capture_output=True, text=True, cwd=tmp_path,
                         timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 passed" in res.stdout


def test_a_fixed_spec_does_not_reproduce_the_finding(reports, tmp_path, capsys):
    _, broken = reports
    doc = load(broken)
    doc["origin"]["variants"] = []  # Liberty's own tables: the broken row is gone
    p = tmp_path / "fixed.json"
    p.write_text(json.dumps(doc))
    assert main(["replay", str(p), "--finding", "legal-state: stopped/resize_reverting",
                 "--quiet"]) == 1
    assert "not reproduced" in capsys.readouterr().out


def test_a_trace_that_diverges_says_where(reports, tmp_path, capsys):
    plain, _ = reports
    doc = load(plain)
    f = doc["findings"][0]
    f["actions"][1] = {"kind": "deliver", "message": 5}
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    assert main(["replay", str(p), "--finding", "0", "--quiet"]) == 1
    assert "diverges at step 2" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["--finding", "no such key"], "--finding no such key: no such finding"),
    (["--finding", "0"], "not JSON"),
])
def test_bad_input_is_one_line(args, needle, reports, tmp_path, capsys):
    plain, _ = reports
    path = str(plain)
    if needle == "not JSON":
        path = str(tmp_path / "x.json")
        Path(path).write_text("{")
    assert main(["replay", path, *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


@pytest.mark.parametrize("name", preset_names())
def test_a_configuration_survives_the_round_trip_as_data(name):
    cfg = load_preset(name)
    back = parse_config(config_data(cfg), "<data>", cfg.name)
    assert dataclasses.replace(back, source=cfg.source) == cfg


def test_a_diff_side_is_the_same_actions_on_the_other_tables(reports):
    from nova_resize.checker.explicit.replay import finding_actions, rebuild, trace_on
    from nova_resize.checker.html import render_html
    from nova_resize.spec import LIBERTY

    _, broken = reports
    doc = load(broken)
    f = next(f for f in doc["findings"] if f["property"] == "legal-state")
    config, _ = rebuild(doc["origin"])
    actions = finding_actions(f)
    liberty, note = trace_on(config, LIBERTY, actions)
    assert note == "" and len(liberty) == len(f["trace"])
    assert liberty[-1]["state"]["instances"]["vm1"]["vm_state"] == "resized"
    assert f["trace"][-1]["state"]["instances"]["vm1"]["vm_state"] == "stopped"
    cut, note = trace_on(config, LIBERTY, [*actions[:3], actions[0]])
    assert len(cut) == 3 and "step 4" in note and "not enabled" in note
    html = render_html({"kind": "diff", "configuration": doc["configuration"],
                        "new": [dict(f, patched_trace=f["trace"], liberty_trace=liberty)],
                        "gone": [], "unchanged": []})
    assert html.count('class="viewer"') == 2


def test_a_hypothesis_finding_is_reported_and_replays(reports, tmp_path, monkeypatch, capsys):
    # the Hypothesis run itself is tested elsewhere; here its shrunk failure is stood in by a
    # known trace, to check what simulate --hypothesis writes with it
    import types

    from nova_resize.checker.explicit import hypothesis
    from nova_resize.checker.explicit.replay import finding_actions

    _, broken = reports
    f = next(f for f in load(broken)["findings"] if f["property"] == "legal-state")
    out = types.SimpleNamespace(prop=f["property"], key=f["key"], message=f["message"],
                                actions=finding_actions(f))
    monkeypatch.setattr(hypothesis, "run_machine", lambda *a, **k: out)
    j, h = tmp_path / "h.json", tmp_path / "h.html"
    code = main(["simulate", "--hypothesis", "--config", str(DATA / "small.toml"), "--variant",
                 str(DATA / "break-guard.toml"), "--no-baseline", "--json", str(j),
                 "--html", str(h)])
    assert code == 1
    assert "<svg" in h.read_text() and "legal-state" in h.read_text()
    assert main(["replay", str(j), "--finding", "0", "--quiet"]) == 0
    assert "reproduced" in capsys.readouterr().out
