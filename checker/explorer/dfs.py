"""Depth-first search: a stack instead of levels. It reaches deep states sooner and keeps fewer
states in memory on long, narrow graphs; its traces are not the shortest."""

from __future__ import annotations

from .search import Search


def run(search: Search) -> None:
    """Explore depth-first until the stack is empty or a bound stops the run."""
    ex = search.ex
    max_depth = search.limits.max_depth
    stack = search.initial()
    cut = False
    while stack:
        w, idx = stack.pop()
        if max_depth is not None and ex.depth[idx] >= max_depth:
            cut = True  # not expanded; the others still are
            continue
        stack.extend(search.expand(w, idx))
        if search.should_stop(len(stack)):
            break
    if cut:
        ex.stop(f"max depth {max_depth}", "depth")
    search.finish()


__all__ = ["run"]
