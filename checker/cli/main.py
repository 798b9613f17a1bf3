"""The ``nova-resize`` command line: parse, dispatch, and turn outcomes and errors into the exit
statuses of :mod:`.exits` (0 success, 1 findings, 2 bad input, 3 internal error, 4
incomplete)."""

from __future__ import annotations

import argparse
import datetime
import os
import signal
import sys
import tempfile
import traceback
from typing import Any, NoReturn

from nova_resize.errors import InputError, ModelError

from . import check, diff, mutate, replay, spec, symbolic, traces
from .exits import BAD_INPUT, INCOMPLETE, INTERNAL

EPILOG = """exit status: 0 success; 1 findings (a finding not in the baseline, a rejected trace,
a refuted proof); 2 bad input or usage (one line names the file, key or line); 3 internal error
(a bug: the traceback is written to a file); 4 incomplete (stopped by a cap or a bound, or
interrupted, before it could say 0; with --allow-partial a run stopped by a bound ends 0 or 1
by its findings)."""


def one_line(text: str) -> str:
    """``text`` with everything unprintable (a user's newline, carriage return, escape
    sequence) escaped, so that a message stays one line whatever it quotes."""
    if len(text) > MAX_MESSAGE:
        # a message quoting a huge value of the user's: its start says what and where
        text = f"{text[:MAX_MESSAGE]}... ({len(text):,} characters)"
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                   for c in text)


MAX_MESSAGE = 1000
"""Characters of a one-line message kept (the rest of a quoted value is cut)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(BAD_INPUT, one_line(f"{self.prog}: {message} (see {self.prog} --help)") + "\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="nova-resize",
        description="An executable specification of Nova Liberty's resize family, and its "
        "model checker.",
        epilog=EPILOG,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           parser_class=_Parser)
    for module in (spec, traces, check, diff, mutate, symbolic, replay):
        module.register(sub, EPILOG)
    return p


class Interrupted(BaseException):
    """SIGTERM outside an exploration (which stops cleanly by itself)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Interrupted()


def _crash_report(e: BaseException, argv: list[str] | None) -> str:
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    fd, path = tempfile.mkstemp(prefix=f"nova-resize-crash-{stamp}-", suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(f"nova-resize {' '.join(argv if argv is not None else sys.argv[1:])}\n\n")
        f.write("".join(traceback.format_exception(e)))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, or a usage error (already printed on one line)
        return e.code if isinstance(e.code, int) else BAD_INPUT
    except Exception as e:  # a bug in a help text or a type= function
        path = _crash_report(e, argv)
        print(one_line(f"nova-resize: internal error: {e} (a bug; traceback in {path})"),
              file=sys.stderr)
        return INTERNAL
    # the command itself, not a call in-process: it may re-execute itself (check --checkpoint)
    args.standalone = argv is None
    old = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        old = None
    try:
        return int(args.func(args))
    except InputError as e:
        print(one_line(f"nova-resize: {e}"), file=sys.stderr)
        return BAD_INPUT
    except ModelError as e:
        # the tables could not be interpreted: a variant's rows are the user's input; without a
        # variant it is a bug of ours
        if getattr(args, "variant", None):
            print(one_line(f"nova-resize: {', '.join(args.variant)}: {e}"), file=sys.stderr)
            return BAD_INPUT
        path = _crash_report(e, argv)
        print(one_line(f"nova-resize: internal error: {e} (a bug; traceback in {path})"),
              file=sys.stderr)
        return INTERNAL
    except (KeyboardInterrupt, Interrupted):
        print("nova-resize: interrupted before the command finished", file=sys.stderr)
        return INCOMPLETE
    except MemoryError:
        print("nova-resize: out of memory before the command finished (bound the run with "
              "--max-states or --max-memory)", file=sys.stderr)
        return INCOMPLETE
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 0
    except Exception as e:  # a bug of ours: never a bare traceback
        path = _crash_report(e, argv)
        print(one_line(f"nova-resize: internal error: {type(e).__name__}: {e} (a bug; "
                       f"traceback in {path})"), file=sys.stderr)
        return INTERNAL
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


if __name__ == "__main__":
    sys.exit(main())
