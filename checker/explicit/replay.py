"""Replayable counterexamples: a report's finding re-run step by step on the engine, and printed
as a ready-to-paste pytest test.

A JSON report carries what a replay needs: ``origin`` (the configuration as data and each
variant's TOML text, :func:`run_origin`) and, per finding, its ``actions`` as data
(:func:`nova_resize.engine.actions.to_json`). :func:`replay_finding` rebuilds the engine, checks
that each action is enabled where the trace takes it, steps, and evaluates the finding's
property where the checker found it (:func:`violations`). :func:`pytest_source` prints the same
as a test that uses only the public API (``Engine.initial``, ``Engine.enabled``, ``Engine.step``,
the typed actions, the properties by name).
"""

from __future__ import annotations

import pprint
import textwrap
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nova_resize.engine.actions import Action, from_json
from nova_resize.engine.config import Config, parse_config
from nova_resize.engine.core import Engine, StepResult, describe
from nova_resize.engine.presets import load_preset, preset_names
from nova_resize.engine.world import World
from nova_resize.spec import LIBERTY, Spec

from nova_resize.errors import InputError
from nova_resize.files import read_text

from ..variants import apply_variant_text
from .model import NovaModel
from .properties import BY_NAME


def config_data(config: Config) -> dict[str, Any]:
    """``config`` as the TOML data :func:`parse_config` reads back into an equal Config."""
    actions: dict[str, Any] = dict(config.actions)
    if config.resize_flavors:
        actions["resize_flavors"] = list(config.resize_flavors)
    if config.deletable_flavors:
        actions["deletable_flavors"] = list(config.deletable_flavors)
    if config.targets:
        actions["targets"] = {k: list(v) for k, v in config.targets}
    return {
        "name": config.name,
        "options": dict(config.options),
        "flavors": [{"name": f.name, "id": f.id, "vcpus": f.vcpus, "memory_mb": f.memory_mb,
                     "root_gb": f.root_gb, "disabled": f.disabled} for f in config.flavors],
        "hosts": [{"name": h.name, "vcpus": h.vcpus, "memory_mb": h.memory_mb,
                   "disk_gb": h.disk_gb, "up": h.up} for h in config.hosts],
        "instances": [{"name": i.name, "host": i.host, "flavor": i.flavor,
                       "vm_state": i.vm_state, "locked": i.locked} for i in config.instances],
        "quota": dict(config.quota),
        "actions": actions,
        "faults": dict(config.faults),
        "periodic": dict(config.periodic),
        "check": dict(config.check),
    }


def run_origin(config: Config, variant_paths: list[str] | tuple[str, ...] | Any
               ) -> dict[str, Any]:
    """What a report stores to rebuild its run: the configuration as data (and the preset it
    came from, if any) and each variant file's name and text."""
    preset = config.source.removeprefix("<preset ").removesuffix(">") \
        if config.source.startswith("<preset ") else None
    variants = []
    for p in variant_paths:
        variants.append({"file": str(p), "toml": read_text(p)})
    return {"config": {"name": config.name, "source": config.source, "preset": preset,
                       "data": config_data(config)},
            "variants": variants}


def rebuild(origin: dict[str, Any], where: str = "origin") -> tuple[Config, Spec]:
    """The configuration and the (patched) spec a report's run used."""
    if not isinstance(origin, dict) or not isinstance(origin.get("config"), dict):
        raise InputError(f"{where}.config: missing (a report written before replays were "
                         f"recorded; run the check again)")
    c = origin["config"]
    data = c.get("data")
    if not isinstance(data, dict):
        raise InputError(f"{where}.config.data: expected the configuration as a table")
    config = parse_config(data, f"{where}.config.data", str(c.get("name", "replay")))
    spec = LIBERTY
    for n, v in enumerate(origin.get("variants", [])):
        if not isinstance(v, dict) or not isinstance(v.get("toml"), str):
            raise InputError(f"{where}.variants[{n}].toml: expected the variant's TOML text")
        spec = apply_variant_text(spec, v["toml"], str(v.get("file", f"variant {n}"))).spec
    return config, spec


def find_finding(report: dict[str, Any], key: str) -> dict[str, Any]:
    """The finding named ``key``: its index in the list, ``PROPERTY: KEY @ WHERE`` (its whole
    identity), ``PROPERTY: KEY`` or its key -- the last two only when they name one finding --
    or a unique part of a key."""
    findings = report.get("findings")
    if not isinstance(findings, list):
        raise InputError("report: no findings list (expected a check or simulate --json report)")
    for n, f in enumerate(findings):
        if not isinstance(f, dict) or not isinstance(f.get("property"), str) \
                or not isinstance(f.get("key"), str):
            raise InputError(f"findings[{n}]: expected a finding (an object with a property and "
                             f"a key), found {_short(f)}")
    if key.isdigit() and int(key) < len(findings):
        return findings[int(key)]  # type: ignore[no-any-return]
    for f in findings:
        if key.rstrip() == f"{f.get('property')}: {f.get('key')} @ {f.get('where') or ''}".rstrip():
            return f  # type: ignore[no-any-return]
    exact = [f for f in findings
             if key in (f.get("key"), f"{f.get('property')}: {f.get('key')}")]
    matches = exact or [f for f in findings if key in str(f.get("key"))]
    if len(matches) == 1:
        return matches[0]  # type: ignore[no-any-return]
    if matches:
        which = "; ".join(f"{findings.index(f)}: {f.get('property')}: {f.get('key')} @ "
                          f"{f.get('where') or ''}" for f in matches[:4])
        raise InputError(f"--finding {key}: {len(matches)} findings match (name one by its "
                         f"index or as 'property: key @ where'; e.g. {which})")
    some = "; ".join(f"{f.get('property')}: {f.get('key')}" for f in findings[:5])
    raise InputError(f"--finding {key}: no such finding (expected an index "
                     f"0..{len(findings) - 1}, 'property: key @ where', 'property: key' or a "
                     f"key; e.g. {some})")


def finding_actions(finding: dict[str, Any]) -> list[Action]:
    """A finding's actions: its ``actions`` list, else each trace step's ``action_data``."""
    data = finding.get("actions")
    where = "finding.actions"
    if data is None:
        trace = finding.get("trace", [])
        if not isinstance(trace, list) or not all(isinstance(s, dict) for s in trace):
            raise InputError("finding.trace: expected an array of steps (objects), found "
                             f"{_short(trace)}")
        data = [s.get("action_data") for s in trace]
        where = "finding.trace[].action_data"
    if not isinstance(data, list):
        raise InputError(f"{where}: expected an array of actions, found {_short(data)}")
    return [from_json(a, f"finding.actions[{n}]") for n, a in enumerate(data)]


def _short(x: Any) -> str:
    """A bad value, cut to one short line for an error message."""
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def violations(engine: Engine, prop: str, before: World, step: StepResult | None
               ) -> list[str]:
    """The violation keys ``prop`` reports where a trace ends: on the last step for a
    transition check, on the state reached for a state check, and for no-stuck-resize the
    stuck key when no settled state can be reached from there through Nova's own steps."""
    p = BY_NAME.get(prop)
    if p is None:
        raise InputError(f"property {prop!r}: expected one of {', '.join(BY_NAME)}")
    model = NovaModel(engine)
    after = step.world if step is not None else before
    keys: list[str] = []
    if p.transition is not None and step is not None:
        keys += [v[0] for v in p.transition(model, before, step)]
    if p.always is not None and (p.when is None or p.when(model, after)):
        keys += [v[0] for v in p.always(model, after)]
    if p.recoverable is not None:
        key = stuck_key(model, p.name, after)
        if key is not None:
            keys.append(key)
    return keys


def stuck_key(model: NovaModel, prop: str, w: World, max_states: int = 200_000) -> str | None:
    """The recoverable property's key for ``w`` when no good state is reachable from it
    through Nova's own steps (a breadth-first search of at most ``max_states`` states)."""
    rec = BY_NAME[prop].recoverable
    assert rec is not None
    seen = {w}
    queue = deque([w])
    while queue:
        s = queue.popleft()
        if rec.good(model, s):
            return None
        for a in model.actions(s):
            if not model.is_own(s, a):
                continue
            st = model.step(s, a)
            if st is not None and st.world not in seen:
                if len(seen) >= max_states:
                    raise InputError(f"no-stuck-resize: more than {max_states:,} states "
                                     f"reachable from the end of the trace")
                seen.add(st.world)
                queue.append(st.world)
    has_own = any(model.is_own(w, a) and model.step(w, a) is not None
                  for a in model.actions(w))
    return rec.stuck_key(model, w, has_own)


@dataclass
class ReplayStep:
    n: int
    action: Action
    text: str
    rows: list[str]
    outcome: str | None


@dataclass
class Replay:
    """A finding re-run: its steps, whether every step was enabled, and whether the property
    reported the finding's key at the end."""

    prop: str
    key: str
    steps: list[ReplayStep] = field(default_factory=list)
    diverged: str | None = None  # why the trace could not be followed
    keys: list[str] = field(default_factory=list)

    @property
    def reproduced(self) -> bool:
        return self.diverged is None and self.key in self.keys


def replay_actions(config: Config, spec: Spec, actions: list[Action], prop: str, key: str
                   ) -> Replay:
    """Run ``actions`` on a fresh engine, step by step, and evaluate ``prop`` at the end."""
    engine = Engine(config, spec)
    out = Replay(prop, key)
    w = engine.initial()
    before, last = w, None
    for n, a in enumerate(actions, 1):
        if a not in engine.enabled(w):
            out.diverged = f"step {n}: {a!r} is not enabled here"
            return out
        res = engine.step(w, a)
        out.steps.append(ReplayStep(n, a, describe(w, a), list(res.rows), res.outcome))
        before, last, w = w, res, res.world
    out.keys = violations(engine, prop, before, last)
    return out


def trace_on(config: Config, spec: Spec, actions: list[Action]
             ) -> tuple[list[dict[str, Any]], str]:
    """The steps (as a report's ``trace``) of ``actions`` on ``spec``, as far as they are
    enabled, and a note saying where they stop ("" when every one ran): the other side of a
    diff report's finding."""
    from nova_resize.engine.actions import to_json

    from .report import actor_of, state_summary

    engine = Engine(config, spec)
    w = engine.initial()
    steps: list[dict[str, Any]] = []
    for n, a in enumerate(actions, 1):
        if a not in engine.enabled(w):
            what = describe(w, a) if a[0] == "api" else repr(a)
            return steps, f"the trace stops here: step {n} ({what}) is not enabled on these tables"
        res = engine.step(w, a)
        steps.append({"n": n, "actor": actor_of(w, a), "action": describe(w, a),
                      "rows": list(res.rows), "outcome": res.outcome,
                      "state": state_summary(res.world), "action_data": to_json(a)})
        w = res.world
    return steps, ""


def replay_finding(report: dict[str, Any], key: str) -> tuple[dict[str, Any], Replay]:
    """Find ``key`` in ``report`` and replay it on the run's configuration and spec."""
    f = find_finding(report, key)
    config, spec = rebuild(report.get("origin", {}))
    return f, replay_actions(config, spec, finding_actions(f), str(f["property"]),
                             str(f["key"]))


def _ident(text: str) -> str:
    out = "".join(c if c.isalnum() else "_" for c in text.lower())
    while "__" in out:
        out = out.replace("__", "_")
    return out.strip("_")[:60] or "finding"


def pytest_source(report: dict[str, Any], finding: dict[str, Any], source: str = "report"
                  ) -> str:
    """The finding as a pytest module: the configuration, the spec (Liberty and the run's
    variants), the actions as typed values each with its description, the engine stepping
    them (each must be enabled), and an assertion that the property reports the key."""
    origin = report.get("origin", {})
    config, spec = rebuild(origin)
    actions = finding_actions(finding)
    engine = Engine(config, spec)
    w = engine.initial()
    lines_actions = []
    for a in actions:
        lines_actions.append(f"    {a!r},  # {describe(w, a)}")
        w = engine.step(w, a).world
    kinds = sorted({type(a).__name__ for a in actions})
    c = origin["config"]
    preset = c.get("preset")
    use_preset = preset in preset_names() and load_preset(preset) == config
    variants = origin.get("variants", [])
    prop, key = str(finding["property"]), str(finding["key"])
    out = [
        f'"""Replay of a nova-resize finding ({Path(source).name}): {prop}.',
        "",
        *textwrap.wrap(str(finding.get("message", "")), 96),
        "",
        "Generated by `nova-resize replay --pytest`. The test passes while the model shows the",
        "finding; once a fix removes it, invert the last assertion to keep it as a regression",
        'test."""',
        "",
    ]
    imports = ["from nova_resize.checker.explicit.replay import violations",
               f"from nova_resize.engine.actions import {', '.join(kinds)}",
               "from nova_resize.engine.core import Engine",
               "from nova_resize.engine.presets import load_preset" if use_preset else
               "from nova_resize.engine.config import parse_config",
               "from nova_resize.spec import LIBERTY"]
    if variants:
        imports.append("from nova_resize.checker.variants import apply_variant_text")
    out += [*sorted(imports), ""]
    if use_preset:
        out.append(f"CONFIG = load_preset({preset!r})")
    else:
        data = pprint.pformat(c["data"], width=92, compact=True, sort_dicts=False)
        data = data.replace("\n", "\n    ")
        out.append(f"CONFIG = parse_config(\n    {data},\n    '<replay>', {config.name!r})")
    for n, v in enumerate(variants):
        text = v["toml"]
        lit = (f'"""\\\n{text}"""' if '"""' not in text and "\\" not in text
               and text.endswith("\n") else repr(text))
        out.append(f"# {v.get('file', '')}")
        out.append(f"VARIANT_{n} = {lit}")
    out.append("SPEC = LIBERTY")
    for n, v in enumerate(variants):
        out.append(f"SPEC = apply_variant_text(SPEC, VARIANT_{n}, {v.get('file', '')!r}).spec")
    out += ["", "TRACE = [", *lines_actions, "]", "", ""]
    out += [
        f"def test_{_ident(prop)}_{_ident(key)}() -> None:",
        "    engine = Engine(CONFIG, SPEC)",
        "    world = engine.initial()",
        "    before, step = world, None",
        "    for n, action in enumerate(TRACE, 1):",
        "        assert action in engine.enabled(world), f\"step {n}: {action!r} not enabled\"",
        "        step = engine.step(world, action)",
        "        before, world = world, step.world",
        f"    assert {key!r} in violations(\n        engine, {prop!r}, before, step)",
        "",
    ]
    return "\n".join(out)


__all__ = ["Replay", "ReplayStep", "config_data", "find_finding", "finding_actions",
           "pytest_source", "rebuild", "replay_actions", "replay_finding", "run_origin",
           "stuck_key", "trace_on", "violations"]
