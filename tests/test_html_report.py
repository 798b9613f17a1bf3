"""The HTML report's structure, without a browser: self-contained, one diagram per trace, the
inline data intact, the swimlane's lanes and messages right."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.html import render_html, report_kind
from nova_resize.checker.html.swimlane import actor_from_text, arrows, swimlane_svg

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    j = tmp_path_factory.mktemp("h") / "r.json"
    assert main(["check", "--config", str(DATA / "small.toml"), "--no-baseline", "--variant",
                 str(DATA / "break-guard.toml"), "--quiet", "--json", str(j)]) == 1
    return json.loads(j.read_text())


def inline_data(html: str) -> dict[str, object]:
    return {m.group(1): json.loads(m.group(2).replace("<\\/", "</")) for m in re.finditer(
        r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S)}


def test_the_page_is_self_contained(doc):
    html = render_html(doc)
    assert "default-src 'none'" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert html.count("<svg") == len(doc["findings"])
    data = inline_data(html)
    traces = [v for k, v in data.items() if k.startswith("trace")]
    assert [len(t["steps"]) for t in traces] == [len(f["trace"]) for f in doc["findings"]]
    assert data["spec-rows"]["api.resize.save"]["cite"].startswith("nova/compute/api.py")


def test_every_property_is_shown_with_its_statement_and_verdict(doc):
    html = render_html(doc)
    for name, p in doc["properties"].items():
        assert f"<b>{name}</b>" in html
        assert p["statement"][:40].replace("'", "&#x27;") in html
    new = sum(1 for f in doc["findings"] if not f["in_baseline"])
    assert new > 1
    assert f"FAILED: {new} findings not in the baseline" in html


def test_text_cannot_end_the_inline_data(doc):
    f = doc["findings"][0]
    evil = dict(doc, findings=[dict(f, key="</script><script>alert(1)</script>",
                                    message="<b>x</b>")])
    html = render_html(evil)
    assert "<script>alert(1)" not in html
    data = inline_data(html)
    assert len([k for k in data if k.startswith("trace")]) == 1


def test_the_swimlane_draws_each_message_from_sender_to_receiver(doc):
    f = next(f for f in doc["findings"] if f["property"] == "legal-state")
    got = arrows(doc["initial_state"], f["trace"])
    methods = [(m, fate) for _, _, m, _, fate in got]
    assert methods == [("migrate_server", "delivered"), ("prep_resize", "delivered"),
                       ("resize_instance", "delivered"), ("finish_resize", "delivered")]
    sender, receiver = got[1][0], got[1][1]
    assert f["trace"][sender]["actor"] == "nova-conductor"
    assert f["trace"][receiver]["actor"] == "nova-compute@host2"
    svg = swimlane_svg(f["trace"], doc["initial_state"])
    lanes = re.findall(r'<g class="lane-head">.*?<title>([^<]*)</title>', svg)
    assert lanes == ["user", "nova-api", "nova-conductor", "nova-compute@host1",
                     "nova-compute@host2"]
    assert svg.count('class="step ') == len(f["trace"])


def test_a_lost_message_ends_in_a_cross():
    s0 = {"messages": [{"kind": "cast", "method": "prep_resize", "target": "host2"}]}
    steps = [{"n": 1, "actor": "rabbitmq", "action": "LOSE cast prep_resize -> host2",
              "action_data": {"kind": "lose", "message": 0}, "state": {"messages": []}}]
    assert arrows(s0, steps) == [(None, 0, "prep_resize", "cast", "lost")]
    assert 'class="msg cast lost"' in swimlane_svg(steps, s0)


@pytest.mark.parametrize("text, actor", [
    ("user: migrate vm1", "user"),
    ("api: resize [api.resize:save]", "nova-api"),
    ("deliver call migrate_server -> conductor", "nova-conductor"),
    ("deliver cast prep_resize -> compute-2", "nova-compute@compute-2"),
    ("compute-1: resize_instance [resize_instance:start]", "nova-compute@compute-1"),
    ("FAIL host1: resize_instance [resize_instance:migrate_disk] (x)", "nova-compute@host1"),
    ("periodic update_available_resource on host2", "nova-compute@host2"),
    ("LOSE cast finish_resize -> host2", "rabbitmq"),
])
def test_actors_of_a_witness_step(text, actor):
    assert actor_from_text(text) == actor


def test_report_kinds(doc):
    assert report_kind(doc) == "check"
    assert report_kind({"kind": "diff", "new": [], "gone": [], "unchanged": []}) == "diff"
    assert report_kind({"accepted": True, "witness": []}) == "validate"


def test_a_diff_report_puts_liberty_and_the_patch_side_by_side(doc):
    # a finding whose last two steps are handler steps (drawn as k-run)
    f = next(f for f in doc["findings"] if len(f["trace"]) > 3
             and all(s["action_data"]["kind"] == "run" for s in f["trace"][-2:]))
    diff = {"kind": "diff", "configuration": "small", "new": [
        dict(f, patched_trace=f["trace"], liberty_trace=f["trace"][:-2])],
        "gone": [dict(doc["findings"][0])], "unchanged": []}
    html = render_html(diff)
    assert html.count('class="viewer"') == 4
    assert "no trace on this side" in html  # the gone finding has no patched trace
    assert html.count('class="step k-run differs"') == 2
    assert "1 new, 1 gone, 0 unchanged findings" in html


def test_html_flag_on_simulate_and_a_bad_path(tmp_path, capsys):
    h = tmp_path / "s.html"
    code = main(["simulate", "--config", "ci", "--runs", "5", "--depth", "30", "--seed", "1",
                 "--quiet", "--html", str(h)])
    text = h.read_text()
    assert code in (0, 1) and ("<svg" in text or "Findings: 0" in text)
    assert "not evaluated" in h.read_text()  # no-stuck-resize, on a simulation
    assert main(["check", "--config", str(DATA / "small.toml"), "--html",
                 str(tmp_path / "no" / "r.html")]) == 2


def test_each_finding_shows_its_place_its_cause_and_a_replay_by_its_whole_identity(doc):
    # given a report whose findings carry where and cause
    f = next(f for f in doc["findings"] if f["property"] == "legal-state")
    assert f["where"] and f["cause"]
    # when it is rendered
    html = render_html(doc)
    # then the finding's head names its place, the body its cause, and the replay hint names
    # the finding as 'property: key @ where' (the form replay --finding reads)
    assert f'<span class="at">@ {f["where"]}</span>' in html
    assert f"Caused by <code>{f['cause']}</code>" in html
    hint = json.dumps(f"legal-state: {f['key']} @ {f['where']}")
    assert hint.replace('"', "&quot;") in html or hint in html
