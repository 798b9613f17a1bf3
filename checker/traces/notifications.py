"""Notifications as captured off a Liberty bus: JSON Lines or a JSON array of messages, each
either bare (``{"event_type", "publisher_id", "priority", "payload", "timestamp", ...}``) or in
the oslo.messaging 2.0 envelope ``{"oslo.version": "2.0", "oslo.message": "<JSON text>"}``,
whose inner message also holds ``_unique_id`` and one ``_context_<key>`` per request-context
key (ignored here).

Only ``compute.instance.*`` notifications are read; other services' (``compute_task.*``,
``scheduler.*``, ``volume.*``...) are skipped. Which event types the followed instance may show
is checked by :mod:`.validate` once the instance is known.
"""

from __future__ import annotations

import json
import re
from typing import Any

from nova_resize.spec import Spec
from nova_resize.spec.states import LIBERTY_TASK_STATES, LIBERTY_VM_STATES

from nova_resize.errors import ObservationError

from .timestamps import parse_time

ENVELOPE_KEYS = ("oslo.version", "oslo.message")
EXTRA_EVENT_TYPES = ("compute.instance.update", "compute.instance.exists",
                     "compute.instance.resize.error", "compute.instance.delete.start",
                     "compute.instance.delete.end")
"""Event types of the resize family not named by a spec row's notify fields."""


EVENT_TYPE = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")
"""What an event_type looks like (oslo.messaging's are dotted words)."""


def known_event_types(spec: Spec) -> set[str]:
    """The ``compute.instance.*`` event types the spec's rows can send."""
    types = set(EXTRA_EVENT_TYPES)
    for r in spec.rows:
        types.update(r.notify)
        types.update(r.notify_before)
        types.update(r.notify_late)
    return types


def unwrap(rec: Any, where: str) -> Any:
    """The message inside an oslo.messaging 2.0 envelope (a bare message as it is)."""
    if isinstance(rec, dict) and "oslo.message" in rec:
        version = rec.get("oslo.version")
        if version != "2.0":
            raise ObservationError(f"{where}: oslo.version {version!r} (expected \"2.0\")")
        inner = rec["oslo.message"]
        if isinstance(inner, str):
            try:
                inner = json.loads(inner)
            except json.JSONDecodeError as e:
                raise ObservationError(f"{where}: oslo.message is not valid JSON: "
                                       f"{e.msg}") from None
            except RecursionError:
                raise ObservationError(f"{where}: oslo.message is not valid JSON: nested too "
                                       f"deeply") from None
        if not isinstance(inner, dict):
            raise ObservationError(f"{where}: oslo.message: expected a JSON object")
        return inner
    return rec


def _none(v: Any) -> str | None:
    if v in (None, "", "None", "null", "-"):
        return None
    return str(v)


def _state(v: Any, key: str, where: str, known: tuple[str, ...]) -> str | None:
    s = _none(v)
    if s is not None and s not in known:
        raise ObservationError(f"{where}: payload {key} {s!r} is not a Liberty "
                               f"{'vm_state' if known is LIBERTY_VM_STATES else 'task_state'}")
    return s


def _found(where: str, et: str, key: str, expected: str, v: Any) -> str:
    shown = repr(v)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return f"{where}: {et}: payload {key}: expected {expected}, found {shown}"


def notification_fields(msg: dict[str, Any], where: str) -> tuple[str, list[tuple[str, Any]],
                                                                   str | None] | None:
    """(instance, fields, timestamp) of one bare message; None when it is not a
    ``compute.instance.*`` notification."""
    et = msg.get("event_type")
    if not isinstance(et, str):
        raise ObservationError(f"{where}: expected a notification with an event_type")
    if not et.isprintable() or (et.startswith("compute.") and not EVENT_TYPE.fullmatch(et)):
        raise ObservationError(f"{where}: event_type {et[:80]!r}: expected a dotted name such "
                               f"as compute.instance.update")
    if not et.startswith("compute.instance."):
        return None  # other services' notifications
    payload = msg.get("payload")
    if not isinstance(payload, dict):
        raise ObservationError(f"{where}: {et}: no payload object")
    inst = payload.get("display_name") or payload.get("instance_id")
    if not isinstance(inst, str):
        raise ObservationError(f"{where}: {et}: payload has no display_name or instance_id")
    fields: list[tuple[str, Any]] = [("event_type", et)]
    pub = msg.get("publisher_id")
    if pub is not None:
        if not isinstance(pub, str) or "." not in pub:
            raise ObservationError(f"{where}: {et}: publisher_id {pub!r} is not "
                                   f"<service>.<host>")
        fields.append(("publisher_id", pub))
    for k in ("host", "instance_type", "new_instance_type", "instance_id", "state",
              "old_state", "old_task_state", "new_task_state", "state_description"):
        v = payload.get(k)
        if v is not None and not isinstance(v, str):
            raise ObservationError(_found(where, et, k, "a string", v))
    fid = payload.get("instance_flavor_id")
    if fid is not None and (isinstance(fid, bool) or not isinstance(fid, (str, int))):
        raise ObservationError(_found(where, et, "instance_flavor_id", "a flavor id", fid))
    if "state" in payload and _none(payload["state"]) is None:
        # info_from_instance always carries the instance's vm_state
        raise ObservationError(_found(where, et, "state", "a vm_state", payload["state"]))
    if payload.get("host"):
        fields.append(("host", str(payload["host"])))
    if payload.get("instance_type"):
        fields.append(("flavor", str(payload["instance_type"])))
    if fid not in (None, ""):
        fields.append(("flavor_id", str(fid)))
    if payload.get("new_instance_type"):
        fields.append(("new_flavor", str(payload["new_instance_type"])))
    for k in ("state", "old_state"):
        if k in payload:
            fields.append((k, _state(payload[k], k, where, LIBERTY_VM_STATES)))
    for k in ("old_task_state", "new_task_state"):
        if k in payload:
            fields.append((k, _state(payload[k], k, where, LIBERTY_TASK_STATES)))
    if "state_description" in payload:
        fields.append(("task_state", _state(payload["state_description"], "state_description",
                                            where, LIBERTY_TASK_STATES)))
    if payload.get("instance_id"):
        fields.append(("id", str(payload["instance_id"])))
    ts = msg.get("timestamp")
    if ts is not None:
        parse_time(ts, f"{where}: timestamp")
    return inst, fields, ts if isinstance(ts, str) else None


__all__ = ["ENVELOPE_KEYS", "EXTRA_EVENT_TYPES", "known_event_types", "notification_fields",
           "unwrap"]
