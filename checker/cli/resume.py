"""``check --checkpoint DIR`` and ``check --resume DIR``: checkpoints of a long breadth-first run
and continuing one after a kill, a crash or an interrupt (TLC's checkpoints and ``-recover``).

The explorer writes and reads the checkpoints (:mod:`nova_resize.checker.explorer.checkpoint`);
this module adds what the command line owns: the flags, the configuration and variants of a
resumed run (from the checkpoint, unless given), and refusing what cannot be checkpointed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from nova_resize.engine.config import Config
from nova_resize.engine.presets import preset_names

from nova_resize.errors import UsageError
from nova_resize.files import check_output_dir

from ..explicit.run import run_identity
from ..explorer.checkpoint import FILE_NAME, Checkpointer, read_header

DEFAULT_EVERY = 300.0
"""Seconds between two checkpoints unless --checkpoint-every says otherwise."""



def seconds(text: str) -> float:
    """argparse type: a positive number of seconds."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, found {text!r}") from None
    if not v > 0 or v == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, found {text}")
    return v


def add_checkpoint_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", metavar="DIR",
                   help="write a checkpoint of the run into DIR now and then, and when a bound "
                   "or a signal stops it (bfs only)")
    p.add_argument("--checkpoint-every", type=seconds, default=DEFAULT_EVERY, metavar="SECONDS",
                   help=f"seconds between two checkpoints (default {DEFAULT_EVERY:g})")
    p.add_argument("--resume", metavar="DIR",
                   help="continue the run whose checkpoint is in DIR (its --config and "
                   "--variant unless given; checkpoints go on into DIR unless --checkpoint "
                   "says elsewhere)")


def prepare(args: argparse.Namespace, strategy: str) -> None:
    """Before a check does anything else: refuse what cannot be checkpointed, and take a
    resumed run's configuration and variants from its checkpoint."""
    resume = getattr(args, "resume", None)
    if not (getattr(args, "checkpoint", None) or resume):
        return
    flag = "--resume" if resume else "--checkpoint"
    if strategy != "bfs":
        raise UsageError(f"{flag}: checkpoints are written by --strategy bfs only, not "
                         f"{strategy}")
    if (getattr(args, "workers", None) or 1) > 1:
        raise UsageError(f"{flag}: not supported with --workers {args.workers} (run it with "
                         f"--workers 1)")
    if resume:
        header, _ = read_header(resume)
        run = header["run"]
        if args.config is None and isinstance(run.get("config"), str):
            args.config = run["config"]
        if not args.variant and isinstance(run.get("variants"), list):
            args.variant = [str(v) for v in run["variants"]]
        args.checkpoint = args.checkpoint or resume
    target = Path(args.checkpoint)
    if (target / FILE_NAME).exists() and not (resume and target.resolve() ==
                                               Path(resume).resolve()):
        raise UsageError(f"{target / FILE_NAME}: an earlier run's checkpoint is there (resume "
                         f"it with --resume {target}, or remove it)")
    check_output_dir(args.checkpoint)


def checkpointer(args: argparse.Namespace, config: Config) -> Checkpointer | None:
    """The checkpoint writer (and reader) of this check, if it asked for one."""
    if not getattr(args, "checkpoint", None):
        return None
    name = args.config or "ci"
    config_arg = name if name in preset_names() else str(Path(name).resolve())
    cp = Checkpointer(args.checkpoint, args.checkpoint_every,
                      run_identity(config, args.variant, config_arg), getattr(args, "resume", None))
    cp.check_identity()
    return cp


__all__ = ["DEFAULT_EVERY", "add_checkpoint_flags", "checkpointer", "prepare", "seconds"]
