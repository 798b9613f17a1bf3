"""A check replays a finding's trace only when a report shows or writes it: the text report of
a run with many known findings replays none of them, the JSON report every one, and a lazily
replayed trace (with the cause it names) equals the one replayed at once."""

from __future__ import annotations

import json

from conftest import config
from hypothesis import given
from hypothesis import strategies as st
from nova_resize.checker.explicit import report as reports
from nova_resize.checker.explicit.run import check

from nova_resize.files import json_text

RACES = {"actions": {"resize": 1, "resize_flavors": ["medium"], "confirm_resize": 1},
         "faults": {"crash": 1}}  # 410 states, 48 findings on Liberty


def _run(known_all: bool):
    cfg = config(**RACES)
    res = check(cfg, [], [])
    rep = res.report
    assert rep.ex.complete and len(rep.findings) >= 3
    if known_all:  # as if the baseline explained every finding
        rep.findings = [(f, t, True, "known") for f, t, _, _ in rep.findings]
    return res, rep


def _replayed(rep: reports.Report) -> int:
    return sum(1 for _, t, _, _ in rep.findings
               if isinstance(t, reports.Trace) and t._steps is not None)


def test_a_check_replays_no_trace_until_one_is_shown() -> None:
    res, rep = _run(known_all=True)
    assert _replayed(rep) == 0
    assert all(f.cause == "" for f, _, _, _ in rep.findings)
    # a passing run's text names no trace: nothing is replayed
    reports.text(rep, res.spec, max_traces=5)
    assert _replayed(rep) == 0
    # every trace's length is known without a replay
    assert all(len(t) == f.depth or f.kind == "liveness" for f, t, _, _ in rep.findings)
    assert _replayed(rep) == 0


def test_text_replays_only_the_traces_it_shows() -> None:
    res, rep = _run(known_all=False)
    out = reports.text(rep, res.spec, max_traces=2)
    assert _replayed(rep) == 2
    shown = [f for f, t, _, _ in rep.findings if t._steps is not None]  # type: ignore[attr-defined]
    for f in shown:
        assert f.cause and f"caused by: {f.cause}" in out


def test_json_replays_every_trace_with_its_cause_and_the_cited_rows() -> None:
    _, rep = _run(known_all=False)
    doc = reports.to_json(rep)
    assert _replayed(rep) == len(rep.findings)
    assert all(f["cause"] and f["trace"] for f in doc["findings"])
    ran = {r for f in doc["findings"] for s in f["trace"] for r in s["rows"]}
    assert doc["rows"] and set(doc["rows"]) <= ran
    assert {r for r in ran if not r.startswith(("rpc.", "compute.service"))} <= set(doc["rows"])


def test_a_lazy_trace_equals_the_trace_replayed_at_once() -> None:
    res, rep = _run(known_all=False)
    for f, t, _, _ in rep.findings:
        assert isinstance(t, reports.Trace)
        eager = reports.build_trace(res.model, t.actions)
        assert t == eager and list(t) == eager and t[-1] == eager[-1]
        assert f.cause == res.model.cause(t.actions, f.subject)


def test_the_json_report_text_is_the_indented_dump_laid_out_by_levels() -> None:
    leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=5)
    values = st.recursive(leaves, lambda c: st.lists(c, max_size=3)
                          | st.dictionaries(st.text(max_size=3), c, max_size=3), max_leaves=12)

    @given(values, st.integers(0, 3))
    def same(v: object, levels: int) -> None:
        assert json.loads(json_text(v, levels)) == v

    same()
    _, rep = _run(known_all=False)
    text = reports.to_json_text(rep)
    assert json.loads(text) == json.loads(json.dumps(reports.to_json(rep), indent=2))
    lines = text.splitlines()
    # one line per finding: a reviewer's diff names the finding that changed
    assert sum(1 for ln in lines if ln.startswith('    {"property": ')) == len(rep.findings)
