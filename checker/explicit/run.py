"""One check: configuration and variants in, a report out."""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.spec import Spec

from ..explorer import (
    Checkpointer,
    Control,
    Finding,
    Limits,
    Visitor,
    explore,
    simulate,
    trace_of,
)
from ..variants import Variant, build_spec
from .baseline import Known, lookup
from .coverage import RowCoverage, coverage_exemptions
from .model import NovaModel
from .replay import config_data, run_origin
from .report import Replays, Report, Step, Trace, state_summary


@dataclass
class CheckResult:
    report: Report
    model: NovaModel
    spec: Spec
    variants: list[Variant]


def check(config: Config, variant_paths: Sequence[str], known: list[Known],
          strategy: str = "bfs", limits: Limits | None = None,
          progress: Callable[[str], None] | None = None, runs: int = 100, depth: int = 60,
          seed: int = 0, visitors: Sequence[Visitor] = (), control: Control | None = None,
          progress_every: float = 5.0,
          reference: dict[tuple[str, str, str], str] | None = None,
          checkpoint: Checkpointer | None = None, workers: int | None = 1,
          ray: str | None = None, por: bool = False) -> CheckResult:
    """Explore ``config`` under Liberty patched by the variants, and build the report. A
    finding is known when its identity is in ``reference`` (identity -> reason: Liberty's own
    findings on the same configuration, for a patched run) or an entry of ``known`` matches
    it. ``checkpoint`` writes (and resumes) checkpoints of a one-worker bfs run; its identity
    should be :func:`run_identity`'s. ``workers`` and ``ray``: a parallel breadth-first search
    (see :func:`~nova_resize.checker.explorer.explore`). ``por``: partial-order reduction
    (:mod:`.reduction`)."""
    spec, variants = build_spec(list(variant_paths))
    model = NovaModel(Engine(config, spec), por=por)
    cov = RowCoverage()
    all_visitors = [cov, *visitors]
    findings: list[tuple[Any, list[Any]]] = []
    if strategy == "simulate":
        ex, walks = simulate(model, runs, depth, seed, limits, all_visitors, progress, control,
                             progress_every)
        for key, f in ex.findings.items():
            findings.append((f, walks.get(key, [])))
    else:
        ex = explore(model, strategy, limits, all_visitors, progress, control,
                     progress_every=progress_every, checkpoint=checkpoint,
                     workers=workers, ray=ray)
        findings = [(f, trace_of(ex, f)) for f in ex.findings.values()]
    findings.sort(key=lambda it: (it[0].prop, it[0].depth, it[0].key))
    items: list[tuple[Finding, Sequence[Step], bool, str]] = []
    replays: Replays = {}  # the traces' common first steps are replayed once
    for f, actions in findings:
        why = (reference or {}).get(f.ident)
        if why is None:
            k = lookup(known, f.prop, f.key, f.where)
            why = k.reason if k is not None else None
        # the trace (and the cause it names) is replayed when a report shows or writes it
        items.append((f, Trace(model, actions, f, replays), why is not None, why or ""))
    exempt = coverage_exemptions(config.name)
    uncovered = sorted(r.id for r in spec.rows if r.id not in cov.rows)
    rep = Report(config.name, [v.name for v in variants], strategy, ex, items, uncovered,
                 {r: exempt[r] for r in uncovered if r in exempt}, cov.rows,
                 run_origin(config, variant_paths), {}, state_summary(model.engine.initial()))
    rep.spec = spec
    if model.reduction is not None:
        rep.reductions.append("partial-order")
    return CheckResult(rep, model, spec, variants)


CODE = ("nova_resize.spec", "nova_resize.engine", "nova_resize.checker.explorer",
        "nova_resize.checker.explicit", "nova_resize.checker.variants")
"""The code whose version a checkpoint records: a change in any of it may change the run."""


def code_version() -> str:
    """A digest of the source (and data) files of :data:`CODE`."""
    h = hashlib.sha256()
    for name in CODE:
        file = Path(importlib.import_module(name).__file__ or "")
        files = [file] if file.name != "__init__.py" else sorted(
            p for p in file.parent.rglob("*") if p.suffix in (".py", ".toml") and p.is_file())
        for p in files:
            h.update(f"{name}/{p.relative_to(file.parent).as_posix()}\0".encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def run_identity(config: Config, variant_paths: Sequence[str], config_arg: str,
                 por: bool = False) -> dict[str, Any]:
    """What makes a run this run, for its checkpoints: the configuration (as given on the
    command line, ``config_arg``, and as data), the variants (files and texts), the code's
    version and, when on, the partial-order reduction (it reaches other states)."""
    origin = run_origin(config, list(variant_paths))
    extra: dict[str, Any] = {"reductions": ["partial-order"]} if por else {}
    return {
        **extra,
        "config": config_arg,
        "config_sha256": _digest(config_data(config)),
        "variants": [str(Path(p).resolve()) for p in variant_paths],
        "variants_sha256": [_digest(v["toml"]) for v in origin["variants"]],
        "code_sha256": code_version(),
    }


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def unexplained_uncovered(rep: Report) -> list[str]:
    """Handler and error-handler rows a run left unexecuted without a stated reason."""
    return [r for r in rep.uncovered if r not in rep.coverage_exempt]


__all__ = ["CODE", "CheckResult", "check", "code_version", "run_identity",
           "unexplained_uncovered"]
