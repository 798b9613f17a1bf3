"""Worlds as JSON, and back, exactly: ``world_from_json(world_to_json(w)) == w``, with the same
record types, frozensets and tuples (so the result hashes like the original and the engine can
step on from it).

The document is versioned (``{"format": "nova-resize-world", "version": 1, ...}``). Records are
objects keyed by their field names; sets are sorted arrays; the free-form values of handler
locals and RPC arguments are JSON scalars or tagged containers (``{"tuple": [...]}``,
``{"list": [...]}``, ``{"frozenset": [...]}``, ``{"dict": [[key, value], ...]}``). A malformed
document raises :class:`~nova_resize.errors.InputError` naming the path of the bad value.
"""

from __future__ import annotations

import json
from typing import Any

from nova_resize.errors import InputError

from .world import (
    Frame,
    Host,
    Instance,
    Message,
    Migration,
    Quota,
    Requests,
    Reservation,
    World,
)

FORMAT = "nova-resize-world"
VERSION = 1

_SCALARS = (str, int, float, bool, type(None))


# ---- free-form values -------------------------------------------------------------------------


def _value_to_json(v: Any, where: str) -> Any:
    if isinstance(v, _SCALARS):
        return v
    kind = type(v)
    if kind is tuple:
        return {"tuple": [_value_to_json(x, where) for x in v]}
    if kind is list:
        return {"list": [_value_to_json(x, where) for x in v]}
    if kind is frozenset:
        items = [_value_to_json(x, where) for x in v]
        return {"frozenset": sorted(items, key=lambda x: json.dumps(x, sort_keys=True))}
    if kind is dict:
        return {"dict": [[_value_to_json(k, where), _value_to_json(x, where)]
                         for k, x in v.items()]}
    raise InputError(f"{where}: a {kind.__name__} cannot be written as JSON")


def _value_from_json(d: Any, where: str) -> Any:
    if isinstance(d, _SCALARS):
        return d
    if isinstance(d, dict) and len(d) == 1:
        ((tag, items),) = d.items()
        if tag == "dict" and isinstance(items, list):
            out = {}
            for n, pair in enumerate(items):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise InputError(f"{where}.dict[{n}]: expected a [key, value] pair")
                out[_value_from_json(pair[0], where)] = _value_from_json(pair[1], where)
            return out
        if tag in ("tuple", "list", "frozenset") and isinstance(items, list):
            vals = [_value_from_json(x, f"{where}.{tag}[{n}]") for n, x in enumerate(items)]
            return {"tuple": tuple, "list": list, "frozenset": frozenset}[tag](vals)
    raise InputError(f"{where}: expected a JSON scalar or a tagged container "
                     f"(tuple, list, frozenset, dict), found {d!r}")


def _pairs_to_json(pairs: tuple[tuple[str, Any], ...], where: str) -> list[list[Any]]:
    return [[k, _value_to_json(v, f"{where}.{k}")] for k, v in pairs]


def _pairs_from_json(d: Any, where: str) -> tuple[tuple[str, Any], ...]:
    if not isinstance(d, list):
        raise InputError(f"{where}: expected an array of [name, value] pairs")
    out = []
    for n, pair in enumerate(d):
        if not isinstance(pair, list) or len(pair) != 2 or not isinstance(pair[0], str):
            raise InputError(f"{where}[{n}]: expected a [name, value] pair")
        out.append((pair[0], _value_from_json(pair[1], f"{where}.{pair[0]}")))
    return tuple(out)


# ---- typed fields ------------------------------------------------------------------------------


def _get(d: Any, key: str, where: str) -> Any:
    if not isinstance(d, dict):
        raise InputError(f"{where}: expected an object")
    if key not in d:
        raise InputError(f"{where}.{key}: missing")
    return d[key]


def _scalar(v: Any, kinds: tuple[type, ...], where: str) -> Any:
    if isinstance(v, bool) and bool not in kinds:
        raise InputError(f"{where}: expected {' or '.join(k.__name__ for k in kinds)}, "
                         f"found {v!r}")
    if not isinstance(v, kinds):
        raise InputError(f"{where}: expected {' or '.join(k.__name__ for k in kinds)}, "
                         f"found {v!r}")
    return v


def _str_tuple(v: Any, where: str, optional: bool = False) -> tuple[str, ...] | None:
    if v is None and optional:
        return None
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise InputError(f"{where}: expected an array of strings")
    return tuple(v)


def _str_set(v: Any, where: str) -> frozenset[str]:
    t = _str_tuple(v, where)
    assert t is not None
    return frozenset(t)


def _int_tuple(v: Any, n: int, where: str) -> tuple[int, ...]:
    if not isinstance(v, list) or len(v) != n or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise InputError(f"{where}: expected an array of {n} integers")
    return tuple(v)


_OPT_STR = (str, type(None))

_INSTANCE_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "vm_state": (str,), "task_state": _OPT_STR, "power_state": (int,),
    "host": _OPT_STR, "flavor": (str,), "old_flavor": _OPT_STR, "new_flavor": _OPT_STR,
    "old_vm_state": _OPT_STR, "launched": (bool,), "locked": (bool,), "deleted": (bool,),
    "progress": (int, type(None)),
}
_MIGRATION_TYPES: dict[str, tuple[type, ...]] = {
    **{f: (str,) for f in Migration._fields}, "updated_at": (int, type(None))}
_REQUESTS_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "pre_resize_vm_state": _OPT_STR, "delete_requested": (bool,),
    "delete_any": (bool,)}


def _flat(record: Any) -> dict[str, Any]:
    return dict(zip(record._fields, record, strict=True))


def _flat_from(cls: Any, types: dict[str, tuple[type, ...]], d: Any, where: str) -> Any:
    """A record from its JSON object; a field the object lacks takes the record's default, if
    it has one (a document written before the field existed)."""
    defaults = cls._field_defaults
    values = []
    for f in cls._fields:
        if isinstance(d, dict) and f not in d and f in defaults:
            values.append(defaults[f])
        else:
            values.append(_scalar(_get(d, f, where), types[f], f"{where}.{f}"))
    return cls(*values)


def instance_to_json(i: Instance) -> dict[str, Any]:
    """An instance record as a JSON object."""
    return _flat(i)


def instance_from_json(d: Any, where: str = "instance") -> Instance:
    """The instance :func:`instance_to_json` wrote."""
    return _flat_from(Instance, _INSTANCE_TYPES, d, where)  # type: ignore[no-any-return]


def _migration_from(d: Any, where: str) -> Migration | None:
    return None if d is None else _flat_from(Migration, _MIGRATION_TYPES, d, where)


def _host_to_json(h: Host) -> dict[str, Any]:
    return {"name": h.name, "status": h.status, "usage": list(h.usage),
            "tracked_instances": sorted(h.tracked_instances),
            "tracked_migrations": sorted(list(t) for t in h.tracked_migrations),
            "disks": sorted(h.disks), "running": sorted(h.running),
            "resize_disks": sorted(h.resize_disks)}


def _host_from_json(d: Any, where: str) -> Host:
    tm = _get(d, "tracked_migrations", where)
    if not isinstance(tm, list) or not all(
            isinstance(t, list) and len(t) == 3 and all(isinstance(x, str) for x in t)
            for t in tm):
        raise InputError(f"{where}.tracked_migrations: expected an array of "
                         f"[instance, flavor, migration id] triples")
    return Host(
        _scalar(_get(d, "name", where), (str,), f"{where}.name"),
        _scalar(_get(d, "status", where), (str,), f"{where}.status"),
        _int_tuple(_get(d, "usage", where), 3, f"{where}.usage"),  # type: ignore[arg-type]
        _str_set(_get(d, "tracked_instances", where), f"{where}.tracked_instances"),
        frozenset(tuple(t) for t in tm),
        _str_set(_get(d, "disks", where), f"{where}.disks"),
        _str_set(_get(d, "running", where), f"{where}.running"),
        _str_set(d.get("resize_disks", []), f"{where}.resize_disks"),
    )


def _message_to_json(msg: Message, where: str) -> dict[str, Any]:
    return {"kind": msg.kind, "method": msg.method, "target": msg.target,
            "instance": _flat(msg.instance),
            "migration": None if msg.migration is None else _flat(msg.migration),
            "args": _pairs_to_json(msg.args, f"{where}.args"), "reply_to": msg.reply_to}


def _message_from_json(d: Any, where: str) -> Message:
    return Message(
        _scalar(_get(d, "kind", where), (str,), f"{where}.kind"),
        _scalar(_get(d, "method", where), (str,), f"{where}.method"),
        _scalar(_get(d, "target", where), (str,), f"{where}.target"),
        instance_from_json(_get(d, "instance", where), f"{where}.instance"),
        _migration_from(_get(d, "migration", where), f"{where}.migration"),
        _pairs_from_json(_get(d, "args", where), f"{where}.args"),
        _scalar(_get(d, "reply_to", where), _OPT_STR, f"{where}.reply_to"),
    )


def _frame_to_json(f: Frame, where: str) -> dict[str, Any]:
    return {"id": f.id, "service": f.service, "method": f.method, "handler": f.handler,
            "label": f.label, "instance": _flat(f.instance), "dirty": sorted(f.dirty),
            "seen_task": f.seen_task,
            "migration": None if f.migration is None else _flat(f.migration),
            "mig_dirty": sorted(f.mig_dirty), "locals": _pairs_to_json(f.locals, where),
            "exc": f.exc, "chain": None if f.chain is None else list(f.chain),
            "override": None if f.override is None else list(f.override),
            "waiting": f.waiting, "reply_to": f.reply_to, "lock": f.lock,
            "usage": list(f.usage), "handed": list(f.handed)}


def _frame_from_json(d: Any, where: str) -> Frame:
    def s(key: str, kinds: tuple[type, ...] = (str,)) -> Any:
        return _scalar(_get(d, key, where), kinds, f"{where}.{key}")

    return Frame(
        s("id"), s("service"), s("method"), s("handler"), s("label"),
        instance_from_json(_get(d, "instance", where), f"{where}.instance"),
        _str_set(_get(d, "dirty", where), f"{where}.dirty"),
        s("seen_task", _OPT_STR),
        _migration_from(_get(d, "migration", where), f"{where}.migration"),
        _str_set(_get(d, "mig_dirty", where), f"{where}.mig_dirty"),
        _pairs_from_json(_get(d, "locals", where), f"{where}.locals"),
        s("exc", _OPT_STR),
        _str_tuple(_get(d, "chain", where), f"{where}.chain", optional=True),
        _str_tuple(_get(d, "override", where), f"{where}.override", optional=True),
        s("waiting", (bool,)), s("reply_to", _OPT_STR), s("lock", (bool,)),
        _str_tuple(d.get("usage", []) if isinstance(d, dict) else [], f"{where}.usage")
        or (),
        _str_tuple(d.get("handed", []) if isinstance(d, dict) else [], f"{where}.handed")
        or (),
    )


def _reservation_from_json(d: Any, where: str) -> Reservation:
    deltas = _get(d, "deltas", where)
    if not isinstance(deltas, list) or not all(
            isinstance(x, list) and len(x) == 2 and isinstance(x[0], str)
            and isinstance(x[1], int) and not isinstance(x[1], bool) for x in deltas):
        raise InputError(f"{where}.deltas: expected an array of [resource, delta] pairs")
    return Reservation(_scalar(_get(d, "id", where), (str,), f"{where}.id"),
                       tuple((x[0], x[1]) for x in deltas),
                       _scalar(_get(d, "status", where), (str,), f"{where}.status"),
                       _scalar(_get(d, "row", where), (str,), f"{where}.row"))


def _list(d: Any, key: str, where: str) -> list[Any]:
    v = _get(d, key, where)
    if not isinstance(v, list):
        raise InputError(f"{where}.{key}: expected an array")
    return v


# ---- worlds ------------------------------------------------------------------------------------


def world_to_json(w: World) -> dict[str, Any]:
    """A world as a JSON-ready dict (``json.dumps`` takes it as it is)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "instances": [_flat(i) for i in w.instances],
        "migrations": [_flat(mg) for mg in w.migrations],
        "reservations": [{"id": r.id, "deltas": [list(x) for x in r.deltas],
                          "status": r.status, "row": r.row} for r in w.reservations],
        "quota": {"in_use": list(w.quota.in_use), "reserved": list(w.quota.reserved)},
        "hosts": [_host_to_json(h) for h in w.hosts],
        "messages": [_message_to_json(msg, f"messages[{n}]")
                     for n, msg in enumerate(w.messages)],
        "frames": [_frame_to_json(f, f"frames[{n}]") for n, f in enumerate(w.frames)],
        "budgets": [[k, v] for k, v in w.budgets],
        "requests": [_flat(r) for r in w.requests],
    }


def world_from_json(data: Any) -> World:
    """The world :func:`world_to_json` wrote (a dict, or its JSON text)."""
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as e:
            raise InputError(f"world: not valid JSON: {e.msg} (line {e.lineno})") from None
    w = "world"
    if _get(data, "format", w) != FORMAT:
        raise InputError(f"world.format: expected {FORMAT!r}, found {data['format']!r}")
    if _get(data, "version", w) != VERSION:
        raise InputError(f"world.version: expected {VERSION}, found {data['version']!r}")
    quota = _get(data, "quota", w)
    budgets = _list(data, "budgets", w)
    for n, b in enumerate(budgets):
        if not (isinstance(b, list) and len(b) == 2 and isinstance(b[0], str)
                and isinstance(b[1], int) and not isinstance(b[1], bool)):
            raise InputError(f"world.budgets[{n}]: expected a [name, count] pair")
    return World(
        tuple(instance_from_json(x, f"world.instances[{n}]")
              for n, x in enumerate(_list(data, "instances", w))),
        tuple(_flat_from(Migration, _MIGRATION_TYPES, x, f"world.migrations[{n}]")
              for n, x in enumerate(_list(data, "migrations", w))),
        tuple(_reservation_from_json(x, f"world.reservations[{n}]")
              for n, x in enumerate(_list(data, "reservations", w))),
        Quota(_int_tuple(_get(quota, "in_use", "world.quota"), 3,  # type: ignore[arg-type]
                         "world.quota.in_use"),
              _int_tuple(_get(quota, "reserved", "world.quota"), 3,  # type: ignore[arg-type]
                         "world.quota.reserved")),
        tuple(_host_from_json(x, f"world.hosts[{n}]")
              for n, x in enumerate(_list(data, "hosts", w))),
        tuple(_message_from_json(x, f"world.messages[{n}]")
              for n, x in enumerate(_list(data, "messages", w))),
        tuple(_frame_from_json(x, f"world.frames[{n}]")
              for n, x in enumerate(_list(data, "frames", w))),
        tuple((b[0], b[1]) for b in budgets),
        tuple(_flat_from(Requests, _REQUESTS_TYPES, x, f"world.requests[{n}]")
              for n, x in enumerate(_list(data, "requests", w))),
    )


def world_dumps(w: World) -> str:
    """A world as JSON text (keys sorted: equal worlds give equal text)."""
    return json.dumps(world_to_json(w), sort_keys=True)


__all__ = ["FORMAT", "VERSION", "instance_from_json", "instance_to_json", "world_dumps",
           "world_from_json", "world_to_json"]
