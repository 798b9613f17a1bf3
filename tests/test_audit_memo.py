"""The engine remembers the resource tracker's audit steps (Engine._audit_step): the same
result as running the tables, on every audit a search of ci meets; only while the tables' audit
reads the instance and migration rows and its own host alone (engine/footprint.py), and only
for a step that wrote its host's record alone."""

from __future__ import annotations

import dataclasses

from nova_resize.engine.core import AUDIT, Engine, StepResult, _audit_delta
from nova_resize.engine.footprint import reads_rows_and_own_host
from nova_resize.engine.presets import load_preset
from nova_resize.engine.tables import Tables
from nova_resize.spec import LIBERTY
from nova_resize.spec import model as m


def test_every_remembered_audit_equals_the_tables_run() -> None:
    eng = Engine(load_preset("ci"))
    assert eng._audit_memo
    w0 = eng.initial()
    seen, frontier, audits = {w0}, [w0], 0
    while frontier and len(seen) < 20_000:
        nxt = []
        for w in frontier:
            for a in eng.enabled(w):
                res = eng.explore_step(w, a)
                if a[0] == "periodic" and a[1] == AUDIT:
                    audits += 1
                    fresh = eng._step(w, a)
                    assert res is not None
                    assert (res.world, res.rows, res.events, res.notifications, res.outcome,
                            res.sent, res.api) == (fresh.world, fresh.rows, fresh.events,
                                                   fresh.notifications, fresh.outcome,
                                                   fresh.sent, fresh.api)
                if res is not None and res.world not in seen:
                    seen.add(res.world)
                    nxt.append(res.world)
        frontier = nxt
    remembered = [v for v in eng._audit_steps.values() if v is not None]
    # most audits repeat one already taken: far fewer remembered than taken
    assert audits > 1000 and 0 < len(remembered) < audits / 5


def _audit_row(**kw: object) -> m.Row:
    row = LIBERTY.row("compute.update_available_resource.audit")
    return dataclasses.replace(row, **kw)  # type: ignore[arg-type]


def _tables(row: m.Row) -> Tables:
    rows = tuple(row if r.id == row.id else r for r in LIBERTY.rows)
    return Tables.compile(load_preset("ci"), dataclasses.replace(LIBERTY, rows=rows))


def test_an_audit_that_reads_or_writes_more_is_not_remembered() -> None:
    assert reads_rows_and_own_host(_tables(_audit_row()), AUDIT)
    reads_db = _audit_row(when=(m.Cond("db.instance.task_state", "==", None),))
    assert not reads_rows_and_own_host(_tables(reads_db), AUDIT)
    reads_lock = _audit_row(when=(m.Cond("self.lock", "falsy"),))
    assert not reads_rows_and_own_host(_tables(reads_lock), AUDIT)
    other_host = _audit_row(effects=(m.Claim("audit", host="local.dest"),))
    assert not reads_rows_and_own_host(_tables(other_host), AUDIT)
    saves = _audit_row(effects=(m.Claim("audit"), m.SaveInstance(guard=None)))
    assert not reads_rows_and_own_host(_tables(saves), AUDIT)


def test_a_step_that_changed_more_than_its_host_is_not_remembered() -> None:
    eng = Engine(load_preset("ci"))
    w = eng.initial()
    h = w.hosts[0]
    moved = w._replace(hosts=(h._replace(usage=(9, 9, 9)), *w.hosts[1:]))
    ok = _audit_delta(w, StepResult(moved, ["r"], []), h)
    assert ok is not None and ok[0] == moved.hosts[0]
    more = moved._replace(budgets=())
    assert _audit_delta(w, StepResult(more, ["r"], []), h) is None
    other = w._replace(hosts=(h, w.hosts[1]._replace(usage=(9, 9, 9)), *w.hosts[2:]))
    assert _audit_delta(w, StepResult(other, ["r"], []), h) is None
    assert _audit_delta(w, StepResult(w, ["r"], []), h) == (None, ("r",), (), (), None, ())
