"""A generic explicit-state explorer over any :class:`~.model.Model`: breadth-first,
depth-first and random simulation as separate strategies over one evaluator, visitors given as
arguments, bounds that end a run cleanly and say why. Nothing here knows about Nova; the Nova
engine is one model (:mod:`nova_resize.checker.explicit.model`), the two-phase-commit example
in ``examples/`` another.

>>> ex = explore(model, "bfs", Limits(max_states=10**6))   # doctest: +SKIP
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from . import bfs, dfs, parallel, simulation
from .checkpoint import Checkpointer, CheckpointError
from .exploration import Exploration, Finding, Limits
from .liveness import recoverable_findings
from .model import Model, Outcome, Property, Recoverable, Violation
from .search import Progress, Search
from .traces import path, replay, trace_of
from .visitor import Control, StepFunction, Visitor, stop_on_signals

STRATEGIES = ("bfs", "dfs", "simulate")


def explore(model: Any, strategy: str = "bfs", limits: Limits | None = None,
            visitors: Sequence[Visitor] = (), progress: Progress | None = None,
            control: Control | None = None, liveness: bool = True,
            progress_every: float = 5.0, checkpoint: Checkpointer | None = None,
            workers: int | None = 1, ray: str | None = None) -> Exploration:
    """Explore ``model`` exhaustively with ``strategy`` (``bfs`` or ``dfs``). When the run is
    complete, the recoverable properties' findings are added. ``checkpoint`` writes
    checkpoints of a one-worker bfs run (and resumes one: :mod:`.checkpoint`).

    With ``workers`` above 1, or a Ray cluster's address (or ``local``) as ``ray``, a
    breadth-first search runs in that many processes or actors (:mod:`.parallel`: the same
    results; ``workers`` None with ``ray``: one per CPU of the cluster); the model and the
    visitors must then be picklable, and the visitors mergeable."""
    if strategy not in ("bfs", "dfs"):
        raise ValueError(f"unknown strategy {strategy!r} (expected bfs or dfs)")
    ex = Exploration(model.name, strategy)
    if ray is not None or (workers or 1) > 1:
        if strategy != "bfs":
            raise ValueError("parallel workers explore breadth-first only (strategy bfs)")
        if checkpoint is not None:
            raise ValueError("checkpoints are written by a one-worker search only")
        parallel.run(model, ex, limits or Limits(), list(visitors), progress,
                     control or Control(), liveness, progress_every, workers, ray)
    else:
        s = Search(model, ex, limits or Limits(), list(visitors), progress,
                   control or Control(), liveness, progress_every)
        if checkpoint is not None:
            s.checkpointer = checkpoint
            checkpoint.start(s)
        with fewer_collections():
            (bfs if strategy == "bfs" else dfs).run(s)
    if ex.complete and liveness:
        for f in recoverable_findings(ex, list(model.properties())):
            ex.findings[f.ident] = f
    return ex


@contextmanager
def fewer_collections(young: int = 100_000) -> Iterator[None]:
    """Run the cyclic garbage collector less often: a search allocates and drops millions of
    small tuples, and with Python's default threshold (700) the collector's passes over the
    frontier's states cost about a tenth of the run (measured on the ci preset). Cycles are
    still collected, every ``young`` allocations."""
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], young), old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def simulate(model: Any, runs: int, depth: int, seed: int, limits: Limits | None = None,
             visitors: Sequence[Visitor] = (), progress: Progress | None = None,
             control: Control | None = None, progress_every: float = 5.0
             ) -> tuple[Exploration, dict[tuple[str, str, str], list[Any]]]:
    """Random walks; returns the exploration (never complete) and each finding's walk."""
    ex = Exploration(model.name, "simulate")
    walks = simulation.run(model, ex, runs, depth, seed, limits or Limits(), list(visitors),
                           progress, control or Control(), progress_every)
    return ex, walks


__all__ = [
    "STRATEGIES",
    "CheckpointError",
    "Checkpointer",
    "Control",
    "Exploration",
    "Finding",
    "Limits",
    "Model",
    "Outcome",
    "Progress",
    "Property",
    "Recoverable",
    "StepFunction",
    "Violation",
    "Visitor",
    "explore",
    "path",
    "replay",
    "simulate",
    "stop_on_signals",
    "trace_of",
]
