"""Observations of a real cloud, read from what operators have: ``nova list`` tables,
``openstack server show -f json`` snapshots, Liberty notifications (JSON Lines), and instance
actions (``nova instance-action`` JSON).

Every reader returns :class:`Obs` records; a malformed file raises :class:`ObservationError`
naming the file and line.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from nova_resize.spec import Spec

from nova_resize.errors import ObservationError
from nova_resize.files import read_text


@dataclass(frozen=True)
class Obs:
    """One observation.

    ``kind``: ``snapshot`` (a state: status, task_state, vm_state, host, flavor as far as given),
    ``notification`` (an event Nova emitted), ``action`` (a request nova-api accepted), or
    ``event_start`` / ``event_finish`` (an instance-action event of a compute or conductor
    method).
    """

    kind: str
    source: str
    instance: str
    time: str | None = None
    fields: tuple[tuple[str, Any], ...] = ()
    index: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self.fields:
            if k == key:
                return v
        return default

    def text(self) -> str:
        what = ", ".join(f"{k}={v}" for k, v in self.fields)
        return f"{self.source}: {self.kind} {self.instance}: {what}"


@dataclass
class ObservationSet:
    observations: list[Obs]
    formats: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    flavors: list[str] = field(default_factory=list)
    instances: list[str] = field(default_factory=list)


FORMATS = ("nova-list", "server-show", "notifications", "instance-actions")

_BORDER = re.compile(r"\+(?:[-=]+\+)+")
_COLUMNS = {"ID", "Name", "Status", "Task State", "Power State", "Networks"}


def _none(v: Any) -> str | None:
    if v in (None, "-", "None", "", "null"):
        return None
    return str(v)


def detect(text: str) -> str:
    """The format of a file's content."""
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        first = stripped.splitlines()[0] if stripped.startswith("{") else stripped
        if '"event_type"' in first or '"event_type"' in stripped[:4000]:
            return "notifications"
        if "OS-EXT-STS:vm_state" in stripped[:20000]:
            return "server-show"
        if '"action"' in stripped[:4000]:
            return "instance-actions"
        return "server-show"
    if "|" in text and "Task State" in text:
        return "nova-list"
    raise ObservationError("cannot tell the format (expected a nova list table, server show "
                           "JSON, notification JSON Lines or instance-action JSON); use --format")


# ---- nova list ----------------------------------------------------------------------------


def read_nova_list(text: str, name: str) -> list[Obs]:
    """``nova list`` tables, one snapshot per table. Borders may run into the rows on one line;
    a row whose ID and Name cells are empty continues the previous one (a wrapped cell)."""
    out: list[Obs] = []
    header: list[str] | None = None
    header_line = 0
    table = 0
    pending: tuple[dict[str, str], int] | None = None

    def flush() -> None:
        nonlocal pending
        if pending is None:
            return
        row, lineno = pending
        pending = None
        inst = row.get("Name") or row.get("ID") or ""
        fields: list[tuple[str, Any]] = [("status", row["Status"]),
                                         ("task_state", _none(row["Task State"]))]
        if row.get("ID"):
            fields.append(("id", row["ID"]))
        out.append(Obs("snapshot", f"{name}:{lineno}", inst, None, tuple(fields), table))

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _BORDER.sub("\n", raw.replace("\xa0", " "))
        for part in line.split("\n"):
            part = part.strip()
            if not part.startswith("|"):
                if part:
                    flush()
                    header = None  # prose between tables ends a table
                continue
            cells = [c.strip() for c in part.strip("|").split("|")]
            if len(set(cells) & _COLUMNS) >= 2:
                flush()
                missing = [c for c in ("Status", "Task State") if c not in cells]
                if "Name" not in cells and "ID" not in cells:
                    missing.append("Name or ID")
                if missing:
                    raise ObservationError(f"{name}:{lineno}: nova list table without a "
                                           f"{' / '.join(missing)} column")
                header, header_line = cells, lineno
                table += 1
                continue
            if header is None:
                header = ["<other table>"]  # e.g. `nova show`'s Property | Value: not ours
                continue
            if header == ["<other table>"]:
                continue
            if len(cells) != len(header):
                raise ObservationError(f"{name}:{lineno}: {len(cells)} cells, the header on "
                                       f"line {header_line} has {len(header)}")
            row = dict(zip(header, cells, strict=True))
            if not row.get("ID") and not row.get("Name") and pending is not None:
                for k, v in row.items():
                    if v:
                        prev = pending[0].get(k, "")
                        glue = "" if prev.endswith(("_", "-")) else " "
                        pending[0][k] = (prev + glue + v).strip()
                continue
            flush()
            pending = (row, lineno)
    flush()
    if not out:
        raise ObservationError(f"{name}: no nova list table with rows found")
    return out


# ---- JSON formats -------------------------------------------------------------------------


def _json_records(text: str, name: str) -> list[tuple[int, Any]]:
    """A JSON document (object or array) or JSON Lines: (line, record) pairs."""
    stripped = text.strip()
    if not stripped:
        raise ObservationError(f"{name}:1: empty file")
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError:
        doc = None
    except RecursionError:
        raise ObservationError(f"{name}:1: JSON nested too deeply") from None
    if doc is not None:
        items = doc if isinstance(doc, list) else [doc]
        return [(1, x) for x in items]
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((lineno, json.loads(line)))
        except json.JSONDecodeError as e:
            raise ObservationError(f"{name}:{lineno}: not valid JSON: {e.msg}") from None
        except RecursionError:
            raise ObservationError(f"{name}:{lineno}: JSON nested too deeply") from None
    return out


def _flavor_name(v: Any) -> str | None:
    if isinstance(v, dict):
        return v.get("original_name") or v.get("name") or v.get("id")
    if isinstance(v, str) and v:
        return v.split(" (")[0]
    return None


def read_server_show(text: str, name: str) -> list[Obs]:
    out = []
    for n, (lineno, rec) in enumerate(_json_records(text, name)):
        where = f"{name}:{lineno}"
        if not isinstance(rec, dict):
            raise ObservationError(f"{where}: expected a JSON object, found {type(rec).__name__}")
        if "OS-EXT-STS:vm_state" not in rec:
            raise ObservationError(f"{where}: no OS-EXT-STS:vm_state (is this `server show -f "
                                   f"json`?)")
        inst = rec.get("name") or rec.get("id")
        if not isinstance(inst, str):
            raise ObservationError(f"{where}: no name or id")
        fields: list[tuple[str, Any]] = [
            ("vm_state", rec["OS-EXT-STS:vm_state"]),
            ("task_state", _none(rec.get("OS-EXT-STS:task_state"))),
        ]
        if rec.get("status"):
            fields.append(("status", rec["status"]))
        if rec.get("OS-EXT-SRV-ATTR:host"):
            fields.append(("host", rec["OS-EXT-SRV-ATTR:host"]))
        flavor = _flavor_name(rec.get("flavor"))
        if flavor:
            fields.append(("flavor", flavor))
        if rec.get("id"):
            fields.append(("id", rec["id"]))
        out.append(Obs("snapshot", where, inst, rec.get("updated"), tuple(fields), n))
    return out


KNOWN_EVENT_TYPES_EXTRA = ("compute.instance.update", "compute.instance.exists",
                           "compute.instance.resize.error", "compute.instance.delete.start",
                           "compute.instance.delete.end")


def known_event_types(spec: Spec) -> set[str]:
    types = set(KNOWN_EVENT_TYPES_EXTRA)
    for r in spec.rows:
        types.update(r.notify)
        types.update(r.notify_before)
        types.update(r.notify_late)
    return types


def read_notifications(text: str, name: str, spec: Spec) -> list[Obs]:
    known = known_event_types(spec)
    out = []
    for n, (lineno, rec) in enumerate(_json_records(text, name)):
        where = f"{name}:{lineno}"
        if not isinstance(rec, dict) or "event_type" not in rec:
            raise ObservationError(f"{where}: expected a notification object with an event_type")
        et = rec["event_type"]
        payload = rec.get("payload")
        if not isinstance(payload, dict):
            raise ObservationError(f"{where}: {et}: no payload object")
        if not str(et).startswith("compute.instance."):
            continue  # other services' notifications
        if et not in known:
            raise ObservationError(f"{where}: unknown event type {et!r} (expected one of the "
                                   f"resize family's compute.instance.* events)")
        inst = payload.get("display_name") or payload.get("instance_id")
        if not isinstance(inst, str):
            raise ObservationError(f"{where}: {et}: payload has no display_name or instance_id")
        pub = str(rec.get("publisher_id", ""))
        service, _, host = pub.partition(".")
        fields: list[tuple[str, Any]] = [("event_type", et), ("service", service),
                                         ("host", (host or None) if service == "compute"
                                          else None)]
        for k in ("state", "old_state", "old_task_state", "new_task_state"):
            if k in payload:
                fields.append((k, _none(payload[k])))
        if payload.get("instance_id"):
            fields.append(("id", payload["instance_id"]))
        out.append(Obs("notification", where, inst, rec.get("timestamp"), tuple(fields), n))
    return out


def read_instance_actions(text: str, name: str) -> list[Obs]:
    out: list[Obs] = []
    for lineno, rec in _json_records(text, name):
        where = f"{name}:{lineno}"
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
            out.append(Obs("action", where, inst, a.get("start_time"),
                           (("action", a["action"]),), len(out)))
            for ev in a.get("events") or []:
                if not isinstance(ev, dict) or "event" not in ev:
                    raise ObservationError(f"{where}: {a['action']}: an event without 'event'")
                out.append(Obs("event_start", where, inst, ev.get("start_time"),
                               (("event", ev["event"]),), len(out)))
                if ev.get("finish_time") or ev.get("result"):
                    ok = str(ev.get("result", "Success")).lower().startswith("success")
                    out.append(Obs("event_finish", where, inst,
                                   ev.get("finish_time") or ev.get("start_time"),
                                   (("event", ev["event"]), ("ok", ok)), len(out)))
    if not out:
        raise ObservationError(f"{name}: no instance action found")
    return out


def read_file(path: str, fmt: str, spec: Spec) -> tuple[str, list[Obs]]:
    text = read_text(path, ObservationError)
    if fmt == "auto":
        try:
            fmt = detect(text)
        except ObservationError as e:
            raise ObservationError(f"{path}: {e}") from None
    if fmt == "nova-list":
        return fmt, read_nova_list(text, path)
    if fmt == "server-show":
        return fmt, read_server_show(text, path)
    if fmt == "notifications":
        return fmt, read_notifications(text, path, spec)
    if fmt == "instance-actions":
        return fmt, read_instance_actions(text, path)
    raise ObservationError(f"--format {fmt}: expected one of auto, {', '.join(FORMATS)}")


def read_all(paths: list[str], fmt: str, spec: Spec) -> ObservationSet:
    """Read and merge files: by timestamp when every observation has one, else in file order."""
    per_file = []
    formats = []
    for path in paths:
        f, obs = read_file(path, fmt, spec)
        formats.append(f)
        per_file.append(obs)
    allobs = [o for obs in per_file for o in obs]
    if len(per_file) > 1 and all(o.time for o in allobs):
        keyed = [(o.time or "", i, j, o) for i, obs in enumerate(per_file)
                 for j, o in enumerate(obs)]
        allobs = [o for *_, o in sorted(keyed, key=lambda t: t[:3])]
    hosts = sorted({o.get("host") for o in allobs if o.get("host")})
    flavors = sorted({o.get("flavor") for o in allobs if o.get("flavor")})
    insts = list(dict.fromkeys(o.instance for o in allobs))
    return ObservationSet(allobs, formats, hosts, flavors, insts)
