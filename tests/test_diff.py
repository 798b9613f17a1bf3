"""``nova-resize diff``: a patch reviewed against Liberty on the same configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.explicit.diff import liberty_reference, reference_key
from nova_resize.engine.config import load_config

DATA = Path(__file__).parent / "data"
SMALL_DELETE = str(DATA / "small-delete.toml")
FIX_1625462 = "spec/variants/bug-1625462.toml"


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("NOVA_RESIZE_CACHE", str(d))
    return d


def diff(args: list[str], tmp_path: Path, capsys) -> tuple[int, dict, str]:
    j = tmp_path / "d.json"
    code = main(["diff", *args, "--json", str(j)])
    out = capsys.readouterr().out
    return code, json.loads(j.read_text()), out


def unguard(tmp_path: Path, row: str) -> str:
    p = tmp_path / f"unguard-{row}.toml"
    p.write_text(f'[[guard]]\nrow = "{row}"\nexpected_task_state = "none"\n')
    return str(p)


def test_a_removed_guard_is_new_even_where_liberty_has_the_same_key(tmp_path, capsys):
    # without its expected_task_state, API.resize's save races a delete: Liberty already has
    # findings with these keys (terminate's unguarded save, over other states); the identity
    # (property, key, where) still tells the patch's apart
    code, d, out = diff(["--config", SMALL_DELETE, "--variant",
                         unguard(tmp_path, "api.resize.save")], tmp_path, capsys)
    assert code == 1
    liberty_keys = {(f["property"], f["key"]) for f in d["unchanged"]} | {
        (f["property"], f["key"]) for f in d["gone"]}
    assert any(f["key"] == "api.resize.save overwrote deleting" for f in d["new"])
    hidden = [f for f in d["new"] if (f["property"], f["key"]) in liberty_keys]
    assert hidden, "expected a new finding whose key alone Liberty already has"
    for f in d["new"]:
        assert f["patched_trace"]
        assert f["liberty_note"]  # the same actions on Liberty: where they stop, or no finding
    assert "NEW (found with the patch, not on Liberty)" in out
    assert out.strip().endswith(f"{len(d['new'])} new, {len(d['gone'])} gone, "
                                f"{len(d['unchanged'])} unchanged")


def test_a_variant_that_changes_nothing_observable_reports_nothing_new(tmp_path, capsys):
    # the fix of bug 1625462 changes finish_revert_resize only; this configuration never reverts
    code, d, _ = diff(["--config", SMALL_DELETE, "--variant", FIX_1625462], tmp_path, capsys)
    assert code == 0
    assert d["new"] == [] and d["gone"] == []
    assert d["unchanged"] and d["liberty"]["distinct_states"] == d["patched"]["distinct_states"]


def test_a_fix_reports_what_is_gone(tmp_path, capsys):
    cfg = tmp_path / "revert.toml"
    cfg.write_text((DATA / "small-delete.toml").read_text().replace(
        "confirm_resize = 1\ndelete = 1", "revert_resize = 1"))
    code, d, out = diff(["--config", str(cfg), "--variant", FIX_1625462], tmp_path, capsys)
    assert code == 0
    gone = {(f["property"], f["key"]) for f in d["gone"]}
    assert ("migration-endpoints-fixed",
            "compute.finish_revert_resize.migration_dest rewrote dest_compute") in gone
    assert all(f["liberty_trace"] for f in d["gone"])
    assert "GONE (found on Liberty, not with the patch)" in out


def test_liberty_runs_are_cached_by_configuration_and_source(tmp_path, cache, capsys):
    config = load_config(SMALL_DELETE)
    doc, cached = liberty_reference(config)
    assert not cached and list(cache.iterdir())
    again, cached = liberty_reference(config)
    assert cached and again == doc
    other = load_config(str(DATA / "small.toml"))
    assert reference_key(other) != reference_key(config)
    # a torn cache file is run again, not trusted
    f = next(cache.iterdir())
    f.write_text("{not json")
    _, cached = liberty_reference(config)
    assert not cached
    code, _, out = diff(["--config", SMALL_DELETE, "--variant", FIX_1625462], tmp_path, capsys)
    assert code == 0 and "(cached)" in out


def test_check_with_a_variant_names_what_disappeared(tmp_path, capsys):
    cfg = tmp_path / "revert.toml"
    cfg.write_text((DATA / "small-delete.toml").read_text().replace(
        "confirm_resize = 1\ndelete = 1", "revert_resize = 1"))
    j = tmp_path / "c.json"
    assert main(["check", "--config", str(cfg), "--variant", FIX_1625462,
                 "--json", str(j)]) == 0
    out = capsys.readouterr().out
    assert "of Liberty's findings on small-delete are gone with the patch:" in out
    assert "migration-endpoints-fixed: compute.finish_revert_resize.migration_dest" in out
    doc = json.loads(j.read_text())
    assert any(g["property"] == "migration-endpoints-fixed" for g in doc["gone_from_liberty"])
    # Liberty's own findings on this configuration are known, with the reason that says so
    assert all(f["in_baseline"] for f in doc["findings"])


def test_check_with_a_variant_reports_the_patch_s_own_findings_as_new(tmp_path, capsys):
    assert main(["check", "--config", SMALL_DELETE, "--quiet", "--variant",
                 unguard(tmp_path, "api.resize.save")]) == 1
    assert "not in the baseline" in capsys.readouterr().out


@pytest.mark.parametrize("args, expected", [
    (["--config", "no-such.toml"], "no-such.toml"),
    (["--config", SMALL_DELETE, "--variant", "no-such-variant.toml"], "no-such-variant.toml"),
])
def test_bad_input_is_one_line_and_exit_2(args, expected, tmp_path, capsys):
    assert main(["diff", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and "\n" not in err and "Traceback" not in err


def test_diff_html(tmp_path, capsys):
    h = tmp_path / "d.html"
    assert main(["diff", "--config", SMALL_DELETE, "--variant",
                 unguard(tmp_path, "api.resize.save"), "--quiet", "--html", str(h)]) == 1
    html = h.read_text()
    assert "nova-resize diff" in html and "New:" in html and "Liberty (nova 12.0.0)" in html
