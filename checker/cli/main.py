"""The ``nova-resize`` command line: parse, dispatch, and turn errors into exit statuses.

Exit status: 0 success, 1 findings or rejection, 2 bad input (with a one-line message naming
the file, key or line).
"""

from __future__ import annotations

import argparse
import sys

from nova_resize.errors import InputError, ModelError

from . import check, replay, spec, symbolic, traces


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nova-resize",
        description="An executable specification of Nova Liberty's resize family, and its "
        "model checker.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    spec.register(sub)
    traces.register(sub)
    check.register(sub)
    symbolic.register(sub)
    replay.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (InputError, ModelError) as e:
        print(f"nova-resize: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
