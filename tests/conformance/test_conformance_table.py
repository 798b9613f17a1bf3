"""docs/conformance.md lists every nova test that was read; this keeps it true to the suite."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import HERE, NOVA_ID

DOC = HERE.parent.parent / "docs" / "conformance.md"
ROW = re.compile(r"^\| `(?P<id>[^`]+)` \| (?P<status>[a-z ]+) \| (?P<detail>.*) \|$")
STATUSES = ("ported", "not applicable", "disagreement")


def _table() -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            assert match["id"] not in rows, f"{match['id']} is listed twice"
            rows[match["id"]] = (match["status"], match["detail"])
    return rows


def _load(path: Path) -> ModuleType:
    name = f"_conformance_table_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _marked() -> dict[str, list[tuple[str, bool]]]:
    """nova id -> [(file::test, xfail strict)] for every ported test of the suite."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for path in sorted(HERE.glob("test_nova_*.py")):
        for name, fn in vars(_load(path)).items():
            if not name.startswith("test_") or not callable(fn):
                continue
            marks = getattr(fn, "pytestmark", [])
            strict = any(mk.name == "xfail" and mk.kwargs.get("strict") for mk in marks)
            for mk in marks:
                if mk.name == "nova":
                    for nova_id in mk.args:
                        out.setdefault(nova_id, []).append((f"{path.name}::{name}", strict))
    return out


def test_every_row_is_well_formed_and_counted():
    table = _table()
    assert len(table) > 100
    for nova_id, (status, detail) in table.items():
        assert NOVA_ID.match(nova_id), nova_id
        assert status in STATUSES, (nova_id, status)
        assert detail.strip(), nova_id
    counts = {s: sum(1 for st, _ in table.values() if st == s) for s in STATUSES}
    header = (f"**Read: {len(table)} · ported: {counts['ported']} · not applicable: "
              f"{counts['not applicable']} · disagreements: {counts['disagreement']}**")
    assert header in DOC.read_text(encoding="utf-8")


def test_the_table_names_the_tests_that_port_each_nova_test():
    table = _table()
    marked = _marked()
    for nova_id, tests in marked.items():
        # every nova id a test claims is in the table, as ported or as a disagreement
        assert nova_id in table, f"{nova_id} (claimed by {tests}) is not in the table"
        status, detail = table[nova_id]
        expected = "disagreement" if any(x for _, x in tests) else "ported"
        assert status == expected, (nova_id, status, tests)
        for test, _ in tests:
            assert f"`{test}`" in detail, (nova_id, test)
    for nova_id, (status, detail) in table.items():
        if status == "not applicable":
            assert nova_id not in marked, f"{nova_id} is not applicable but {marked[nova_id]}"
        else:
            # a ported or disputed row names only tests that exist and carry its id
            named = re.findall(r"`(test_[\w.]+::\w+)`", detail)
            assert named, nova_id
            assert sorted(named) == sorted(t for t, _ in marked.get(nova_id, [])), nova_id


MIRROR = Path("/work/.mirror/openstack+nova/repo")


@pytest.mark.skipif(not MIRROR.is_dir(), reason="no nova mirror on this machine")
def test_the_table_lists_exactly_the_enumerated_tests():
    try:
        enumerate_nova = _load(HERE / "enumerate_nova_tests.py")
        listed = enumerate_nova.enumerate_tests(str(MIRROR), "12.0.0")
    except subprocess.CalledProcessError as e:  # a mirror without the tag
        pytest.skip(f"the mirror cannot be read: {e}")
    assert sorted(listed) == sorted(_table())
