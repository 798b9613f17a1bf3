"""The properties the checker verifies: names, statements and related Nova bugs. The predicates
live in nova_resize.checker.properties."""

from __future__ import annotations

from .model import PropertyInfo

PROPERTIES: tuple[PropertyInfo, ...] = (
    PropertyInfo(
        "legal-state",
        "Every live instance's (vm_state, task_state) pair is one Nova defines on these paths.",
    ),
    PropertyInfo(
        "no-lost-update",
        "No unguarded save overwrites a task_state that another operation set since the saving "
        "handler last read the instance.",
    ),
    PropertyInfo(
        "quota-resolved-once",
        "Each reservation is committed or rolled back at most once, and at quiescence none is "
        "pending.",
        ("1099729",),
    ),
    PropertyInfo(
        "quota-usage-consistent",
        "At quiescence, quota usage equals what the live instances' flavors add up to (a "
        "resized, unconfirmed instance counting the larger of its old and new flavor).",
        ("1099729",),
    ),
    PropertyInfo(
        "claims-consistent",
        "At quiescence, each host's resource-tracker usage equals what its audit would count.",
    ),
    PropertyInfo(
        "host-consistent",
        "instance.host is the migration's source or destination while one is in progress, the "
        "destination after confirm, the source after revert.",
    ),
    PropertyInfo(
        "disk-never-lost",
        "A live instance always has its disk on the host that will run it.",
    ),
    PropertyInfo(
        "migration-status-legal",
        "Migration statuses move only along Nova's designed edges, and at quiescence none is "
        "left in a transient status.",
    ),
    PropertyInfo(
        "migration-endpoints-fixed",
        "A migration's source and destination never change after it is created.",
        ("1625462",),
    ),
    PropertyInfo(
        "vm-state-restored",
        "A resize that fails, is reverted or is confirmed leaves the instance in the vm_state it "
        "had before, unless Nova deliberately sets ERROR.",
    ),
    PropertyInfo(
        "no-orphan",
        "Once a deleted instance is quiescent, no host holds its disk or any claim for it.",
    ),
    PropertyInfo(
        "delete-completes",
        "A delete request on a resizing or resized instance ends with the instance deleted.",
        kind="liveness",
    ),
    PropertyInfo(
        "no-stuck-resize",
        "From every reachable state a quiescent state is reachable in which no instance holds "
        "a resize task_state.",
        kind="liveness",
    ),
)
