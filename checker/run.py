"""One check: configuration and variants in, a report out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from nova_resize.engine.config import Config, ConfigError, parse_toml_text
from nova_resize.engine.core import Engine
from nova_resize.spec import LIBERTY, Spec

from .baseline import Known, lookup
from .explore import Exploration, Explorer, simulate
from .liveness import stuck_findings
from .report import Report, build_trace
from .variants import Variant, apply_variant


@dataclass
class CheckResult:
    report: Report
    explorer: Explorer
    spec: Spec


def build_spec(variant_paths: list[str]) -> tuple[Spec, list[Variant]]:
    spec = LIBERTY
    variants = []
    for path in variant_paths:
        v = apply_variant(spec, path)
        variants.append(v)
        spec = v.spec
    return spec, variants


def coverage_exemptions(config_name: str) -> dict[str, str]:
    """Rows a preset is not expected to execute, with the reason (checker/coverage.toml)."""
    text = resources.files("nova_resize.checker").joinpath("coverage.toml").read_text(
        encoding="utf-8")
    data = parse_toml_text(text, "<coverage.toml>")
    out: dict[str, str] = {}
    for key in ("all", config_name):
        section = data.get(key, {})
        if not isinstance(section, dict):
            raise ConfigError(f"<coverage.toml>: {key}: expected a table")
        out.update({str(k): str(v) for k, v in section.items()})
    return out


def check(config: Config, variant_paths: list[str], known: list[Known],
          strategy: str = "bfs", max_states: int | None = None, max_depth: int | None = None,
          max_seconds: float | None = None, progress: Callable[[str], None] | None = None,
          runs: int = 100, depth: int = 60, seed: int = 0,
          step_hook: Callable[..., None] | None = None) -> CheckResult:
    spec, variants = build_spec(variant_paths)
    engine = Engine(config, spec)
    explorer = Explorer(engine, max_states=max_states, max_depth=max_depth,
                        max_seconds=max_seconds, progress=progress)
    explorer.step_hook = step_hook
    if strategy == "simulate":
        ex, walks = simulate(engine, runs, depth, seed, progress, max_seconds)
        findings = []
        for (prop, key), f in ex.findings.items():
            findings.append((f, walks.get((prop, key), [])))
    else:
        ex = explorer.run(strategy)
        if ex.complete:
            for f in stuck_findings(ex):
                ex.findings[(f.prop, f.key)] = f
        findings = [(f, explorer.trace_of(ex, f)) for f in ex.findings.values()]
    findings.sort(key=lambda it: (it[0].prop, it[0].depth, it[0].key))
    items = []
    for f, actions in findings:
        k = lookup(known, f.prop, f.key)
        items.append((f, build_trace(explorer, actions), k is not None,
                      k.reason if k is not None else ""))
    exempt = coverage_exemptions(config.name)
    uncovered = sorted(r.id for r in spec.rows if r.id not in ex.rows_executed)
    rep = Report(config.name, [v.name for v in variants], strategy, ex, items, uncovered,
                 {r: exempt[r] for r in uncovered if r in exempt})
    return CheckResult(rep, explorer, spec)


def unexplained_uncovered(rep: Report) -> list[str]:
    """Handler and error-handler rows a run left unexecuted without a stated reason."""
    return [r for r in rep.uncovered if r not in rep.coverage_exempt]


__all__ = ["CheckResult", "Exploration", "Path", "build_spec", "check", "coverage_exemptions"]
