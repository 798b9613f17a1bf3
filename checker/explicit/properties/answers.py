"""nova-api's answers: what a user (or a client library retrying on 409) sees.

nova-api turns a request down on purpose with a client error: its decorators' checks
(InstanceInvalidState and InstanceIsLocked as 409), the compute API's own conversions (OverQuota
into TooManyInstances) and the REST controller's except clauses, which differ by action
(engine/outcome.py's ``CAUGHT``: a resize's InstanceNotFound is not caught, a migrate's is). An
exception nothing converts leaves through ``extensions.expected_errors`` as HTTP 500, the
answer a client cannot act on and the one operators see in their logs as a traceback: an
UnexpectedTaskStateError from a save that met a racing task, say. The property names each such
answer by operation and exception.
"""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.outcome import UNEXPECTED_HTTP, answer_http
from nova_resize.engine.world import World

from ...explorer.model import Property, Violation
from .context import Context


def api_answers_expected(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """A request nova-api answers is accepted or turned down with a client error, never
    HTTP 500: the engine's ``api_error`` event, when an exception leaves nova-api's handler
    (in the request's own step or in a later step of a handler that waits on a call)."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind == "api_error":
            name, exc, last = ev.data
            if answer_http(ev.row, exc) != UNEXPECTED_HTTP:
                continue  # the controller turns it into a client error
            msg = f"{ev.row} raised {exc} out of nova-api at {last}: the user gets HTTP 500"
            key = f"{ev.row} answered HTTP 500 ({exc})"
            out.append((key, msg, name) if name else (key, msg))
    return out


API_ANSWERS_EXPECTED: Property = Property(
    "api-answers-expected",
    "nova-api accepts a request or turns it down with a client error (4xx); no exception "
    "escapes it as HTTP 500.",
    transition=api_answers_expected,
    triggers=frozenset({"api_error"}),
)


__all__ = ["API_ANSWERS_EXPECTED", "api_answers_expected"]
