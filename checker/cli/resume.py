"""``check --checkpoint DIR`` and ``check --resume DIR``: checkpoints of a long breadth-first run
and continuing one after a kill, a crash or an interrupt (TLC's checkpoints and ``-recover``).

The explorer writes and reads the checkpoints (:mod:`nova_resize.checker.explorer.checkpoint`);
this module adds what the command line owns: the flags, the configuration and variants of a
resumed run (from the checkpoint, unless given), refusing what cannot be checkpointed, and
hashing alike in the run that writes a checkpoint and the one that resumes it.

A state's fingerprint is Python's hash of it, which depends on the process: strings are hashed
with a per-process salt (unless ``PYTHONHASHSEED`` fixes it) and, before Python 3.12, None
with its address, which address-space layout randomisation moves. A resumed process that
hashes differently rebuilds the fingerprint table by replaying every state (correct, and about
a third of the time the stopped run had spent). To avoid that, the command re-executes itself
once, keeping its process id, with the seed of the checkpoint (a fresh one for a new run) and,
on Linux under Python 3.11, with the address space not randomised for that one process
(``personality(ADDR_NO_RANDOMIZE)``, as ``setarch -R`` does), so that None sits where it sat in
the run that wrote the checkpoint. Where that cannot be done (another system, a sandbox that
forbids it, a call in-process) the resume rebuilds the table.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import random
import sys
from pathlib import Path

from nova_resize.engine.config import Config
from nova_resize.engine.presets import preset_names

from nova_resize.errors import UsageError
from nova_resize.files import check_output_dir

from ..explicit.run import run_identity
from ..explorer.checkpoint import FILE_NAME, Checkpointer, read_header

DEFAULT_EVERY = 300.0
"""Seconds between two checkpoints unless --checkpoint-every says otherwise."""

SEED = "PYTHONHASHSEED"
REEXECUTED = "NOVA_RESIZE_STABLE_HASH"
"""Set in the environment of a command that re-executed itself to hash alike (once only)."""
ADDR_NO_RANDOMIZE = 0x0040000



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
    if getattr(args, "ray", None):
        raise UsageError(f"{flag}: not supported with --ray (a checkpointed run is a "
                         f"one-worker search)")
    seed = None
    if resume:
        header, _ = read_header(resume)
        seed = header.get("hash_seed") if isinstance(header.get("hash_seed"), str) else None
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
    if getattr(args, "standalone", False):
        _hash_alike(seed)


def checkpointer(args: argparse.Namespace, config: Config) -> Checkpointer | None:
    """The checkpoint writer (and reader) of this check, if it asked for one."""
    if not getattr(args, "checkpoint", None):
        return None
    name = args.config or "ci"
    config_arg = name if name in preset_names() else str(Path(name).resolve())
    cp = Checkpointer(args.checkpoint, args.checkpoint_every,
                      run_identity(config, args.variant, config_arg, getattr(args, "por", False)),
                      getattr(args, "resume", None))
    cp.check_identity()
    return cp


def _hash_alike(seed: str | None) -> None:
    """Re-execute this command, once, with the hash seed ``seed`` (the environment's, or a new
    one, when None) and, where it matters and can be done, no address-space randomisation."""
    if os.environ.get(REEXECUTED):
        return
    have = os.environ.get(SEED)
    seed = seed or (have if have not in (None, "", "random") else None) or \
        str(random.SystemRandom().randrange(1, 2**32))
    fixed_none = sys.version_info >= (3, 12) or no_aslr()
    if not fixed_none or (have == seed and sys.version_info >= (3, 12)):
        return  # nothing to gain: None would hash differently anyway, or all is set already
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]],
              {**os.environ, SEED: seed, REEXECUTED: "1"})


def no_aslr() -> bool:
    """Ask Linux not to randomise the address space of the programs this process executes;
    whether it is so (False elsewhere, or where a sandbox forbids it)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        personality = ctypes.CDLL(None, use_errno=True).personality
        current = int(personality(0xFFFFFFFF))
        if current == -1:
            return False
        if not current & ADDR_NO_RANDOMIZE:
            personality(current | ADDR_NO_RANDOMIZE)
        return bool(int(personality(0xFFFFFFFF)) & ADDR_NO_RANDOMIZE)
    except (OSError, AttributeError):
        return False


__all__ = ["DEFAULT_EVERY", "add_checkpoint_flags", "checkpointer", "no_aslr", "prepare",
           "seconds"]
