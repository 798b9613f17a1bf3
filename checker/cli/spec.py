"""``spec`` and ``diagram``: the tables as data and as pictures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nova_resize.spec import LIBERTY

from nova_resize.errors import UsageError
from nova_resize.files import check_output_dir

from .. import spec_export
from ..variants import build_spec
from .common import add_variant


def cmd_spec(args: argparse.Namespace) -> int:
    if args.format == "json":
        sys.stdout.write(spec_export.to_json_text(LIBERTY) + "\n")
    else:
        sys.stdout.write(spec_export.to_markdown(LIBERTY))
    return 0


def cmd_diagram(args: argparse.Namespace) -> int:
    from ..diagrams.render import write_diagrams
    from ..diagrams.spec_diagrams import spec_diagrams

    spec, variants = build_spec(args.variant)
    changed: set[str] = set()
    check_output_dir(args.out)
    if args.diff:
        if not variants:
            raise UsageError("--diff: expected at least one --variant to compare with Liberty")
        for v in variants:
            changed.update(v.changed_rows)
    dots = spec_diagrams(spec, changed, LIBERTY if args.diff else None)
    written = write_diagrams(dots, Path(args.out), _formats(args.format))
    if not args.quiet:
        for p in written:
            print(p)
    return 0


def _formats(fmt: str) -> list[str]:
    return ["dot", "svg"] if fmt == "all" else [fmt]


def register(sub: Any, epilog: str) -> None:
    s = sub.add_parser("spec", help="print the spec's tables", epilog=epilog)
    s.add_argument("--format", choices=("json", "markdown"), default="markdown")
    s.set_defaults(func=cmd_spec)

    d = sub.add_parser("diagram", help="draw the spec's state and sequence diagrams",
                       epilog=epilog)
    d.add_argument("--out", default="diagrams", help="output directory (default: diagrams)")
    d.add_argument("--format", choices=("svg", "png", "dot", "all"), default="all",
                   help="all: DOT and SVG (default)")
    add_variant(d)
    d.add_argument("--diff", action="store_true",
                   help="highlight the rows the variants change")
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=cmd_diagram)


__all__ = ["cmd_diagram", "cmd_spec", "register"]
