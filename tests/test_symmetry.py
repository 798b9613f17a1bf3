"""Symmetry reduction over interchangeable hosts keeps every verdict: the same finding
identities, the same shortest depths and the same liveness verdict, on Liberty and on broken
variants, with fewer states."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import config
from nova_resize.checker.explicit.model import NovaModel
from nova_resize.checker.explorer import explore
from nova_resize.checker.variants import build_spec
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset
from nova_resize.engine.symmetry import HostSymmetry, interchangeable_hosts

DATA = Path(__file__).parent / "data"
MOVE_QUOTA = """
[[move_quota]]
from = "compute.finish_resize.commit"
to = "compute.finish_resize.task_finish"
"""


def three_hosts():
    return config(hosts=3, actions={"resize": 1, "resize_flavors": ["medium"],
                                    "confirm_resize": 1, "delete": 1},
                  faults={"driver": 1})


def explore_both(cfg, variants):
    spec, _ = build_spec(variants)
    plain = explore(NovaModel(Engine(cfg, spec), symmetry=False))
    reduced_model = NovaModel(Engine(cfg, spec), symmetry=True)
    assert reduced_model.symmetry.active
    return plain, explore(reduced_model)


@pytest.mark.parametrize("variant", [None, "break-guard", "move-quota"])
def test_same_findings_with_and_without_symmetry(variant, tmp_path):
    variants = []
    if variant == "break-guard":
        variants = [str(DATA / "break-guard.toml")]
    elif variant == "move-quota":
        p = tmp_path / "move.toml"
        p.write_text(MOVE_QUOTA)
        variants = [str(p)]
    plain, reduced = explore_both(three_hosts(), variants)
    assert plain.complete and reduced.complete
    assert set(plain.findings) == set(reduced.findings)
    assert {k: f.depth for k, f in plain.findings.items()} == {
        k: f.depth for k, f in reduced.findings.items()}
    stuck = [k for k in plain.findings if k[0] == "no-stuck-resize"]
    assert stuck == [k for k in reduced.findings if k[0] == "no-stuck-resize"]
    # host2 and host3 are interchangeable: close to half the states
    assert reduced.distinct_states < 0.6 * plain.distinct_states
    assert plain.findings  # a vacuous comparison would prove nothing


def test_which_hosts_are_interchangeable():
    # the instance's host is fixed; two empty hosts of one size are interchangeable
    assert interchangeable_hosts(three_hosts()) == [("host2", "host3")]
    # ci: the other host is alone in its class
    assert interchangeable_hosts(load_preset("ci")) == []
    # a host of another size, or one the configuration names, is told apart
    import dataclasses

    cfg = three_hosts()
    bigger = dataclasses.replace(cfg, hosts=(*cfg.hosts[:2],
                                             dataclasses.replace(cfg.hosts[2], vcpus=99)))
    assert interchangeable_hosts(bigger) == []
    named = dataclasses.replace(cfg, options=(*cfg.options, ("some_option", "host3")))
    assert interchangeable_hosts(named) == []


def test_renaming_maps_a_reached_world_to_a_reachable_one():
    cfg = three_hosts()
    eng = Engine(cfg)
    sym = HostSymmetry(cfg, eng.initial())
    (m,) = sym.renamings
    # walk a resize that goes to host2, rename: the same walk sent to host3 reaches it
    from nova_resize.engine.facade import Cloud

    c = Cloud.from_config(cfg)
    c.api.resize("vm", "medium")
    seen = set()
    stack = [eng.initial()]
    while stack and len(seen) < 3000:
        w = stack.pop()
        if w in seen:
            continue
        seen.add(w)
        stack.extend(eng.step(w, a).world for a in eng.enabled(w))
    renamed = {sym.rename(w, m) for w in seen}
    # renaming is an involution here, and the reached set is closed under it (up to the cut)
    assert all(sym.rename(sym.rename(w, m), m) == w for w in list(seen)[:200])
    assert len(renamed & seen) > 0.5 * len(seen)
    assert all(sym.fingerprint(w) == sym.fingerprint(sym.rename(w, m)) for w in list(seen)[:200])
