"""Running mutants against Liberty, configuration by configuration, and judging each.

Liberty's side of every comparison is :func:`..explicit.diff.liberty_reference` (explored once
per configuration, cached across runs). A mutant is explored on each configuration in turn, and
its findings compared by identity (property, key, where) with Liberty's, as ``nova-resize diff``
compares them: a finding of the mutant's only is **new**, one of Liberty's only is **gone**.
The first configuration showing either kills the mutant (the rest are not run).

Most mutants change only what some rows do (:attr:`.operators.Mutant.local`): on a
configuration where Liberty never executes those rows, the mutant's run is Liberty's, step for
step, and is not explored. A mutant whose rows run on no configuration is ``unreached`` without
a run. A mutant no configuration kills is compared with Liberty whole-graph
(:mod:`.equivalence`):

* ``survived``: the mutant behaves differently (other states, transitions or outputs) and no
  property noticed;
* ``equivalent-on-configs``: the same reachable graph as Liberty's on every configuration
  although its rows ran: on these configurations the change makes no difference (not a proof:
  another configuration may show one);
* ``unreached``: (a removed row) the same graph, and the row never ran.

A mutant the variant checks refuse (or the engine cannot interpret) is ``invalid``; one whose
tables equal Liberty's, built equivalent (:attr:`.operators.Mutant.proof`), or whose rows can
run in no state of any configuration (:mod:`..symbolic.domains`), is ``equivalent``; one whose
run outgrew its bound without a new finding is ``incomplete``; one on which nova-resize itself
raised (a bug of ours) is ``error``: the campaign goes on, the mutant counts as not killed, and
the command exits 3 once the report is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.spec import LIBERTY, Spec

from nova_resize.errors import InputError, ModelError
from nova_resize.files import write_atomic

from ..explicit.coverage import RowCoverage
from ..explicit.diff import Ident, ident_of, liberty_reference
from ..explicit.model import NovaModel
from ..explorer import Control, Exploration, Limits, explore
from ..symbolic.domains import unreachable_rows
from ..symbolic.exceptions import silent_rows
from ..variants import apply_variant_text
from .divergence import Divergence, divergence_on
from .equivalence import GraphSignature, Signature, same_tables
from .operators import Mutant

STATUSES = ("killed", "survived", "unreached", "equivalent-on-configs", "equivalent", "invalid",
            "incomplete", "error")
STATES_FACTOR = 20
"""A mutant's run stops at this many times Liberty's distinct states (at least
:data:`MIN_STATES`): a mutant that grows the state space that much shows no finding worth the
wait, and is reported incomplete."""
MIN_STATES = 20_000

Progress = Callable[[str], None]


@dataclass
class Reference:
    """Liberty's run of one configuration."""

    config: Config
    idents: frozenset[Ident]
    rows: frozenset[str]
    states: int
    transitions: int
    seconds: float
    cached: bool
    limits: Limits
    signature: Signature | None = None


@dataclass
class Outcome:
    """What became of one mutant."""

    mutant: Mutant
    status: str = ""
    detail: str = ""
    killed_by: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    reached: bool | None = None
    file: str | None = None
    divergence: Divergence | None = None  # a survivor's first difference from Liberty


def explore_spec(config: Config, spec: Spec, limits: Limits, visitors: Sequence[Any] = (),
                 control: Control | None = None) -> tuple[Exploration, RowCoverage]:
    """Explore ``config`` under ``spec`` (breadth first); the run and the rows it executed."""
    cov = RowCoverage()
    ex = explore(NovaModel(Engine(config, spec)), "bfs", limits, [cov, *visitors],
                 control=control)
    return ex, cov


def reference(config: Config, limits: Limits, progress: Progress | None = None,
              control: Control | None = None, cache: Path | None = None,
              use_cache: bool = True) -> Reference:
    """Liberty's run of ``config`` (cached by :func:`liberty_reference`)."""
    doc, cached = liberty_reference(config, limits, progress, control, cache, use_cache)
    if not doc.get("complete"):
        raise ReferenceIncomplete(f"Liberty's run of {config.name} stopped before it finished "
                                  f"({doc.get('stop_reason') or 'bounded'})")
    rows = frozenset((doc.get("coverage") or {}).get("rows_executed") or {})
    return Reference(config, frozenset(ident_of(f) for f in doc["findings"]), rows,
                     int(doc.get("distinct_states") or 0), int(doc.get("transitions") or 0),
                     float(doc.get("seconds") or 0.0), cached, limits)


class ReferenceIncomplete(Exception):
    """Liberty's own run of a configuration did not finish: mutants cannot be judged on it."""


def mutant_limits(ref: Reference) -> Limits:
    cap = max(STATES_FACTOR * ref.states, MIN_STATES)
    lim = ref.limits
    return Limits(max_states=min(cap, lim.max_states or cap), max_depth=lim.max_depth,
                  max_seconds=lim.max_seconds, max_memory_bytes=lim.max_memory_bytes)


def _kill(ref: Reference, found: frozenset[Ident], complete: bool) -> dict[str, Any] | None:
    new = sorted(found - ref.idents)
    gone = sorted(ref.idents - found) if complete else []
    if not new and not gone:
        return None
    change, (prop, key, where) = ("new", new[0]) if new else ("gone", gone[0])
    return {"configuration": ref.config.name, "change": change, "property": prop, "key": key,
            "where": where, "new": len(new), "gone": len(gone)}


def judge(m: Mutant, refs: Sequence[Reference], control: Control | None = None,
          out_dir: Path | None = None) -> Outcome:
    """Run ``m`` on every configuration of ``refs`` (until one kills it) and classify it."""
    o = Outcome(m)
    if out_dir is not None:
        path = out_dir / f"{m.slug}.toml"
        write_atomic(path, m.text)
        o.file = str(path)
    if m.proof:
        o.status, o.detail = "equivalent", f"proved: {m.proof}"
        return o
    try:
        spec = apply_variant_text(LIBERTY, m.text, o.file or f"{m.slug}.toml").spec
    except (InputError, ModelError) as e:
        o.status, o.detail = "invalid", str(e)
        return o
    if same_tables(spec, LIBERTY):
        o.status, o.detail = "equivalent", "proved: the mutated tables are Liberty's"
        return o
    never = never_runs(m, spec)
    if never:
        o.status, o.detail = "equivalent", f"proved: the rows it changes can never run ({never})"
        return o
    quiet = never_raises(m, spec)
    if quiet:
        o.status, o.detail = "equivalent", f"proved: {quiet}"
        return o
    reached = any(r in ref.rows for ref in refs for r in m.site)
    if m.local and not reached:
        o.status, o.reached = "unreached", False
        o.detail = ("the rows it changes never run on these configurations (so each run is "
                    "Liberty's)")
        return o
    sigs: list[Signature | None] = []
    for ref in refs:
        if m.local and not any(r in ref.rows for r in m.site):
            # what the mutant changes never runs here: the run is Liberty's, step for step
            o.runs.append({"configuration": ref.config.name, "skipped": True})
            sigs.append(None)
            continue
        t0 = time.monotonic()
        sig = GraphSignature()
        try:
            ex, cov = explore_spec(ref.config, spec, mutant_limits(ref), [sig], control)
        except ModelError as e:
            o.status, o.detail = "invalid", f"{ref.config.name}: the engine refused it: {e}"
            return o
        except Exception as e:
            # a bug of nova-resize's on this variant (a property or the engine raising): the
            # mutant is not judged, the campaign goes on, and the command exits 3 at the end
            o.status = "error"
            o.detail = (f"{ref.config.name}: nova-resize raised {type(e).__name__}: {e} on "
                        f"this variant (a bug: please report it with the variant file)")
            return o
        o.runs.append({"configuration": ref.config.name, "states": ex.distinct_states,
                       "transitions": ex.transitions, "complete": ex.complete,
                       "seconds": round(time.monotonic() - t0, 3)})
        if ex.stop_kind == "interrupt":
            o.status, o.detail = "incomplete", ex.stop_reason
            return o
        o.killed_by = _kill(ref, frozenset(ex.findings), ex.complete)
        if o.killed_by is not None:
            o.status, o.reached = "killed", reached or any(r in cov.rows for r in m.site)
            return o
        if not ex.complete:
            o.status = "incomplete"
            o.detail = f"{ref.config.name}: {ex.stop_reason} without a new finding"
            return o
        reached = reached or any(r in cov.rows for r in m.site)
        sigs.append(sig.signature())
    o.reached = reached
    o.status, o.detail = compare_graphs(sigs, refs, reached, control)
    if o.status == "survived":
        ran = [ref.config for ref, sig in zip(refs, sigs, strict=True) if sig is not None]
        try:
            o.divergence = divergence_on(ran, spec, control)
        except Exception as e:  # the verdict stands; only where it first differs is missing
            o.detail += (f" (nova-resize raised {type(e).__name__}: {e} looking for where it "
                         f"first differs: a bug, please report it with the variant file)")
    return o


def never_raises(m: Mutant, spec: Spec) -> str:
    """For a mutant that changes an error scope's chain: why no row of that scope can raise,
    in Liberty and in the mutant (so the chain is never entered), or '' when that is not
    proved (checker/symbolic/domains.py)."""
    if m.operator != "drop-chain-entry" or not m.site:
        return ""
    if not _LIBERTY_SILENT:
        _LIBERTY_SILENT.update(silent_rows(LIBERTY) or {""})
    if not all(r in _LIBERTY_SILENT for r in m.site):
        return ""
    if not all(r in silent_rows(spec) for r in m.site):
        return ""
    return (f"no row of the scope ({', '.join(m.site)}) can raise, so its error chain is "
            f"never entered")


_LIBERTY_NEVER: dict[str, str] = {}
_LIBERTY_SILENT: set[str] = set()


def never_runs(m: Mutant, spec: Spec) -> str:
    """Why no state of any configuration runs the rows ``m`` changes, in Liberty and in the
    mutant (checker/symbolic/domains.py), or '' when that is not proved. A row never enabled
    can be removed, or changed, without changing any run."""
    if not _LIBERTY_NEVER:
        _LIBERTY_NEVER.update(unreachable_rows(LIBERTY) or {"": ""})
    if not m.site or not all(r in _LIBERTY_NEVER for r in m.site):
        return ""
    mine = unreachable_rows(spec)
    present = {r.id for r in spec.rows}
    if any(r in present and r not in mine for r in m.site):
        return ""
    return "; ".join(f"{r}: {_LIBERTY_NEVER[r]}" for r in m.site)


def liberty_signature(ref: Reference, control: Control | None = None) -> Signature:
    """Liberty's reachable graph on ``ref``'s configuration, summarised (explored once in this
    process: signatures are not comparable across processes)."""
    if ref.signature is None:
        sig = GraphSignature()
        explore_spec(ref.config, LIBERTY, ref.limits, [sig], control)
        ref.signature = sig.signature()
    return ref.signature


def compare_graphs(sigs: Sequence[Signature | None], refs: Sequence[Reference], reached: bool,
                   control: Control | None = None) -> tuple[str, str]:
    """A mutant no configuration killed, by its reachable graphs (``sigs``, one per
    configuration; None where the run is Liberty's by construction) against Liberty's:
    survived, unreached or equivalent on these configurations."""
    for ref, sig in zip(refs, sigs, strict=True):
        if sig is None:
            continue
        differs = liberty_signature(ref, control).difference(sig)
        if differs:
            where = "" if reached else "; its rows never ran"
            return "survived", f"{ref.config.name}: {differs}, and no finding changed{where}"
    if reached:
        return "equivalent-on-configs", ("the same reachable graph as Liberty's on every "
                                         "configuration, although its rows ran (not a proof)")
    return "unreached", "the rows it changes never ran on these configurations"


def kill_rates(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Counts by status, and the kill rates: ``kill_rate`` over every mutant but the invalid
    and the proved equivalent; ``kill_rate_observable`` also leaves out those equivalent on
    these configurations."""
    counts = {s: sum(1 for o in outcomes if o.status == s) for s in STATUSES}
    base = len(outcomes) - counts["invalid"] - counts["equivalent"]
    obs = base - counts["equivalent-on-configs"]
    out: dict[str, Any] = {"generated": len(outcomes), **counts}
    out["kill_rate"] = round(counts["killed"] / base, 4) if base else None
    out["kill_rate_observable"] = round(counts["killed"] / obs, 4) if obs else None
    return out


__all__ = [
    "MIN_STATES",
    "STATES_FACTOR",
    "STATUSES",
    "Outcome",
    "Reference",
    "ReferenceIncomplete",
    "compare_graphs",
    "explore_spec",
    "judge",
    "kill_rates",
    "liberty_signature",
    "mutant_limits",
    "reference",
]
