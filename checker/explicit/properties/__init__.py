"""Nova's properties, each declared once beside its predicate: its name, its statement, the
Nova bugs it relates to, and its checks (:class:`~nova_resize.checker.explorer.model.Property`).

Each predicate returns the violations it sees as ``(key, message)`` pairs. The key names the
violation independently of host names and of the trace (a state pair, a row id, a status), so
that a baseline can list known findings. Checks:

* ``always``: every reachable state;
* ``always`` with ``when=at_quiescence``: every reachable state with no message in flight, no
  handler running and every compute service up;
* ``transition``: every step (its events and the states before and after);
* ``recoverable``: no-stuck-resize, on the reached graph
  (:mod:`nova_resize.checker.explorer.liveness`).

Predicates receive a :class:`Context` (the Nova model is one) and a world. One module per
concern: :mod:`.instance`, :mod:`.updates`, :mod:`.quota`, :mod:`.claims`, :mod:`.migration`,
:mod:`.deletion`, :mod:`.tracker`, :mod:`.errors`, :mod:`.verify`,
:mod:`.notifications`, :mod:`.guest`, :mod:`.answers`, :mod:`.scheduling`,
:mod:`.liveness`.
"""

from __future__ import annotations

from nova_resize.engine.world import World

# ruff: noqa: E402 (the compiled predicates are activated before the package imports them)
from nova_resize import native

# the compiled predicates, when the engine's compiled build is in use (nova_resize/native.py)
native.activate_part(__path__, native.PROPERTIES)

from ...explorer.model import Property
from .answers import API_ANSWERS_EXPECTED
from .claims import CLAIMS_CONSISTENT, occupancy
from .context import Context, at_quiescence
from .deletion import DELETE_COMPLETES, NO_ORPHAN
from .errors import ERROR_HAS_CAUSE, TASK_CLEARED_ON_FAILURE
from .guest import GUEST_MATCHES_STATE
from .instance import (
    DISK_NEVER_LOST,
    HOST_CONSISTENT,
    LEGAL_STATE,
    TASK_SETTLES,
    VM_STATE_RESTORED,
)
from .liveness import NO_STUCK_RESIZE
from .migration import MIGRATION_AGREES, MIGRATION_ENDPOINTS_FIXED, MIGRATION_STATUS_LEGAL
from .notifications import NOTIFICATIONS_PAIRED
from .quota import QUOTA_RESOLVED_ONCE, QUOTA_USAGE_CONSISTENT
from .scheduling import RETRIES_BOUNDED, SAME_HOST_MIGRATE_SUPPORTED
from .tracker import TRACKER_MATCHES_AUDIT
from .updates import CHANGES_SAVED, NO_LOST_UPDATE
from .verify import VERIFY_RESIZE_ACTIONABLE

PROPERTIES: tuple[Property, ...] = (
    LEGAL_STATE,
    TASK_SETTLES,
    NO_LOST_UPDATE,
    CHANGES_SAVED,
    QUOTA_RESOLVED_ONCE,
    QUOTA_USAGE_CONSISTENT,
    CLAIMS_CONSISTENT,
    TRACKER_MATCHES_AUDIT,
    HOST_CONSISTENT,
    DISK_NEVER_LOST,
    GUEST_MATCHES_STATE,
    MIGRATION_STATUS_LEGAL,
    MIGRATION_ENDPOINTS_FIXED,
    MIGRATION_AGREES,
    RETRIES_BOUNDED,
    SAME_HOST_MIGRATE_SUPPORTED,
    VM_STATE_RESTORED,
    ERROR_HAS_CAUSE,
    TASK_CLEARED_ON_FAILURE,
    VERIFY_RESIZE_ACTIONABLE,
    NO_ORPHAN,
    DELETE_COMPLETES,
    NOTIFICATIONS_PAIRED,
    API_ANSWERS_EXPECTED,
    NO_STUCK_RESIZE,
)
"""Every property, in the order reports list them."""

PROPERTY_NAMES: tuple[str, ...] = tuple(p.name for p in PROPERTIES)

BY_NAME: dict[str, Property] = {p.name: p for p in PROPERTIES}


def applies_to(prop: Property, ctx: Context, w: World) -> bool:
    """Whether a property's state check is evaluated on ``w`` (counted in a report)."""
    if prop.always is None:
        return False
    return prop.when is None or prop.when(ctx, w)


__all__ = ["BY_NAME", "PROPERTIES", "PROPERTY_NAMES", "Context", "Property", "applies_to"]


__all__ = ["BY_NAME", "PROPERTIES", "PROPERTY_NAMES", "Context", "Property", "applies_to",
           "at_quiescence", "occupancy"]
