"""What every command shares: resolving a configuration, progress lines, writing outputs, and
the flags several commands take."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from nova_resize.engine.config import Config, load_config
from nova_resize.engine.presets import load_preset, preset_names

from nova_resize.errors import ConfigError
from nova_resize.files import write_atomic


def resolve_config(name: str) -> Config:
    """A preset name or a TOML file path."""
    if name in preset_names():
        return load_preset(name)
    if name.endswith(".toml") or Path(name).exists():
        return load_config(name)
    raise ConfigError(
        f"--config {name}: no such preset or file (presets: {', '.join(preset_names())})"
    )


def progress_printer(args: argparse.Namespace) -> Callable[[str], None] | None:
    """Progress lines on stderr: rewritten in place on a terminal, plain lines elsewhere (CI
    logs); none with --quiet."""
    if getattr(args, "quiet", False):
        return None
    tty = sys.stderr.isatty() and not os.environ.get("CI")
    t0 = time.monotonic()

    def show(msg: str) -> None:
        if tty:
            sys.stderr.write("\r\x1b[2K" + msg)
        else:
            sys.stderr.write(f"[{time.monotonic() - t0:7.1f}s] {msg}\n")
        sys.stderr.flush()

    show.tty = tty  # type: ignore[attr-defined]
    return show


def end_progress(progress: Callable[[str], None] | None) -> None:
    """Clear a progress line left on a terminal."""
    if progress is not None and getattr(progress, "tty", False):
        sys.stderr.write("\r\x1b[2K")
        sys.stderr.flush()


def write_output(path: str, text: str) -> None:
    """Write a report or other output file atomically."""
    write_atomic(path, text)


def size_warning(config: Config) -> str | None:
    """A warning when a configuration is larger than the largest preset known to finish."""
    requests = sum(n for _, n in config.actions)
    faults = sum(n for _, n in config.faults)
    weight = (len(config.instances), len(config.hosts), requests + faults)
    # `full`: 2 instances, 3 hosts, 3 requests and 4 faults: 1.5 million states
    if weight[0] <= 2 and weight[1] <= 3 and weight[2] <= 8:
        return None
    return (f"{config.name}: {weight[0]} instances, {weight[1]} hosts, {requests} requests and "
            f"{faults} faults is larger than the `full` preset (2 instances, 3 hosts, 7 requests "
            f"and faults: 1.5 million states); each one more multiplies the states, so an "
            f"exhaustive run may not finish: it stops cleanly at the memory or state cap, or "
            f"use `nova-resize simulate`")


def positive(text: str) -> int:
    """argparse type: a positive integer."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, found {v}")
    return v


def non_negative(text: str) -> int:
    """argparse type: a non-negative integer."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {text!r}"
                                         ) from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, found {v}")
    return v


def add_variant(p: argparse.ArgumentParser) -> None:
    p.add_argument("--variant", action="append", default=[], metavar="FILE",
                   help="a spec overlay (repeatable)")


__all__ = [
    "add_variant",
    "end_progress",
    "non_negative",
    "positive",
    "progress_printer",
    "resolve_config",
    "write_output",
]
