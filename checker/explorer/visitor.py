"""Visitors: observers a strategy calls on every step and every new state, given as an argument
to the run (Stateright's ``.visitor()``), never assigned into the explorer afterwards.

A visitor only observes; it never changes what is explored. Coverage of the spec's rows, the
projection graph of the diagrams and the candidate lemmas of the induction proofs are visitors.
Under a parallel search every worker runs a copy of it, and the copies are merged into it at the
end (:meth:`Visitor.merge`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class Visitor:
    """Base visitor: override what you need."""

    def on_state(self, state: Any, index: int, depth: int) -> None:
        """A distinct state reached for the first time."""

    def on_step(self, before: Any, action: Any, step: Any) -> None:
        """A step taken (whether or not it reached a new state)."""

    def snapshot(self) -> Any:
        """What a checkpoint keeps of this visitor (picklable plain data): its attributes,
        unless it says otherwise."""
        return dict(self.__dict__)

    def restore(self, data: Any) -> None:
        """Take back what :meth:`snapshot` returned (in a resumed run)."""
        self.__dict__.update(data)

    def merge(self, other: Visitor) -> None:
        """Add what ``other`` (a copy of this visitor that a parallel worker ran) saw. A
        visitor without it can only run with one worker."""
        raise NotImplementedError(f"{type(self).__name__} cannot merge a worker's copy")


class StepFunction(Visitor):
    """A visitor from a plain function of (state before, step)."""

    def __init__(self, fn: Callable[[Any, Any], None]) -> None:
        self.fn = fn

    def on_step(self, before: Any, action: Any, step: Any) -> None:
        self.fn(before, step)


class Control:
    """How a run is told to stop early: a signal handler or another thread sets ``reason``;
    strategies check it between states and end the run incomplete with that reason."""

    def __init__(self) -> None:
        self.reason: str | None = None

    def request_stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason


@contextmanager
def stop_on_signals(control: Control) -> Iterator[Control]:
    """While inside, SIGINT and SIGTERM ask ``control`` to stop instead of killing the process
    (a second SIGINT interrupts at once). Outside the main thread this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield control
        return

    def handler(signum: int, frame: Any) -> None:
        name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
        if signum == signal.SIGINT and control.reason is not None:
            raise KeyboardInterrupt
        control.request_stop(f"interrupted by {name}")

    old_int = signal.signal(signal.SIGINT, handler)
    old_term = signal.signal(signal.SIGTERM, handler)
    try:
        yield control
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


__all__ = ["Control", "StepFunction", "Visitor", "stop_on_signals"]
