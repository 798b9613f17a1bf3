"""The world state: one immutable, hashable value (docs/model.md).

Every record is a NamedTuple, so a state hashes and compares as nested tuples. Field names follow
Nova's (``vm_state``, ``task_state``, ``old_vm_state``, ``source_compute``...).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Instance(NamedTuple):
    """An instance row (and, in a handler, Nova's in-memory Instance object)."""

    name: str
    vm_state: str
    task_state: str | None
    power_state: int
    host: str | None
    flavor: str
    old_flavor: str | None
    new_flavor: str | None
    old_vm_state: str | None  # system_metadata['old_vm_state']
    launched: bool
    locked: bool
    deleted: bool  # the row is destroyed: reads and saves raise InstanceNotFound
    progress: int | None = None  # API.resize writes 0 with task_state resize_prep


INSTANCE_FIELDS: tuple[str, ...] = Instance._fields
INSTANCE_INDEX: dict[str, int] = {f: i for i, f in enumerate(INSTANCE_FIELDS)}
FLAVOR_SLOTS: frozenset[str] = frozenset({"flavor", "old_flavor", "new_flavor"})
"""The three flavors Instance._save_flavor writes together, from the handler's copy, into
instance_extra whenever any of them changed: its own statement, before (and whatever becomes
of) the guarded UPDATE (nova/objects/instance.py:Instance._save_flavor)."""
OBJECT_FIELDS: frozenset[str] = FLAVOR_SLOTS
"""Fields that live only in instance_extra: a save that changes nothing else issues no UPDATE.
The flavor's columns (instance_type_id, memory_mb, vcpus, root_gb, ephemeral_gb) are written by
_set_instance_info and finish_revert_resize, whose saves declare them
(``SaveInstance.columns``): a bare ``set_flavor`` is no UPDATE."""


class Migration(NamedTuple):
    """A migration row (and a handler's in-memory Migration object). The id is
    ``<instance>#<n>``: numbered per instance, so that two instances' migrations created in
    either order make the same state."""

    id: str
    instance: str
    source_compute: str
    dest_compute: str
    old_flavor: str
    new_flavor: str
    status: str
    migration_type: str
    # updated_at's order among the instance's migrations: None until the first UPDATE that
    # changes a column (a fresh row has updated_at NULL), then 1 for the least recently
    # updated... (ranks, so that only the order is kept)
    updated_at: int | None = None


MIGRATION_INDEX: dict[str, int] = {f: i for i, f in enumerate(Migration._fields)}


class Reservation(NamedTuple):
    """A quota reservation: its deltas and whether it is pending, committed or rolled back. The
    id is ``<instance>/<n>``, numbered per instance."""

    id: str
    deltas: tuple[tuple[str, int], ...]
    status: str  # pending | committed | rolled_back
    row: str  # the row that reserved it


class Quota(NamedTuple):
    """The project's quota usage: ``in_use`` and ``reserved`` per resource (instances, cores,
    ram)."""

    in_use: tuple[int, int, int]
    reserved: tuple[int, int, int]


class Host(NamedTuple):
    """A compute host: its service status, its resource tracker and its hypervisor."""

    name: str
    status: str  # up | down | init
    usage: tuple[int, int, int]  # resource tracker usage: vcpus, memory_mb, root_gb
    tracked_instances: frozenset[str]
    tracked_migrations: frozenset[tuple[str, str, str]]  # (instance, flavor, migration id)
    disks: frozenset[str]  # instances whose disk (instance directory) is on this host
    running: frozenset[str]  # instances whose guest runs on this host
    # instances whose original disks a resize moved aside here (libvirt's <path>_resize)
    resize_disks: frozenset[str] = frozenset()


class Message(NamedTuple):
    """An in-flight RPC message: what the sender's objects were when it was sent."""

    kind: str  # cast | call
    method: str
    target: str  # a host name or 'conductor'
    instance: Instance
    migration: Migration | None
    args: tuple[tuple[str, Any], ...]
    reply_to: str | None  # the waiting caller's frame id


class Frame(NamedTuple):
    """A running handler: which service is in which handler at which label, with its objects.
    The id is ``<instance>.<n>`` (``<service>.<n>`` for host-wide tasks), the smallest n free."""

    id: str
    service: str  # a host name, 'api' or 'conductor'
    method: str  # the operation or RPC method that started it
    handler: str  # whose rows run now (an error handler while raising)
    label: str
    instance: Instance  # the handler's copy
    dirty: frozenset[str]
    seen_task: str | None  # task_state when the copy was last read from the database
    migration: Migration | None
    mig_dirty: frozenset[str]
    locals: tuple[tuple[str, Any], ...]
    exc: str | None
    chain: tuple[str, ...] | None  # remaining error handlers while raising, None in the body
    override: tuple[str, ...] | None  # error chain replacing the handler's (after a Goto)
    waiting: bool
    reply_to: str | None
    lock: bool
    # usage notifications this invocation started and has not ended ("resize.prep" after
    # "compute.instance.resize.prep.start"): history kept for properties, never read by rows
    usage: tuple[str, ...] = ()
    # quota reservations this invocation has handed on in an RPC message (its receiver holds
    # them now): history kept for properties, never read by rows
    handed: tuple[str, ...] = ()


class Requests(NamedTuple):
    """What users asked of an instance (observed by properties, never read by Nova's rows):
    the vm_state when its last resize or migrate was accepted, and whether a delete was accepted
    while it was resizing or resized."""

    name: str
    pre_resize_vm_state: str | None
    delete_requested: bool  # while it was resizing or resized
    delete_any: bool = False  # at any time


class World(NamedTuple):
    """Everything: database rows, quota, hosts, the bus, running handlers, remaining budgets,
    the users' accepted requests, and the flavors an admin deleted (database state: the
    instance_types rows marked deleted)."""

    instances: tuple[Instance, ...]
    migrations: tuple[Migration, ...]
    reservations: tuple[Reservation, ...]
    quota: Quota
    hosts: tuple[Host, ...]
    messages: tuple[Message, ...]
    frames: tuple[Frame, ...]
    budgets: tuple[tuple[str, int], ...]
    requests: tuple[Requests, ...] = ()
    deleted_flavors: frozenset[str] = frozenset()


def quiescent(w: World) -> bool:
    """Nothing left to happen by itself: no handler running, every compute service up (one
    that is down will be restarted) or gone for good, and no message in flight but those queued
    for a service that is gone (nothing will ever take them)."""
    if w.frames:
        return False
    gone = {h.name for h in w.hosts if h.status == "gone"}
    if any(h.status not in ("up", "gone") for h in w.hosts):
        return False
    return all(m.target in gone for m in w.messages)


def frame_of(w: World, fid: str) -> Frame:
    """The running handler with id ``fid``."""
    for f in w.frames:
        if f.id == fid:
            return f
    raise KeyError(fid)
