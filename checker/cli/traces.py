"""``validate``, ``explain`` and ``walk``: what the spec says about a real cloud's
observations, about one stuck instance, and the seed document's walk."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nova_resize.files import check_writable

from ..variants import build_spec
from .common import add_variant, non_negative, positive, resolve_config, write_output
from .exits import FINDINGS, INCOMPLETE, OK


def cmd_walk(args: argparse.Namespace) -> int:
    from ..traces.walk import seed_walk

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


def cmd_validate(args: argparse.Namespace) -> int:
    from ..traces.observe import read_all
    from ..traces.validate import validate, verdict_json, verdict_text

    if args.html:
        check_writable(args.html, "--html report")
    spec, _ = build_spec(args.variant)
    config = resolve_config(args.config)
    notify = args.notify_on_state_change
    options = {k: v for k, v in (("notify_on_state_change",
                                  "" if notify == "unset" else notify),
                                 ("api_host", args.api_host),
                                 ("conductor_host", args.conductor_host)) if v is not None}
    if options:
        config = config.with_options(**options)
    if args.json:
        check_writable(args.json, "--json output")
    obs = read_all(args.files, args.format, spec)
    for w in obs.warnings:
        sys.stderr.write(f"warning: {w}\n")
    v = validate(config, spec, obs, args.instance, args.max_gap, args.max_requests)
    if args.json:
        write_output(args.json, json.dumps(verdict_json(v), indent=2, default=str))
    if args.html:
        from ..html import render_html, with_citations

        doc = json.loads(json.dumps(verdict_json(v), default=str))
        write_output(args.html, render_html(with_citations(doc, spec)))
    if not args.quiet or not v.accepted:
        sys.stdout.write(verdict_text(v))
    if v.accepted:
        return OK
    if v.truncated:
        print(f"nova-resize: incomplete: the search for observation {v.rejected_at} reached "
              f"its state cap before it could accept or reject it", file=sys.stderr)
        return INCOMPLETE
    return FINDINGS


def cmd_explain(args: argparse.Namespace) -> int:
    from ..traces.explain import explain_file, explanation_json, explanation_text

    spec, _ = build_spec(args.variant)
    config = resolve_config(args.config)
    if args.json:
        check_writable(args.json, "--json output")
    e = explain_file(config, spec, args.file, args.migrations, args.max_states)
    if args.json:
        write_output(args.json, json.dumps(explanation_json(e), indent=2))
    sys.stdout.write(explanation_text(e))
    if e.reachable:
        return OK
    if not e.complete:
        print(f"nova-resize: incomplete: no way found within {e.states:,} states (the bound); "
              f"raise --max-states to search further", file=sys.stderr)
        return INCOMPLETE
    return FINDINGS


def register(sub: Any, epilog: str) -> None:
    w = sub.add_parser("walk", help="replay the seed's walk: one resize with nova list "
                       "snapshots", epilog=epilog)
    w.add_argument("--config", default="seed", help="preset name or TOML file (default: seed)")
    w.add_argument("--instance", help="instance to resize (default: the first)")
    w.add_argument("--flavor", help="flavor to resize to (default: actions.resize_flavors[0])")
    w.add_argument("--quiet", action="store_true", help="print only the summary line")
    w.set_defaults(func=cmd_walk)

    va = sub.add_parser("validate", help="check observations of a real cloud (nova list, "
                        "server show, notifications, instance actions) against the spec",
                        epilog=epilog)
    va.add_argument("files", nargs="+", metavar="FILE")
    va.add_argument("--config", default="seed",
                    help="the cloud and fault model (default: seed); hosts, flavors and the "
                    "instance are taken from the trace where it names them")
    add_variant(va)
    va.add_argument("--format", default="auto",
                    choices=("auto", "nova-list", "server-show", "notifications",
                             "instance-actions"))
    va.add_argument("--instance", help="the instance to follow, by name or uuid (default: the "
                    "first named)")
    va.add_argument("--notify-on-state-change", choices=("unset", "vm_state",
                                                         "vm_and_task_state"),
                    help="the cloud's notify_on_state_change (overrides the configuration's "
                    "[options]); required when the notifications include "
                    "compute.instance.update and the configuration does not set it")
    va.add_argument("--api-host", help="CONF.host of nova-api (default: the configuration's, "
                    "else searched among the publishers of compute.instance.update)")
    va.add_argument("--conductor-host", help="CONF.host of nova-conductor (likewise)")
    va.add_argument("--max-gap", type=positive, default=40,
                    help="unobserved steps allowed between two observations (default 40)")
    va.add_argument("--max-requests", type=non_negative, default=1,
                    help="unobserved user requests allowed between two observations")
    va.add_argument("--json", metavar="FILE")
    va.add_argument("--html", metavar="FILE", help="write a self-contained HTML report here")
    va.add_argument("--quiet", action="store_true")
    va.set_defaults(func=cmd_validate)

    xp = sub.add_parser("explain", help="how could an instance get into this state, and what "
                        "happens next", epilog=epilog)
    xp.add_argument("file", metavar="FILE", help="one server: `openstack server show -f json`, "
                    "the API's server JSON, or a pasted `nova show` table")
    xp.add_argument("--migrations", metavar="FILE", help="`nova migration-list` output (table) "
                    "or the API's os-migrations JSON")
    xp.add_argument("--config", default="explain")
    add_variant(xp)
    xp.add_argument("--json", metavar="FILE")
    xp.add_argument("--max-states", type=positive, default=150_000,
                    help="bound the search (default 150000; shortest ways come first)")
    xp.set_defaults(func=cmd_explain)


__all__ = ["cmd_explain", "cmd_validate", "cmd_walk", "register"]
