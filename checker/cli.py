"""The ``nova-resize`` command line. Exit status: 0 success, 1 findings or rejection, 2 bad
input (with a one-line message naming the file, key or line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nova_resize.engine.config import Config, ConfigError, load_config
from nova_resize.engine.presets import load_preset, preset_names
from nova_resize.spec import LIBERTY

from . import spec_export
from .walk import seed_walk


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit status 2."""


def resolve_config(name: str) -> Config:
    """A preset name or a TOML file path."""
    if name in preset_names():
        return load_preset(name)
    if name.endswith(".toml") or Path(name).exists():
        return load_config(name)
    raise ConfigError(
        f"--config {name}: no such preset or file (presets: {', '.join(preset_names())})"
    )


def cmd_spec(args: argparse.Namespace) -> int:
    if args.format == "json":
        sys.stdout.write(spec_export.to_json_text(LIBERTY) + "\n")
    else:
        sys.stdout.write(spec_export.to_markdown(LIBERTY))
    return 0


def cmd_walk(args: argparse.Namespace) -> int:
    config = resolve_config(args.config)
    snaps = seed_walk(config, args.instance, args.flavor)
    for s in snaps:
        if not args.quiet:
            print(f"# step {s.step}: {s.action}")
            if s.rows:
                print(f"#   rows: {', '.join(s.rows)}")
            print(s.table)
            print()
    print("walk: " + " -> ".join(f"{s.status} {s.task_state}" for s in snaps))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="nova-resize",
        description="An executable specification of Nova Liberty's resize family, and its "
        "model checker.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("spec", help="print the spec's tables")
    s.add_argument("--format", choices=("json", "markdown"), default="markdown")
    s.set_defaults(func=cmd_spec)

    w = sub.add_parser("walk", help="replay the seed's walk: one resize with nova list snapshots")
    w.add_argument("--config", default="seed", help="preset name or TOML file (default: seed)")
    w.add_argument("--instance", help="instance to resize (default: the first)")
    w.add_argument("--flavor", help="flavor to resize to (default: actions.resize_flavors[0])")
    w.add_argument("--quiet", action="store_true", help="print only the summary line")
    w.set_defaults(func=cmd_walk)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ConfigError, UsageError) as e:
        print(f"nova-resize: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
