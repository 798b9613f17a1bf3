"""Patching rows: remove, guard, move_quota, replace, add."""

from __future__ import annotations

import dataclasses
from typing import Any

from nova_resize.engine.config import escape_key as _esc
from nova_resize.spec import model as m

from nova_resize.errors import ConfigError

from .patch import Patch
from .values import parse_conds, parse_effect

ROW_FIELDS = {f.name: f for f in dataclasses.fields(m.Row)}
_STRING_TUPLES = ("notify", "notify_before", "notify_late")


def row_kwargs(d: dict[str, Any], where: str, required: bool) -> dict[str, Any]:
    """The Row fields of a [[replace]] or [[add]] table."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if k == "row":
            continue
        if k not in ROW_FIELDS:
            raise ConfigError(f"{where}.{_esc(k)}: unknown row field (expected "
                              f"{', '.join(ROW_FIELDS)})")
        if k == "when":
            out[k] = parse_conds(v, f"{where}.when")
        elif k == "effects":
            if not isinstance(v, list):
                raise ConfigError(f"{where}.effects: expected an array of tables, found {v!r}")
            out[k] = tuple(parse_effect(e, f"{where}.effects[{n}]") for n, e in enumerate(v))
        elif k in _STRING_TUPLES:
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ConfigError(f"{where}.{k}: expected an array of event types, found {v!r}")
            out[k] = tuple(v)
        elif k == "otherwise":
            if not isinstance(v, bool):
                raise ConfigError(f"{where}.{k}: expected a boolean, found {v!r}")
            out[k] = v
        else:
            if v is not None and not isinstance(v, str):
                raise ConfigError(f"{where}.{k}: expected a string, found {v!r}")
            out[k] = v
    if required:
        for k in ("id", "handler", "at", "cite", "summary"):
            if k not in out:
                raise ConfigError(f"{where}.{k}: missing (a new row needs id, handler, at, "
                                  f"cite, summary)")
    return out


def _redirect(r: m.Row, gone: m.Row) -> m.Row:
    """``r`` with its way to ``gone``'s label (its ``then``, its ``on_fail``, a Goto) sent to
    ``gone.then`` instead: that label has no row left."""
    def here(label: str | None) -> bool:
        return r.handler == gone.handler and label == gone.at

    kw: dict[str, Any] = {}
    if here(r.then):
        kw["then"] = gone.then
    if here(r.on_fail):
        kw["on_fail"] = gone.then
    if any(isinstance(e, m.Goto) and e.handler == gone.handler and e.label == gone.at
           for e in r.effects):
        kw["effects"] = tuple(dataclasses.replace(e, label=gone.then)
                              if isinstance(e, m.Goto) and e.handler == gone.handler
                              and e.label == gone.at else e for e in r.effects)
    return dataclasses.replace(r, **kw) if kw else r


def apply_rows(p: Patch) -> None:
    """[[remove]], [[guard]], [[move_quota]], [[replace]], [[add]], in that order."""
    rows = p.rows
    for n, t in enumerate(p.tables("remove")):
        i = p.find(t.get("row"), f"{p.source}: remove[{n}].row")
        gone = rows.pop(i)
        p.changed.append(gone.id)
        p.removed.append(gone.id)
        # a removed row makes no status moves: its migration edges go with it
        p.edges = [e for e in p.edges if e.row != gone.id]
        same = [r for r in rows if r.handler == gone.handler and r.at == gone.at]
        if not same:  # the label disappears: whoever went there goes to the row's `then`
            rows[:] = [_redirect(r, gone) for r in rows]
            p.handlers = [dataclasses.replace(h, entry=gone.then)
                          if h.name == gone.handler and h.entry == gone.at else h
                          for h in p.handlers]
    for n, t in enumerate(p.tables("guard")):
        where = f"{p.source}: guard[{n}]"
        i = p.find(t.get("row"), where + ".row")
        g = t.get("expected_task_state")
        if g == "none":
            guard = None
        elif isinstance(g, list):
            guard = tuple(None if x in ("None", None) else x for x in g)
        else:
            raise ConfigError(f"{where}.expected_task_state: expected an array of task states "
                              f"or \"none\", found {g!r}")
        r = rows[i]
        if not any(isinstance(e, m.SaveInstance) for e in r.effects):
            raise ConfigError(f"{where}.row: {r.id} has no instance save to guard")
        effs = tuple(dataclasses.replace(e, guard=guard) if isinstance(e, m.SaveInstance) else e
                     for e in r.effects)
        rows[i] = dataclasses.replace(r, effects=effs)
        p.changed.append(r.id)
    for n, t in enumerate(p.tables("move_quota")):
        where = f"{p.source}: move_quota[{n}]"
        i = p.find(t.get("from"), where + ".from")
        j = p.find(t.get("to"), where + ".to")
        q = [e for e in rows[i].effects if isinstance(e, m.Quota)]
        if not q:
            raise ConfigError(f"{where}.from: {rows[i].id} has no quota action")
        rows[i] = dataclasses.replace(rows[i], effects=tuple(e for e in rows[i].effects
                                                             if not isinstance(e, m.Quota)))
        target = rows[j]
        moved = list(target.effects)
        pos = next((k for k, e in enumerate(moved) if isinstance(e, (m.Raise, m.Send, m.Goto))),
                   len(moved))
        moved[pos:pos] = q
        rows[j] = dataclasses.replace(target, effects=tuple(moved))
        p.changed += [rows[i].id, rows[j].id]
    for n, t in enumerate(p.tables("replace")):
        where = f"{p.source}: replace[{n}]"
        i = p.find(t.get("row"), where + ".row")
        if "id" in t:
            raise ConfigError(f"{where}.id: a replaced row keeps its id (name it with row = "
                              f"...; add a row with another id with [[add]])")
        kw = row_kwargs(t, where, required=False)
        kw.pop("id", None)
        rows[i] = dataclasses.replace(rows[i], **kw)
        p.changed.append(rows[i].id)
    for n, t in enumerate(p.tables("add")):
        where = f"{p.source}: add[{n}]"
        kw = row_kwargs(t, where, required=True)
        if any(r.id == kw["id"] for r in rows):
            raise ConfigError(f"{where}.id: a row {kw['id']!r} exists already (use [[replace]])")
        if not any(h.name == kw["handler"] for h in p.handlers):
            raise ConfigError(f"{where}.handler: no handler {kw['handler']!r} (declare a new one "
                              f"with [[handler]])")
        rows.append(m.Row(**kw))
        p.changed.append(kw["id"])


__all__ = ["ROW_FIELDS", "apply_rows", "row_kwargs"]
