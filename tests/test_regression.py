"""The regression set: each small preset's run matches its pinned states and findings exactly
(checker/regression.toml, like TLA+'s examples manifest)."""

from __future__ import annotations

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.explicit.regression import (
    MANIFEST,
    differences,
    load_manifest,
    manifest_text,
    run_preset,
)
from nova_resize.engine.presets import load_preset, regression_names

PINNED = load_manifest()


def test_the_manifest_pins_every_regression_preset_and_nothing_else():
    assert sorted(PINNED) == regression_names()
    assert len(regression_names()) >= 6


@pytest.mark.parametrize("name", regression_names())
def test_a_regression_preset_finds_exactly_what_it_is_pinned_to(name):
    got = run_preset(load_preset(name))
    assert differences(PINNED[name], got) == []


def test_a_difference_is_named_and_the_command_fails(tmp_path, capsys):
    name = "regression-migrate"
    pinned = PINNED[name]
    wrong = type(pinned)(name, pinned.distinct_states + 1, pinned.transitions,
                         [*pinned.findings[1:], ("legal-state", "made up", "nowhere")])
    path = tmp_path / "manifest.toml"
    path.write_text(manifest_text({name: wrong}))
    assert main(["regression", "--preset", name, "--manifest", str(path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert f"{name}: distinct states {pinned.distinct_states:,}, the manifest says " \
           f"{pinned.distinct_states + 1:,}" in out
    assert f"{name}: unexpected finding {pinned.findings[0][0]}" in out
    assert f"{name}: missing finding legal-state: made up @ nowhere" in out
    # --update writes what the run found, and then it matches
    assert main(["regression", "--preset", name, "--manifest", str(path), "--update",
                 "--quiet"]) == 0
    assert load_manifest(path)[name].findings == pinned.findings
    assert main(["regression", "--preset", name, "--manifest", str(path), "--quiet"]) == 0


def test_the_manifest_is_written_as_it_reads():
    assert manifest_text(PINNED) == MANIFEST.read_text(encoding="utf-8")


def test_an_unknown_preset_is_bad_input(capsys):
    assert main(["regression", "--preset", "ci"]) == 2
    assert "no regression preset 'ci'" in capsys.readouterr().err
