"""Where the workers of a parallel search run: processes on this machine
(:class:`ProcessPool`) or actors on a Ray cluster (:class:`RayPool`). Both offer the same three
calls to the coordinator (:mod:`.parallel`): ``call`` a method of every worker's
:class:`~.partition.Partition`, ``exchange`` (some workers produce one batch per owner, every
owner receives its batches) and ``close``.

Fingerprints must agree between workers. A state's fingerprint is Python's hash (or the
model's, built on it), which is not the same in two processes that were started separately:
the hash of a str is salted per process (PYTHONHASHSEED), and on Python 3.11 the hash of None is
its address. Local workers are forked from the coordinator, so they share its hashes; Ray starts
its actors itself, so they fingerprint with :func:`~.stable.stable_hash` (the model's
``stable_fingerprint``). The coordinator never computes a fingerprint, and before a search
starts every worker fingerprints the initial states and the coordinator compares them
(:class:`FingerprintMismatch` if they differ).

No worker outlives the coordinator: local workers ignore SIGINT and SIGTERM (the coordinator
stops the run and then them), die with their parent (Linux's parent-death signal, and an end of
file on their pipe) and are killed on an exception; Ray actors are killed, and a local cluster
the pool started is shut down.
"""

from __future__ import annotations

import gc
import importlib
import logging
import multiprocessing
import os
import signal
import traceback
from typing import Any

from nova_resize.errors import InputError

from .partition import PHASES, Partition
from .visitor import Visitor


class WorkerError(RuntimeError):
    """A worker failed (its traceback is in the message: the cause of the exception it raised,
    raised again by the coordinator) or disappeared."""


class FingerprintMismatch(WorkerError):
    """Workers computed different fingerprints for the same state."""


def raise_from_worker(i: int | str, text: str, exc: BaseException | None) -> None:
    """Raise what a worker raised, as the sequential search would have (a model's input error
    stays one), with the worker's traceback as its cause (a :class:`WorkerError`)."""
    cause = WorkerError(f"worker {i} failed:\n{text}")
    if isinstance(exc, Exception) and not isinstance(exc, WorkerError):
        raise exc from cause
    raise cause


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies (nothing elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the request
        os._exit(1)


def _serve(conn: Any, parent: int, model: Any, me: int, n: int, liveness: bool,
           visitors: list[Visitor]) -> None:
    """A local worker's loop: (method, args) in, ("ok", result) or ("error", (traceback,
    exception)) out, until "quit" or the coordinator's end of the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with_parent(parent)
    tune_gc()
    part = Partition(model, me, n, liveness, visitors)
    while True:
        try:
            method, args = conn.recv()
        except (EOFError, OSError):
            return
        if method == "quit":
            return
        try:
            conn.send(("ok", getattr(part, method)(*args)))
        except (BrokenPipeError, ConnectionResetError):
            return
        except BaseException as e:  # reported to the coordinator, which raises it again
            text = traceback.format_exc()
            try:
                conn.send(("error", (text, e)))
            except Exception:  # an exception that does not pickle: its traceback alone
                try:
                    conn.send(("error", (text, None)))
                except OSError:
                    return


def tune_gc() -> None:
    """A worker allocates far more than the sequential search (every state it receives is
    unpickled into objects of its own): leave what it inherited out of the collections and
    collect the young generation less often (about a fifth less CPU on ci)."""
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


class ProcessPool:
    """``n`` forked worker processes, one pipe each; the coordinator routes the batches."""

    def __init__(self, model: Any, n: int, liveness: bool, visitors: list[Visitor]) -> None:
        ctx = multiprocessing.get_context("fork")
        self.n = n
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        try:
            for i in range(n):
                mine, theirs = ctx.Pipe()
                p = ctx.Process(target=_serve, name=f"nova-resize-worker-{i}", daemon=True,
                                args=(theirs, os.getpid(), model, i, n, liveness, visitors))
                p.start()
                theirs.close()
                self.conns.append(mine)
                self.procs.append(p)
        except BaseException:
            self.close(graceful=False)
            raise

    def _result(self, i: int) -> Any:
        try:
            status, value = self.conns[i].recv()
        except (EOFError, OSError):
            self.procs[i].join(1)
            raise WorkerError(f"worker {i} ended unexpectedly (exit code "
                              f"{self.procs[i].exitcode})") from None
        if status == "error":
            raise_from_worker(i, *value)
        return value

    def call(self, method: str, args: list[tuple[Any, ...]] | None = None) -> list[Any]:
        """``method`` on every worker (with its own arguments), and the results."""
        for i, c in enumerate(self.conns):
            c.send((method, args[i] if args is not None else ()))
        return [self._result(i) for i in range(self.n)]

    def exchange(self, method: str, args: list[tuple[Any, ...]], senders: list[int],
                 phases: tuple[str, ...] = PHASES
                 ) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
        """``method`` on the senders (with their own arguments), each returning (counters, one
        batch per worker); then each of ``phases`` (by default a chunk's,
        :data:`~.partition.PHASES`) on every worker, fed the batches the previous step produced
        for it. The counters of the senders and of the last phase."""
        for i, a in zip(senders, args, strict=True):
            self.conns[i].send((method, a))
        outs = [self._result(i) for i in senders]
        first = [out[0] for out in outs]
        for phase in phases:
            for o, c in enumerate(self.conns):
                c.send((phase, ([out[1][o] for out in outs],)))
            outs = [self._result(o) for o in range(self.n)]
        return first, [out[0] for out in outs]

    def close(self, graceful: bool = True) -> None:
        """End every worker: asked to quit, then killed if still alive (at once when not
        ``graceful``: a worker may be busy or blocked)."""
        if graceful:
            for c in self.conns:
                try:
                    c.send(("quit", ()))
                except OSError:
                    pass
        for p in self.procs:
            if graceful:
                p.join(5)
            if p.is_alive():
                p.kill()
            p.join()
        for c in self.conns:
            c.close()
        self.procs = []
        self.conns = []


class _RayWorker:
    """A Ray actor holding one partition."""

    def __init__(self, model: Any, me: int, n: int, liveness: bool,
                 visitors: list[Visitor], stable: bool) -> None:
        tune_gc()
        self.part = Partition(model, me, n, liveness, visitors, stable)

    def call(self, method: str, *args: Any) -> Any:
        return getattr(self.part, method)(*args)

    def send(self, method: str, *args: Any) -> tuple[Any, ...]:
        counters, boxes = getattr(self.part, method)(*args)
        return (counters, *boxes)

    def route(self, phase: str, *batches: Any) -> tuple[Any, ...]:
        # the batches come as separate arguments: Ray resolves only those, not a list's items
        counters, boxes = getattr(self.part, phase)(list(batches))
        return (counters, *boxes)


class RayPool:
    """Actors on a Ray cluster (``address``: a cluster's address, ``auto``, or ``local`` for a
    cluster of this machine started and stopped by the pool). Batches go from actor to actor
    through Ray's object store, never through the coordinator."""

    def __init__(self, address: str, model: Any, n: int | None, liveness: bool,
                 visitors: list[Visitor]) -> None:
        # typed as Any: Ray is an optional extra, absent from the default install
        ray: Any = importlib.import_module("ray")
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            ray.init(address=None if address == "local" else address,
                     include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            self.started = True
        self.actors: list[Any] = []
        try:
            cpus = int(ray.cluster_resources().get("CPU", 1))
            self.n = n or cpus
            if self.n > cpus:  # each actor asks for a CPU: the rest would wait for ever
                raise InputError(f"--workers {self.n}: the Ray cluster has {cpus} CPUs (one "
                                 "actor per CPU at most)")
            actor: Any = ray.remote(num_cpus=1)(_RayWorker)
            self.actors = [actor.remote(model, i, self.n, liveness, visitors, True)
                           for i in range(self.n)]
        except BaseException:
            self.close(graceful=False)
            raise

    def _get(self, refs: list[Any]) -> list[Any]:
        try:
            return list(self.ray.get(refs))
        except self.ray.exceptions.RayTaskError as e:
            raise_from_worker("on Ray", str(e), getattr(e, "cause", None))
            raise  # not reached
        except self.ray.exceptions.RayError as e:
            raise WorkerError(f"a Ray worker failed:\n{e}") from None

    def call(self, method: str, args: list[tuple[Any, ...]] | None = None) -> list[Any]:
        return self._get([a.call.remote(method, *(args[i] if args is not None else ()))
                          for i, a in enumerate(self.actors)])

    def exchange(self, method: str, args: list[tuple[Any, ...]], senders: list[int],
                 phases: tuple[str, ...] = PHASES
                 ) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
        """As :meth:`ProcessPool.exchange`; each batch is an object of Ray's store, passed from
        actor to actor."""
        n1 = self.n + 1
        refs = [self.actors[i].send.options(num_returns=n1).remote(method, *a)
                for i, a in zip(senders, args, strict=True)]
        first = [r[0] for r in refs]
        for phase in phases:
            refs = [a.route.options(num_returns=n1).remote(phase, *[r[1 + o] for r in refs])
                    for o, a in enumerate(self.actors)]
        return self._get(first), self._get([r[0] for r in refs])

    def close(self, graceful: bool = True) -> None:
        for a in self.actors:
            try:
                self.ray.kill(a)
            except Exception:  # already gone
                pass
        self.actors = []
        if self.started:
            self.ray.shutdown()
            self.started = False


__all__ = ["FingerprintMismatch", "ProcessPool", "RayPool", "WorkerError", "raise_from_worker"]
