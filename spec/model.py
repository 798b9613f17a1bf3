"""The vocabulary the tables are written in: frozen records, no behaviour.

A handler (an API request, a conductor or compute RPC method, a periodic task, an error
decorator) is a set of rows. A row is one atomic step as Nova executes it: at most one database
transaction together with the messages it sends and the effects on its own host. Rows at the same
label are alternatives told apart by their ``when`` conditions (or by an injected ``fault``);
``then`` names the label that runs next.

Values in conditions and effects are references, resolved by the engine against the running
handler: ``instance.task_state`` (the handler's copy of the instance, as Nova's object),
``db.instance.task_state`` (the row in the database now), ``migration.status`` (the handler's copy
of the migration), ``db.migration.status``, ``local.<name>`` (the handler's locals, including the
RPC arguments), ``self.host`` (the service the handler runs on), ``config.<option>``, ``exc`` (the
exception being handled). A dotted reference that reaches a flavor name may continue with a
flavor attribute: ``local.flavor.root_gb``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

END = "<end>"
"""Label meaning: the handler returns normally."""

RAISE = "<raise>"
"""Label meaning: the handler raises ``exc`` to the next error scope."""


@dataclass(frozen=True)
class Ref:
    """A reference to a value in the running handler's context (see the module docstring)."""

    path: str

    def __str__(self) -> str:
        return self.path


@dataclass(frozen=True)
class Cond:
    """One condition of a row's ``when``: ``ref op value``.

    ``op`` is one of ``==``, ``!=``, ``in``, ``not in``, ``truthy``, ``falsy``, ``<``, ``<=``,
    ``>``, ``>=`` (false when either side is None);
    ``up``/``down`` (the compute service of the host ``ref`` names is up / not up);
    ``unknown_flavor`` (``ref`` names no flavor a lookup with read_deleted="no" finds: none of
    that name, or one an admin deleted); ``fits`` (the flavor ``ref`` fits the free
    resources of the host ``value`` names, as ``MoveClaim`` tests them). ``value`` is a constant or
    a :class:`Ref`.
    """

    ref: str
    op: str
    value: Any = None

    def __str__(self) -> str:
        if self.op in ("truthy", "falsy", "up", "down", "unknown_flavor"):
            return f"{self.ref} is {self.op.replace('_', ' ')}"
        return f"{self.ref} {self.op} {_show(self.value)}"


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is None:
        return "None"
    return str(value)


# --------------------------------------------------------------------------------------------
# Value expressions (besides constants and Ref).


@dataclass(frozen=True)
class Default:
    """The value at ``path``, or ``value`` when that is None (``dict.get(key, default)``)."""

    path: str
    value: Any


@dataclass(frozen=True)
class NotEq:
    """Whether the value at ``path`` differs from ``value``."""

    path: str
    value: Any


@dataclass(frozen=True)
class Append:
    """The tuple at ``path`` (empty when None) with the value of ``value`` appended."""

    path: str
    value: Any


@dataclass(frozen=True)
class Inc:
    """The integer at ``path`` (0 when None) plus one."""

    path: str


@dataclass(frozen=True)
class IfEq:
    """``then`` if the value at ``path`` equals ``value``, else ``orelse``."""

    path: str
    value: Any
    then: Any
    orelse: Any


# --------------------------------------------------------------------------------------------
# Effects. Each is one thing a row does, in order.


@dataclass(frozen=True)
class Set:
    """Assign a field of the handler's in-memory copy (``instance``, ``migration``) or a local.

    Assigning an instance or migration field marks it dirty; nothing reaches the database until a
    save.
    """

    target: str
    name: str
    value: Any


@dataclass(frozen=True)
class SaveInstance:
    """``instance.save(expected_task_state=guard)``; ``guard=None`` is an unguarded save.

    Object fields (flavors, migration_context) are written first and unconditionally; the column
    fields form one UPDATE guarded by the compare-and-swap on task_state. On success the copy is
    refreshed from the row; on failure the changes stay dirty and UnexpectedTaskStateError (or its
    deleting subclass) is raised. A save with nothing dirty does nothing, not even the guard check.

    ``columns`` names columns the save also writes that the world does not hold (the flavor
    columns ``instance_type_id``, ``memory_mb``...; ``system_metadata`` when the code assigns the
    whole dict; libvirt's ``clean_attempts``/``cleaned``). They tell the engine that Nova issues
    the UPDATE, and so sends ``compute.instance.update``, even when no modelled column changed;
    they are used for that notification only (no guard check, refresh or InstanceNotFound of
    their own).
    """

    guard: tuple[str | None, ...] | None = None
    columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class FreshSave:
    """``objects.Instance(uuid=..., **fields).save()``: a new object, only ``fields`` dirty."""

    fields: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class SaveMigration:
    """``migration.save()``: an unconditional UPDATE of the changed fields, last writer wins."""


@dataclass(frozen=True)
class CreateMigration:
    """``ResourceTracker._create_migration``: a new migration row, status ``pre-migrating``.

    Source is the copy's ``instance.host``, destination is ``self.host``, flavors are the copy's
    current flavor and ``new_flavor``; the type is ``resize`` when they differ, else ``migration``.
    The handler's migration copy becomes the new row.
    """

    new_flavor: str


@dataclass(frozen=True)
class Reread:
    """Replace the handler's copy with the row in the database (``get_by_id`` / ``get_by_uuid``).

    Sets ``local.<target>_found`` to whether the row exists (destroyed instances are not found).
    """

    target: str


@dataclass(frozen=True)
class LookupMigration:
    """``Migration.get_by_instance_and_status``: the first migration of the instance (by id) whose
    status is in ``statuses`` (tried in that order) becomes the handler's migration copy;
    ``local.migration_found`` says whether one was found."""

    statuses: tuple[str, ...]


@dataclass(frozen=True)
class Quota:
    """A quota action.

    ``op``: ``reserve`` (with ``delta``: ``upsize``, ``downsize``, ``reverse_upsize``, ``delete``),
    ``commit`` or ``rollback`` of the handler's reservations. ``reserve`` stores the new
    reservation ids in ``local.reservations``; an over-quota positive delta raises OverQuota.
    """

    op: str
    delta: str | None = None
    var: str = "reservations"


@dataclass(frozen=True)
class Claim:
    """A resource-tracker action on ``host`` (a reference).

    ``op``: ``resize_claim`` (MoveClaim of ``flavor`` for the incoming migration),
    ``drop_move_claim`` (``prefix`` ``old_`` or ``new_``; only if the migration is tracked there
    and the flavor matches),
    ``update_usage`` (``_update_usage_from_instance``), ``audit``
    (``update_available_resource``).
    """

    op: str
    host: str = "self.host"
    flavor: str | None = None
    prefix: str | None = None


@dataclass(frozen=True)
class Driver:
    """A hypervisor effect on ``host`` (libvirt's behaviour, the reference driver): ``op`` is
    one of

    * ``power_off``: stop the guest; with ``to``, also migrate_disk_and_power_off: move the
      instance directory aside to ``<path>_resize`` and copy its disks to ``to``'s ``<path>``;
    * ``spawn``: start the guest from ``<path>`` there if ``power_on``;
    * ``destroy_guest``: destroy the guest and, unless ``keep_disk``, delete_instance_files;
    * ``delete_files``: delete_instance_files alone (``<path>``, or if absent ``<path>_resize``);
    * ``cleanup_resize``: confirm_migration: remove ``<path>_resize``, and undefine the guest
      unless the instance now lives on this host;
    * ``restore_resize_copy``: finish_revert_migration: move ``<path>_resize`` back to
      ``<path>`` when it exists;
    * ``destroy_disk``: remove ``<path>``."""

    op: str
    host: str = "self.host"
    to: str | None = None
    power_on: Any = True
    keep_disk: Any = False


@dataclass(frozen=True)
class Send:
    """An RPC message: ``kind`` ``cast`` or ``call`` of ``method`` to ``target`` (a reference to
    a host, or ``conductor``). The message carries the handler's instance and migration copies as
    they are now, the reservations, and ``args`` (name, value) pairs. ``wait``: the caller blocks
    until the reply (or a timeout) and then continues at the row's ``then`` label."""

    kind: str
    method: str
    target: str
    args: tuple[tuple[str, Any], ...] = ()
    wait: bool = False


@dataclass(frozen=True)
class Raise:
    """Raise an exception of class ``exc`` (a Nova exception name, or a :class:`Ref` to one)."""

    exc: Any


@dataclass(frozen=True)
class Refuse:
    """An API request refused before it changed anything (an HTTP error to the user)."""

    exc: str
    http: int


@dataclass(frozen=True)
class Lock:
    """``utils.synchronized(instance.uuid)``: ``acquire`` blocks while another handler on the same
    host holds the instance's lock; ``release`` frees it (also freed when the handler ends)."""

    op: str


@dataclass(frozen=True)
class Destroy:
    """``instance.destroy()``: the instance row is deleted; later saves raise InstanceNotFound."""


@dataclass(frozen=True)
class DestroyFlavor:
    """``Flavor.destroy()``: the flavor ``flavor`` (a reference to a flavor name) is marked
    deleted in the database (``flavor_destroy`` soft-deletes the instance_types row). Lookups
    by id with read_deleted="no" no longer find it (``unknown_flavor``); the flavors stashed
    with each instance are copies and are unaffected."""

    flavor: Any


@dataclass(frozen=True)
class SelectDestination:
    """``scheduler_client.select_destinations``: the scheduler picks one host passing the filters
    in :data:`nova_resize.spec.conductor.SCHEDULER_FILTERS` (the choice is nondeterministic) into
    ``local.host``; none passing raises NoValidHost. ``requested`` (a reference to a host name,
    a later Nova's RequestSpec.requested_destination) restricts the candidates to that host."""

    requested: str | None = None


@dataclass(frozen=True)
class Spawn:
    """Start ``handler`` for each instance whose ``host`` is this host (compute restart)."""

    handler: str


@dataclass(frozen=True)
class Goto:
    """Continue in another handler's rows at ``label`` (a direct Python call in Nova, such as
    ``self.compute_api.confirm_resize`` from a periodic task). ``chain`` replaces the error chain
    for the rest of the run when given."""

    handler: str
    label: str
    chain: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Service:
    """Change this compute service's status: ``up`` once ``init_host`` has finished."""

    op: str


Effect = (
    Set
    | SaveInstance
    | FreshSave
    | SaveMigration
    | CreateMigration
    | Reread
    | LookupMigration
    | Quota
    | Claim
    | Driver
    | Send
    | Raise
    | Refuse
    | Lock
    | Destroy
    | DestroyFlavor
    | SelectDestination
    | Spawn
    | Goto
    | Service
)


# --------------------------------------------------------------------------------------------
# Rows, handlers, operations.


@dataclass(frozen=True)
class Row:
    """One atomic step of a handler, as Nova's code performs it.

    ``id`` is stable (variants and reports refer to it); ``cite`` names the nova 12.0.0 function.
    ``fault`` names a fault kind: such a row runs only when the checker injects that fault (it is
    the failing alternative of the rows at the same label). ``scope`` names the handler's error
    scope that catches what this row raises. ``notify`` lists the notifications the step emits
    after its effects (not when one of them raises), ``notify_before`` those it emits first.
    ``otherwise`` marks the row taken when no other non-fault row at the label applies.
    ``notify_late`` lists notifications Nova sends after the step's messages, so that another
    host may act, and notify, before they are seen: the step emits them last, marked late, and
    a trace may show them after other hosts' notifications.
    ``on_fail`` is the label to go to when one of the row's effects raises (the exception being
    handled is kept, the new one is ``local.inner_exc``); without it the new exception propagates.
    When no row at a label applies, the handler waits (a lock held elsewhere, a reply not yet
    come).
    """

    id: str
    handler: str
    at: str
    cite: str
    summary: str
    when: tuple[Cond, ...] = ()
    effects: tuple[Any, ...] = ()
    then: str = END
    fault: str | None = None
    scope: str = "body"
    notify: tuple[str, ...] = ()
    note: str = ""
    otherwise: bool = False
    on_fail: str | None = None
    notify_before: tuple[str, ...] = ()
    notify_late: tuple[str, ...] = ()


@dataclass(frozen=True)
class Handler:
    """A method that runs as a sequence of rows on one service.

    ``service`` is ``api``, ``conductor`` or ``compute``. ``scopes`` maps a scope name to the
    chain of error handlers (names of error handlers in the errors table, innermost first) that an
    exception raised in that scope runs through. ``lock`` names the lock taken around the body.
    """

    name: str
    service: str
    cite: str
    entry: str
    scopes: tuple[tuple[str, tuple[str, ...]], ...] = (("body", ()),)
    summary: str = ""

    def chain(self, scope: str) -> tuple[str, ...]:
        for name, chain in self.scopes:
            if name == scope:
                return chain
        raise KeyError(f"handler {self.name} has no error scope {scope!r}")


@dataclass(frozen=True)
class Validation:
    """A precondition of an API operation checked before it writes anything."""

    id: str
    cite: str
    when: tuple[Cond, ...]
    exc: str
    http: int
    summary: str
    migration: tuple[str, ...] | None = None
    """When given, the API method first looks up the instance's migration in these statuses
    (``Migration.get_by_instance_and_status``, tried in order) and the conditions may read it
    as ``migration.<field>``; with none found the validation does not apply."""


@dataclass(frozen=True)
class TrackerRules:
    """The resource tracker's claim and audit rules that Nova's patches changed, as data
    (nova/compute/resource_tracker.py at 12.0.0 unless a variant says otherwise)."""

    in_progress_excluded: tuple[str, ...]
    """Statuses MigrationList.get_in_progress_by_host_and_node leaves out."""
    latest_migration: str
    """How _update_usage_from_migrations keeps one migration per instance: ``updated_at_py27``
    (``updated_at >=``, a later row wins a tie, NULL against a date raises TypeError and aborts
    the audit), ``updated_at_or_created`` ((updated_at or created_at) with a strict ``>``)."""
    update_usage_tracked_only: bool
    """update_usage acts only for an instance the tracker already tracks."""
    drop_needs_flavor_match: bool
    """drop_move_claim subtracts only when the flavor it is given is the tracked one."""
    claim_resources: tuple[str, ...]
    """What MoveClaim's test and the scheduler's filters compare with the host's free room
    (``vcpus``, ``memory_mb``, ``root_gb``)."""
    cite: str = "nova/compute/resource_tracker.py:ResourceTracker"


@dataclass(frozen=True)
class ApiOperation:
    """A user or admin request: its decorators' checks, validations and its handler.

    ``vm_states``/``task_states`` are ``check_instance_state``'s lists (``None`` for "any"); an
    empty ``task_states`` never occurs, the default being ``(None,)``: task_state must be None.
    ``takes_flavor``: the request names a flavor (``local.flavor_id``, one of the
    configuration's ``resize_flavors``); ``takes_host``: it names a host (``local.host_name``,
    any configured host). ``instance_action`` is the action Nova records, and tells the
    auxiliary history what the request was (resize, migrate, delete, stop, start...).
    ``target`` is ``instance`` (the request names an instance) or ``flavor`` (an admin request
    about a flavor, its argument; no instance is loaded and the instance checks do not apply).
    ``hands`` are locals the request sets for its handler (``force_delete`` runs the delete
    handler with ``local.force``, as Nova's force_delete calls ``_delete`` itself).
    """

    name: str
    cite: str
    handler: str
    lock_check: bool
    vm_states: tuple[str, ...] | None
    task_states: tuple[str | None, ...] | None
    must_have_launched: bool
    validations: tuple[Validation, ...] = ()
    takes_flavor: bool = False
    quota: str | None = None
    sends: str = ""
    summary: str = ""
    instance_action: str | None = None
    takes_host: bool = False
    target: str = "instance"
    hands: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class QuotaDelta:
    """How a reservation's deltas are computed (nova/compute/utils.py).

    ``kind`` ``resize``: ``resize_quota_delta(new, old, sense, compare)``: for cores (vcpus) and
    ram (memory_mb), ``sense * (new - old)``, kept only where ``compare * delta > 0``.
    ``kind`` ``delete``: instances -1, cores -vcpus, ram -memory_mb of ``old``.
    ``kind`` ``create``: instances +1, cores +vcpus, ram +memory_mb of ``old`` (a new instance's
    reservation, ``_check_num_instances_quota`` with one instance).
    ``new``/``old`` are references to flavor names.
    """

    name: str
    cite: str
    kind: str
    new: str | None
    old: str
    sense: int = 1
    compare: int = 1
    summary: str = ""


@dataclass(frozen=True)
class UsageRule:
    """How the resource tracker counts one in-progress migration on a host
    (``ResourceTracker._update_usage_from_migration``).

    ``direction``: ``same_node`` (source and destination are this host), ``incoming`` or
    ``outbound``. ``untracked_only``: only when the instance is not already counted as an
    instance of this host. ``prefix``: which stashed flavor is counted (``new_``/``old_``);
    ``same_node`` counts ``new_`` while the instance's flavor is still the migration's old flavor
    and ``old_`` after it changed."""

    direction: str
    untracked_only: bool
    prefix: str
    cite: str
    summary: str


@dataclass(frozen=True)
class StatePair:
    """A (vm_state, task_state) pair Nova defines on these paths and its API status.

    A ``transient`` pair is one the error handlers pass through (``_set_instance_obj_error_state``
    writes ERROR and keeps the task_state until ``reverts_task_state`` clears it): legal while a
    handler is running, a finding when it is left at quiescence."""

    vm_state: str
    task_state: str | None
    status: str
    cite: str = "nova/api/openstack/common.py:status_from_state"
    transient: bool = False


@dataclass(frozen=True)
class MigrationEdge:
    """A move of ``migration.status`` by a row. ``source`` lists the statuses the row is designed
    to move from (``None``: any, because the write is unconditional); ``intended`` marks the
    designed life cycle, the rest being what the code can also do."""

    row: str
    dest: str
    source: tuple[str, ...] | None
    cite: str
    intended: bool = True


@dataclass(frozen=True)
class Option:
    """A nova.conf option the model reads, with Liberty's default. ``choices`` lists the values a
    configuration may give when they are not free (``None`` among them: the option unset)."""

    name: str
    default: Any
    cite: str
    summary: str
    choices: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Spec:
    """The whole specification: every table, by name."""

    name: str
    vm_states: tuple[str, ...]
    task_states: tuple[str | None, ...]
    power_states: tuple[tuple[str, int], ...]
    migration_statuses: tuple[str, ...]
    state_pairs: tuple[StatePair, ...]
    operations: tuple[ApiOperation, ...]
    handlers: tuple[Handler, ...]
    rows: tuple[Row, ...]
    migration_edges: tuple[MigrationEdge, ...]
    scheduler_filters: tuple[tuple[str, str, str], ...]
    options: tuple[Option, ...]
    faults: tuple[tuple[str, str], ...]
    quota_deltas: tuple[QuotaDelta, ...]
    resize_states: tuple[tuple[str, tuple[str | None, ...] | None], ...]
    usage_rules: tuple[UsageRule, ...]
    trackable_migration_types: tuple[str, ...]
    stashed_flavor_migration_types: tuple[str, ...]
    tracker: TrackerRules
    _index: dict[str, Row] = field(default_factory=dict, compare=False, repr=False)

    def row(self, row_id: str) -> Row:
        if not self._index:
            self._index.update({r.id: r for r in self.rows})
        return self._index[row_id]

    def handler(self, name: str) -> Handler:
        for h in self.handlers:
            if h.name == name:
                return h
        raise KeyError(name)

    def operation(self, name: str) -> ApiOperation:
        for op in self.operations:
            if op.name == name:
                return op
        raise KeyError(name)

    def rows_of(self, handler: str) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.handler == handler)
