"""The regression set: small presets (``engine/presets/regression-*.toml``), each pinned to its
exact results in a manifest (``checker/regression.toml``), like TLA+'s examples manifest: the
distinct states and transitions of its exhaustive run, and the identity (property, key, where)
of every finding. ``nova-resize regression`` runs the set and names any difference; with
``--update`` it writes the manifest from the runs. Together the presets kill most mutants of the
tables (``nova-resize mutate``, docs/mutate.md), which is why they were chosen.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.engine.presets import load_preset, regression_names
from nova_resize.spec import LIBERTY

from nova_resize.errors import ConfigError
from nova_resize.files import parse_toml, read_text, write_atomic

from ..explorer import Limits, explore
from .model import NovaModel

MANIFEST = Path(__file__).resolve().parents[1] / "regression.toml"
Ident = tuple[str, str, str]


@dataclass
class Pinned:
    """One preset's exact results."""

    name: str
    distinct_states: int
    transitions: int
    findings: list[Ident] = field(default_factory=list)
    seconds: float = 0.0


def run_preset(config: Config, limits: Limits | None = None) -> Pinned:
    """Explore ``config`` under Liberty's tables; its results as the manifest pins them."""
    t0 = time.monotonic()
    ex = explore(NovaModel(Engine(config, LIBERTY)), "bfs", limits)
    if not ex.complete:
        raise ConfigError(f"{config.name}: the run stopped before it finished ({ex.stop_reason})"
                          f"; a regression preset must be small enough to finish")
    return Pinned(config.name, ex.distinct_states, ex.transitions, sorted(ex.findings),
                  time.monotonic() - t0)


def load_manifest(path: Path = MANIFEST) -> dict[str, Pinned]:
    """The manifest: preset name -> its pinned results."""
    data = parse_toml(read_text(path), str(path))
    out: dict[str, Pinned] = {}
    for name, t in data.items():
        where = f"{path}: {name}"
        if not isinstance(t, dict):
            raise ConfigError(f"{where}: expected a table")
        states, trans, finds = (t.get("distinct_states"), t.get("transitions"),
                                t.get("findings", []))
        if not isinstance(states, int) or not isinstance(trans, int):
            raise ConfigError(f"{where}: expected integers distinct_states and transitions")
        if not isinstance(finds, list) or not all(
                isinstance(f, list) and len(f) == 3 and all(isinstance(x, str) for x in f)
                for f in finds):
            raise ConfigError(f"{where}.findings: expected an array of [property, key, where]")
        out[name] = Pinned(name, states, trans, sorted((f[0], f[1], f[2]) for f in finds))
    return out


def manifest_text(entries: dict[str, Pinned]) -> str:
    """The manifest as TOML, presets in name order, findings sorted."""
    lines = ["# The regression set's exact results under Liberty's tables: distinct states,",
             "# transitions and every finding's identity [property, key, where]. Checked by",
             "# `nova-resize regression` (and the test suite); regenerate with",
             "# `nova-resize regression --update` after a deliberate change, and review the diff.",
             ""]
    for name in sorted(entries):
        p = entries[name]
        lines += [f"[{json.dumps(name)}]", f"distinct_states = {p.distinct_states}",
                  f"transitions = {p.transitions}", "findings = ["]
        lines += [f"  [{', '.join(json.dumps(x) for x in f)}]," for f in sorted(p.findings)]
        lines += ["]", ""]
    return "\n".join(lines)


def differences(expected: Pinned | None, actual: Pinned) -> list[str]:
    """What differs between a preset's pinned and actual results, in words ([] when none)."""
    if expected is None:
        return [f"{actual.name}: not in the manifest"]
    out = []
    for what in ("distinct_states", "transitions"):
        a, b = getattr(expected, what), getattr(actual, what)
        if a != b:
            out.append(f"{actual.name}: {what.replace('_', ' ')} {b:,}, the manifest says {a:,}")
    exp, act = set(expected.findings), set(actual.findings)
    for f in sorted(act - exp):
        out.append(f"{actual.name}: unexpected finding {f[0]}: {f[1]} @ {f[2]}")
    for f in sorted(exp - act):
        out.append(f"{actual.name}: missing finding {f[0]}: {f[1]} @ {f[2]}")
    return out


def check_set(names: list[str] | None = None, path: Path = MANIFEST, update: bool = False,
              progress: Any = None) -> tuple[list[Pinned], list[str]]:
    """Run the named presets (default: the whole set) and compare each with the manifest (or,
    with ``update``, write their results into it); the runs and the differences."""
    whole = not names
    names = names or regression_names()
    known = load_manifest(path) if path.exists() else {}
    runs: list[Pinned] = []
    diffs = [f"{k}: in the manifest, but there is no such preset" for k in known
             if whole and not update and k not in names]
    for n in names:
        p = run_preset(load_preset(n))
        runs.append(p)
        if progress:
            progress(f"{n}: {p.distinct_states:,} states, {len(p.findings)} findings, "
                     f"{p.seconds:.1f} s")
        if not update:
            diffs += differences(known.get(n), p)
    if update:
        known.update({p.name: p for p in runs})
        for stale in [k for k in known if k not in regression_names()]:
            del known[stale]
        write_atomic(path, manifest_text(known))
    return runs, diffs


__all__ = ["MANIFEST", "Pinned", "check_set", "differences", "load_manifest", "manifest_text",
           "run_preset"]
