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
    "restore": 202,  # deferred_delete.py DeferredDeleteController._restore
    "force_delete": 202,  # deferred_delete.py _force_delete
}
"""The HTTP status nova-api answers an accepted request with, by operation."""

UNEXPECTED_HTTP = 500
"""The HTTP status of an exception the API controller does not expect."""

FAMILY: dict[str, tuple[str, ...]] = {
    # nova/exception.py at 12.0.0: each exception the model raises in nova-api, with the
    # classes above it that a controller's except clause may name
    "InstanceNotFound": ("InstanceNotFound", "NotFound"),
    "MigrationNotFoundByStatus": ("MigrationNotFoundByStatus", "MigrationNotFound", "NotFound"),
    "FlavorNotFound": ("FlavorNotFound", "NotFound"),
    "TooManyInstances": ("TooManyInstances", "QuotaError"),
    "InstanceInvalidState": ("InstanceInvalidState", "Invalid"),
    "InstanceNotReady": ("InstanceNotReady", "Invalid"),
    "UnableToMigrateToSelf": ("UnableToMigrateToSelf", "Invalid"),
    "MaxRetriesExceeded": ("MaxRetriesExceeded", "NoValidHost"),
    "UnexpectedDeletingTaskStateError": ("UnexpectedDeletingTaskStateError",
                                         "UnexpectedTaskStateError"),
}
"""Exception classes and their ancestors (only those a controller catches matter)."""

CAUGHT: dict[str, tuple[tuple[str, int], ...]] = {
    # the except clauses of each action's controller method, in order, and the status each
    # answers with; anything else leaves through extensions.expected_errors as HTTP 500
    "resize": (("QuotaError", 403), ("FlavorNotFound", 400), ("InstanceIsLocked", 409),
               ("InstanceInvalidState", 409), ("NoValidHost", 400), ("Invalid", 400)),
    "migrate": (("QuotaError", 403), ("InstanceIsLocked", 409), ("InstanceInvalidState", 409),
                ("InstanceNotFound", 404), ("NoValidHost", 400)),
    "confirm_resize": (("MigrationNotFound", 400), ("InstanceIsLocked", 409),
                       ("InstanceInvalidState", 409)),
    "revert_resize": (("MigrationNotFound", 400), ("FlavorNotFound", 400),
                      ("InstanceIsLocked", 409), ("InstanceInvalidState", 409)),
    "delete": (("NotFound", 404), ("InstanceIsLocked", 409), ("InstanceInvalidState", 409)),
    "stop": (("InstanceNotReady", 409), ("InstanceIsLocked", 409),
             ("InstanceInvalidState", 409)),
    "start": (("InstanceNotReady", 409), ("InstanceIsLocked", 409),
              ("InstanceInvalidState", 409)),
    "restore": (("QuotaError", 403), ("InstanceInvalidState", 409)),
    "force_delete": (("InstanceIsLocked", 409),),
    "delete_flavor": (("FlavorNotFound", 404),),
}
"""What each REST action turns into a client error (servers.py, migrate_server.py,
deferred_delete.py, flavor_manage.py at 12.0.0)."""


def answer_http(op: str, exc: str | None) -> int:
    """The HTTP status nova-api answers ``op`` with when ``exc`` leaves the compute API: the
    controller's conversion, else 500."""
    names = FAMILY.get(exc or "", (exc,))
    for caught, http in CAUGHT.get(op, ()):
        if caught in names:
            return http
    return UNEXPECTED_HTTP



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
        exc = text.removeprefix("error: ")
        return ApiOutcome("error", op, exc, answer_http(op, exc))
    if text is not None and text.startswith("accepted"):
        return ApiOutcome("accepted", op, http=ACCEPTED_HTTP.get(op))
    return ApiOutcome("refused", op)


__all__ = ["ACCEPTED_HTTP", "CAUGHT", "FAMILY", "UNEXPECTED_HTTP", "ApiOutcome", "answer_http",
           "step_outcome"]
