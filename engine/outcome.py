"""What nova-api answers a request: accepted (with its HTTP status), refused (the exception and
its HTTP status) or failed with an unexpected exception (HTTP 500).

The statuses are nova 12.0.0's (the ``@wsgi.response`` of each action in
nova/api/openstack/compute/servers.py and migrate_server.py; an exception the controller does
not expect becomes HTTP 500 in nova/api/openstack/extensions.py ``expected_errors``).
"""

from __future__ import annotations

from typing import NamedTuple

ACCEPTED_HTTP: dict[str, int] = {
    "resize": 202,  # servers.py ServersController._action_resize
    "migrate": 202,  # migrate_server.py MigrateServerController._migrate
    "confirm_resize": 204,  # servers.py _action_confirm_resize
    "revert_resize": 202,  # servers.py _action_revert_resize
    "delete": 204,  # servers.py delete
    "stop": 202,  # servers.py _stop_server
    "start": 202,  # servers.py _start_server
}
"""The HTTP status nova-api answers an accepted request with, by operation."""

UNEXPECTED_HTTP = 500
"""The HTTP status of an exception the API controller does not expect."""



class ApiOutcome(NamedTuple):
    """nova-api's answer to one request.

    ``status`` is ``accepted``, ``refused`` (checked and turned down before anything changed)
    or ``error`` (the handler raised an exception nova-api did not expect). ``exception`` is
    Nova's exception class, ``http`` the status code of the answer, ``detail`` what the
    refusal names (e.g. ``vm_state resized``).
    """

    status: str
    op: str
    exception: str | None = None
    http: int | None = None
    detail: str = ""

    @property
    def accepted(self) -> bool:
        """Whether nova-api accepted the request."""
        return self.status == "accepted"

    @property
    def refused(self) -> bool:
        """Whether nova-api turned the request down (an HTTP 4xx before any change)."""
        return self.status == "refused"

    def __str__(self) -> str:
        if self.status == "accepted":
            return "accepted"
        if self.status == "error":
            return f"error: {self.exception}"
        if self.exception is None:
            return "refused"
        detail = f": {self.detail}" if self.detail else ""
        return f"refused: {self.exception}{detail} (HTTP {self.http})"


def step_outcome(op: str, text: str | None, refusal: tuple[str, int] | None) -> ApiOutcome:
    """The outcome of a request step from what its handler did: ``text`` is the engine's
    outcome line, ``refusal`` the (exception, HTTP status) of a refusal raised by a row."""
    if refusal is not None:
        return ApiOutcome("refused", op, refusal[0], refusal[1])
    if text is not None and text.startswith("error: "):
        return ApiOutcome("error", op, text.removeprefix("error: "), UNEXPECTED_HTTP)
    if text is not None and text.startswith("accepted"):
        return ApiOutcome("accepted", op, http=ACCEPTED_HTTP.get(op))
    return ApiOutcome("refused", op)


__all__ = ["ACCEPTED_HTTP", "UNEXPECTED_HTTP", "ApiOutcome", "step_outcome"]
