"""Diagrams: generated from the spec, deterministic, and kept current in diagrams/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.diagrams import spec_diagrams
from nova_resize.spec import LIBERTY

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def dots() -> dict[str, str]:
    return spec_diagrams(LIBERTY)


def test_the_committed_diagrams_are_current(dots):
    # `make diagrams` regenerates them; this fails when the spec changed and they did not
    for name, dot in dots.items():
        committed = ROOT / "diagrams" / f"{name}.dot"
        assert committed.exists(), f"diagrams/{name}.dot is missing: run `make diagrams`"
        assert committed.read_text() == dot, f"diagrams/{name}.dot is stale: run `make diagrams`"
        assert (ROOT / "diagrams" / f"{name}.svg").exists()


def test_generation_is_deterministic(dots):
    assert spec_diagrams(LIBERTY) == dots


def test_the_resize_sequence_shows_lanes_messages_guards_and_faults(dots):
    seq = dots["sequence-resize"]
    for lane in ("nova-api", "nova-conductor", "nova-scheduler", "source nova-compute",
                 "destination nova-compute"):
        assert f'label="{lane}"' in seq
    for arrow in ("cast prep_resize", "cast resize_instance", "cast finish_resize",
                  "call migrate_server"):
        assert arrow in seq
    assert "expected_task_state=[resize_prep]" in seq
    assert "✗ compute.resize_instance.migrate_disk_fails" in seq


def test_the_state_diagrams_label_statuses_and_guards(dots):
    st = dots["instance-states-resize"]
    assert "[VERIFY_RESIZE]" in st
    assert "resize_instance.task_migrating\\n(exp=[resize_prep])" in st
    assert 'style="dashed"' in st  # error handlers and faults
    assert "[REVERT_RESIZE]" in dots["instance-states-revert"]
    assert 'rankdir="TB"' in st


def test_one_state_diagram_per_operation_and_an_overview_grouping_the_errors(dots):
    for op in ("resize", "migrate", "confirm", "revert", "delete", "stop-start"):
        assert f"instance-states-{op}" in dots
    overview = dots["instance-states"]
    assert "subgraph cluster_error" in overview and 'rankdir="TB"' in overview
    cluster = overview[overview.index("subgraph cluster_error"):]
    cluster = cluster[:cluster.index("}")]
    assert "error__none" in cluster and "active__none" not in cluster
    # the delete diagram shows what happens from `deleting`, whoever takes the move
    assert "active__deleting -> deleted__none" in dots["instance-states-delete"]


def test_every_committed_diagram_fits_about_2000_px(dots):
    for name in dots:
        svg = (ROOT / "diagrams" / f"{name}.svg").read_text()
        m = re.search(r'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"', svg)
        assert m, name
        assert float(m.group(1)) * 4 / 3 <= 2050, f"{name} is {float(m.group(1)) * 4 / 3:.0f} px"


def test_diagram_command_highlights_what_a_variant_changes(tmp_path, capsys):
    v = tmp_path / "v.toml"
    v.write_text('[[guard]]\nrow = "compute.resize_instance.task_migrated"\n'
                 'expected_task_state = "none"\n')
    code = main(["diagram", "--out", str(tmp_path), "--format", "dot", "--quiet",
                 "--variant", str(v), "--diff"])
    assert code == 0
    st = (tmp_path / "instance-states-resize.dot").read_text()
    line = next(ln for ln in st.splitlines() if "resize_instance.task_migrated" in ln)
    assert 'penwidth="3"' in line and "(unguarded)" in line
    seq = (tmp_path / "sequence-resize.dot").read_text()
    line = next(ln for ln in seq.splitlines() if "compute.resize_instance.task_migrated" in ln)
    assert "changed by the variant" in line and 'penwidth="3"' in line


def test_diagram_diff_shows_what_a_variant_removes(tmp_path, capsys):
    v = tmp_path / "v.toml"
    v.write_text('[[remove]]\nrow = "compute.resize_instance.task_migrated"\n')
    assert main(["diagram", "--out", str(tmp_path), "--format", "dot", "--quiet",
                 "--variant", str(v), "--diff"]) == 0
    st = (tmp_path / "instance-states-resize.dot").read_text()
    gone = [ln for ln in st.splitlines() if "gone with the variant" in ln]
    assert any("resize_instance.task_migrated" in ln and 'style="dotted"' in ln for ln in gone)
    seq = (tmp_path / "sequence-resize.dot").read_text()
    note = "removed by the variant (Liberty runs it here):\\ncompute.resize_instance.task_migrated"
    assert note in seq
    assert "gone with the variant" in (tmp_path / "instance-states.dot").read_text()


def test_diff_needs_a_variant(tmp_path, capsys):
    assert main(["diagram", "--out", str(tmp_path), "--diff"]) == 2


def test_check_draws_finding_traces(tmp_path, capsys):
    code = main(["check", "--config", str(ROOT / "tests/data/small.toml"), "--no-baseline",
                 "--variant", str(ROOT / "tests/data/break-guard.toml"), "--quiet",
                 "--diagrams", str(tmp_path)])
    assert code == 1
    assert (tmp_path / "projection.svg").exists()
    traces = sorted(tmp_path.glob("finding-*.dot"))
    assert (traces and "compute.finish_resize.resized" in traces[0].read_text()) or any(
        "compute.finish_resize.resized" in t.read_text() for t in traces)
