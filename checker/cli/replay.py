"""``replay``: re-run a report's finding step by step on the engine, or print it as a test."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nova_resize.errors import InputError
from nova_resize.files import read_text

from .common import write_output


def load_report(path: str) -> dict[str, Any]:
    """A JSON report written by ``check --json`` or ``simulate --json``."""
    try:
        doc = json.loads(read_text(path, InputError))
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: not JSON: {e.msg} at line {e.lineno}") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a JSON report object")
    return doc


def cmd_replay(args: argparse.Namespace) -> int:
    try:
        return _replay(args)
    except InputError as e:
        # what the report holds is the user's file: name it
        text = str(e)
        if text.startswith(args.report):
            raise
        raise InputError(f"{args.report}: {text}") from None


def _replay(args: argparse.Namespace) -> int:
    from ..explicit.replay import find_finding, pytest_source, replay_finding

    report = load_report(args.report)
    if args.pytest:
        src = pytest_source(report, find_finding(report, args.finding), args.report)
        if args.out:
            write_output(args.out, src)
        else:
            sys.stdout.write(src)
        return 0
    f, rep = replay_finding(report, args.finding)
    if not args.quiet:
        print(f"replaying {f['property']}: {f['key']} ({len(rep.steps)} of "
              f"{len(f.get('actions') or f.get('trace', []))} steps)")
        for s in rep.steps:
            print(f"  {s.n:3d}. {s.text}" + (f"  [{s.outcome}]" if s.outcome else ""))
            if s.rows:
                print(f"       rows: {', '.join(s.rows)}")
    if rep.diverged:
        print(f"not reproduced: the trace diverges at {rep.diverged}")
        return 1
    if rep.reproduced:
        print(f"reproduced: {rep.prop} reports {rep.key!r} after {len(rep.steps)} steps")
        return 0
    print(f"not reproduced: after {len(rep.steps)} steps {rep.prop} reports "
          + (", ".join(repr(k) for k in rep.keys) or "nothing"))
    return 1


def register(sub: Any, epilog: str) -> None:
    r = sub.add_parser("replay", help="re-run a finding of a JSON report step by step, or print "
                       "it as a pytest test", epilog=epilog)
    r.add_argument("report", metavar="REPORT", help="a check/simulate --json report")
    r.add_argument("--finding", required=True, metavar="KEY",
                   help="the finding: its index in the report, 'property: key @ where', or "
                   "'property: key' or its key when only one finding has it")
    r.add_argument("--pytest", action="store_true",
                   help="print the finding as a ready-to-paste pytest test instead")
    r.add_argument("--out", metavar="FILE", help="with --pytest: write the test here")
    r.add_argument("--quiet", action="store_true", help="print only the verdict")
    r.set_defaults(func=cmd_replay)


__all__ = ["cmd_replay", "register"]
