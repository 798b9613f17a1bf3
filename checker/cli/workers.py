"""How many workers explore: ``--workers N`` processes on this machine (default: one per core
for a breadth-first check), or ``--ray ADDRESS`` for actors on a Ray cluster."""

from __future__ import annotations

import argparse
import os

from nova_resize.errors import InputError

from .common import positive


def cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def add_worker_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=positive, metavar="N",
                   help="explore with N processes (default: one per core, here "
                   f"{cores()}; 1 runs in this process; breadth-first only; the results are "
                   "the same for every N)")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="explore with actors on the Ray cluster at ADDRESS (host:port, auto, "
                   "or local: a cluster of this machine started for the run); --workers "
                   "actors, default one per CPU of the cluster; needs pip install "
                   "'nova-resize-model[ray]'")


def workers_of(args: argparse.Namespace, strategy: str) -> tuple[int | None, str | None]:
    """(workers, ray address) of a run; a usage error for what cannot run in parallel."""
    workers = getattr(args, "workers", None)
    ray = getattr(args, "ray", None)
    if strategy != "bfs":
        if (workers or 1) > 1 or ray:
            raise InputError(f"--workers above 1 and --ray need --strategy bfs (not {strategy})")
        return 1, None
    if ray:
        try:
            import ray as _  # noqa: F401
        except ImportError:
            raise InputError("--ray: Ray is not installed (pip install "
                             "'nova-resize-model[ray]', or pip install -e '.[ray]' in a "
                             "checkout)") from None
        return workers, ray
    n = workers or cores()
    if n > max_local_workers():
        raise InputError(f"--workers: at most {max_local_workers()} processes on this machine "
                         f"({cores()} cores; each process holds a share of the states and the "
                         f"engine), found {n} (a cluster: --ray ADDRESS)")
    return n, None


def max_local_workers() -> int:
    """How many processes a run may start on this machine: four per core (more only share the
    same cores, and every process holds its own engine and part of the states)."""
    return 4 * cores()


__all__ = ["add_worker_flags", "cores", "max_local_workers", "workers_of"]
