"""Running a handler's rows: which row applies at a label, executing it, moving to the next
label, raising into the error chain, ending (and answering a waiting caller).

These functions act on a step in progress (:class:`~nova_resize.engine.tx.Tx`) and one running
handler (:class:`~nova_resize.engine.tx.WFrame`), with the compiled :class:`Tables`.
"""

from __future__ import annotations

from typing import Any

from nova_resize.spec import END, RAISE
from nova_resize.spec import model as m

from nova_resize.errors import RunawayStep, SpecError

from . import effects
from .effects import Refused
from .notify import usage_notification
from .tables import Tables
from .tx import Event, Notification, NovaError, Tx, WFrame, replaced
from .world import Frame

USAGE_PREFIX = "compute.instance."

MAX_EAGER_ROWS = 200
"""A step that runs more memory-only rows than this without reaching a row that can block,
write or send is a loop in the tables (a variant's rows going round a label cycle), not Nova:
the longest real chain is about a dozen rows."""


def applicable(tb: Tables, tx: Tx, fr: Frame | WFrame) -> list[m.Row]:
    """The non-fault rows at the frame's label whose conditions hold (``otherwise`` rows only
    when no other does). More than one is a spec error. (The label's choice is generated code:
    engine/compiled.py.)"""
    ch = tb.choosers.get((fr.handler, fr.label))
    if ch is None:
        ch = tb.chooser(fr.handler, fr.label)
    return ch(tb, tx, fr)


def faults_at(tb: Tables, tx: Tx, fr: Frame | WFrame) -> list[m.Row]:
    """The fault rows that may run instead of the frame's next step (budget left)."""
    return [
        r
        for r in tb.fault_rows.get((fr.handler, fr.label), [])
        if tx.budgets.get(f"fault:{r.fault}", 0) > 0 and tb.test(r.when)(tb, tx, fr)
    ]


def exec_row(tb: Tables, tx: Tx, fr: WFrame, row: m.Row) -> None:
    """Execute one row: its effects in order, its notifications, then its ``then`` label (or
    the error chain when an effect raised)."""
    tx.rows.append(row.id)
    for n in row.notify_before:
        send_usage(tx, fr, usage_notification(tb, n, fr, row.id))
    before = (fr.handler, fr.label)
    try:
        for eff in row.effects:
            effects.apply(tb, tx, fr, eff, row)
    except NovaError as e:
        if row.on_fail is not None:
            fr.locals["inner_exc"] = e.exc
            goto(tb, tx, fr, row.on_fail)
        else:
            raise_(tb, tx, fr, e.exc, row.scope)
        return
    except Refused as r:
        tx.outcome = f"refused: {r.exc} (HTTP {r.http})"
        tx.refusal = (r.exc, r.http)
        end(tx, fr, ok=False, refused=True)
        return
    for n in row.notify:
        send_usage(tx, fr, usage_notification(tb, n, fr, row.id))
    for n in row.notify_late:
        send_usage(tx, fr, replaced(usage_notification(tb, n, fr, row.id), late=True))
    if (fr.handler, fr.label) != before and any(isinstance(e, m.Goto) for e in row.effects):
        return  # a Goto chose where to continue
    goto(tb, tx, fr, row.then)


def send_usage(tx: Tx, fr: WFrame, n: Notification) -> None:
    """Emit a usage notification and keep the frame's history of them: ``<op>.start`` opens
    ``op``, ``<op>.end`` or ``<op>.error`` closes it. An ``.end`` this invocation never started
    is a ``usage_unpaired`` event (an ``.error`` may stand alone: Nova sends some without a
    start). Nova itself keeps no such record: properties read it."""
    tx.notifications.append(n)
    op, _, phase = n.event_type.removeprefix(USAGE_PREFIX).rpartition(".")
    if not op or phase not in ("start", "end", "error"):
        return
    if phase == "start":
        if op not in fr.usage:
            fr.usage = tuple(sorted((*fr.usage, op)))
    elif op in fr.usage:
        fr.usage = tuple(u for u in fr.usage if u != op)
    elif phase == "end":
        tx.events.append(Event("usage_unpaired", fr.method, (fr.instance.name, n.event_type)))


def goto(tb: Tables, tx: Tx, fr: WFrame, target: str) -> None:
    if target == END:
        end(tx, fr, ok=True)
    elif target == RAISE:
        enter_chain(tb, tx, fr, fr.chain or ())
    else:
        fr.label = target


def raise_(tb: Tables, tx: Tx, fr: WFrame, exc: str, scope: str) -> None:
    """``exc`` escapes the row: on to the error handlers of its scope (or of the chain the
    frame is already in)."""
    fr.exc = exc
    tx.events.append(Event("raise", fr.method, (fr.instance.name, exc)))
    if fr.chain is not None:
        chain = fr.chain  # raised inside an error handler: on to the next one
    elif fr.override is not None:
        chain = fr.override
    else:
        chain = tb.handlers[fr.handler].chain(scope)
    enter_chain(tb, tx, fr, chain)


def enter_chain(tb: Tables, tx: Tx, fr: WFrame, chain: tuple[str, ...]) -> None:
    if not chain:
        end(tx, fr, ok=False)
        return
    fr.handler = chain[0]
    fr.label = tb.handlers[chain[0]].entry
    fr.chain = chain[1:]


def end(tx: Tx, fr: WFrame, ok: bool, refused: bool = False) -> None:
    """The handler returns (``ok``), raises out of its last error handler, or nova-api turns
    the request down on purpose (``refused``); a caller waiting on it gets its reply. An
    exception out of nova-api's own handler is an ``api_error`` event (the user's HTTP 500)."""
    fr.ended = True
    tx.events.append(Event("frame_end", fr.method, (fr.service, fr.instance.name, ok, fr.exc)))
    if ok and (fr.dirty or fr.mig_dirty):
        _unsaved(tx, fr)
    if fr.service == "api" and not ok and not refused:
        last = tx.rows[-1] if tx.rows else fr.handler
        tx.events.append(Event("api_error", fr.method, (fr.instance.name, fr.exc, last)))
    if fr.usage:
        tx.events.append(Event("usage_open", fr.method,
                               (fr.instance.name, ok, fr.exc, fr.usage)))
    tx.frames.pop(fr.id, None)
    held = _reservation_ids(fr.locals.values()) - set(fr.handed)
    if held:
        _abandoned(tx, fr, held, ok)
    if fr.service == "api" and tx.outcome is None:
        tx.outcome = "accepted" if ok else f"error: {fr.exc}"
    if fr.reply_to is not None:
        caller = tx.frames.get(fr.reply_to)
        if caller is not None and caller.waiting:
            caller = tx.thaw(fr.reply_to)
            caller.locals["reply"] = "ok" if ok else (fr.exc or "Exception")
            caller.waiting = False


def _unsaved(tx: Tx, fr: WFrame) -> None:
    """An ``unsaved_changes`` event when a handler returns holding changes it never saved:
    fields of its instance or migration whose value differs from the database's (the request's
    objects go away with it, and so do the changes)."""
    lost: list[str] = []
    db = tx.instances[tx.inst_index(fr.instance.name)]
    if not db.deleted:
        lost += [f"instance.{f}" for f in sorted(fr.dirty)
                 if getattr(fr.instance, f) != getattr(db, f)]
    if fr.migration is not None and fr.migration.id in tx.migrations:
        mdb = tx.migrations[fr.migration.id]
        lost += [f"migration.{f}" for f in sorted(fr.mig_dirty)
                 if getattr(fr.migration, f) != getattr(mdb, f)]
    if lost:
        last = tx.rows[-1] if tx.rows else fr.handler
        tx.events.append(Event("unsaved_changes", last,
                               (fr.method, fr.instance.name, tuple(lost))))


def run_eager(tb: Tables, tx: Tx, fr: WFrame) -> None:
    """Run rows that only touch the handler's memory (no database, message or host effect) at
    once: nothing else can observe the difference."""
    ran: list[str] = []
    while not fr.ended and not fr.waiting:
        key = (fr.handler, fr.label)
        if key in tb.fault_rows:
            return
        rows = applicable(tb, tx, fr)
        if not rows or not tb.eager[rows[0].id]:
            return
        ran.append(rows[0].id)
        if len(ran) > MAX_EAGER_ROWS:
            loop = list(dict.fromkeys(ran[-20:]))
            raise RunawayStep(
                f"one step of {fr.method} ran more than {MAX_EAGER_ROWS} rows that neither "
                f"block, write nor send; the rows go round a loop: {', '.join(loop)}"
            )
        exec_row(tb, tx, fr, rows[0])


def run_one(tb: Tables, tx: Tx, fr: WFrame, choice: int = 0) -> None:
    """The frame's next row (``choice``: the scheduler's pick), then its memory-only rows."""
    rows = applicable(tb, tx, fr)
    if not rows:
        raise SpecError(f"no row applies at {fr.handler}:{fr.label}")
    if choice:
        fr.locals["choice"] = choice
    exec_row(tb, tx, fr, rows[0])
    run_eager(tb, tx, fr)


__all__ = [
    "MAX_EAGER_ROWS",
    "applicable",
    "end",
    "enter_chain",
    "exec_row",
    "faults_at",
    "goto",
    "raise_",
    "run_eager",
    "run_one",
    "usage_notification",
]


def _reservation_ids(values: Any) -> set[str]:
    """The quota reservation ids among ``values`` (a handler's locals or a message's
    arguments): reservations travel as tuples of ids such as ``vm1/2``."""
    out: set[str] = set()
    for v in values:
        if isinstance(v, tuple) and v and all(isinstance(x, str) and "/" in x for x in v):
            out.update(v)
    return out


def _abandoned(tx: Tx, fr: WFrame, held: set[str], ok: bool) -> None:
    """A ``quota_abandoned`` event for each pending reservation the ending handler held, never
    handed on in a message (:attr:`WFrame.handed`), and that nothing else holds (no other
    running handler, no message in flight): nothing can commit or roll it back any more, and
    only reservation_expire will. The event names the row the handler ended on. A reservation
    handed on and then lost (a lost cast, a crashed receiver) is not this handler's doing: the
    pending reservation at quiescence reports it. History for properties: Nova keeps no such
    record."""
    res = tx.reservations
    pending = {r for r in held if r in res and res[r].status == "pending"}
    if not pending:
        return
    for other in tx.frames.values():
        locs = other.locals.values() if isinstance(other, WFrame) else (v for _, v in other.locals)
        pending -= _reservation_ids(locs)
    for msg in tx.messages:
        pending -= _reservation_ids(v for _, v in msg.args)
    last = tx.rows[-1] if tx.rows else fr.handler
    for rid in sorted(pending):
        tx.events.append(Event("quota_abandoned", fr.method,
                               (fr.instance.name, rid, res[rid].row, last, ok, fr.exc)))
