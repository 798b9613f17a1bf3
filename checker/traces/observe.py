"""Observations of a real cloud, read from what operators have (docs/formats.md, "Observations
and notifications"):

- ``nova list`` and ``nova show`` tables as pasted, prompts, command echoes and prose included
  (format ``nova-list``);
- server JSON: ``openstack server show -f json`` (flavor ``"m1.tiny (1)"``) or the API's
  ``{"server": {...}}`` (flavor ``{"id": "1"}``), one document, an array or JSON Lines
  (``server-show``);
- notifications captured off the bus, bare or in the oslo.messaging 2.0 envelope, as JSON Lines
  or a JSON array (``notifications``);
- instance actions (``{"instanceActions": [...]}``, ``instance-actions``).

Every reader returns :class:`Obs` records; a malformed file raises :class:`ObservationError`
naming the file and line. Timestamps are parsed (:mod:`.timestamps`): a file whose
observations are out of time order is sorted, with a warning; several files are merged by time
when every observation has one. :func:`observations_from_records` builds the same records from
Python values (for :func:`~nova_resize.checker.traces.validate.validate_observations`).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from nova_resize.spec import Spec
from nova_resize.spec.states import LIBERTY_STATUSES, LIBERTY_TASK_STATES, LIBERTY_VM_STATES

from nova_resize.errors import ObservationError
from nova_resize.files import read_text

from .notifications import notification_fields, unwrap
from .tables import nova_list_rows, nova_show, parse_tables
from .timestamps import parse_time


@dataclass(frozen=True)
class Obs:
    """One observation.

    ``kind``: ``snapshot`` (a state: status, task_state, vm_state, host, flavor as far as given),
    ``notification`` (an event Nova emitted), ``action`` (a request nova-api accepted), or
    ``event_start`` / ``event_finish`` (an instance-action event of a compute or conductor
    method). ``time`` is the timestamp as written, ``at`` the same as a UTC datetime.
    """

    kind: str
    source: str
    instance: str
    time: str | None = None
    fields: tuple[tuple[str, Any], ...] = ()
    index: int = 0
    at: datetime | None = None

    def get(self, key: str, default: Any = None) -> Any:
        """The value of field ``key`` (``default`` when absent)."""
        for k, v in self.fields:
            if k == key:
                return v
        return default

    def has(self, key: str) -> bool:
        """Whether the observation gives ``key`` (a None value counts: ``task_state=None``)."""
        return any(k == key for k, _ in self.fields)

    def text(self) -> str:
        """One line for reports."""
        what = ", ".join(f"{k}={v}" for k, v in self.fields)
        return f"{self.source}: {self.kind} {self.instance}: {what}"


@dataclass
class ObservationSet:
    """Observations in the order to match them, with what they name: compute hosts (snapshot
    and payload hosts, usage notifications' publishers), flavors, instances, and the hosts
    that published ``compute.instance.update`` or ``delete.*`` (candidates for nova-api's and
    nova-conductor's)."""

    observations: list[Obs]
    formats: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    flavors: list[str] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    update_publishers: list[str] = field(default_factory=list)


FORMATS = ("nova-list", "server-show", "notifications", "instance-actions")


def _none(v: Any) -> str | None:
    if v in (None, "-", "None", "", "null"):
        return None
    return str(v)


def _known(v: str | None, known: tuple[str, ...], what: str, where: str) -> str | None:
    if v is not None and v not in known:
        raise ObservationError(f"{where}: unknown {what} {v!r} (not one of Liberty's "
                               f"{what}s)")
    return v


# ---- telling formats apart ----------------------------------------------------------------------

_JSON_START = re.compile(r'^\s*(\{|\[\s*(?:[{\["\]\d-]|true|false|null|$))')


def _json_records(text: str, name: str) -> list[tuple[str, Any]] | None:
    """(where, record) pairs of a JSON document (object or array) or of JSON Lines; None when
    the text is not JSON at all (a paste, even one that starts with a ``[root@host]#``
    prompt)."""
    stripped = text.strip()
    if not stripped:
        raise ObservationError(f"{name}:1: empty file")
    if not _JSON_START.match(stripped.splitlines()[0]):
        return None
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError:
        doc = None
    except RecursionError:
        raise ObservationError(f"{name}:1: JSON nested too deeply") from None
    if doc is not None:
        if isinstance(doc, list):
            return [(f"{name}[{n}]", x) for n, x in enumerate(doc)]
        return [(f"{name}:1", doc)]
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((f"{name}:{lineno}", json.loads(line)))
        except json.JSONDecodeError as e:
            raise ObservationError(f"{name}:{lineno}: not valid JSON: {e.msg}") from None
        except RecursionError:
            raise ObservationError(f"{name}:{lineno}: JSON nested too deeply") from None
    return out


def _json_kind(records: list[tuple[str, Any]]) -> str | None:
    for _, rec in records:
        if not isinstance(rec, dict):
            continue
        if "oslo.message" in rec or "event_type" in rec:
            return "notifications"
        if "server" in rec or "OS-EXT-STS:vm_state" in rec:
            return "server-show"
        if "instanceActions" in rec or "instanceAction" in rec or "action" in rec:
            return "instance-actions"
        if "migrations" in rec:
            return "migration-list"
    return None


def detect(text: str, name: str = "<text>") -> str:
    """The format of a file's content (one of :data:`FORMATS`)."""
    records = _json_records(text, name)
    if records is not None:
        if not records:
            raise ObservationError(f"{name}: no observations (an empty JSON array)")
        kind = _json_kind(records)
        if kind is None:
            raise ObservationError(f"{name}: JSON, but neither notifications, server JSON nor "
                                   f"instance actions (found no event_type, "
                                   f"OS-EXT-STS:vm_state or action); use --format")
        return kind
    if any(t.kind in ("nova-list", "nova-show") for t in parse_tables(text, name)):
        return "nova-list"
    raise ObservationError(f"{name}: cannot tell the format (expected a nova list or nova show "
                           f"table, server JSON, notifications or instance-action JSON); use "
                           f"--format")


# ---- snapshots ---------------------------------------------------------------------------------


def _flavor(v: Any) -> list[tuple[str, Any]]:
    """The flavor of a server: ``m1.tiny (1)`` (the clients) or ``{"id": "1"}`` (the API)."""
    if isinstance(v, dict):
        out = []
        if v.get("original_name") or v.get("name"):
            out.append(("flavor", str(v.get("original_name") or v.get("name"))))
        if v.get("id") not in (None, ""):
            out.append(("flavor_id", str(v["id"])))
        return out
    if isinstance(v, str) and v:
        m = re.match(r"^(?P<name>.*?) \((?P<id>[^()]*)\)$", v)
        if m:
            return [("flavor", m["name"]), ("flavor_id", m["id"])]
        return [("flavor", v)]
    return []


def server_obs(rec: Mapping[str, Any], where: str, n: int) -> Obs:
    """A snapshot from one server document (client or API form)."""
    if "server" in rec and isinstance(rec["server"], Mapping):
        rec = rec["server"]
    if "OS-EXT-STS:vm_state" not in rec:
        raise ObservationError(f"{where}: no OS-EXT-STS:vm_state (is this `openstack server "
                               f"show -f json` or the API's server JSON, read as admin?)")
    name = _text(rec, "name", where)
    ident = _text(rec, "id", where)
    inst = name or ident
    if inst is None:
        raise ObservationError(f"{where}: no name or id")
    vm = _none(_text(rec, "OS-EXT-STS:vm_state", where))
    if vm is None:
        raise ObservationError(f"{where}: OS-EXT-STS:vm_state: expected one of Liberty's "
                               f"vm_states, found {rec['OS-EXT-STS:vm_state']!r}")
    fields: list[tuple[str, Any]] = [
        ("vm_state", _known(vm, LIBERTY_VM_STATES, "vm_state", where)),
        ("task_state", _known(_none(_text(rec, "OS-EXT-STS:task_state", where)),
                              LIBERTY_TASK_STATES, "task_state", where)),
    ]
    status = _text(rec, "status", where)
    if status:
        fields.append(("status", _known(status, LIBERTY_STATUSES, "status", where)))
    host = _text(rec, "OS-EXT-SRV-ATTR:host", where)
    if host:
        fields.append(("host", host))
    flavor = rec.get("flavor")
    if flavor is not None and not isinstance(flavor, (str, dict)):
        raise ObservationError(_found(where, "flavor", "a flavor (\"name (id)\" or an object)",
                                      flavor))
    fields += _flavor(flavor)
    if ident:
        fields.append(("id", ident))
    t = _text(rec, "updated", where)
    at = parse_time(t, f"{where}: updated") if t else None
    return Obs("snapshot", where, inst, t, tuple(fields), n, at)


def _text(rec: Mapping[str, Any], key: str, where: str) -> str | None:
    """A server field that is text when present (None when absent or null); an error naming
    the key for anything else (a number, a list, an object)."""
    v = rec.get(key)
    if v is None or isinstance(v, str):
        return v
    raise ObservationError(_found(where, key, "a string", v))


def _found(where: str, key: str, expected: str, v: Any) -> str:
    shown = repr(v)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{where}: {key}: expected {expected}, found {shown}"


def read_server_show(text: str, name: str) -> list[Obs]:
    """Server JSON: one document, an array of them, or JSON Lines."""
    records = _json_records(text, name)
    if records is None:
        raise ObservationError(f"{name}: not JSON (expected `openstack server show -f json` "
                               f"output or the API's server JSON)")
    out = []
    for n, (where, rec) in enumerate(records):
        if not isinstance(rec, dict):
            raise ObservationError(f"{where}: expected a JSON object, found {type(rec).__name__}")
        out.append(server_obs(rec, where, n))
    return out


def read_nova_list(text: str, name: str) -> list[Obs]:
    """``nova list`` tables (a snapshot per row) and ``nova show`` tables (one snapshot), in
    the order they appear; other tables and text are skipped."""
    out: list[Obs] = []
    for n, table in enumerate(parse_tables(text, name)):
        if table.kind == "nova-list":
            for lineno, row in nova_list_rows(table, name):
                where = f"{name}:{lineno}"
                inst = row.get("Name") or row.get("ID") or ""
                fields: list[tuple[str, Any]] = [
                    ("status", _known(row["Status"], LIBERTY_STATUSES, "status", where)),
                    ("task_state", _known(_none(row["Task State"]), LIBERTY_TASK_STATES,
                                          "task_state", where))]
                if row.get("ID"):
                    fields.append(("id", row["ID"]))
                out.append(Obs("snapshot", where, inst, None, tuple(fields), n))
        elif table.kind == "nova-show":
            props = nova_show(table)
            if "OS-EXT-STS:vm_state" in props:
                out.append(server_obs(props, f"{name}:{table.line}", n))
    if not out:
        raise ObservationError(f"{name}: no nova list or nova show table with rows found")
    return out


# ---- notifications and instance actions ---------------------------------------------------------


def read_notifications(text: str, name: str, spec: Spec | None = None) -> list[Obs]:
    """``compute.instance.*`` notifications, bare or enveloped (other services' skipped)."""
    records = _json_records(text, name)
    if records is None:
        raise ObservationError(f"{name}: not JSON (expected notifications as JSON Lines or a "
                               f"JSON array)")
    return notifications_obs(records)


def notifications_obs(records: Iterable[tuple[str, Any]]) -> list[Obs]:
    """Notification observations from (where, message) pairs."""
    out: list[Obs] = []
    for where, rec in records:
        msg = unwrap(rec, where)
        if not isinstance(msg, dict):
            raise ObservationError(f"{where}: expected a notification object")
        got = notification_fields(msg, where)
        if got is None:
            continue
        inst, fields, ts = got
        at = parse_time(ts, f"{where}: timestamp") if ts else None
        out.append(Obs("notification", where, inst, ts, tuple(fields), len(out), at))
    return out


def _at(t: Any, where: str) -> datetime | None:
    return parse_time(t, where) if t else None


def read_instance_actions(text: str, name: str) -> list[Obs]:
    """Instance actions with their events (``{"instanceActions": [...]}`` or one
    ``{"instanceAction": {...}}``)."""
    records = _json_records(text, name)
    if records is None:
        raise ObservationError(f"{name}: not JSON (expected instance-action JSON)")
    out: list[Obs] = []
    for where, rec in records:
        if isinstance(rec, dict) and "instanceActions" in rec:
            recs = rec["instanceActions"]
        elif isinstance(rec, dict) and "instanceAction" in rec:
            recs = [rec["instanceAction"]]
        else:
            recs = [rec]
        for a in recs:
            if not isinstance(a, dict) or "action" not in a:
                raise ObservationError(f"{where}: expected an instance action with an 'action'")
            inst = a.get("instance_name") or a.get("instance_uuid") or a.get("instance") or ""
            st = a.get("start_time")
            out.append(Obs("action", where, inst, st, (("action", a["action"]),), len(out),
                           _at(st, f"{where}: start_time")))
            for ev in a.get("events") or []:
                if not isinstance(ev, dict) or "event" not in ev:
                    raise ObservationError(f"{where}: {a['action']}: an event without 'event'")
                est = ev.get("start_time")
                out.append(Obs("event_start", where, inst, est, (("event", ev["event"]),),
                               len(out), _at(est, f"{where}: start_time")))
                if ev.get("finish_time") or ev.get("result"):
                    ok = str(ev.get("result", "Success")).lower().startswith("success")
                    ft = ev.get("finish_time") or est
                    out.append(Obs("event_finish", where, inst, ft,
                                   (("event", ev["event"]), ("ok", ok)), len(out),
                                   _at(ft, f"{where}: finish_time")))
    if not out:
        raise ObservationError(f"{name}: no instance action found")
    return out


# ---- files and sets ------------------------------------------------------------------------


def read_file(path: str, fmt: str, spec: Spec | None = None) -> tuple[str, list[Obs]]:
    """The observations of one file, in the file's order (``fmt``: one of :data:`FORMATS` or
    ``auto``)."""
    text = read_text(path, ObservationError)
    if fmt == "auto":
        fmt = detect(text, path)
        if fmt == "migration-list":
            raise ObservationError(f"{path}: a migration list is read by `explain "
                                   f"--migrations`, not as observations")
    if fmt == "nova-list":
        return fmt, read_nova_list(text, path)
    if fmt == "server-show":
        return fmt, read_server_show(text, path)
    if fmt == "notifications":
        return fmt, read_notifications(text, path, spec)
    if fmt == "instance-actions":
        return fmt, read_instance_actions(text, path)
    raise ObservationError(f"--format {fmt}: expected one of auto, {', '.join(FORMATS)}")


def in_time_order(obs: list[Obs], name: str, warnings: list[str]) -> list[Obs]:
    """``obs`` sorted by time (stable) when every one has a time and they are out of order,
    with a warning naming the first pair out of order."""
    if len(obs) < 2 or any(o.at is None for o in obs):
        return obs
    for a, b in itertools.pairwise(obs):
        assert a.at is not None and b.at is not None
        if b.at < a.at:
            warnings.append(f"{name}: observations out of time order ({b.source} at {b.time} "
                            f"comes after {a.source} at {a.time}); sorted by timestamp")
            return sorted(obs, key=lambda o: o.at or datetime.min)
    return obs


def observation_set(per_file: list[tuple[str, list[Obs]]], formats: list[str] | None = None,
                    warnings: list[str] | None = None) -> ObservationSet:
    """Merge the observations of several sources (name, observations): each sorted by time if
    needed, then merged by time when every observation has one, else concatenated in the order
    given."""
    warnings = [] if warnings is None else warnings
    lists = [in_time_order(obs, name, warnings) for name, obs in per_file]
    allobs = [o for obs in lists for o in obs]
    if len(lists) > 1:
        if all(o.at is not None for o in allobs):
            keyed = [(o.at, i, j, o) for i, obs in enumerate(lists) for j, o in enumerate(obs)]
            allobs = [o for *_, o in sorted(keyed, key=lambda t: t[:3])]
        elif any(o.at is not None for o in allobs):
            untimed = [name for (name, _), obs in zip(per_file, lists, strict=True)
                       if any(o.at is None for o in obs)]
            warnings.append(f"{', '.join(untimed)}: no timestamps; the files are taken one "
                            f"after the other in the order given, not merged by time")
    allobs = [replace(o, index=n) for n, o in enumerate(allobs)]
    return _summarise(allobs, formats or [], warnings)


def _summarise(allobs: list[Obs], formats: list[str], warnings: list[str]) -> ObservationSet:
    hosts: dict[str, None] = {}
    publishers: dict[str, None] = {}
    for o in allobs:
        if o.get("host"):
            hosts[o.get("host")] = None
        pub = o.get("publisher_id")
        if o.kind == "notification" and isinstance(pub, str):
            service, _, host = pub.partition(".")
            if o.get("event_type") == "compute.instance.update":
                publishers[host] = None
            elif str(o.get("event_type")).startswith("compute.instance.delete."):
                publishers[host] = None  # nova-api's local delete, or a compute host's
            elif service == "compute":
                hosts[host] = None  # a compute manager's usage notification
    flavors = sorted({o.get("flavor") for o in allobs if o.get("flavor")} |
                     {o.get("new_flavor") for o in allobs if o.get("new_flavor")})
    insts = list(dict.fromkeys(o.instance for o in allobs))
    return ObservationSet(allobs, formats, sorted(hosts), flavors, insts, warnings,
                          sorted(publishers))


def read_all(paths: list[str], fmt: str, spec: Spec | None = None) -> ObservationSet:
    """Read and merge files (see :func:`observation_set`); warnings (out-of-order input,
    files that cannot be merged by time) are in the set's ``warnings``."""
    per_file = []
    formats = []
    for path in paths:
        f, obs = read_file(path, fmt, spec)
        formats.append(f)
        per_file.append((path, obs))
    return observation_set(per_file, formats)


def observations_from_records(records: Iterable[Any], source: str = "<records>"
                              ) -> ObservationSet:
    """Observations from Python values, each one of: an :class:`Obs`; a notification message
    (bare or enveloped, as captured off the bus); a server document (client or API form).
    Their order is kept unless their timestamps say otherwise (then sorted, with a warning)."""
    obs: list[Obs] = []
    for n, rec in enumerate(records):
        where = f"{source}[{n}]"
        if isinstance(rec, Obs):
            obs.append(rec)
            continue
        if not isinstance(rec, Mapping):
            raise ObservationError(f"{where}: expected an Obs, a notification or a server "
                                   f"document, found {type(rec).__name__}")
        rec = dict(rec)
        msg = unwrap(rec, where)
        if isinstance(msg, dict) and "event_type" in msg:
            obs += notifications_obs([(where, msg)])
        else:
            obs.append(server_obs(rec, where, n))
    kinds = sorted({o.kind for o in obs})
    return observation_set([(source, obs)], kinds)


__all__ = ["FORMATS", "Obs", "ObservationSet", "detect", "in_time_order", "notifications_obs",
           "observation_set", "observations_from_records", "read_all", "read_file",
           "read_instance_actions", "read_notifications", "read_nova_list", "read_server_show",
           "server_obs"]
