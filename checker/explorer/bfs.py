"""Breadth-first search: every state at its shortest depth, so every finding has a shortest
trace. Only the current level keeps whole states; the rest is fingerprints and parent links."""

from __future__ import annotations

from .search import Search


def run(search: Search) -> None:
    """Explore level by level until nothing new is reached or a bound stops the run."""
    ex = search.ex
    max_depth = search.limits.max_depth
    frontier = search.initial()
    level = 0
    while frontier and ex.complete:
        level += 1
        if max_depth is not None and level > max_depth:
            ex.stop(f"max depth {max_depth}", "depth")
            break
        current, frontier = frontier, []
        for w, idx in current:
            frontier.extend(search.expand(w, idx))
            if search.should_stop(len(frontier)):
                break
    search.finish()


__all__ = ["run"]
