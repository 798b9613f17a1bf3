"""A step in progress: a mutable working copy of the parts of the world a step changes.

The step function copies the world into a :class:`Tx`, lets rows act on it, and freezes it back
into a :class:`~nova_resize.engine.world.World`. Nothing outside a step ever sees a Tx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

from .world import Frame, Host, Instance, Message, Migration, Quota, Requests, Reservation, World


class NovaError(Exception):
    """An exception raised by a row's effect, by its Nova class name."""

    def __init__(self, exc: str) -> None:
        super().__init__(exc)
        self.exc = exc


@dataclass(slots=True)
class WFrame:
    """A running handler being stepped (the mutable form of :class:`Frame`)."""

    id: str
    service: str
    method: str
    handler: str
    label: str
    instance: Instance
    dirty: set[str]
    seen_task: str | None
    migration: Migration | None
    mig_dirty: set[str]
    locals: dict[str, Any]
    exc: str | None
    chain: tuple[str, ...] | None
    override: tuple[str, ...] | None
    waiting: bool
    reply_to: str | None
    lock: bool
    usage: tuple[str, ...] = ()
    handed: tuple[str, ...] = ()
    ended: bool = False

    @classmethod
    def thaw(cls, f: Frame) -> WFrame:
        return cls(
            f.id,
            f.service,
            f.method,
            f.handler,
            f.label,
            f.instance,
            set(f.dirty),
            f.seen_task,
            f.migration,
            set(f.mig_dirty),
            dict(f.locals),
            f.exc,
            f.chain,
            f.override,
            f.waiting,
            f.reply_to,
            f.lock,
            f.usage,
            f.handed,
        )

    def freeze(self) -> Frame:
        return _new(Frame, (
            self.id,
            self.service,
            self.method,
            self.handler,
            self.label,
            self.instance,
            frozenset(self.dirty),
            self.seen_task,
            self.migration,
            frozenset(self.mig_dirty),
            # the keys are distinct strings: sorting the items sorts by key alone
            tuple(sorted(self.locals.items())),
            self.exc,
            self.chain,
            self.override,
            self.waiting,
            self.reply_to,
            self.lock,
            self.usage,
            self.handed,
        ))


def get_local(fr: Frame | WFrame, name: str, default: Any = None) -> Any:
    """A local of a frozen or thawed frame."""
    loc = fr.locals
    if isinstance(loc, dict):
        return loc.get(name, default)
    for k, v in loc:
        if k == name:
            return v
    return default


_new = tuple.__new__
"""Builds a record from its fields' tuple without the NamedTuple constructor's call."""

_FIELD_INDEX: dict[type, dict[str, int]] = {}


R = TypeVar("R", bound=tuple[Any, ...])


def replaced(rec: R, **fields: Any) -> R:
    """``rec._replace(**fields)`` (the same record, the same ValueError for a field it does not
    have), without the two Python-level calls of NamedTuple's: the engine replaces fields of
    hosts, instances and migrations on most steps."""
    cls = type(rec)
    index = _FIELD_INDEX.get(cls)
    if index is None:
        index = _FIELD_INDEX[cls] = {f: i for i, f in enumerate(cls._fields)}  # type: ignore[attr-defined]
    y = list(rec)
    for k, v in fields.items():
        i = index.get(k)
        if i is None:
            raise ValueError(f"Got unexpected field names: {[k]!r}")
        y[i] = v
    return _new(cls, y)


def _same(old: tuple[Any, ...], new: list[Any]) -> tuple[Any, ...]:
    """``old`` itself when ``new`` holds the same objects, else a new tuple."""
    return old if _same_items(new, old) else tuple(new)


def _same_items(new: list[Any], old: tuple[Any, ...]) -> bool:
    """Whether ``new`` holds the very objects of ``old``, in order. (An indexed loop: the
    compiled engine runs it without the generic ``all(map(is_, ...))`` calls.)"""
    n = len(old)
    if len(new) != n:
        return False
    i = 0
    while i < n:
        if new[i] is not old[i]:
            return False
        i += 1
    return True


def _same_values(new: dict[str, Any], old: tuple[Any, ...]) -> bool:
    """Whether the values of ``new`` are the very objects of ``old``, in order."""
    if len(new) != len(old):
        return False
    i = 0
    for v in new.values():
        if v is not old[i]:
            return False
        i += 1
    return True


def _message_key(m: Message) -> tuple[str, str, str, str]:
    return (m.method, m.target, m.kind, repr(m))


UPDATE = "compute.instance.update"
"""The event type of the notification ``Instance.save`` sends (nova/notifications.py)."""


class Notification(NamedTuple):
    """A notification a step emits, as Liberty builds it (a modelled subset of its payload).

    ``event_type`` is ``compute.instance.update`` (sent by ``Instance.save``) or a usage
    notification ``compute.instance.<suffix>`` (sent by a compute manager, or by nova-api on a
    local delete). ``service`` is where the step ran (a compute host, ``api`` or
    ``conductor``); ``publisher_id`` is what the message carries: ``compute.<CONF.host>`` of the
    process that sent it, which for a compute-side save is nova-conductor's host
    (docs/formats.md, "Observations and notifications"). ``row`` is the spec row that sent it.

    The payload fields: ``state`` (vm_state) and, for ``compute.instance.update``,
    ``old_state``, ``old_task_state`` and ``new_task_state`` as ``_compute_states_payload``
    reports them (an old task_state of None reads as the current one). Usage notifications
    carry ``old_state == state`` and ``old_task_state == new_task_state ==`` the current
    task_state (their payload has ``state_description`` only). ``host`` and ``flavor`` are the
    payload's ``host`` and ``instance_type``; ``new_flavor`` is ``new_instance_type``
    (``resize.prep.end`` only).
    """

    event_type: str
    service: str
    row: str
    instance: str
    old_state: str | None
    state: str | None
    old_task_state: str | None
    new_task_state: str | None
    late: bool = False  # sent after the step's messages: may be seen after other hosts' events
    publisher_id: str = ""
    priority: str = "INFO"
    host: str | None = None
    flavor: str | None = None
    new_flavor: str | None = None

    @property
    def task_state(self) -> str | None:
        """The instance's task_state when it was sent (the payload's ``state_description``)."""
        return self.new_task_state

    @property
    def is_update(self) -> bool:
        """Whether this is a ``compute.instance.update`` (sent by ``Instance.save``)."""
        return self.event_type == UPDATE

    def payload(self) -> dict[str, Any]:
        """The modelled keys of the payload, as Liberty names them (``display_name``, ``host``,
        ``instance_type``, ``state``, ``state_description``, and the transition keys of an
        update)."""
        out: dict[str, Any] = {
            "display_name": self.instance,
            "host": self.host,
            "instance_type": self.flavor,
            "state": self.state,
            "state_description": self.new_task_state or "",
        }
        if self.is_update:
            out.update(old_state=self.old_state, old_task_state=self.old_task_state,
                       new_task_state=self.new_task_state)
        if self.new_flavor is not None:
            out["new_instance_type"] = self.new_flavor
        return out

    def message(self) -> dict[str, Any]:
        """The notification as oslo.messaging puts it on the bus, without the envelope, the
        context and the keys the model does not know (message_id, timestamp)."""
        return {"event_type": self.event_type, "publisher_id": self.publisher_id,
                "priority": self.priority, "payload": self.payload()}


@dataclass(slots=True)
class Event:
    """Something a step did that properties look at (an overwrite, a status move...).

    ``kind`` names it (``instance_write``, ``migration_write``, ``guard_refused``,
    ``unguarded_task_write``, ``frame_end``, ``send``, ``audit``...), ``row`` is the spec row (the
    method, for ``frame_end`` and ``send``), ``data`` its details (``send``: the message). An
    ``instance_write`` carries the row before and after in ``data`` and the save's
    ``expected_task_state`` (None: unguarded) in ``expected_task_state``."""

    kind: str
    row: str
    data: tuple[Any, ...]
    expected_task_state: tuple[str | None, ...] | None = None


class Tx:
    """The mutable working copy of a world during one step.

    The parts most steps leave alone (migrations, reservations, quota, the bus, budgets, the
    deleted flavors) are copied from the world only when a row first reads them; a part never
    copied is the world's own tuple in the next state, found without comparing anything."""

    __slots__ = (
        "_budgets",
        "_deleted_flavors",
        "_in_use",
        "_messages",
        "_migrations",
        "_reservations",
        "_reserved",
        "events",
        "frames",
        "hosts",
        "instances",
        "notifications",
        "origin",
        "outcome",
        "refusal",
        "requests",
        "rows",
        "sent",
    )

    instances: list[Instance]
    hosts: list[Host]
    frames: dict[str, Frame | WFrame]
    requests: tuple[Requests, ...]
    rows: list[str]
    events: list[Event]
    notifications: list[Notification]
    sent: list[Message]
    outcome: str | None
    refusal: tuple[str, int] | None
    origin: World
    _migrations: dict[str, Migration] | None
    _reservations: dict[str, Reservation] | None
    _in_use: list[int] | None
    _reserved: list[int] | None
    _messages: list[Message] | None
    _budgets: dict[str, int] | None
    _deleted_flavors: set[str] | None

    def __init__(self, w: World) -> None:
        tx = self
        tx.instances = list(w.instances)
        tx.hosts = list(w.hosts)
        tx.frames = {f.id: f for f in w.frames}
        tx.requests = w.requests
        tx.rows = []
        tx.events = []
        tx.notifications = []
        tx.sent = []
        tx.outcome = None
        tx.refusal = None
        tx.origin = w
        tx._migrations = tx._reservations = None
        tx._in_use = tx._reserved = None
        tx._messages = None
        tx._budgets = None
        tx._deleted_flavors = None

    @classmethod
    def of(cls, w: World) -> Tx:
        """The working copy of ``w`` a step starts from."""
        return cls(w)

    # ---- the parts copied when first read ------------------------------------------------------
    @property
    def migrations(self) -> dict[str, Migration]:
        d = self._migrations
        if d is None:
            d = self._migrations = {m.id: m for m in self.origin.migrations}
        return d

    @migrations.setter
    def migrations(self, value: dict[str, Migration]) -> None:
        self._migrations = value

    @property
    def reservations(self) -> dict[str, Reservation]:
        d = self._reservations
        if d is None:
            d = self._reservations = {r.id: r for r in self.origin.reservations}
        return d

    @reservations.setter
    def reservations(self, value: dict[str, Reservation]) -> None:
        self._reservations = value

    @property
    def in_use(self) -> list[int]:
        q = self._in_use
        if q is None:
            q = self._in_use = list(self.origin.quota.in_use)
        return q

    @in_use.setter
    def in_use(self, value: list[int]) -> None:
        self._in_use = value

    @property
    def reserved(self) -> list[int]:
        q = self._reserved
        if q is None:
            q = self._reserved = list(self.origin.quota.reserved)
        return q

    @reserved.setter
    def reserved(self, value: list[int]) -> None:
        self._reserved = value

    @property
    def messages(self) -> list[Message]:
        q = self._messages
        if q is None:
            q = self._messages = list(self.origin.messages)
        return q

    @messages.setter
    def messages(self, value: list[Message]) -> None:
        self._messages = value

    @property
    def budgets(self) -> dict[str, int]:
        d = self._budgets
        if d is None:
            d = self._budgets = dict(self.origin.budgets)
        return d

    @budgets.setter
    def budgets(self, value: dict[str, int]) -> None:
        self._budgets = value

    @property
    def deleted_flavors(self) -> set[str]:
        d = self._deleted_flavors
        if d is None:
            d = self._deleted_flavors = set(self.origin.deleted_flavors)
        return d

    @deleted_flavors.setter
    def deleted_flavors(self, value: set[str]) -> None:
        self._deleted_flavors = value

    def freeze(self, fifo: bool = False) -> World:
        """The world this step leads to. Parts the step did not change are the very tuples of
        the world it started from, so successive states share memory."""
        o = self.origin
        # each part the step left alone (never copied, or the same objects in the same order)
        # is the origin's own tuple, found without sorting or building anything
        msgs = self._messages
        om = o.messages
        if msgs is None or _same_items(msgs, om):
            messages = om
        else:
            if not fifo and len(msgs) > 1:
                # without FIFO queues the bus is a multiset: one canonical order
                msgs = sorted(msgs, key=_message_key)
            messages = _same(om, msgs)
        fr = self.frames
        of = o.frames
        if _same_values(fr, of):
            frames = of
        else:
            frames = _same(of, [f.freeze() if type(f) is WFrame else f
                                for f in (fr[k] for k in sorted(fr))])
        mg = self._migrations
        om_ = o.migrations
        if mg is None or _same_values(mg, om_):
            migs = om_
        else:
            migs = _same(om_, [mg[k] for k in sorted(mg)])
        rv = self._reservations
        orv = o.reservations
        if rv is None or _same_values(rv, orv):
            resv = orv
        else:
            resv = _same(orv, [rv[k] for k in sorted(rv)])
        oq = o.quota
        if self._in_use is None and self._reserved is None:
            quota = oq
        else:
            in_use = tuple(self.in_use)
            reserved = tuple(self.reserved)
            quota = oq if in_use == oq.in_use and reserved == oq.reserved else Quota(
                in_use, reserved)  # type: ignore[arg-type]
        b = self._budgets
        budgets = o.budgets if b is None or tuple(b.items()) == o.budgets else tuple(
            sorted(b.items()))
        gone = self._deleted_flavors
        return _new(World, (
            _same(o.instances, self.instances),
            migs,
            resv,
            quota,
            _same(o.hosts, self.hosts),
            messages,
            frames,
            budgets,
            self.requests,
            o.deleted_flavors if gone is None or gone == o.deleted_flavors else frozenset(gone),
        ))

    def thaw(self, fid: str) -> WFrame:
        """The frame with id ``fid``, made mutable (frames are thawed only when a step changes
        them)."""
        f = self.frames[fid]
        if isinstance(f, WFrame):
            return f
        wf = WFrame.thaw(f)
        self.frames[fid] = wf
        return wf

    # ---- lookups -------------------------------------------------------------------------
    def inst_index(self, name: str) -> int:
        for i, inst in enumerate(self.instances):
            if inst.name == name:
                return i
        raise KeyError(name)

    def host_index(self, name: str) -> int:
        for i, h in enumerate(self.hosts):
            if h.name == name:
                return i
        raise KeyError(name)

    def host(self, name: str | None) -> Host | None:
        if name is None:
            return None
        for h in self.hosts:
            if h.name == name:
                return h
        return None

    def set_host(self, host: Host) -> None:
        self.hosts[self.host_index(host.name)] = host

    def new_frame_id(self, owner: str) -> str:
        """The smallest free id ``<owner>.<n>``: numbered per instance, so that handlers of
        different instances started in either order make the same state."""
        used = set(self.frames)
        used.update(m.reply_to for m in self.messages if m.reply_to is not None)
        used.update(f.reply_to for f in self.frames.values() if f.reply_to is not None)
        i = 0
        while f"{owner}.{i}" in used:
            i += 1
        return f"{owner}.{i}"

    def new_id(self, table: dict[str, Any], owner: str, sep: str) -> str:
        """The next id ``<owner><sep><n>`` (two digits, so ids sort by creation)."""
        n = sum(1 for k in table if k.startswith(owner + sep))
        return f"{owner}{sep}{n:02d}"
