"""Breadth-first search: every state at its shortest depth, so every finding has a shortest
trace. Only the current level keeps whole states; the rest is fingerprints and parent links."""

from __future__ import annotations

from typing import Any

from .search import Search


def run(search: Search) -> None:
    """Explore level by level until nothing new is reached or a bound stops the run. A run
    that writes checkpoints saves its position between two states (:mod:`.checkpoint`).

    A level is kept as its states alone: the states a level reaches for the first time get
    consecutive indices in the order they are reached, so the index of ``level[k]`` is the
    level's first index plus ``k`` (no (state, index) pair per stored state)."""
    ex = search.ex
    max_depth = search.limits.max_depth
    level, cur_pairs, front_pairs = search.start()
    current, base = _states(cur_pairs, 0)
    frontier, fbase = _states(front_pairs, len(ex.parent))
    while True:
        if search.lean:
            i, n = 0, len(current)
            while i < n:
                i = search.expand_run(current, base, i, frontier)
                if search.should_stop(len(frontier)):
                    search.save(level, _pairs(current, base, i), _pairs(frontier, fbase, 0),
                                final=True)
                    search.finish()
                    return
                if search.checkpoint_due:
                    search.save(level, _pairs(current, base, i), _pairs(frontier, fbase, 0))
            current = []
        for i, w in enumerate(current):
            frontier.extend(nw for nw, _ in search.expand(w, base + i))
            if search.should_stop(len(frontier)):
                search.save(level, _pairs(current, base, i + 1), _pairs(frontier, fbase, 0),
                            final=True)
                search.finish()
                return
            if search.checkpoint_due:
                search.save(level, _pairs(current, base, i + 1), _pairs(frontier, fbase, 0))
        if not frontier:
            break
        level += 1
        if max_depth is not None and level > max_depth:
            ex.stop(f"max depth {max_depth}", "depth")
            search.save(level - 1, [], _pairs(frontier, fbase, 0), final=True)
            break
        current, base = frontier, fbase
        frontier, fbase = [], len(ex.parent)
    search.finish()


def _states(pairs: list[tuple[Any, int]], empty_base: int) -> tuple[list[Any], int]:
    """A level given as (state, index) pairs (a start or a checkpoint's position), as its
    states and first index; the indices must be consecutive."""
    if not pairs:
        return [], empty_base
    base = pairs[0][1]
    if any(idx != base + k for k, (_, idx) in enumerate(pairs)):
        raise ValueError("a breadth-first level's indices are not consecutive")
    return [w for w, _ in pairs], base


def _pairs(states: list[Any], base: int, start: int) -> list[tuple[Any, int]]:
    """``states[start:]`` with their indices, for a checkpoint."""
    return [(states[k], base + k) for k in range(start, len(states))]


__all__ = ["run"]
