"""How far a run may go: the user's bounds, the defaults that keep a run from exhausting the
machine, and whether an incomplete run is the user's choice or a failure to finish."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from nova_resize.engine.config import Config

from ..explorer import Exploration, Limits
from .common import positive

DEFAULT_MEMORY_FRACTION = 0.6
"""A run stops cleanly once the process uses this fraction of the machine's memory."""

DEFAULT_MAX_STATES = 20_000_000
"""A run stops cleanly after this many distinct states (about 8 GB of fingerprints and links)."""


def machine_memory_bytes() -> int:
    """Physical memory of this machine (0 when unknown)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


@dataclass(frozen=True)
class RunBounds:
    """The limits of one run and whether stopping at them is what the user asked for."""

    limits: Limits
    allow_partial: bool

    def incomplete(self, ex: Exploration) -> bool:
        """Whether ``ex`` stopped before it could give its full answer, in a way that must be
        reported as such (exit status 4)."""
        if not ex.stop_kind:
            return False
        return ex.stop_kind == "interrupt" or not self.allow_partial


def add_bound_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-states", type=positive, metavar="N",
                   help=f"stop after N distinct states (default {DEFAULT_MAX_STATES:,})")
    p.add_argument("--max-seconds", type=positive, metavar="S", help="stop after S seconds")
    p.add_argument("--max-memory", type=positive, metavar="MIB",
                   help=f"stop once the process uses MIB MiB (default "
                   f"{DEFAULT_MEMORY_FRACTION * 100:.0f}%% of this machine's memory)")
    p.add_argument("--allow-partial", action="store_true",
                   help="a run stopped by a bound is a bounded run you asked for: exit 0 or 1 "
                   "by its findings instead of 4")


def bounds_of(args: argparse.Namespace, config: Config) -> RunBounds:
    """The flags, then the configuration's [check] table, then the defaults."""
    mem_mib = getattr(args, "max_memory", None)
    total = machine_memory_bytes()
    memory = mem_mib * 2**20 if mem_mib else (int(total * DEFAULT_MEMORY_FRACTION) or None)
    limits = Limits(
        max_states=(getattr(args, "max_states", None) or config.check_option("max_states")
                    or DEFAULT_MAX_STATES),
        max_depth=getattr(args, "max_depth", None) or config.check_option("max_depth"),
        max_seconds=getattr(args, "max_seconds", None) or config.check_option("max_seconds"),
        max_memory_bytes=memory,
    )
    allow = bool(getattr(args, "allow_partial", False) or config.check_option("allow_partial"))
    return RunBounds(limits, allow)


__all__ = ["DEFAULT_MAX_STATES", "DEFAULT_MEMORY_FRACTION", "RunBounds", "add_bound_flags",
           "bounds_of", "machine_memory_bytes"]
