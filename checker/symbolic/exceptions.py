"""Which exceptions each handler can be raising, from the tables alone: what the engine raises by
itself, what each kind of effect raises (narrowed where the tables say more), and where each
row's exception goes (its scope's chain, the rest of the chain an error handler was entered by,
a chain a jump put in place). :mod:`.domains` uses it to rule rows out (a condition on an
exception that never reaches the handler, an ``otherwise`` row whose siblings take every one
that does); ``mutate`` uses :func:`silent_rows` to prove an error chain never entered.
``tests/test_regression_coverage.py`` checks every row the regression presets run against it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.query import is_constant

from .domains import _TESTS, NAME, TOP, Domain, Domains, _union, analyse

ENGINE_EXCEPTIONS: frozenset[str] = frozenset({
    "InstanceNotFound",  # a save or read of a destroyed row (effects.save_instance, _reread)
    "UnexpectedTaskStateError",  # a refused expected_task_state compare-and-swap
    "UnexpectedDeletingTaskStateError",  # the same, while the instance is being deleted
    "InstanceNotReady",  # a power action on a guest in the wrong state (effects._driver)
    "InstanceDiskMissing",  # the hypervisor's disk is gone (effects._driver)
    "Exception",  # a driver failure, and a callee's unnamed failure (handlers.end)
    "NoValidHost",  # the scheduler found nothing (effects._select)
    "TypeError",  # a quota commit or rollback of reservations that were never made (quota)
    "OverQuota",  # quota_reserve past a limit (quota.reserve)
    "MessagingTimeout",  # a call's answer that never came (core)
})
"""The Nova exceptions the engine raises by itself, besides the rows' ``Raise`` (a test checks
this list against the engine's source)."""

EFFECT_EXCEPTIONS: dict[type, frozenset[str]] = {
    m.SaveInstance: frozenset({"InstanceNotFound", "UnexpectedTaskStateError",
                               "UnexpectedDeletingTaskStateError"}),
    m.FreshSave: frozenset({"InstanceNotFound"}),
    m.Send: frozenset({"InstanceNotReady"}),  # a message to a host that is None
    m.Driver: frozenset({"Exception", "InstanceDiskMissing"}),
    m.SelectDestination: frozenset({"NoValidHost"}),
    m.Quota: frozenset({"TypeError", "OverQuota"}),  # a reservation's (commit, rollback: none)
}
"""What each kind of effect can raise by itself (engine/effects.py, engine/quota.py);
``_effect_raises`` narrows a message (only a target that may be None) and a quota action."""

SILENT_EFFECTS: frozenset[type] = frozenset({
    m.Set, m.SaveMigration, m.Reread, m.LookupMigration, m.CreateMigration, m.Claim, m.Lock,
    m.Destroy, m.DestroyFlavor, m.Spawn, m.Goto, m.Service, m.Refuse,
})
"""Effects that raise no Nova exception (Refuse answers the user; it is not raised)."""

REPLY_LOCALS: frozenset[str] = frozenset({"reply"})
"""Locals the engine fills with a call's answer: "ok", a timeout, or the callee's exception."""


def _raises(spec: Spec, row: m.Row) -> Domain:
    """The exceptions ``row`` raises by its ``Raise`` effects (TOP: it raises what a local it
    cannot follow holds)."""
    out: set[Any] = set()
    for e in row.effects:
        if not isinstance(e, m.Raise):
            continue
        if is_constant(e.exc):
            out.add(e.exc)
        elif isinstance(e.exc, m.Ref) and e.exc.path.startswith("local."):
            name = e.exc.path.removeprefix("local.")
            if name not in REPLY_LOCALS or _assigned(spec, name):
                return TOP
        else:
            return TOP
    return frozenset(out)


def _assigned(spec: Spec, local: str) -> bool:
    """Whether a row assigns the local ``local`` itself (the engine's answer no longer the
    only value it can hold)."""
    return any(isinstance(e, m.Set) and e.target == "local" and e.name == local
               for r in spec.rows for e in r.effects)


def _may_be_none(d: Domains, path: str, handler: str, known: dict[str, Domain]) -> bool:
    """Whether the reference ``path`` can resolve to None in a row of ``handler`` (``known``:
    the locals the row has already assigned)."""
    if path.startswith("local.") and path.removeprefix("local.") in known:
        v = known[path.removeprefix("local.")]
    else:
        v = d.of(path, handler)
    return v is TOP or None in v


def _effect_raises(spec: Spec, d: Domains, row: m.Row) -> Domain:
    """What running ``row``'s effects can raise out of it: its ``Raise`` and what each effect
    raises by itself (nothing when the row handles its own failure, ``on_fail``). Effects run
    in order, so a local an earlier effect of the row assigned is known to a later one."""
    if row.on_fail is not None:
        return frozenset()
    out: Domain = frozenset()
    known: dict[str, Domain] = {}
    h = row.handler
    for e in row.effects:
        kind = type(e)
        if kind is m.Raise:
            if is_constant(e.exc):
                out = _union(out, frozenset({e.exc}))
            else:  # a call's answer, re-raised: whatever any callee raised, or a timeout
                one = _raises(spec, dataclasses.replace(row, effects=(e,)))
                out = _union(out, d.exc if one is not TOP else TOP)
        elif kind is m.Send:
            if e.target != "conductor" and _may_be_none(d, e.target, h, known):
                out = _union(out, frozenset({"InstanceNotReady"}))
        elif kind is m.Quota:
            if e.op == "reserve":
                q = next((x for x in spec.quota_deltas if x.name == e.delta), None)
                refs = [] if q is None else [q.old] + ([q.new] if q.kind not in (
                    "delete", "create") and q.new is not None else [])
                if q is None or (q.kind not in ("delete", "create") and q.new is None) or any(
                        _may_be_none(d, r, h, known) for r in refs):
                    out = _union(out, frozenset({"TypeError"}))
                out = _union(out, frozenset({"OverQuota"}))
        elif kind in EFFECT_EXCEPTIONS:
            out = _union(out, EFFECT_EXCEPTIONS[kind])
        elif kind not in SILENT_EFFECTS:
            return TOP
        if kind is m.SelectDestination:
            known["host"] = frozenset({NAME})
        elif kind is m.Set and e.target == "local":
            known[e.name] = d.value(e.value, h)
    return out


def _started_directly(spec: Spec, chained: set[str]) -> set[str]:
    """The error handlers that a frame may also start in, or jump to (their ``exc`` may be
    None, or whatever the jumping handler was raising)."""
    out: set[str] = set()
    sent = {e.method for r in spec.rows for e in r.effects if isinstance(e, m.Send)}
    for h in chained:
        if (any(o.handler == h for o in spec.operations) or h in sent
                or h.removeprefix("conductor.") in sent):
            out.add(h)
    return out


def _handler_exceptions(spec: Spec, d: Domains) -> dict[str, Domain]:
    """Per handler, the exceptions ``exc`` can hold while its rows run.

    An exception raised by a row enters the row's scope chain (or, inside an error handler,
    the rest of the chain it was entered by; or a chain a ``Goto`` put in place); a row ending
    in ``<raise>`` passes its handler's on; a ``Goto`` carries its handler's exception (and the
    rest of its chain) to the handler it jumps to. Every handler but the error handlers only
    entered by a raise may also run with no exception (None)."""
    chains = [c for h in spec.handlers for _, c in h.scopes]
    overrides = [e.chain for r in spec.rows for e in r.effects
                 if isinstance(e, m.Goto) and e.chain is not None]
    every = chains + overrides
    chained = {x for c in every for x in c}
    jumps = {(r.handler, e.handler) for r in spec.rows for e in r.effects
             if isinstance(e, (m.Goto, m.Spawn))}
    direct = _started_directly(spec, chained) | {b for _, b in jumps}
    exc: dict[str, Domain] = {h.name: frozenset() for h in spec.handlers}
    for h in exc:
        if h not in chained or h in direct:
            exc[h] = frozenset({None})
    # the rest of a chain a handler may be running in (inside an error handler)
    rest: dict[str, set[tuple[str, ...]]] = {h: set() for h in exc}
    for c in every:
        for i, x in enumerate(c):
            rest.setdefault(x, set()).add(c[i + 1:])
    changed = True
    while changed:
        changed = False
        for a, b in jumps:
            if not rest[a] <= rest.setdefault(b, set()):
                rest[b] |= rest[a]
                changed = True
    view = dataclasses.replace(d, handler_exc=exc)
    changed = True
    while changed:
        changed = False
        for row in spec.rows:
            h = row.handler
            if not all(view.satisfiable(c, h) for c in row.when):
                continue
            targets: list[tuple[str, Domain]] = []
            raised = _effect_raises(spec, view, row)
            entered = set(rest[h])
            entered.add(spec.handler(h).chain(row.scope) if any(
                n == row.scope for n, _ in spec.handler(h).scopes) else ())
            entered.update(overrides)
            for c in entered:
                if c:
                    targets.append((c[0], raised))
            here = exc[h]
            if row.then == "<raise>":
                carried = here if here is TOP else here - {None}
                targets.extend((c[0], carried) for c in rest[h] if c)
            for e in row.effects:
                if isinstance(e, m.Goto):
                    targets.append((e.handler, here))
            for t, xs in targets:
                new = _union(exc.get(t, frozenset()), xs)
                if new != exc.get(t, frozenset()):
                    exc[t] = new
                    changed = True
    return exc


def _covered(spec: Spec, d: Domains, row: m.Row) -> bool:
    """Whether an ``otherwise`` row never runs: each exception its handler can be raising
    (never None) satisfies every condition of another row at its label that tests only
    ``exc``."""
    here = d.handler_exc.get(row.handler, TOP)
    if here is TOP or not here or None in here:
        return False
    others = [r for r in spec.rows_of(row.handler)
              if r.at == row.at and r is not row and r.fault is None and r.when
              and all(c.ref == "exc" and is_constant(c.value) and c.op in _TESTS
                      for c in r.when)]
    return all(any(all(_TESTS[c.op](x, c.value) for c in r.when) for r in others)
               for x in here)


def message_may_raise(spec: Spec, row: m.Row, k: int) -> bool:
    """Whether the message ``row.effects[k]`` (a :class:`~nova_resize.spec.model.Send`) can
    raise by itself: only when its target can be None in that row (InstanceNotReady)."""
    e = row.effects[k]
    if not isinstance(e, m.Send):
        raise TypeError(f"{row.id} effect {k} is not a message")
    if e.target == "conductor":
        return False
    if _ANALYSED[0] is not spec:
        _ANALYSED[:] = [spec, analyse(spec)]
    d: Domains = _ANALYSED[1]
    known: dict[str, Domain] = {}
    for x in row.effects[:k]:  # as _effect_raises follows the locals a row assigns
        if isinstance(x, m.SelectDestination):
            known["host"] = frozenset({NAME})
        elif isinstance(x, m.Set) and x.target == "local":
            known[x.name] = d.value(x.value, row.handler)
    return _may_be_none(d, e.target, row.handler, known)


_ANALYSED: list[Any] = [None, None]


def silent_rows(spec: Spec) -> frozenset[str]:
    """The rows that can raise nothing: each effect raises nothing by itself and the row has
    no ``Raise`` (or the row handles its own failure), or the row can never run. An error
    scope whose rows are all silent never enters its chain."""
    d = analyse(spec)
    return frozenset(r.id for r in spec.rows
                     if r.id in d.unreachable or _effect_raises(spec, d, r) == frozenset())



__all__ = ["EFFECT_EXCEPTIONS", "ENGINE_EXCEPTIONS", "REPLY_LOCALS", "SILENT_EFFECTS",
           "message_may_raise", "silent_rows"]
