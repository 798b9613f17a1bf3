"""The command line and configuration errors: one line naming file and key, exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nova_resize.checker.cli import main
from nova_resize.engine.config import ConfigError, load_config, parse_config
from nova_resize.engine.presets import load_preset, preset_names

from nova_resize.files import parse_toml as parse_toml_text

GOOD = Path(__file__).parent / "data" / "good.toml"


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_spec_json_is_machine_readable(capsys):
    code, out, _ = run(["spec", "--format", "json"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert {"rows", "operations", "handlers", "state_pairs", "migration_edges"} <= set(doc)
    assert all(r["cite"].startswith("nova/") for r in doc["rows"])
    # each row's static footprint: a save reads and writes the instance's row
    task = next(r for r in doc["rows"] if r["id"] == "compute.resize_instance.task_migrating")
    assert "db.instance" in task["reads"] and "db.instance" in task["writes"]


def test_spec_markdown(capsys):
    code, out, _ = run(["spec", "--format", "markdown"], capsys)
    assert code == 0 and "| `compute.resize_instance.task_migrating` |" in out


def test_walk_prints_the_seed_walk(capsys):
    code, out, _ = run(["walk", "--quiet"], capsys)
    assert code == 0
    assert out.strip().endswith("RESIZE resize_finish -> VERIFY_RESIZE -")


def test_every_preset_loads_and_builds_an_initial_cloud():
    from nova_resize.engine.core import Engine

    names = preset_names()
    assert {"seed", "ci", "bmc"} <= set(names)
    for name in names:
        cfg = load_preset(name)
        assert cfg.name == name
        assert cfg.hosts and cfg.instances and cfg.flavors, name
        w = Engine(cfg).initial()
        # every configured instance is in the database, on the host the preset puts it
        assert [(i.name, i.host) for i in w.instances] == [(i.name, i.host)
                                                           for i in cfg.instances]
        # and nothing runs yet
        assert not w.messages and not w.frames and not w.migrations


def test_unknown_preset_is_a_one_line_error(capsys):
    code, out, err = run(["walk", "--config", "nope"], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "--config nope" in err


@pytest.mark.parametrize(
    "text, where",
    [
        ("[[flavors]]\nname = 1\nvcpus = 1\nmemory_mb = 1\nroot_gb = 1\n", "flavors[0].name"),
        ("[[flavors]]\nname = 'x'\n", "flavors[0].vcpus: missing"),
        ("flavors = 3\n", "flavors"),
        ("[options]\nallow_resize_to_same_host = 'yes'\n", "options.allow_resize_to_same_host"),
        ("[options]\nno_such_option = 1\n", "options.no_such_option"),
        ("[bogus]\n", "bogus"),
        ("[[flavors]\n", "not valid TOML"),
    ],
)
def test_bad_config_files_name_the_key(tmp_path, capsys, text, where):
    p = tmp_path / "bad.toml"
    p.write_text(text)
    code, _, err = run(["walk", "--config", str(p)], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert str(p) in err and where in err


def test_bad_instance_reference(tmp_path):
    base = GOOD.read_text().replace('host = "h1"', 'host = "h9"')
    p = tmp_path / "c.toml"
    p.write_text(base)
    with pytest.raises(ConfigError, match=r"instances\[0\]\.host: expected one of the hosts"):
        load_config(p)


def test_good_config_file_loads():
    cfg = load_config(GOOD)
    assert cfg.instances[0].host == "h1"


VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids,
                                                               max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["name", "options", "flavors", "hosts", "instances",
                                        "quota", "actions", "faults", "periodic", "check",
                                        "junk"]), VALUES, max_size=6))
def test_fuzzed_configurations_never_crash(data):
    # any parsed TOML document either builds a Config or raises a one-line ConfigError
    try:
        parse_config(data, "fuzz.toml", "fuzz")
    except ConfigError as e:
        msg = str(e)
        assert msg.startswith("fuzz.toml: ") and "\n" not in msg


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_fuzzed_toml_text_never_crashes(text):
    try:
        parse_config(parse_toml_text(text, "t.toml"), "t.toml", "t")
    except ConfigError as e:
        assert "\n" not in str(e)


def test_console_script_runs():
    exe = Path(sys.executable).parent / "nova-resize"
    out = subprocess.run([str(exe), "walk", "--quiet"], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
