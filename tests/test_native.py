"""The compiled engine (nova_resize/native.py, make native): used only when current, and the
same searches as the Python sources."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nova_resize import native, native_build

ENGINE_DIR = Path(native.__file__).resolve().parent.parent / "engine"


def _stamp(where: Path, **over: object) -> None:
    where.mkdir(parents=True, exist_ok=True)
    stamp = {"digest": native.sources_digest(ENGINE_DIR), "interpreter": native.interpreter(),
             "shared": "no_such_library__mypyc", **over}
    (where / native.STAMP).write_text(json.dumps(stamp))


@pytest.fixture
def compiled_allowed(monkeypatch):
    monkeypatch.delenv("NOVA_RESIZE_PURE", raising=False)
    monkeypatch.setenv("NOVA_RESIZE_NATIVE", "1")


def test_the_suite_itself_runs_the_python_sources():
    import nova_resize.engine as engine

    assert os.environ["NOVA_RESIZE_PURE"] == "1"
    assert engine.NATIVE == "pure Python (NOVA_RESIZE_PURE is set)"


def test_a_library_import_runs_the_sources_unless_it_asks(tmp_path, monkeypatch):
    _stamp(tmp_path)
    monkeypatch.delenv("NOVA_RESIZE_PURE", raising=False)
    monkeypatch.delenv("NOVA_RESIZE_NATIVE", raising=False)
    monkeypatch.setattr(native, "WANTED", False)  # (importing the command line sets it)
    assert "imported as a library" in str(native.check(ENGINE_DIR, tmp_path))
    monkeypatch.setattr(native, "WANTED", True)  # what the command line does
    assert native.check(ENGINE_DIR, tmp_path) is None
    monkeypatch.setenv("NOVA_RESIZE_PURE", "1")
    assert native.check(ENGINE_DIR, tmp_path) == "NOVA_RESIZE_PURE is set"


def test_a_build_is_used_only_when_it_is_current_and_for_this_interpreter(tmp_path,
                                                                          compiled_allowed):
    assert native.check(ENGINE_DIR, tmp_path) == "no compiled build: make native"
    _stamp(tmp_path)
    assert native.check(ENGINE_DIR, tmp_path) is None
    _stamp(tmp_path, digest="0" * 64)
    assert "older than the sources" in str(native.check(ENGINE_DIR, tmp_path))
    _stamp(tmp_path, interpreter="cpython-27-plan9-16")
    assert "for cpython-27-plan9-16" in str(native.check(ENGINE_DIR, tmp_path))
    (tmp_path / native.STAMP).write_text("{torn")
    assert "unreadable" in str(native.check(ENGINE_DIR, tmp_path))


def test_a_build_that_does_not_load_leaves_the_sources_in_place(tmp_path, compiled_allowed):
    _stamp(tmp_path)
    os.environ["NOVA_RESIZE_NATIVE_DIR"] = str(tmp_path)
    try:
        path = [str(ENGINE_DIR)]
        status = native.activate(path)
    finally:
        del os.environ["NOVA_RESIZE_NATIVE_DIR"]
    assert status == "pure Python (the compiled build does not load (ModuleNotFoundError): " \
                     "make native)"
    assert path == [str(ENGINE_DIR)]


SEARCH = r"""
import json, sys
import nova_resize.engine as engine
import nova_resize.checker.explicit.properties.claims as claims
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import Limits, explore
out = {"engine": engine.NATIVE, "predicates": not claims.__file__.endswith(".py")}
for name, cap in [("ci", 40000), ("full", 25000), ("regression-soft-delete-races", None)]:
    ex = explore(NovaModel(Engine(load_preset(name))), "bfs", Limits(max_states=cap))
    out[name] = [ex.distinct_states, ex.transitions, list(ex.parent)[-50:],
                 sorted([list(k), f.count, f.depth, f.state] for k, f in ex.findings.items())]
# a model pickles (Ray ships it to its actors), compiled or not, and its copy searches alike
import pickle
copy = pickle.loads(pickle.dumps(NovaModel(Engine(load_preset("full")))))
ex = explore(copy, "bfs", Limits(max_states=25000))
out["pickled"] = [ex.distinct_states, ex.transitions, list(ex.parent)[-50:]]
assert out["pickled"] == out["full"][:3], "the pickled model searched differently"
print(json.dumps(out))
"""


@pytest.mark.skipif(native_build.missing() is not None,
                    reason=f"cannot compile here: {native_build.missing()}")
def test_the_compiled_engine_searches_exactly_as_the_sources_do(tmp_path):
    out = tmp_path / "native"
    assert native_build.main(["--out", str(out), "--quiet"]) == 0
    env = {k: v for k, v in os.environ.items() if k != "NOVA_RESIZE_PURE"}
    env["NOVA_RESIZE_NATIVE_DIR"] = str(out)
    env["NOVA_RESIZE_NATIVE"] = "1"  # a library import asks for it

    def run(extra: dict[str, str]) -> dict:
        p = subprocess.run([sys.executable, "-c", SEARCH], env={**env, **extra},
                           capture_output=True, text=True, timeout=600, check=False)
        assert p.returncode == 0, p.stderr[-3000:]
        return json.loads(p.stdout)

    fast, slow = run({}), run({"NOVA_RESIZE_PURE": "1"})
    assert fast.pop("engine") == "compiled (mypyc)" and fast.pop("predicates") is True
    assert slow.pop("engine").startswith("pure Python") and slow.pop("predicates") is False
    assert fast == slow
    # every pinned regression preset: the same states, transitions and findings as pinned,
    # by the command line, which asks for the build by itself
    del env["NOVA_RESIZE_NATIVE"]
    reg = subprocess.run([sys.executable, "-c", "import sys; "
                          "from nova_resize.checker.cli import main; "
                          "import nova_resize.engine as e; print(e.NATIVE); "
                          "sys.exit(main(['regression', '--quiet']))"],
                         env=env, capture_output=True, text=True, timeout=600, check=False)
    assert reg.returncode == 0, reg.stdout[-3000:] + reg.stderr[-3000:]
    assert reg.stdout.startswith("compiled (mypyc)\n44 presets, 0 differences")


def test_without_a_compiler_the_build_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(native_build.shutil, "which", lambda name: None)
    assert native_build.missing() is not None
    assert native_build.main(["--out", str(tmp_path / "n"), "--quiet"]) == 2
    assert native_build.main(["--out", str(tmp_path / "n"), "--auto", "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("no C compiler" in e and "stays pure Python" in e for e in err)
    assert not (tmp_path / "n").exists()


def test_a_replaced_record_is_what_namedtuple_replace_gives_and_refuses_the_same():
    from nova_resize.engine.tx import replaced
    from nova_resize.engine.world import Host

    h = Host("host1", "up", (1, 2, 3), frozenset(), frozenset(), frozenset(), frozenset())
    assert replaced(h, status="down", usage=(0, 0, 0)) == h._replace(status="down",
                                                                      usage=(0, 0, 0))
    assert type(replaced(h, status="down")) is Host
    with pytest.raises(ValueError, match="unexpected field names"):
        replaced(h, bogus=1)
