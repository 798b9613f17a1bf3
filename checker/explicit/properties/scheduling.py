"""Scheduling and placement: a resize or cold migration is tried on at most
``scheduler_max_attempts`` hosts, and a migration of an unchanged flavor never targets its own
host with a driver that cannot do that.

``populate_retry`` counts the attempts in the request's retry record (``local.attempts``,
carried in every prep_resize cast and back to the conductor by ``_reschedule``) and raises
MaxRetriesExceeded once the count passes ``scheduler_max_attempts``; with the option at 1 there
is no retry record and no reschedule at all. A request scheduled more often than the operator
allowed keeps an instance in RESIZE and its quota reserved for as long as hosts keep refusing.
"""

from __future__ import annotations

from nova_resize.engine.core import StepResult
from nova_resize.engine.world import World

from ...explorer.model import Property, Violation
from .context import Context


def retries_bounded(ctx: Context, before: World, res: StepResult) -> list[Violation]:
    """No prep_resize is cast with a retry count above ``scheduler_max_attempts`` (the engine's
    ``send`` events)."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind != "send":
            continue
        msg = ev.data[0]
        if msg.method != "prep_resize":
            continue
        attempts = dict(msg.args).get("attempts")
        most = ctx.engine.config.option("scheduler_max_attempts")
        if isinstance(attempts, int) and isinstance(most, int) and attempts > most:
            out.append(("prep_resize cast beyond scheduler_max_attempts",
                        f"{msg.instance.name} is sent to {msg.target} on attempt {attempts}, "
                        f"past scheduler_max_attempts = {most}", msg.instance.name))
    return out


RETRIES_BOUNDED: Property = Property(
    "retries-bounded",
    "A resize or cold migration is tried on at most scheduler_max_attempts hosts: no "
    "prep_resize is cast with a retry count above it (populate_retry raises "
    "MaxRetriesExceeded first).",
    transition=retries_bounded,
    triggers=frozenset({"send"}),
)


def same_host_migrate_supported(ctx: Context, before: World, res: StepResult
                                ) -> list[Violation]:
    """No migration of an unchanged flavor (type ``migration``) is created with its source as
    its destination unless the driver declares ``supports_migrate_to_same_host`` (libvirt does
    not: ``_prep_resize`` raises UnableToMigrateToSelf before the claim creates the record)."""
    out: list[Violation] = []
    for ev in res.events:
        if ev.kind != "migration_write" or ev.data[0] is not None:
            continue
        mig = ev.data[1]
        if mig.source_compute != mig.dest_compute or mig.migration_type != "migration":
            continue
        if ctx.engine.config.option("supports_migrate_to_same_host"):
            continue
        out.append(("same-host migration with a driver that cannot",
                    f"{mig.instance} is migrated onto its own host {mig.dest_compute} with the "
                    f"same flavor, which the driver does not support", mig.instance))
    return out


SAME_HOST_MIGRATE_SUPPORTED: Property = Property(
    "same-host-migrate-supported",
    "A migration of an unchanged flavor never has its source as its destination unless the "
    "driver supports it (supports_migrate_to_same_host; libvirt does not, and _prep_resize "
    "raises UnableToMigrateToSelf before the claim).",
    transition=same_host_migrate_supported,
    triggers=frozenset({"migration_write"}),
)


__all__ = ["RETRIES_BOUNDED", "SAME_HOST_MIGRATE_SUPPORTED", "retries_bounded",
           "same_host_migrate_supported"]
