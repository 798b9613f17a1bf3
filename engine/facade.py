"""Driving a cloud by hand: a thin, stateful layer over the pure engine.

>>> cloud = Cloud.from_config(load_preset("seed"))
>>> cloud.api.resize("test-cirros-1", "m1.small").outcome
'accepted'
>>> cloud.run_until_quiescent()
>>> cloud.instance("test-cirros-1").vm_state
'resized'

Every step goes through :meth:`Engine.step`, so what the facade does is exactly what the checker
explores; :attr:`Cloud.history` keeps each action with the spec rows it executed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from nova_resize.spec import LIBERTY, Spec

from nova_resize.errors import CloudError

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
)
from .config import FLAVOR_ACTIONS, Config
from .core import Engine, StepResult, describe
from .machines import Machines
from .render import nova_list
from .tx import Notification
from .world import Host, Instance, Migration, Reservation, World


@dataclass
class Record:
    """One step of the history: the action, its description and what it did."""

    action: Action
    text: str
    rows: list[str]
    outcome: str | None
    notifications: list[Notification] = field(default_factory=list)


class Api:
    """The user's requests to nova-api."""

    def __init__(self, cloud: Cloud) -> None:
        self._cloud = cloud

    def resize(self, instance: str, flavor: str) -> StepResult:
        return self._cloud.request("resize", instance, flavor)

    def migrate(self, instance: str) -> StepResult:
        return self._cloud.request("migrate", instance)

    def confirm_resize(self, instance: str) -> StepResult:
        return self._cloud.request("confirm_resize", instance)

    def revert_resize(self, instance: str) -> StepResult:
        return self._cloud.request("revert_resize", instance)

    def delete(self, instance: str) -> StepResult:
        return self._cloud.request("delete", instance)

    def stop(self, instance: str) -> StepResult:
        return self._cloud.request("stop", instance)

    def start(self, instance: str) -> StepResult:
        return self._cloud.request("start", instance)

    def restore(self, instance: str) -> StepResult:
        return self._cloud.request("restore", instance)

    def delete_flavor(self, flavor: str) -> StepResult:
        """An admin deletes a flavor (no instance involved)."""
        return self._cloud.request("delete_flavor", "", flavor)


class Cloud:
    """A cloud driven by hand. ``strict`` checks every instance and migration change against the
    state machines built from the spec (:mod:`nova_resize.engine.machines`)."""

    def __init__(self, config: Config, spec: Spec = LIBERTY, strict: bool = True) -> None:
        unlimited = [(op.name, 10**6) for op in spec.operations]
        faults = dict(config.faults)
        for k in ("driver", "claim_refused", "no_valid_host", "crash", "stay_down", "lose",
                  "timeout"):
            faults.setdefault(k, 0)
        budgets = {k: 10**6 for k in faults}
        self.config = replace(config, actions=tuple(unlimited), faults=tuple(budgets.items()))
        self.engine = Engine(self.config, spec)
        self.world: World = self.engine.initial()
        self.history: list[Record] = []
        self.armed: list[str] = []
        self.api = Api(self)
        self.machines = Machines(spec) if strict else None

    @classmethod
    def from_config(cls, config: Config, spec: Spec = LIBERTY, strict: bool = True) -> Cloud:
        return cls(config, spec, strict)

    # ---- stepping ----------------------------------------------------------------------------
    def do(self, action: Action | tuple[Any, ...]) -> StepResult:
        """Take one action (as the checker would) and record it."""
        action = coerce(action)
        before = self.world
        text = describe(before, action)
        res = self.engine.step(before, action)
        if self.machines is not None:
            self.machines.check(before, res)
        self.world = res.world
        self.history.append(Record(action, text, res.rows, res.outcome, res.notifications))
        return res

    def request(self, op: str, instance: str, arg: Any = None) -> StepResult:
        """A user request; the API's remaining steps run at once (nova-api answers the user
        only after it has sent its message)."""
        if op not in FLAVOR_ACTIONS:
            self._instance(instance)
        res = self.do(ApiRequest(op, instance, arg))
        while True:
            api_frames = [f for f in self.world.frames if f.service == "api" and not f.waiting]
            if not api_frames:
                break
            self.do(self._run_action(api_frames[0].id))
        return res

    def _run_action(self, fid: str) -> Action:
        for a in self.engine.enabled(self.world):
            if isinstance(a, Fail) and a.frame == fid and a.row in self.armed:
                self.armed.remove(a.row)
                return a
        return Run(fid, 0)

    def run(self, method: str | None = None, service: str | None = None) -> StepResult:
        """The next step of the oldest running handler (matching ``method``/``service``)."""
        for f in self.world.frames:
            if (method is None or f.method == method) and (service is None or f.service == service):
                if f.waiting:
                    raise CloudError(f"{f.method} on {f.service} is waiting for a reply")
                return self.do(self._run_action(f.id))
        raise CloudError(f"no running handler {method or ''} {service or ''}".strip())

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

    def deliver(self, method: str | None = None, to: str | None = None) -> StepResult:
        """Deliver the oldest in-flight message (matching ``method``/``to``)."""
        for i, msg in enumerate(self.world.messages):
            if (method is None or msg.method == method) and (to is None or msg.target == to):
                if Deliver(i) not in self.engine.enabled(self.world):
                    raise CloudError(f"{msg.method} to {msg.target} cannot be delivered now")
                return self.do(Deliver(i))
        raise CloudError(f"no in-flight message {method or ''} {to or ''}".strip())

    def lose(self, method: str | None = None, to: str | None = None) -> StepResult:
        """Lose the oldest in-flight message (matching ``method``/``to``)."""
        for i, msg in enumerate(self.world.messages):
            if (method is None or msg.method == method) and (to is None or msg.target == to):
                return self.do(Lose(i))
        raise CloudError(f"no in-flight message {method or ''} {to or ''}".strip())

    def stay_down(self, host: str) -> StepResult:
        """The compute service on ``host`` stops and is never restarted."""
        self._host(host)
        return self.do(StayDown(host))

    def crash(self, host: str) -> StepResult:
        self._host(host)
        return self.do(Crash(host))

    def restart(self, host: str) -> StepResult:
        if self._host(host).status != "down":
            raise CloudError(f"nova-compute on {host} is not down")
        return self.do(Restart(host))

    def periodic(self, task: str, host: str, migration: str | None = None) -> StepResult:
        """Run a periodic task on ``host`` to its end (as Nova's periodic call does); for a
        task about one migration, ``migration`` (an id) or, when omitted, the first migration
        the task would take up now (``_reclaim_queued_deletes`` concerns no migration). Returns
        the first step's result."""
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
        return self._instance(name)

    def migration(self, instance: str) -> Migration | None:
        """The instance's most recent migration."""
        migs = [mg for mg in self.world.migrations if mg.instance == instance]
        return migs[-1] if migs else None

    def migrations(self, instance: str | None = None) -> list[Migration]:
        return [mg for mg in self.world.migrations if instance is None or mg.instance == instance]

    def host(self, name: str) -> Host:
        return self._host(name)

    @property
    def quota_usage(self) -> dict[str, int]:
        return dict(zip(("instances", "cores", "ram"), self.world.quota.in_use, strict=True))

    @property
    def quota_reserved(self) -> dict[str, int]:
        return dict(zip(("instances", "cores", "ram"), self.world.quota.reserved, strict=True))

    @property
    def reservations(self) -> tuple[Reservation, ...]:
        return self.world.reservations

    def rows(self) -> list[str]:
        """Every spec row executed so far, in order."""
        return [r for rec in self.history for r in rec.rows]

    def nova_list(self) -> str:
        return nova_list(self.world)

    def status(self, name: str) -> tuple[str, str]:
        """(Status, Task State) as ``nova list`` shows them."""
        from nova_resize.spec.states import api_status

        inst = self._instance(name)
        return api_status(inst.vm_state, inst.task_state), inst.task_state or "-"
