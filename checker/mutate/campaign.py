"""A mutation run: generate, sample, judge every mutant against Liberty on every configuration,
and report.

Configurations are tried, for each mutant, in the order of how many mutants each has killed so
far (ties in the order given): a mutant most configurations kill is judged by the one that kills
the most, first. A mutant killed is not run on the configurations after the one that killed it.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from nova_resize.engine.config import Config
from nova_resize.spec import LIBERTY

from ..explorer import Control, Limits
from . import report
from .operators import OPERATORS, Mutant, generate
from .runner import Outcome, Reference, judge, reference

Progress = Callable[[str], None]


def sample(mutants: Sequence[Mutant], n: int | None, seed: int) -> list[Mutant]:
    """At most ``n`` of ``mutants`` chosen at random (seeded), every operator represented in
    proportion to its share (largest remainders; at least once when ``n`` allows), in
    generation order."""
    if n is None or n >= len(mutants):
        return list(mutants)
    groups: dict[str, list[int]] = {}
    for k, m in enumerate(mutants):
        groups.setdefault(m.operator, []).append(k)
    total = len(mutants)
    exact = {op: n * len(ix) / total for op, ix in groups.items()}
    quota = {op: int(v) for op, v in exact.items()}
    for op in sorted(groups, key=lambda o: (-(exact[o] - quota[o]), o))[: n - sum(quota.values())]:
        quota[op] += 1
    if n >= len(groups):
        # every operator at least once, taken from the largest shares
        for op in groups:
            if quota[op] == 0:
                quota[op] = 1
                big = max(groups, key=lambda o: (quota[o], o))
                quota[big] -= 1
    rng = random.Random(seed)
    keep: set[int] = set()
    for op, ix in groups.items():
        keep.update(rng.sample(ix, quota[op]))
    return [mutants[k] for k in sorted(keep)]


def mutants_of(operators: Sequence[str] | None = None) -> list[Mutant]:
    """Every mutant of Liberty's tables by the named operators (all by default)."""
    return generate(LIBERTY, tuple(operators or OPERATORS))


def run(configs: Sequence[Config], limits: Sequence[Limits], mutants: Sequence[Mutant],
        generated: int, sample_n: int | None = None, seed: int = 0,
        out_dir: Path | None = None, progress: Progress | None = None,
        control: Control | None = None, cache: Path | None = None,
        use_cache: bool = True) -> dict[str, Any]:
    """Judge ``mutants`` on ``configs`` (each within its ``limits`` for Liberty's run) and
    return the report (:func:`.report.to_json`)."""
    control = control or Control()
    t0 = time.monotonic()
    refs: list[Reference] = []
    for c, lim in zip(configs, limits, strict=True):
        if progress:
            progress(f"Liberty on {c.name}")
        refs.append(reference(c, lim, progress, control, cache, use_cache))
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    kills: Counter[str] = Counter()
    order = {r.config.name: k for k, r in enumerate(refs)}
    outcomes: list[Outcome] = []
    for k, m in enumerate(mutants, 1):
        if control.reason is not None:
            break
        ranked = sorted(refs, key=lambda r: (-kills[r.config.name], order[r.config.name]))
        o = judge(m, ranked, control, out_dir)
        if o.status == "incomplete" and control.reason is not None:
            break  # interrupted: this mutant was not judged
        outcomes.append(o)
        if o.killed_by is not None:
            kills[o.killed_by["configuration"]] += 1
        if progress:
            progress(report.progress_line(k, len(mutants), o))
    complete = len(outcomes) == len(mutants)
    return report.to_json(outcomes, refs, generated, sample_n if sample_n is not None and
                          sample_n < generated else None, seed, time.monotonic() - t0,
                          complete, "" if complete else control.reason or "stopped")


__all__ = ["mutants_of", "run", "sample"]
