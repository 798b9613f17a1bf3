"""Liberty's timestamps, read as times.

The formats a Liberty cloud writes (docs/formats.md, "Observations and notifications"):

- ``2016-04-17 13:30:00.250000``: a notification's ``timestamp`` (``six.text_type`` of a naive
  ``timeutils.utcnow()``; the fraction is absent when it is zero), ``str(datetime)`` in the
  ``audit_period_*`` of ``compute.instance.exists``;
- ``2016-04-17T13:30:00.250000``: ``timeutils.strtime`` (``_context_timestamp``,
  ``launched_at`` in payloads, instance-action and migration times);
- ``2016-04-17T13:30:00Z``: the API's ``created``/``updated`` (ISO 8601 in UTC);
- ``2016-04-17 13:30:00+00:00``: ``str()`` of a timezone-aware database value (``created_at``).

All are UTC; a time with an offset is converted to UTC. The result is a naive ``datetime`` in
UTC, so that times from different files and formats compare.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from nova_resize.errors import ObservationError

_TIME = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<frac>\d{1,6}))?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def parse_time(text: object, where: str) -> datetime:
    """A Liberty timestamp as a naive UTC datetime; :class:`ObservationError` naming ``where``
    when it is not one."""
    if not isinstance(text, str):
        raise ObservationError(f"{where}: expected a timestamp string, found {text!r}")
    m = _TIME.match(text.strip())
    if m is None:
        raise ObservationError(f"{where}: cannot read the timestamp {text!r} (expected "
                               f"YYYY-MM-DD HH:MM:SS[.ffffff] or YYYY-MM-DDTHH:MM:SS[.ffffff], "
                               f"optionally with Z or an offset)")
    frac = (m["frac"] or "").ljust(6, "0")
    try:
        t = datetime.strptime(f"{m['date']} {m['time']}", "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ObservationError(f"{where}: {text!r} is not a valid date and time") from None
    t = t.replace(microsecond=int(frac or "0"))
    tz = m["tz"]
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        t -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return t


__all__ = ["parse_time"]
