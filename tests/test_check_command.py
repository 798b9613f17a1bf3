"""`nova-resize check` and `simulate`: reports, exit codes, bounds, baselines, variants."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nova_resize.checker.cli import main
from nova_resize.checker.explicit.baseline import glob_escape, load_baseline
from nova_resize.checker.explicit.run import check, unexplained_uncovered
from nova_resize.checker.variants import apply_variant_data, apply_variant_text
from nova_resize.engine.config import ConfigError
from nova_resize.engine.presets import load_preset
from nova_resize.spec import LIBERTY

DATA = Path(__file__).parent / "data"
SMALL = str(DATA / "small.toml")
BREAK = str(DATA / "break-guard.toml")


def run(args, capsys):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_clean_run_exits_0_and_writes_reports(tmp_path, capsys):
    j, x = tmp_path / "r.json", tmp_path / "r.xml"
    code, out, _ = run(["check", "--config", SMALL, "--json", str(j), "--junit", str(x)],
                       capsys)
    assert code == 0
    doc = json.loads(j.read_text())
    assert {"distinct_states", "transitions", "seconds", "complete", "properties",
            "findings"} <= set(doc)
    assert doc["complete"] is True
    # Liberty's happy path has windows in which an audit would miscount, and a confirm leaves
    # the source's live usage until its next audit (both in the baseline)
    found = {f["property"] for f in doc["findings"]}
    assert found == {"claims-consistent", "tracker-matches-audit"}
    assert all(f["in_baseline"] for f in doc["findings"])
    assert all(p["held"] for name, p in doc["properties"].items() if name not in found)
    assert doc["properties"]["legal-state"]["evaluated"] == doc["distinct_states"]
    suite = ET.parse(x).getroot()
    assert suite.tag == "testsuite" and suite.get("failures") == "0"
    assert "54 distinct states" in out


def test_a_broken_variant_exits_1_with_a_trace(tmp_path, capsys):
    j = tmp_path / "r.json"
    code, out, _ = run(["check", "--config", SMALL, "--no-baseline", "--variant", BREAK,
                        "--json", str(j)], capsys)
    assert code == 1
    doc = json.loads(j.read_text())
    f = next(f for f in doc["findings"] if f["property"] == "legal-state")
    assert f["key"] == "stopped/resize_reverting"
    last = f["trace"][-1]
    assert "compute.finish_resize.resized" in last["rows"]
    assert last["state"]["instances"]["vm1"]["vm_state"] == "stopped"
    assert "legal-state: stopped/resize_reverting  [NEW]" in out
    assert doc["variants"] == ["break-guard"]


def test_findings_in_a_baseline_exit_0(tmp_path, capsys):
    b = tmp_path / "baseline.toml"
    code, _, _ = run(["check", "--config", SMALL, "--variant", BREAK, "--quiet",
                      "--update-baseline", str(b)], capsys)
    assert code == 1
    assert "UNEXPLAINED" in b.read_text()
    code, out, _ = run(["check", "--config", SMALL, "--variant", BREAK, "--baseline", str(b),
                        "--quiet"], capsys)
    assert code == 0 and "0 not in the baseline" in out


def test_a_patch_is_judged_by_libertys_run_alone_as_diff_judges_it(tmp_path, capsys):
    # the patch leaves every resize's finish_resize blocked for good: a stuck resize, which the
    # bundled reason patterns explain on Liberty (where only a fault makes one), so it must be
    # judged by Liberty's run of the same configuration, where this one does not happen
    block = str(DATA / "block-finish.toml")
    j = tmp_path / "r.json"
    code, out, _ = run(["check", "--config", SMALL, "--variant", block, "--quiet",
                        "--json", str(j)], capsys)
    assert code == 1 and "1 not in the baseline" in out
    new = [f for f in json.loads(j.read_text())["findings"] if not f["in_baseline"]]
    assert [(f["property"], f["key"]) for f in new] == [
        ("no-stuck-resize", "blocked: host2:finish_resize:resized")]
    code_diff, out_diff, _ = run(["diff", "--config", SMALL, "--variant", block, "--quiet",
                                  "--cache", str(tmp_path / "cache")], capsys)
    assert code_diff == 1 and out_diff.startswith("1 new")
    # a baseline the user names still counts
    b = tmp_path / "b.toml"
    b.write_text('[[finding]]\nproperty = "no-stuck-resize"\nkey = "blocked: *"\n'
                 'reason = "expected of this patch"\n')
    code, out, _ = run(["check", "--config", SMALL, "--variant", block, "--quiet",
                        "--baseline", str(b)], capsys)
    assert code == 0 and "0 not in the baseline" in out


def test_bounded_runs_say_they_are_partial(tmp_path, capsys):
    j = tmp_path / "r.json"
    code, out, _ = run(["check", "--config", "ci", "--max-states", "500", "--quiet",
                        "--json", str(j)], capsys)
    doc = json.loads(j.read_text())
    assert doc["complete"] is False and "max states" in doc["stop_reason"]
    assert "PARTIAL" in out
    assert code == 4  # stopped by a bound before the search finished: incomplete


def test_dfs_finds_what_bfs_finds(capsys):
    cfg = load_preset("seed")
    bfs = check(cfg, [BREAK], [])
    dfs = check(cfg, [BREAK], [], strategy="dfs")
    keys = {(f.prop, f.key) for f, *_ in bfs.report.findings}
    assert keys == {(f.prop, f.key) for f, *_ in dfs.report.findings}
    assert bfs.report.ex.distinct_states == dfs.report.ex.distinct_states


def test_simulate_is_seeded(capsys):
    code, out1, _ = run(["simulate", "--config", "ci", "--runs", "20", "--depth", "40",
                         "--seed", "7", "--quiet", "--no-baseline"], capsys)
    code2, out2, _ = run(["simulate", "--config", "ci", "--runs", "20", "--depth", "40",
                          "--seed", "7", "--quiet", "--no-baseline"], capsys)
    assert out1.split(" in ")[0] == out2.split(" in ")[0]
    assert "PARTIAL" in out1 and code == code2


@pytest.mark.parametrize(
    "args, needle",
    [
        (["check", "--config", "nope"], "--config nope"),
        (["check", "--config", SMALL, "--variant", "/no/such.toml"], "/no/such.toml"),
        (["check", "--config", SMALL, "--baseline", "/no/such.toml"], "/no/such.toml"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, needle, capsys):
    code, out, err = run(args, capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and needle in err


@pytest.mark.parametrize(
    "text, needle",
    [
        ('[[remove]]\nrow = "no.such.row"\n', "remove[0].row: no spec row 'no.such.row'"),
        ('[[guard]]\nrow = "api.delete.reserve"\nexpected_task_state = ["x"]\n',
         "has no instance save"),
        ('[[replace]]\nrow = "api.delete.reserve"\nwhen = ["nonsense"]\n', "when[0]"),
        ('[[replace]]\nrow = "api.delete.reserve"\neffects = [{type = "Nope"}]\n',
         "effects[0].type"),
        ('[[add]]\nid = "x"\n', "add[0].handler: missing"),
        ('[[validation]]\noperation = "fly"\n', "validation[0].operation"),
        ("bogus = 1\n", "bogus: unknown key"),
        ('[[replace]]\nrow = "api.delete.reserve"\nthen = "nowhere"\n', "names no label"),
    ],
)
def test_bad_variants_name_the_key(text, needle):
    with pytest.raises(ConfigError) as e:
        apply_variant_text(LIBERTY, text, "v.toml")
    assert needle in str(e.value) and "\n" not in str(e.value)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["remove", "guard", "replace", "add", "validation",
                                        "move_quota", "name", "x"]),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                                    lambda k: st.lists(k, max_size=3)
                                    | st.dictionaries(st.sampled_from(["row", "id", "when",
                                                                       "effects", "then",
                                                                       "from", "to", "type"]),
                                                      k, max_size=3),
                                    max_leaves=8),
                       max_size=4))
def test_fuzzed_variants_never_crash(data):
    try:
        apply_variant_data(LIBERTY, data, "fuzz.toml")
    except ConfigError as e:
        assert "\n" not in str(e)


def test_ci_is_exhaustive_passes_its_baseline_and_covers_its_rows():
    res = check(load_preset("ci"), [], load_baseline(None))
    rep = res.report
    assert rep.ex.complete
    assert rep.new_findings == []
    assert unexplained_uncovered(rep) == []
    # the properties the ci configuration must exercise are evaluated
    for prop in ("legal-state", "no-lost-update", "claims-consistent", "no-orphan",
                 "tracker-matches-audit", "migration-agrees", "error-has-cause",
                 "verify-resize-actionable"):
        assert rep.ex.evaluations[prop] > 0
    # pinned: ci finds exactly the identities the baseline lists for it, each with a reason
    found = {(f.prop, glob_escape(f.key), glob_escape(f.where) if f.where else "*")
             for f, *_ in rep.findings}
    entries = load_baseline(None)
    assert found == {(k.prop, k.key, k.where) for k in entries if "ci" in k.presets}
    assert not [k for k in entries if k.reason.startswith("UNEXPLAINED")]
