"""Driving a cloud by hand: a thin, stateful layer over the pure engine, for tests that use the
engine as an oracle (docs/oracle.md).

>>> cloud = Cloud.from_config(load_preset("seed"))
>>> cloud.api.resize("test-cirros-1", "m1.small").outcome
'accepted'
>>> cloud.run_until_quiescent()
>>> cloud.instance("test-cirros-1").vm_state
'resized'

Every step goes through :meth:`Engine.step`, so what the facade does is exactly what the checker
explores; :attr:`Cloud.history` keeps each step with the spec rows it executed, its events, its
notifications and the messages it sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from nova_resize.spec import LIBERTY, Spec
from nova_resize.spec.states import LIBERTY_TASK_STATES, LIBERTY_VM_STATES

from nova_resize.errors import CloudError, InputError

from .actions import (
    Action,
    ApiRequest,
    Crash,
    Deliver,
    Fail,
    Lose,
    Periodic,
    Restart,
    Run,
    StayDown,
    Timeout,
    coerce,
    from_json,
)
from .config import FLAVOR_ACTIONS, Config
from .core import Engine, StepResult, describe
from .machines import Machines
from .outcome import ApiOutcome
from .render import nova_list
from .tx import Event, Notification
from .views import HostUsage, QuotaUsage, host_usage, quota_usage
from .world import INSTANCE_FIELDS, Frame, Host, Instance, Message, Migration, Reservation, World

OPERATIONS = ("resize", "migrate", "confirm_resize", "revert_resize", "delete", "stop", "start",
              "restore", "force_delete", "delete_flavor")
"""Liberty's user and admin requests (``Cloud.api``); a variant's spec may add operations,
which :meth:`Cloud.request` takes by name."""

UNLIMITED = 10**6


@dataclass
class Record:
    """One step of :attr:`Cloud.history`: the action, its one-line description, the spec rows
    it executed, nova-api's answer (for a request: ``outcome`` as a line, ``api`` structured),
    the notifications it emitted, the events properties look at (instance writes with their
    ``expected_task_state``, migration writes, handler ends...), the messages it put on the bus
    and the world after it."""

    action: Action
    text: str
    rows: list[str]
    outcome: str | None
    notifications: list[Notification] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    sent: list[Message] = field(default_factory=list)
    api: ApiOutcome | None = None
    world: World | None = None


class Api:
    """The user's requests to nova-api. Each returns the request's :class:`StepResult`
    (``.api`` is nova-api's answer). With ``run_api=True`` (the default) nova-api's remaining
    steps run at once, as nova-api answers only after it has sent its message; ``run_api=False``
    takes only the request's first step and leaves the API handler to :meth:`Cloud.run`."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    def resize(self, instance: str, flavor: str, run_api: bool = True) -> StepResult:
        """``nova resize <instance> <flavor>``."""
        return self._cloud.request("resize", instance, flavor, run_api=run_api)

    def migrate(self, instance: str, run_api: bool = True) -> StepResult:
        """``nova migrate <instance>`` (a cold migration: a resize to the same flavor)."""
        return self._cloud.request("migrate", instance, run_api=run_api)

    def confirm_resize(self, instance: str, run_api: bool = True) -> StepResult:
        """``nova resize-confirm <instance>``."""
        return self._cloud.request("confirm_resize", instance, run_api=run_api)

    def revert_resize(self, instance: str, run_api: bool = True) -> StepResult:
        """``nova resize-revert <instance>``."""
        return self._cloud.request("revert_resize", instance, run_api=run_api)

    def delete(self, instance: str, run_api: bool = True) -> StepResult:
        """``nova delete <instance>``."""
        return self._cloud.request("delete", instance, run_api=run_api)

    def stop(self, instance: str, run_api: bool = True) -> StepResult:
        """``nova stop <instance>``."""
        return self._cloud.request("stop", instance, run_api=run_api)

    def start(self, instance: str, run_api: bool = True) -> StepResult:
        """``nova start <instance>``."""
        return self._cloud.request("start", instance, run_api=run_api)

    def restore(self, instance: str, run_api: bool = True) -> StepResult:
        """``nova restore <instance>`` (a soft-deleted instance: reclaim_instance_interval)."""
        return self._cloud.request("restore", instance, run_api=run_api)

    def force_delete(self, instance: str, run_api: bool = True) -> StepResult:
        """``nova force-delete <instance>`` (os-deferred-delete: any vm_state, no task)."""
        return self._cloud.request("force_delete", instance, run_api=run_api)

    def delete_flavor(self, flavor: str, run_api: bool = True) -> StepResult:
        """``nova flavor-delete <flavor>``, an admin's request (no instance involved)."""
        return self._cloud.request("delete_flavor", "", flavor, run_api=run_api)


class Cloud:
    """A cloud driven by hand: the configuration's hosts, flavors and instances, every user
    request and fault available without budget. ``spec`` defaults to Liberty (nova 12.0.0);
    ``strict`` checks every instance and migration change against the state machines built
    from the spec (:mod:`nova_resize.engine.machines`)."""

    def __init__(self, config: Config, spec: Spec | None = None, strict: bool = True) -> None:
        """A cloud in the configuration's initial state (any request, to any flavor, and any
        fault may be taken, without the configuration's budgets or targets)."""
        spec = LIBERTY if spec is None else spec
        faults = dict(config.faults)
        for k in ("driver", "claim_refused", "no_valid_host", "crash", "stay_down", "lose",
                  "timeout"):
            faults.setdefault(k, 0)
        self.config: Config = replace(
            config, actions=tuple((op.name, UNLIMITED) for op in spec.operations),
            faults=tuple((k, UNLIMITED) for k in faults), targets=(),
            resize_flavors=tuple(f.name for f in config.flavors))
        """The configuration the cloud runs (requests and faults unlimited)."""
        self.engine: Engine = Engine(self.config, spec)
        """The pure engine every step goes through."""
        self.world: World = self.engine.initial()
        """The current state (an immutable value: keep one to come back to it)."""
        self.history: list[Record] = []
        """Every step taken, in order."""
        self.armed: list[str] = []
        """Fault rows armed by :meth:`fail`, not yet reached."""
        self.api: Api = Api(self)
        """The user's requests (``cloud.api.resize(...)``...)."""
        self.machines: Machines | None = Machines(spec) if strict else None
        """The state machines ``strict`` checks steps against (None when not strict)."""

    @classmethod
    def from_config(cls, config: Config, spec: Spec | None = None, strict: bool = True
                    ) -> Cloud:
        """A cloud from a :class:`Config` (see :func:`load_config`, :func:`load_preset`)."""
        return cls(config, spec, strict)

    @classmethod
    def from_preset(cls, name: str, spec: Spec | None = None, strict: bool = True,
                    **options: Any) -> Cloud:
        """A cloud from a built-in configuration, with some ``[options]`` replaced."""
        from .presets import load_preset

        config = load_preset(name)
        return cls(config.with_options(**options) if options else config, spec, strict)

    def __repr__(self) -> str:
        return f"<Cloud {self.config.name}: {len(self.history)} steps>"

    # ---- what can happen ----------------------------------------------------------------------
    def enabled(self) -> list[Action]:
        """Every action enabled now, as typed values (:mod:`nova_resize.engine.actions`): user
        requests (even those nova-api would refuse), handler steps, deliveries, injectable
        faults, restarts and periodic tasks with something to do."""
        return self.engine.enabled(self.world)

    def frames(self) -> list[Frame]:
        """The running handlers, in the world's order (their ``id`` is what :meth:`run` and
        :meth:`timeout` take)."""
        return list(self.world.frames)

    def messages(self) -> list[Message]:
        """The in-flight messages; a message's position is the index :meth:`deliver` and
        :meth:`lose` take."""
        return list(self.world.messages)

    def describe(self, action: Action | tuple[Any, ...]) -> str:
        """A one-line description of an action in the current state."""
        return describe(self.world, action)

    # ---- stepping ----------------------------------------------------------------------------
    def do(self, action: Action | tuple[Any, ...] | Mapping[str, Any]) -> StepResult:
        """Take one action (typed, its plain tuple, or its JSON form) as the checker would, and
        record it. The action is not checked against :meth:`enabled` (see :meth:`replay`)."""
        action = from_json(dict(action)) if isinstance(action, Mapping) else coerce(action)
        before = self.world
        text = describe(before, action)
        res = self.engine.step(before, action)
        if self.machines is not None:
            self.machines.check(before, res)
        self.world = res.world
        self.history.append(Record(action, text, res.rows, res.outcome, res.notifications,
                                   res.events, res.sent, res.api, res.world))
        return res

    def replay(self, actions: Iterable[Action | tuple[Any, ...] | Mapping[str, Any]]
               ) -> list[StepResult]:
        """Take ``actions`` in order, each checked to be enabled when its turn comes (a
        :class:`CloudError` names the first that is not). Actions may be typed, plain tuples,
        or the ``action_data`` of a check report's trace steps (see :func:`trace_actions`)."""
        out = []
        for n, a in enumerate(actions, 1):
            act = from_json(dict(a), f"action {n}") if isinstance(a, Mapping) else coerce(a)
            if act not in self.engine.enabled(self.world):
                raise CloudError(f"replay step {n}: {act!r} is not enabled in this state")
            out.append(self.do(act))
        return out

    def request(self, op: str, instance: str, arg: Any = None, run_api: bool = True
                ) -> StepResult:
        """A user request (``op`` an operation of the spec: :data:`OPERATIONS` for Liberty);
        with ``run_api`` nova-api's remaining steps run at once (nova-api answers the user only
        after it has sent its message). The result's ``api`` says whether nova-api accepted
        it."""
        ops = [o.name for o in self.engine.spec.operations]
        if op not in ops:
            raise CloudError(f"unknown request {op!r} (expected one of {', '.join(ops)})")
        if op not in FLAVOR_ACTIONS:
            self._instance(instance)
        res = self.do(ApiRequest(op, instance, arg))
        while run_api:
            api_frames = [f for f in self.world.frames if f.service == "api" and not f.waiting]
            if not api_frames:
                break
            self.do(self._run_action(api_frames[0].id))
        return res

    def start_request(self, op: str, instance: str, arg: Any = None) -> StepResult:
        """The first step of a user request only: the API handler, if it goes on, stays
        running for :meth:`run` to step (``request(..., run_api=False)``)."""
        return self.request(op, instance, arg, run_api=False)

    def _run_action(self, fid: str) -> Action:
        for a in self.engine.enabled(self.world):
            if isinstance(a, Fail) and a.frame == fid and a.row in self.armed:
                self.armed.remove(a.row)
                return a
        return Run(fid, 0)

    def run(self, method: str | None = None, service: str | None = None,
            frame: str | None = None, choice: int = 0) -> StepResult:
        """The next step of a running handler: the one with id ``frame``, else the oldest
        matching ``method``/``service``. ``choice`` picks among the scheduler's candidates when
        the step selects a destination. An armed fault row at that point runs instead."""
        for f in self.world.frames:
            if frame is not None and f.id != frame:
                continue
            if (method is None or f.method == method) and (service is None or f.service == service):
                if f.waiting:
                    raise CloudError(f"{f.method} on {f.service} is waiting for a reply")
                act = self._run_action(f.id)
                if choice and isinstance(act, Run):
                    act = Run(f.id, choice)
                return self.do(act)
        want = frame or f"{method or ''} {service or ''}".strip()
        raise CloudError(f"no running handler {want}".strip())

    def fail(self, row_id: str) -> None:
        """Arm a fault row: the next time a handler reaches it, it runs instead of the normal
        row."""
        try:
            row = self.engine.spec.row(row_id)
        except KeyError:
            raise CloudError(f"no spec row {row_id!r}") from None
        if row.fault is None:
            raise CloudError(f"{row_id} is not a fault row")
        self.armed.append(row_id)

    def _message_index(self, method: str | None, to: str | None, index: int | None) -> int:
        if index is not None:
            if not 0 <= index < len(self.world.messages):
                raise CloudError(f"no in-flight message at index {index}")
            return index
        for i, msg in enumerate(self.world.messages):
            if (method is None or msg.method == method) and (to is None or msg.target == to):
                return i
        raise CloudError(f"no in-flight message {method or ''} {to or ''}".strip())

    def deliver(self, method: str | None = None, to: str | None = None,
                index: int | None = None) -> StepResult:
        """Deliver an in-flight message: the one at ``index`` in :meth:`messages`, else the
        first matching ``method``/``to``."""
        i = self._message_index(method, to, index)
        msg = self.world.messages[i]
        if Deliver(i) not in self.engine.enabled(self.world):
            raise CloudError(f"{msg.method} to {msg.target} cannot be delivered now")
        return self.do(Deliver(i))

    def lose(self, method: str | None = None, to: str | None = None,
             index: int | None = None) -> StepResult:
        """Lose an in-flight message (chosen as :meth:`deliver` chooses)."""
        return self.do(Lose(self._message_index(method, to, index)))

    def stay_down(self, host: str) -> StepResult:
        """The compute service on ``host`` stops and is never restarted."""
        self._host(host)
        return self.do(StayDown(host))

    def crash(self, host: str) -> StepResult:
        """Crash nova-compute on ``host``: its running handlers vanish."""
        self._host(host)
        return self.do(Crash(host))

    def restart(self, host: str) -> StepResult:
        """Start nova-compute on ``host`` again (it runs ``init_host`` recovery)."""
        if self._host(host).status != "down":
            raise CloudError(f"nova-compute on {host} is not down")
        return self.do(Restart(host))

    def periodic(self, task: str, host: str, migration: str | None = None,
                 instance: str | None = None) -> StepResult:
        """Run a periodic task on ``host`` to its end (as Nova's periodic call does):
        ``update_available_resource`` (the resource tracker's audit), or a task about one
        migration (``poll_unconfirmed_resizes``, ``cleanup_incomplete_migrations``): its id,
        the latest migration of ``instance`` (an instance name is accepted as ``migration``
        too), or when neither is given the first migration the task would take up now; or
        ``reclaim_queued_deletes``, about no migration. Returns the first step's result."""
        if migration is not None and migration not in {mg.id for mg in self.world.migrations}:
            instance, migration = migration, None
        if instance is not None and migration is None:
            self._instance(instance)
            mig = self.migration(instance)
            if mig is None:
                raise CloudError(f"{instance} has no migration")
            migration = mig.id
        action = Periodic(task, host, migration)
        if migration is None and task != "update_available_resource":
            found = [a for a in self.engine.periodic_candidates(self.world, task)
                     if a.host == host]
            if not found:
                raise CloudError(f"periodic {task} on {host}: nothing for it to do now")
            action = found[0]
        before = {f.id for f in self.world.frames}
        res = self.do(action)
        for _ in range(1000):
            # the task's handler and those it started (the reclaim's, one per instance)
            mine = [f for f in self.world.frames if f.id not in before
                    and f.service == host and not f.waiting]
            if not mine:
                break
            self.do(self._run_action(mine[0].id))
        return res

    def timeout(self, frame_id: str) -> StepResult:
        """The RPC call the handler ``frame_id`` waits on times out at the caller."""
        return self.do(Timeout(frame_id))

    def step(self) -> StepResult | None:
        """One step of whatever runs next: the oldest runnable handler, else the oldest
        deliverable message. None when nothing can happen on its own."""
        enabled = self.engine.enabled(self.world)
        runs = sorted(a for a in enabled if isinstance(a, Run) and a.choice == 0)
        if runs:
            return self.do(self._run_action(runs[0].frame))
        delivers = sorted(a for a in enabled if isinstance(a, Deliver))
        if delivers:
            return self.do(delivers[0])
        return None

    def run_until_quiescent(self, limit: int = 10_000) -> None:
        """Run handlers and deliver messages until nothing runs on its own."""
        for _ in range(limit):
            if self.step() is None:
                return
        raise CloudError(f"still running after {limit} steps")

    # ---- setting up state, as Nova's tests do with database writes ---------------------------
    def set_instance(self, name: str, /, in_flight: bool = False, **fields: Any) -> Instance:
        """Write fields of an instance's database row (``db.instance_update`` in a Nova test),
        outside any step: nothing else changes, nothing is recorded in :attr:`history`.
        ``in_flight`` also writes them into every in-flight message's copy of the instance (the
        object a Nova test then hands to the handler). Returns the new row."""
        self._instance(name)
        self._check_fields(Instance, fields, name)
        insts = tuple(i._replace(**fields) if i.name == name else i
                      for i in self.world.instances)
        msgs = self.world.messages
        if in_flight:
            msgs = tuple(msg._replace(instance=msg.instance._replace(**fields))
                         if msg.instance.name == name else msg for msg in msgs)
        self.world = self.world._replace(instances=insts, messages=msgs)
        return self._instance(name)

    def set_migration(self, migration: str, /, **fields: Any) -> Migration:
        """Write fields of a migration row: ``migration`` is its id or an instance name (its
        latest migration). Outside any step, like :meth:`set_instance`."""
        mig = next((mg for mg in self.world.migrations if mg.id == migration), None)
        if mig is None:
            mig = self.migration(migration)
        if mig is None:
            raise CloudError(f"no migration {migration!r}")
        self._check_fields(Migration, fields, mig.id)
        migs = tuple(x._replace(**fields) if x.id == mig.id else x
                     for x in self.world.migrations)
        self.world = self.world._replace(migrations=migs)
        return next(x for x in migs if x.id == mig.id)

    def _check_fields(self, cls: Any, fields: dict[str, Any], what: str) -> None:
        spec = self.engine.spec
        hosts = {h.name for h in self.world.hosts}
        flavors = set(self.engine.flavors)
        allowed: dict[str, tuple[Any, ...] | type] = {
            "vm_state": LIBERTY_VM_STATES, "task_state": (None, *LIBERTY_TASK_STATES),
            "host": (*sorted(hosts), None), "flavor": tuple(sorted(flavors)),
            "old_flavor": (*sorted(flavors), None), "new_flavor": (*sorted(flavors), None),
            "old_vm_state": (*LIBERTY_VM_STATES, None),
            "status": tuple(spec.migration_statuses),
            "source_compute": tuple(sorted(hosts)), "dest_compute": tuple(sorted(hosts)),
            "launched": bool, "locked": bool, "deleted": bool, "power_state": int,
        }
        for k, v in fields.items():
            settable = [f for f in cls._fields if f not in ("name", "id", "instance")]
            if k not in settable:
                raise CloudError(f"{what}: {k!r} is not a field that can be set (expected one "
                                 f"of {', '.join(settable)})")
            rule = allowed.get(k)
            if isinstance(rule, type):
                if not isinstance(v, rule) or (rule is int and isinstance(v, bool)):
                    raise CloudError(f"{what}.{k}: expected a {rule.__name__}, found {v!r}")
            elif rule is not None and v not in rule:
                raise CloudError(f"{what}.{k}: expected one of {list(rule)}, found {v!r}")

    # ---- reading -----------------------------------------------------------------------------
    def _instance(self, name: str) -> Instance:
        for inst in self.world.instances:
            if inst.name == name:
                return inst
        raise CloudError(f"no instance {name!r}")

    def _host(self, name: str) -> Host:
        for h in self.world.hosts:
            if h.name == name:
                return h
        raise CloudError(f"no host {name!r}")

    def instance(self, name: str) -> Instance:
        """The instance's database row now."""
        return self._instance(name)

    def migration(self, instance: str) -> Migration | None:
        """The instance's most recent migration (None if it never had one)."""
        migs = [mg for mg in self.world.migrations if mg.instance == instance]
        return migs[-1] if migs else None

    def migrations(self, instance: str | None = None) -> list[Migration]:
        """Every migration row (of ``instance`` only, if given), oldest first."""
        return [mg for mg in self.world.migrations if instance is None or mg.instance == instance]

    def host(self, name: str) -> Host:
        """The host: service status, resource tracker and hypervisor."""
        return self._host(name)

    def host_usage(self, name: str) -> HostUsage:
        """The host's resource-tracker usage: vcpus, memory_mb, root_gb."""
        return host_usage(self._host(name))

    @property
    def quota(self) -> QuotaUsage:
        """The project's quota per resource (``cloud.quota.cores.in_use``...)."""
        return quota_usage(self.world.quota, self.config)

    @property
    def quota_usage(self) -> dict[str, int]:
        """``in_use`` per quota resource, as a dict."""
        return self.quota.in_use()

    @property
    def quota_reserved(self) -> dict[str, int]:
        """``reserved`` per quota resource, as a dict."""
        return self.quota.reserved()

    @property
    def reservations(self) -> tuple[Reservation, ...]:
        """Every quota reservation made so far, with its status."""
        return self.world.reservations

    def rows(self) -> list[str]:
        """Every spec row executed so far, in order."""
        return [r for rec in self.history for r in rec.rows]

    def notifications(self, since: int = 0) -> list[Notification]:
        """The notifications emitted by the steps from ``history[since]`` on, in order."""
        return [n for rec in self.history[since:] for n in rec.notifications]

    def sent(self, since: int = 0) -> list[Message]:
        """The messages (casts and calls) sent by the steps from ``history[since]`` on."""
        return [msg for rec in self.history[since:] for msg in rec.sent]

    def events(self, since: int = 0, kind: str | None = None) -> list[Event]:
        """The events of the steps from ``history[since]`` on (of ``kind`` only, if given)."""
        return [ev for rec in self.history[since:] for ev in rec.events
                if kind is None or ev.kind == kind]

    def nova_list(self) -> str:
        """The ``nova list`` table of the current state."""
        return nova_list(self.world)

    def status(self, name: str) -> tuple[str, str]:
        """(Status, Task State) as ``nova list`` shows them."""
        from nova_resize.spec.states import api_status

        inst = self._instance(name)
        return api_status(inst.vm_state, inst.task_state), inst.task_state or "-"


def trace_actions(finding: Mapping[str, Any]) -> list[Action]:
    """The actions of a finding of a ``nova-resize check --json`` report (its ``actions``, or
    its trace steps' ``action_data``), for :meth:`Cloud.replay`."""
    actions = finding.get("actions")
    if isinstance(actions, list):
        return [from_json(a, f"finding.actions[{n}]") for n, a in enumerate(actions)]
    trace = finding.get("trace")
    if not isinstance(trace, list):
        raise InputError("finding.trace: expected the array of steps of a check report finding")
    out = []
    for n, step in enumerate(trace):
        if not isinstance(step, Mapping) or "action_data" not in step:
            raise InputError(f"finding.trace[{n}]: no action_data")
        out.append(from_json(step["action_data"], f"finding.trace[{n}].action_data"))
    return out


__all__ = ["INSTANCE_FIELDS", "OPERATIONS", "Api", "Cloud", "CloudError", "Record",
           "trace_actions"]
