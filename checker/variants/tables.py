"""Patching the tables around the rows: handlers and their error chains, API operations and
their validations, migration status edges, and the resource tracker's rules."""

from __future__ import annotations

import dataclasses
from typing import Any

from nova_resize.engine.config import escape_key as _esc
from nova_resize.spec import model as m

from nova_resize.errors import ConfigError

from .patch import Patch
from .values import parse_conds

HANDLER_KEYS = ("name", "service", "cite", "entry", "scopes", "summary")
OPERATION_KEYS = ("name", "cite", "handler", "lock_check", "vm_states", "task_states",
                  "must_have_launched", "takes_flavor", "takes_host", "quota", "sends",
                  "summary", "instance_action")
VALIDATION_KEYS = ("operation", "id", "cite", "when", "exc", "http", "summary", "migration")
EDGE_KEYS = ("row", "dest", "source", "cite", "intended")
TRACKER_KEYS = tuple(f.name for f in dataclasses.fields(m.TrackerRules))


def _keys(t: dict[str, Any], where: str, allowed: tuple[str, ...]) -> None:
    for k in t:
        if k not in allowed:
            raise ConfigError(f"{where}.{_esc(k)}: unknown key (expected one of "
                              f"{', '.join(allowed)})")


def _str(t: dict[str, Any], k: str, where: str) -> str:
    v = t.get(k)
    if not isinstance(v, str) or not v:
        raise ConfigError(f"{where}.{k}: expected a non-empty string, found {v!r}")
    return v


def _bool(t: dict[str, Any], k: str, where: str, default: bool) -> bool:
    v = t.get(k, default)
    if not isinstance(v, bool):
        raise ConfigError(f"{where}.{k}: expected a boolean, found {v!r}")
    return v


def _names(v: Any, where: str, none_ok: bool = False) -> tuple[Any, ...]:
    """An array of names; "None" in it is None when ``none_ok``."""
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{where}: expected an array of strings, found {v!r}")
    return tuple(None if none_ok and x == "None" else x for x in v)


def _scopes(v: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    if not isinstance(v, dict) or not v:
        raise ConfigError(f"{where}: expected a table of scope = [error handlers, innermost "
                          f"first], found {v!r}")
    return tuple((str(k), _names(chain, f"{where}.{_esc(k)}")) for k, chain in v.items())


def apply_handlers(p: Patch) -> None:
    """[[handler]]: change an existing handler's error scopes (which decorators wrap it, in
    which order), entry, citation or summary; or declare a new handler."""
    for n, t in enumerate(p.tables("handler")):
        where = f"{p.source}: handler[{n}]"
        _keys(t, where, HANDLER_KEYS)
        name = _str(t, "name", where)
        idx = next((i for i, h in enumerate(p.handlers) if h.name == name), None)
        if idx is None:
            for k in ("service", "cite", "entry"):
                _str(t, k, where)
            if t["service"] not in ("api", "conductor", "compute"):
                raise ConfigError(f"{where}.service: expected api, conductor or compute, found "
                                  f"{t['service']!r}")
            scopes = _scopes(t["scopes"], where + ".scopes") if "scopes" in t else (
                ("body", ()),)
            p.handlers.append(m.Handler(name, t["service"], t["cite"], t["entry"], scopes,
                                        t.get("summary", "")))
        else:
            h = p.handlers[idx]
            if "service" in t and t["service"] != h.service:
                raise ConfigError(f"{where}.service: {name} runs on {h.service}; a handler "
                                  f"cannot move to another service")
            kw: dict[str, Any] = {}
            for k in ("cite", "entry", "summary"):
                if k in t:
                    kw[k] = _str(t, k, where)
            if "scopes" in t:
                new = dict(h.scopes)
                new.update(_scopes(t["scopes"], where + ".scopes"))
                kw["scopes"] = tuple(new.items())
            p.handlers[idx] = dataclasses.replace(h, **kw)
        p.changed.append(f"handler {name}")


def apply_operations(p: Patch) -> None:
    """[[operation]]: a new API operation, or changed fields of an existing one."""
    for n, t in enumerate(p.tables("operation")):
        where = f"{p.source}: operation[{n}]"
        _keys(t, where, OPERATION_KEYS)
        name = _str(t, "name", where)
        kw: dict[str, Any] = {}
        for k in ("cite", "handler", "quota", "sends", "summary", "instance_action"):
            if k in t:
                kw[k] = _str(t, k, where)
        for k in ("lock_check", "must_have_launched", "takes_flavor", "takes_host"):
            if k in t:
                kw[k] = _bool(t, k, where, False)
        if "vm_states" in t:
            kw["vm_states"] = None if t["vm_states"] == "any" else _names(
                t["vm_states"], where + ".vm_states")
        if "task_states" in t:
            kw["task_states"] = None if t["task_states"] == "any" else _names(
                t["task_states"], where + ".task_states", none_ok=True)
        idx = next((i for i, o in enumerate(p.ops) if o.name == name), None)
        if idx is None:
            for k in ("cite", "handler"):
                if k not in kw:
                    raise ConfigError(f"{where}.{k}: missing (a new operation needs name, cite "
                                      f"and handler)")
            kw.setdefault("lock_check", True)
            kw.setdefault("vm_states", None)
            kw.setdefault("task_states", (None,))
            kw.setdefault("must_have_launched", True)
            p.ops.append(m.ApiOperation(name=name, **kw))
        else:
            p.ops[idx] = dataclasses.replace(p.ops[idx], **kw)
        p.changed.append(f"operation {name}")


def apply_validations(p: Patch) -> None:
    """[[validation]]: a new precondition of an API operation, checked before it writes;
    ``migration`` makes the operation's migration lookup available to its conditions."""
    for n, t in enumerate(p.tables("validation")):
        where = f"{p.source}: validation[{n}]"
        _keys(t, where, VALIDATION_KEYS)
        opname = t.get("operation")
        idx = next((k for k, o in enumerate(p.ops) if o.name == opname), None)
        if idx is None:
            raise ConfigError(f"{where}.operation: expected one of "
                              f"{', '.join(o.name for o in p.ops)}, found {opname!r}")
        for k in ("id", "cite", "exc", "summary"):
            _str(t, k, where)
        http = t.get("http", 400)
        if not isinstance(http, int) or isinstance(http, bool) or not 100 <= http <= 599:
            raise ConfigError(f"{where}.http: expected an HTTP status, found {http!r}")
        lookup = t.get("migration")
        statuses = None if lookup is None else _names(lookup, where + ".migration")
        v = m.Validation(t["id"], t["cite"], parse_conds(t.get("when", []), where + ".when"),
                         t["exc"], http, t["summary"], statuses)
        p.ops[idx] = dataclasses.replace(p.ops[idx], validations=(*p.ops[idx].validations, v))
        p.changed.append(t["id"])


def apply_edges(p: Patch) -> None:
    """[[migration_edge]]: declare that a row moves migration.status along an edge (so that a
    fix writing a new status is not reported as an illegal move)."""
    for n, t in enumerate(p.tables("migration_edge")):
        where = f"{p.source}: migration_edge[{n}]"
        _keys(t, where, EDGE_KEYS)
        row = _str(t, "row", where)
        p.find(row, where + ".row")
        dest = _str(t, "dest", where)
        src = t.get("source", "any")
        source = None if src == "any" else _names(src, where + ".source")
        p.edges.append(m.MigrationEdge(row, dest, source, _str(t, "cite", where),
                                       _bool(t, "intended", where, True)))
        p.changed.append(row)


def apply_tracker(p: Patch) -> None:
    """[resource_tracker]: change the resource tracker's claim and audit rules."""
    t = p.data.get("resource_tracker")
    if t is None:
        return
    where = f"{p.source}: resource_tracker"
    if not isinstance(t, dict):
        raise ConfigError(f"{where}: expected a table [resource_tracker]")
    _keys(t, where, TRACKER_KEYS)
    assert p.tracker is not None
    kw: dict[str, Any] = {}
    for k, v in t.items():
        if k in ("update_usage_tracked_only", "drop_needs_flavor_match"):
            kw[k] = _bool(t, k, where, True)
        elif k == "latest_migration":
            if v not in ("updated_at_py27", "updated_at_or_created"):
                raise ConfigError(f"{where}.latest_migration: expected updated_at_py27 or "
                                  f"updated_at_or_created, found {v!r}")
            kw[k] = v
        elif k == "claim_resources":
            names = _names(v, f"{where}.{k}")
            bad = [x for x in names if x not in ("vcpus", "memory_mb", "root_gb")]
            if bad:
                raise ConfigError(f"{where}.{k}: expected vcpus, memory_mb or root_gb, found "
                                  f"{bad[0]!r}")
            kw[k] = names
        elif k == "in_progress_excluded":
            kw[k] = _names(v, f"{where}.{k}")
        else:
            kw[k] = _str(t, k, where)
    p.tracker = dataclasses.replace(p.tracker, **kw)
    p.changed.append("resource_tracker")


__all__ = ["apply_edges", "apply_handlers", "apply_operations", "apply_tracker",
           "apply_validations"]
