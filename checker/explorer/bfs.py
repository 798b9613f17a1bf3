"""Breadth-first search: every state at its shortest depth, so every finding has a shortest
trace. Only the current level keeps whole states; the rest is fingerprints and parent links."""

from __future__ import annotations

from .search import Search


def run(search: Search) -> None:
    """Explore level by level until nothing new is reached or a bound stops the run. A run
    that writes checkpoints saves its position between two states (:mod:`.checkpoint`)."""
    ex = search.ex
    max_depth = search.limits.max_depth
    level, current, frontier = search.start()
    while True:
        if search.lean:
            i, n = 0, len(current)
            while i < n:
                i = search.expand_run(current, i, frontier)
                if search.should_stop(len(frontier)):
                    search.save(level, current[i:], frontier, final=True)
                    search.finish()
                    return
                if search.checkpoint_due:
                    search.save(level, current[i:], frontier)
            current = []
        for i, (w, idx) in enumerate(current):
            frontier.extend(search.expand(w, idx))
            if search.should_stop(len(frontier)):
                search.save(level, current[i + 1:], frontier, final=True)
                search.finish()
                return
            if search.checkpoint_due:
                search.save(level, current[i + 1:], frontier)
        if not frontier:
            break
        level += 1
        if max_depth is not None and level > max_depth:
            ex.stop(f"max depth {max_depth}", "depth")
            search.save(level - 1, [], frontier, final=True)
            break
        current, frontier = frontier, []
    search.finish()


__all__ = ["run"]
