"""The actions that move a world: one type per kind of step.

Each action is an immutable tuple whose first item is its ``kind``, so actions hash fast, sort,
compare equal only within a kind (``Deliver(0) != Lose(0)``), pickle, and equal the plain tuples
older reports and scripts used (``Deliver(0) == ("deliver", 0)``). :func:`to_json` and
:func:`from_json` turn them into data a report can store and :func:`coerce` accepts either form.

Who takes each step: a user (:class:`ApiRequest`), Nova itself (:class:`Deliver`, :class:`Run`,
:class:`Restart`, :class:`Periodic`, and a :class:`Timeout` of a call no one will answer), or the
fault injector (:class:`Fail`, :class:`Lose`, :class:`Crash`, :class:`StayDown`, and any
other :class:`Timeout`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from nova_resize.errors import InputError


class _ApiRequest(NamedTuple):
    kind: str
    op: str
    instance: str
    arg: str | None


class ApiRequest(_ApiRequest):
    """A user or admin request to nova-api: ``op`` on ``instance`` (``arg``: a resize's
    flavor)."""

    __slots__ = ()

    def __new__(cls, op: str, instance: str, arg: str | None = None) -> ApiRequest:
        return tuple.__new__(cls, ("api", op, instance, arg))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.op, self.instance, self.arg)

    def __repr__(self) -> str:
        return f"ApiRequest({self.op!r}, {self.instance!r}, {self.arg!r})"


class _Deliver(NamedTuple):
    kind: str
    message: int


class Deliver(_Deliver):
    """The in-flight message at position ``message`` (in the world's canonical order) reaches
    its service, which starts the handler for it."""

    __slots__ = ()

    def __new__(cls, message: int) -> Deliver:
        return tuple.__new__(cls, ("deliver", message))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.message,)

    def __repr__(self) -> str:
        return f"Deliver({self.message})"


class _Lose(NamedTuple):
    kind: str
    message: int


class Lose(_Lose):
    """Injected: the in-flight message at position ``message`` is lost."""

    __slots__ = ()

    def __new__(cls, message: int) -> Lose:
        return tuple.__new__(cls, ("lose", message))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.message,)

    def __repr__(self) -> str:
        return f"Lose({self.message})"


class _Run(NamedTuple):
    kind: str
    frame: str
    choice: int


class Run(_Run):
    """The next step of the running handler ``frame``; ``choice`` picks among the scheduler's
    candidate hosts when the step selects a destination."""

    __slots__ = ()

    def __new__(cls, frame: str, choice: int = 0) -> Run:
        return tuple.__new__(cls, ("run", frame, choice))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.frame, self.choice)

    def __repr__(self) -> str:
        return f"Run({self.frame!r}, {self.choice})"


class _Fail(NamedTuple):
    kind: str
    frame: str
    row: str


class Fail(_Fail):
    """Injected: the fault row ``row`` runs instead of the normal step of ``frame``."""

    __slots__ = ()

    def __new__(cls, frame: str, row: str) -> Fail:
        return tuple.__new__(cls, ("fail", frame, row))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.frame, self.row)

    def __repr__(self) -> str:
        return f"Fail({self.frame!r}, {self.row!r})"


class _Timeout(NamedTuple):
    kind: str
    frame: str


class Timeout(_Timeout):
    """The RPC call ``frame`` waits on times out at the caller (the callee may still run)."""

    __slots__ = ()

    def __new__(cls, frame: str) -> Timeout:
        return tuple.__new__(cls, ("timeout", frame))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.frame,)

    def __repr__(self) -> str:
        return f"Timeout({self.frame!r})"


class _Crash(NamedTuple):
    kind: str
    host: str


class Crash(_Crash):
    """Injected: the compute service on ``host`` stops; its running handlers vanish."""

    __slots__ = ()

    def __new__(cls, host: str) -> Crash:
        return tuple.__new__(cls, ("crash", host))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.host,)

    def __repr__(self) -> str:
        return f"Crash({self.host!r})"


class _StayDown(NamedTuple):
    kind: str
    host: str


class StayDown(_StayDown):
    """Injected: the compute service on ``host`` stops and stays down (it is never
    restarted); nova-api and the conductor go on without it."""

    __slots__ = ()

    def __new__(cls, host: str) -> StayDown:
        return tuple.__new__(cls, ("stay_down", host))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.host,)

    def __repr__(self) -> str:
        return f"StayDown({self.host!r})"


class _Restart(NamedTuple):
    kind: str
    host: str


class Restart(_Restart):
    """The compute service on ``host`` starts again and runs ``init_host`` recovery."""

    __slots__ = ()

    def __new__(cls, host: str) -> Restart:
        return tuple.__new__(cls, ("restart", host))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.host,)

    def __repr__(self) -> str:
        return f"Restart({self.host!r})"


class _Periodic(NamedTuple):
    kind: str
    task: str
    host: str
    migration: str | None


class Periodic(_Periodic):
    """A periodic task ``task`` runs on ``host`` (``migration``: the one it concerns)."""

    __slots__ = ()

    def __new__(cls, task: str, host: str, migration: str | None = None) -> Periodic:
        return tuple.__new__(cls, ("periodic", task, host, migration))

    def __getnewargs__(self) -> tuple[Any, ...]:
        return (self.task, self.host, self.migration)

    def __repr__(self) -> str:
        return f"Periodic({self.task!r}, {self.host!r}, {self.migration!r})"


Action = (ApiRequest | Deliver | Lose | Run | Fail | Timeout | Crash | StayDown | Restart
          | Periodic)
"""Any action."""

ACTION_TYPES: dict[str, type[Any]] = {
    "api": ApiRequest,
    "deliver": Deliver,
    "lose": Lose,
    "run": Run,
    "fail": Fail,
    "timeout": Timeout,
    "crash": Crash,
    "stay_down": StayDown,
    "restart": Restart,
    "periodic": Periodic,
}
"""The action type of each kind."""

_FIELDS: dict[str, tuple[str, ...]] = {k: t._fields[1:] for k, t in ACTION_TYPES.items()}


def coerce(action: Any) -> Action:
    """An action from its typed form or its plain-tuple form (``("deliver", 0)``)."""
    if type(action) in _TYPES:
        return action  # type: ignore[no-any-return]
    if not isinstance(action, (tuple, list)) or not action:
        raise InputError(f"expected an action, found {action!r}")
    kind = action[0]
    cls = ACTION_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InputError(f"unknown action kind {kind!r} (expected one of "
                         f"{', '.join(ACTION_TYPES)})")
    args = tuple(action[1:])
    if len(args) != len(_FIELDS[kind]):
        raise InputError(f"action {kind}: expected {len(_FIELDS[kind])} values "
                         f"({', '.join(_FIELDS[kind])}), found {len(args)}")
    return cls(*args)  # type: ignore[no-any-return]


_TYPES = frozenset(ACTION_TYPES.values())


def to_json(action: Action) -> dict[str, Any]:
    """An action as JSON data: ``{"kind": ..., <field>: ...}``."""
    out: dict[str, Any] = {"kind": action[0]}
    for name, value in zip(_FIELDS[action[0]], action[1:], strict=True):
        out[name] = value
    return out


def from_json(data: Any, where: str = "action") -> Action:
    """The action :func:`to_json` wrote; :class:`InputError` naming ``where`` otherwise."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected an object with a 'kind', found {data!r}")
    kind = data.get("kind")
    if kind not in ACTION_TYPES:
        raise InputError(f"{where}.kind: expected one of {', '.join(ACTION_TYPES)}, "
                         f"found {kind!r}")
    fields = _FIELDS[kind]
    extra = sorted(set(data) - {"kind", *fields})
    if extra:
        raise InputError(f"{where}.{extra[0]}: unknown field of a {kind} action (expected "
                         f"{', '.join(fields)})")
    values = []
    for name in fields:
        v = data.get(name)
        want_int = name in ("message", "choice")
        if want_int and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            raise InputError(f"{where}.{name}: expected a non-negative integer, found {v!r}")
        if not want_int and v is not None and not isinstance(v, str):
            raise InputError(f"{where}.{name}: expected a string, found {v!r}")
        if not want_int and v is None and name not in ("arg", "migration"):
            raise InputError(f"{where}.{name}: missing")
        values.append(v)
    return ACTION_TYPES[kind](*values)  # type: ignore[no-any-return]


__all__ = [
    "ACTION_TYPES",
    "Action",
    "ApiRequest",
    "Crash",
    "Deliver",
    "Fail",
    "Lose",
    "Periodic",
    "Restart",
    "Run",
    "StayDown",
    "Timeout",
    "coerce",
    "from_json",
    "to_json",
]
