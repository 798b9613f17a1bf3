"""The engine: the initial state of a configuration, the actions enabled in a state, and the
pure step function from a state and an action to the next state.

The engine interprets the spec's rows and holds no Nova behaviour of its own beyond the object,
database, RPC and hypervisor semantics that nova_resize.spec.model documents.

Actions are tuples:

* ``("api", op, instance, arg)`` -- a user request (``arg``: the flavor of a resize);
* ``("deliver", i)`` -- the i-th in-flight message reaches its service;
* ``("run", frame_id, choice)`` -- the next step of a running handler (``choice`` picks among
  the scheduler's candidate hosts);
* ``("fail", frame_id, row_id)`` -- an injected fault: the fault row runs instead;
* ``("lose", i)`` -- the i-th in-flight message is lost;
* ``("timeout", frame_id)`` -- the RPC call a handler waits on times out;
* ``("crash", host)`` / ``("restart", host)`` -- a compute service stops / starts;
* ``("periodic", task, host, migration_id)`` -- a periodic task runs on a host.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nova_resize.spec import END, LIBERTY, RAISE, Spec
from nova_resize.spec import model as m
from nova_resize.spec.states import (
    FINISHED,
    RESIZE_TASK_STATES,
    RESIZED,
    RUNNING,
    SHUTDOWN,
    STOPPED,
)

from . import effects
from .config import Config, Flavor
from .effects import Refused, new_frame
from .refs import SpecError, all_hold
from .resources import Resources
from .tx import Event, Notification, NovaError, Tx, WFrame, get_local
from .world import Frame, Host, Instance, Quota, Requests, World

Action = tuple[Any, ...]

_EAGER = (m.Set, m.Raise, m.Refuse, m.Goto, m.Lock)


@dataclass
class StepResult:
    """What a step did: the next state, the rows it executed in order, the events properties
    look at, the notifications emitted, and for API requests the outcome."""

    world: World
    rows: list[str]
    events: list[Any]
    notifications: list[Notification] = field(default_factory=list)
    outcome: str | None = None


class Engine:
    """A spec compiled against a configuration."""

    def __init__(self, config: Config, spec: Spec = LIBERTY) -> None:
        self.spec = spec
        self.config = config
        self.flavors: dict[str, Flavor] = {f.name: f for f in config.flavors}
        self.quota_deltas = {q.name: q for q in spec.quota_deltas}
        self.handlers = {h.name: h for h in spec.handlers}
        self.rows: dict[tuple[str, str], list[m.Row]] = {}
        self.fault_rows: dict[tuple[str, str], list[m.Row]] = {}
        for r in spec.rows:
            (self.fault_rows if r.fault else self.rows).setdefault((r.handler, r.at), []).append(r)
        self.eager = {r.id: all(isinstance(e, _EAGER) for e in r.effects) for r in spec.rows}
        self.has_choice = {
            r.id: any(isinstance(e, m.SelectDestination) for e in r.effects) for r in spec.rows
        }
        self.resources = Resources(self)
        self.cond_fns: dict[m.Cond, Any] = {}
        self.host_names = tuple(h.name for h in config.hosts)
        # Casts are delivered in any order unless [check] fifo: the bus is then a multiset.
        self.fifo = bool(config.check_option("fifo", False))

    # ---- the initial state -------------------------------------------------------------------
    def initial(self) -> World:
        cfg = self.config
        instances = []
        for ic in cfg.instances:
            power = SHUTDOWN if ic.vm_state == STOPPED else RUNNING
            instances.append(
                Instance(ic.name, ic.vm_state, None, power, ic.host, ic.flavor, None, None, None,
                         True, ic.locked, False)
            )
        hosts = []
        for hc in cfg.hosts:
            on = [ic for ic in cfg.instances if ic.host == hc.name]
            usage = (0, 0, 0)
            for ic in on:
                usage = self.resources.add(usage, self.resources.usage_of(ic.flavor))
            hosts.append(
                Host(
                    hc.name,
                    "up" if hc.up else "down",
                    usage,
                    frozenset(ic.name for ic in on),
                    frozenset(),
                    frozenset(ic.name for ic in on),
                    frozenset(ic.name for ic in on if ic.vm_state != STOPPED),
                )
            )
        cores = sum(self.flavors[ic.flavor].vcpus for ic in cfg.instances)
        ram = sum(self.flavors[ic.flavor].memory_mb for ic in cfg.instances)
        budgets = [(f"op:{k}", v) for k, v in cfg.actions]
        budgets += [(f"fault:{k}", v) for k, v in cfg.faults]
        return World(
            tuple(instances),
            (),
            (),
            Quota((len(instances), cores, ram), (0, 0, 0)),
            tuple(hosts),
            (),
            (),
            tuple(sorted(budgets)),
            tuple(Requests(ic.name, None, False, False) for ic in cfg.instances),
        )

    # ---- which rows apply --------------------------------------------------------------------
    def applicable(self, tx: Tx, fr: Frame | WFrame) -> list[m.Row]:
        """The non-fault rows at the frame's label whose conditions hold (``otherwise`` rows
        only when no other does). More than one is a spec error."""
        rows = self.rows.get((fr.handler, fr.label), [])
        found = [r for r in rows if not r.otherwise and all_hold(self, tx, fr, r.when)]
        if not found:
            found = [r for r in rows if r.otherwise and all_hold(self, tx, fr, r.when)]
        if len(found) > 1:
            raise SpecError(
                f"rows {', '.join(r.id for r in found)} all apply at {fr.handler}:{fr.label}"
            )
        return found

    def faults_at(self, tx: Tx, fr: Frame | WFrame) -> list[m.Row]:
        return [
            r
            for r in self.fault_rows.get((fr.handler, fr.label), [])
            if tx.budgets.get(f"fault:{r.fault}", 0) > 0 and all_hold(self, tx, fr, r.when)
        ]

    # ---- running rows ------------------------------------------------------------------------
    def exec_row(self, tx: Tx, fr: WFrame, row: m.Row) -> None:
        tx.rows.append(row.id)
        for n in row.notify_before:
            tx.notifications.append(_usage(n, fr, row.id))
        before = (fr.handler, fr.label)
        try:
            for eff in row.effects:
                effects.apply(self, tx, fr, eff, row)
        except NovaError as e:
            if row.on_fail is not None:
                fr.locals["inner_exc"] = e.exc
                self.goto(tx, fr, row.on_fail)
            else:
                self.raise_(tx, fr, e.exc, row.scope)
            return
        except Refused as r:
            tx.outcome = f"refused: {r.exc} (HTTP {r.http})"
            self.end(tx, fr, ok=False)
            return
        for n in row.notify:
            tx.notifications.append(_usage(n, fr, row.id))
        for n in row.notify_late:
            tx.notifications.append(_usage(n, fr, row.id)._replace(late=True))
        if (fr.handler, fr.label) != before and any(isinstance(e, m.Goto) for e in row.effects):
            return  # a Goto chose where to continue
        self.goto(tx, fr, row.then)

    def goto(self, tx: Tx, fr: WFrame, target: str) -> None:
        if target == END:
            self.end(tx, fr, ok=True)
        elif target == RAISE:
            self.enter_chain(tx, fr, fr.chain or ())
        else:
            fr.label = target

    def raise_(self, tx: Tx, fr: WFrame, exc: str, scope: str) -> None:
        fr.exc = exc
        if fr.chain is not None:
            chain = fr.chain  # raised inside an error handler: on to the next one
        elif fr.override is not None:
            chain = fr.override
        else:
            chain = self.handlers[fr.handler].chain(scope)
        self.enter_chain(tx, fr, chain)

    def enter_chain(self, tx: Tx, fr: WFrame, chain: tuple[str, ...]) -> None:
        if not chain:
            self.end(tx, fr, ok=False)
            return
        fr.handler = chain[0]
        fr.label = self.handlers[chain[0]].entry
        fr.chain = chain[1:]

    def end(self, tx: Tx, fr: WFrame, ok: bool) -> None:
        fr.ended = True
        tx.events.append(Event("frame_end", fr.method, (fr.service, fr.instance.name, ok,
                                                         fr.exc)))
        tx.frames.pop(fr.id, None)
        if fr.service == "api" and tx.outcome is None:
            tx.outcome = "accepted" if ok else f"error: {fr.exc}"
        if fr.reply_to is not None:
            caller = tx.frames.get(fr.reply_to)
            if caller is not None and caller.waiting:
                caller = tx.thaw(fr.reply_to)
                caller.locals["reply"] = "ok" if ok else (fr.exc or "Exception")
                caller.waiting = False

    def run_eager(self, tx: Tx, fr: WFrame) -> None:
        """Run rows that only touch the handler's memory (no database, message or host
        effect) at once: nothing else can observe the difference."""
        while not fr.ended and not fr.waiting:
            key = (fr.handler, fr.label)
            if key in self.fault_rows:
                return
            rows = self.applicable(tx, fr)
            if not rows or not self.eager[rows[0].id]:
                return
            self.exec_row(tx, fr, rows[0])

    def run_one(self, tx: Tx, fr: WFrame, choice: int = 0) -> None:
        rows = self.applicable(tx, fr)
        if not rows:
            raise SpecError(f"no row applies at {fr.handler}:{fr.label}")
        if choice:
            fr.locals["choice"] = choice
        self.exec_row(tx, fr, rows[0])
        self.run_eager(tx, fr)

    # ---- the actions ------------------------------------------------------------------------
    def enabled(self, w: World) -> list[Action]:
        """Every action enabled in ``w`` (API requests included even when Nova would refuse
        them; such a step returns the same state)."""
        tx = Tx.of(w)
        acts: list[Action] = []
        for fr in tx.frames.values():
            if fr.waiting:
                if self._timeout_enabled(tx, fr):
                    acts.append(("timeout", fr.id))
                continue
            rows = self.applicable(tx, fr)
            if rows:
                if self.has_choice[rows[0].id]:
                    n = self._choices(tx, fr)
                    acts.extend(("run", fr.id, c) for c in range(max(n, 1)))
                else:
                    acts.append(("run", fr.id, 0))
            for r in self.faults_at(tx, fr):
                acts.append(("fail", fr.id, r.id))
        fifo = self.fifo
        seen_targets: set[str] = set()
        for i, msg in enumerate(w.messages):
            deliverable = msg.target == "conductor" or (
                (h := tx.host(msg.target)) is not None and h.status == "up"
            )
            if deliverable and not (fifo and msg.target in seen_targets):
                acts.append(("deliver", i))
            seen_targets.add(msg.target)
            if tx.budgets.get("fault:lose", 0) > 0:
                acts.append(("lose", i))
        for h in w.hosts:
            if h.status != "down" and tx.budgets.get("fault:crash", 0) > 0:
                acts.append(("crash", h.name))
            if h.status == "down":
                acts.append(("restart", h.name))
        for op, _ in self.config.actions:
            if tx.budgets.get(f"op:{op}", 0) <= 0:
                continue
            targets = self.config.targets_of(op)
            for inst in w.instances:
                if inst.deleted or (targets is not None and inst.name not in targets):
                    continue
                if op == "resize":
                    acts.extend(("api", op, inst.name, f) for f in self.config.resize_flavors)
                else:
                    acts.append(("api", op, inst.name, None))
        if self.config.periodic_enabled("update_available_resource"):
            for h in w.hosts:
                if h.status != "up":
                    continue
                # an audit that would change nothing is a self-loop: not worth enumerating
                usage, tracked, migs = self.resources.audit_view(tx, h.name)
                if (usage, tracked, migs) != (h.usage, h.tracked_instances, h.tracked_migrations):
                    acts.append(("periodic", "update_available_resource", h.name, None))
        if self.config.periodic_enabled("poll_unconfirmed_resizes"):
            for mig in w.migrations:
                h = tx.host(mig.dest_compute)
                if mig.status != FINISHED or h is None or h.status != "up":
                    continue
                if any(
                    f.method == "poll_unconfirmed_resizes" and f.migration is not None
                    and f.migration.id == mig.id
                    for f in w.frames
                ):
                    continue
                acts.append(("periodic", "poll_unconfirmed_resizes", mig.dest_compute, mig.id))
        return acts

    def _choices(self, tx: Tx, fr: Frame | WFrame) -> int:
        flavor = get_local(fr, "flavor")
        ignore = get_local(fr, "ignore_hosts")
        ignore_t = (ignore,) if isinstance(ignore, str) else tuple(ignore or ())
        tried = tuple(get_local(fr, "tried") or ())
        return len(self.resources.candidates(tx, flavor, ignore_t, tried))

    def _timeout_enabled(self, tx: Tx, fr: Frame | WFrame) -> bool:
        if tx.budgets.get("fault:timeout", 0) > 0:
            return True
        return self._call_dead(tx, fr)

    @staticmethod
    def _call_dead(tx: Tx, fr: Frame | WFrame) -> bool:
        """No one will ever answer: the request or its handler is gone, or its host is down."""
        for msg in tx.messages:
            if msg.reply_to == fr.id:
                h = tx.host(msg.target)
                return msg.target != "conductor" and (h is None or h.status != "up")
        for callee in tx.frames.values():
            if callee.reply_to == fr.id:
                return False
        return True

    def step(self, w: World, action: Action) -> StepResult:
        """The pure step function."""
        tx = Tx.of(w)
        kind = action[0]
        if kind == "run":
            _, fid, choice = action
            self.run_one(tx, tx.thaw(fid), choice)
        elif kind == "fail":
            _, fid, row_id = action
            fr = tx.thaw(fid)
            row = self.spec.row(row_id)
            tx.budgets[f"fault:{row.fault}"] -= 1
            self.exec_row(tx, fr, row)
            if not fr.ended:
                self.run_eager(tx, fr)
        elif kind == "deliver":
            self._deliver(tx, action[1])
        elif kind == "lose":
            tx.budgets["fault:lose"] -= 1
            tx.rows.append("rpc.message_lost")
            del tx.messages[action[1]]
        elif kind == "timeout":
            fr = tx.thaw(action[1])
            if not self._call_dead(tx, fr):
                tx.budgets["fault:timeout"] -= 1
            fr.waiting = False
            fr.locals["reply"] = "MessagingTimeout"
            tx.rows.append("rpc.call_timeout")
            self.run_eager(tx, fr)
        elif kind == "crash":
            self._crash(tx, action[1])
        elif kind == "restart":
            self._restart(tx, action[1])
        elif kind == "api":
            return self._api(w, tx, action)
        elif kind == "periodic":
            self._periodic(tx, action)
        else:
            raise ValueError(f"unknown action {action!r}")
        return StepResult(tx.freeze(self.fifo), tx.rows, tx.events, tx.notifications, tx.outcome)

    def _deliver(self, tx: Tx, i: int) -> None:
        msg = tx.messages.pop(i)
        handler = f"conductor.{msg.method}" if msg.target == "conductor" else msg.method
        if handler not in self.handlers:
            raise SpecError(f"no handler for {msg.method} on {msg.target}")
        fr = new_frame(self, tx, msg.target, msg.method, handler, msg.instance, msg.migration,
                       dict(msg.args), msg.reply_to)
        tx.rows.append(f"rpc.deliver.{msg.method}")
        self.run_eager(tx, fr)

    def _crash(self, tx: Tx, host: str) -> None:
        tx.budgets["fault:crash"] -= 1
        tx.rows.append("compute.service.crash")
        h = tx.host(host)
        assert h is not None
        tx.set_host(h._replace(status="down"))
        for fid in [f.id for f in tx.frames.values() if f.service == host]:
            del tx.frames[fid]

    def _restart(self, tx: Tx, host: str) -> None:
        """init_host runs as one step: the service takes no RPC message before it has finished
        (pre_start_hook, then the RPC server), and the model does not interleave other services'
        steps with it either; faults are not injected inside it."""
        h = tx.host(host)
        assert h is not None
        tx.set_host(h._replace(status="init", tracked_migrations=frozenset()))
        tx.rows.append("compute.service.restart")
        dummy = Instance("", "", None, 0, host, "", None, None, None, False, False, False)
        fr = new_frame(self, tx, host, "init_host", "init_host", dummy, None, {}, None)
        self.run_one(tx, fr)
        for _ in range(10_000):
            pending = sorted(f.id for f in tx.frames.values()
                             if f.service == host and f.method == "init_instance")
            if not pending:
                break
            child = tx.thaw(pending[0])
            if child.waiting or not self.applicable(tx, child):
                raise SpecError(f"init_instance blocked at {child.handler}:{child.label}")
            self.run_one(tx, child)
        self.run_one(tx, fr)

    def _periodic(self, tx: Tx, action: Action) -> None:
        _, task, host, mig_id = action
        if task == "update_available_resource":
            dummy = Instance("", "", None, 0, host, "", None, None, None, False, False, False)
            fr = new_frame(self, tx, host, task, task, dummy, None, {}, None)
            self.run_one(tx, fr)
        elif task == "poll_unconfirmed_resizes":
            mig = tx.migrations[mig_id]
            inst = tx.instances[tx.inst_index(mig.instance)]
            fr = new_frame(self, tx, host, task, task, inst, mig, {}, None)
            self.run_one(tx, fr)
        else:
            raise ValueError(f"unknown periodic task {task}")

    def _api(self, w: World, tx: Tx, action: Action) -> StepResult:
        _, op, name, arg = action
        opd = self.spec.operation(op)
        refusal = self.api_refusal(tx, opd, name, arg)
        if refusal is not None:
            return StepResult(w, [], [], [], f"refused: {refusal}")
        inst = tx.instances[tx.inst_index(name)]
        fr = new_frame(self, tx, "api", op, opd.handler, inst, None, {"flavor_id": arg}, None)
        self.run_eager(tx, fr)
        if not fr.ended:
            self.run_one(tx, fr)
        after = tx.freeze(self.fifo)
        if after._replace(budgets=w.budgets) == w:
            return StepResult(w, tx.rows, tx.events, tx.notifications,
                              tx.outcome or "refused")
        budgets = dict(after.budgets)
        budgets[f"op:{op}"] = budgets.get(f"op:{op}", 1) - 1
        requests = []
        for r in after.requests:
            if r.name == name:
                if op in ("resize", "migrate"):
                    r = r._replace(pre_resize_vm_state=inst.vm_state)
                elif op in ("stop", "start"):
                    r = r._replace(pre_resize_vm_state=None)
                elif op == "delete":
                    # delete-completes concerns deletes of resizing or resized instances
                    resizing = inst.vm_state == RESIZED or inst.task_state in RESIZE_TASK_STATES
                    r = r._replace(delete_requested=r.delete_requested or resizing,
                                   delete_any=True)
            requests.append(r)
        after = after._replace(budgets=tuple(sorted(budgets.items())), requests=tuple(requests))
        return StepResult(after, tx.rows, tx.events, tx.notifications, tx.outcome or "accepted")

    def api_refusal(self, tx: Tx, opd: m.ApiOperation, name: str, arg: Any) -> str | None:
        """The decorators' checks and the validations, in Nova's order; None when they pass."""
        inst = tx.instances[tx.inst_index(name)]
        if inst.deleted:
            return "InstanceNotFound (HTTP 404)"
        if opd.lock_check and inst.locked:
            return "InstanceIsLocked (HTTP 409)"
        if opd.vm_states is not None and inst.vm_state not in opd.vm_states:
            return f"InstanceInvalidState: vm_state {inst.vm_state} (HTTP 409)"
        if opd.task_states is not None and inst.task_state not in opd.task_states:
            return f"InstanceInvalidState: task_state {inst.task_state} (HTTP 409)"
        if opd.must_have_launched and not inst.launched:
            return "InstanceInvalidState: not launched (HTTP 409)"
        if opd.name in ("stop", "start") and not inst.host:
            return "InstanceNotReady (HTTP 409)"
        probe = WFrame(-1, "api", opd.name, opd.handler, "start", inst, set(), inst.task_state,
                       None, set(), {"flavor_id": arg}, None, None, None, False, None, False)
        for v in opd.validations:
            if all_hold(self, tx, probe, v.when):
                return f"{v.exc} (HTTP {v.http})"
        return None

    def quiescent(self, w: World) -> bool:
        """No message in flight, no handler running, every compute service up."""
        return not w.messages and not w.frames and all(h.status == "up" for h in w.hosts)


def _usage(event_type: str, fr: WFrame, row: str) -> Notification:
    i = fr.instance
    return Notification(event_type, fr.service, row, i.name, i.vm_state, i.vm_state,
                        i.task_state, i.task_state)


def describe(w: World, action: Action) -> str:
    """A one-line description of an action in state ``w``."""
    kind = action[0]
    if kind == "api":
        _, op, name, arg = action
        return f"user: {op} {name}" + (f" to {arg}" if arg else "")
    if kind in ("deliver", "lose"):
        msg = w.messages[action[1]]
        verb = "deliver" if kind == "deliver" else "LOSE"
        return f"{verb} {msg.kind} {msg.method} -> {msg.target}"
    if kind in ("run", "fail", "timeout"):
        fr = next(f for f in w.frames if f.id == action[1])
        where = f"{fr.service}: {fr.method} [{fr.handler}:{fr.label}]"
        if kind == "fail":
            return f"FAIL {where} ({action[2]})"
        if kind == "timeout":
            return f"TIMEOUT {where}"
        return f"{where}" + (f" choice {action[2]}" if action[2] else "")
    if kind == "crash":
        return f"CRASH nova-compute on {action[1]}"
    if kind == "restart":
        return f"restart nova-compute on {action[1]}"
    if kind == "periodic":
        return f"periodic {action[1]} on {action[2]}"
    return repr(action)
