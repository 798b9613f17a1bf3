"""The HTML reports in a real browser: Debian's headless Chromium driven by Playwright opens a
report, steps through a trace and checks what it shows. Skipped only when Chromium or the
Playwright package is missing (`make test` installs both where it can)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from nova_resize.checker.cli import main
from nova_resize.checker.html import render_html

DATA = Path(__file__).parent / "data"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="the playwright package is not installed "
                                      "(pip install -e '.[browser]')")
expect = sync_api.expect
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    d = tmp_path_factory.mktemp("html")
    j, h = d / "r.json", d / "r.html"
    code = main(["check", "--config", str(DATA / "small.toml"), "--no-baseline",
                 "--variant", str(DATA / "break-guard.toml"), "--quiet",
                 "--json", str(j), "--html", str(h)])
    assert code == 1
    return json.loads(j.read_text()), h


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    errors, requests = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    return page, errors, requests


def finding_viewer(page, doc, prop):
    n = next(i for i, f in enumerate(doc["findings"]) if f["property"] == prop)
    return page.locator(f"#finding-{n} .viewer")


def cell(viewer, table, key, col):
    return viewer.locator(f'.world [data-table="{table}"] tr[data-key="{key}"] '
                          f'td[data-col="{col}"]')


def test_stepping_through_a_trace_shows_the_world_and_what_changed(browser, report):
    doc, path = report
    page, errors, requests = open_page(browser, path)
    v = finding_viewer(page, doc, "legal-state")
    assert v.locator(".pos").inner_text() == "step 0 / 21"
    assert cell(v, "instances", "vm1", "task_state").inner_text() == "—"
    v.locator("button[data-act=next]").click()
    v.locator("button[data-act=next]").click()
    assert v.locator(".pos").inner_text() == "step 2 / 21"
    task = cell(v, "instances", "vm1", "task_state")
    assert task.inner_text() == "resize_prep"
    assert "changed" in task.get_attribute("class")
    assert "changed" not in cell(v, "instances", "vm1", "host").get_attribute("class")
    # the step's rows with their Nova citations, the message it sent, the quota with units
    info = v.locator(".stepinfo").inner_text()
    assert "api.resize.save" in info and "nova/compute/api.py" in info
    assert "migrate_server" in v.locator('.world [data-table="messages in flight"]').inner_text()
    assert "1536 MB" in v.locator('.world [data-table="quota"]').inner_text()
    # back again: the state before the request
    v.locator("button[data-act=prev]").click()
    assert v.locator(".pos").inner_text() == "step 1 / 21"
    task = cell(v, "instances", "vm1", "task_state")
    assert task.inner_text() == "—" and "changed" not in task.get_attribute("class")
    # a click on a step of the diagram, then the keyboard
    v.locator('g.step[data-step="14"]').click()
    assert v.locator(".pos").inner_text() == "step 14 / 21"
    assert v.locator('g.step[data-step="14"]').get_attribute("class").split().count("current")
    page.keyboard.press("ArrowRight")
    assert v.locator(".pos").inner_text() == "step 15 / 21"
    hosts = v.locator('.world [data-table="hosts"]').inner_text()
    assert "vCPUs" in hosts and "MB" in hosts and "GB" in hosts
    v.locator("button[data-act=last]").click()
    vm = cell(v, "instances", "vm1", "vm_state")
    assert vm.inner_text() == "stopped" and "changed" in vm.get_attribute("class")
    assert not errors
    assert all(u.startswith("file:") for u in requests), requests


def test_a_baseline_finding_opens_on_demand(browser, report, tmp_path):
    doc, _ = report
    doc = dict(doc, findings=[dict(f, in_baseline=True, baseline_reason="known")
                              for f in doc["findings"]])
    path = tmp_path / "known.html"
    path.write_text(render_html(doc))
    page, errors, _ = open_page(browser, path)
    assert "PASSED" in page.locator(".verdict").first.inner_text()
    d = page.locator("#finding-0")
    assert d.get_attribute("open") is None
    # the viewer loads on the details' toggle event, which the browser fires a moment after the
    # click: expect() retries until it holds (or its timeout fails the test)
    d.locator("summary").click()
    expect(d.locator(".pos")).to_contain_text("step 0 / ")
    # the properties table links to each finding, and following a link opens it
    page.locator('table.properties a[href="#finding-3"]').click()
    expect(page.locator("#finding-3")).to_have_attribute("open", "")
    expect(page.locator("#finding-3 .pos")).to_contain_text("step 0 / ")
    assert not errors


def test_a_diff_report_steps_both_traces_together(browser, report, tmp_path):
    doc, _ = report
    f = next(f for f in doc["findings"] if f["property"] == "legal-state")
    liberty = [dict(s) for s in f["trace"][:-1]]
    diff = {"kind": "diff", "configuration": doc["configuration"], "variants": doc["variants"],
            "initial_state": doc["initial_state"], "rows": doc["rows"],
            "new": [dict(f, patched_trace=f["trace"], liberty_trace=liberty)],
            "gone": [], "unchanged": []}
    path = tmp_path / "diff.html"
    path.write_text(render_html(diff))
    page, errors, _ = open_page(browser, path)
    sides = page.locator("#new-0 .viewer")
    assert sides.count() == 2
    lib, pat = sides.nth(0), sides.nth(1)
    assert "Liberty" in lib.locator(".side-label").inner_text()
    pat.locator("button[data-act=last]").click()
    assert pat.locator(".pos").inner_text() == "step 21 / 21"
    assert lib.locator(".pos").inner_text() == "step 20 / 20"
    # the step only the patched side takes is marked as a difference
    assert "differs" in pat.locator('g.step[data-step="21"]').get_attribute("class")
    lib.locator("button[data-act=first]").click()
    assert pat.locator(".pos").inner_text() == "step 0 / 21"
    assert not errors


def test_a_validate_report_shows_the_witness_and_its_observations(browser, tmp_path, capsys):
    path = tmp_path / "v.html"
    assert main(["validate", str(DATA / "seed-walk.txt"), "--quiet", "--html", str(path)]) == 0
    page, errors, _ = open_page(browser, path)
    assert "ACCEPTED" in page.locator(".verdict").inner_text()
    v = page.locator("#witness .viewer")
    assert v.locator("g.mark").count() >= 5
    v.locator("button[data-act=next]").click()
    info = v.locator(".stepinfo").inner_text()
    assert "user" in info and "nova/compute/api.py" in info
    assert not errors
