"""The engine: the initial state of a configuration, the actions enabled in a state, and the
pure step function from a state and an action to the next state.

The engine interprets the spec's rows and holds no Nova behaviour of its own beyond the object,
database, RPC and hypervisor semantics that nova_resize.spec.model documents. Its public surface
is what the checker uses: :meth:`Engine.initial`, :meth:`Engine.enabled`, :meth:`Engine.step`,
:meth:`Engine.describe`, :meth:`Engine.is_own_step`, :meth:`Engine.quiescent` and
:meth:`Engine.audit_view`. Actions are the typed values of :mod:`nova_resize.engine.actions`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from nova_resize.spec import LIBERTY, Spec
from nova_resize.spec import model as m
from nova_resize.spec.states import (
    FINISHED,
    MIG_ERROR,
    RUNNING,
    SHUTDOWN,
    SOFT_DELETED,
    STOPPED,
)

from nova_resize.errors import SpecError

from . import history
from .actions import (
    ACTION_TYPES,
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
from .config import FLAVOR_ACTIONS, Config, Flavor
from .effects import new_frame
from .footprint import reads_rows_and_own_host
from .handlers import applicable, exec_row, faults_at, run_eager, run_one
from .outcome import UNEXPECTED_HTTP, ApiOutcome, answer_http, step_outcome
from .refs import resolve
from .resources import Resources, Usage
from .tables import Tables
from .tx import Event, Notification, Tx, WFrame, _new, get_local, replaced
from .world import Frame, Host, Instance, Message, Migration, Quota, World, frame_of, quiescent

ACTION_CLASSES: frozenset[type[Any]] = frozenset(ACTION_TYPES.values())
"""The typed actions: a step given one of them needs no :func:`coerce`."""

OWN_KINDS = frozenset({"deliver", "run", "restart", "periodic"})
"""Kinds of step Nova takes by itself (a timeout is one too when no one will answer)."""

RECLAIM = "reclaim_queued_deletes"
AUDIT = "update_available_resource"
AUDIT_STEPS = 100_000
"""How many audit steps an engine remembers (the memo is cleared when full)."""
HOSTS = World._fields.index("hosts")
RECLAIM_METHODS = (RECLAIM, "reclaim_instance")
"""The reclaim task and the handlers it starts, one per instance of its query."""


def _nobody(host: str | None = None) -> Instance:
    """The instance copy of a handler that is about no instance (a host-wide task, an admin
    request about a flavor): one record per host, built once."""
    got = _NOBODY.get(host)
    if got is None:
        got = _NOBODY[host] = Instance("", "", None, 0, host, "", None, None, None, False,
                                       False, False)
    return got


_NOBODY: dict[str | None, Instance] = {}


@dataclass(slots=True)
class StepResult:
    """What a step did: the next state (``world``), the spec rows it executed in order, the
    events properties look at, the notifications it emitted (in emission order), the messages it
    put on the bus (``sent``), and for an API request the outcome, as a line (``outcome``) and
    structured (``api``)."""

    world: World
    rows: list[str]
    events: list[Event]
    notifications: list[Notification] = field(default_factory=list)
    outcome: str | None = None
    sent: list[Message] = field(default_factory=list)
    api: ApiOutcome | None = None

    @property
    def state(self) -> World:
        """The next state (the explorer's name for it)."""
        return self.world

    def kinds(self) -> frozenset[str]:
        """The kinds of the step's events (what properties' ``triggers`` name)."""
        return frozenset([e.kind for e in self.events])


class Engine:
    """A spec compiled against a configuration, and the step function over its worlds."""

    def __init__(self, config: Config, spec: Spec | None = None) -> None:
        """Compile ``spec`` (default: :data:`nova_resize.spec.LIBERTY`) against ``config``."""
        self.tables = Tables.compile(config, LIBERTY if spec is None else spec)
        # what enabled() looks up in every state, computed once
        self._requests = self._request_table()
        self._audit_runs = config.periodic_enabled("update_available_resource")
        self._periodic_tasks = tuple(
            t for t in ("poll_unconfirmed_resizes", "cleanup_incomplete_migrations", RECLAIM)
            if config.periodic_enabled(t))
        # the audit steps taken so far, by what they read (see _audit_step), when the tables'
        # audit reads no more than that
        self._audit_steps: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
        self._audit_memo = reads_rows_and_own_host(self.tables, AUDIT)

    def __reduce__(self) -> tuple[Any, ...]:
        """An engine pickles as its configuration and spec (Ray ships the model to its
        actors; a compiled class pickles no other way): unpickling compiles the tables again."""
        return (Engine, (self.config, self.spec))

    # ---- what the engine was built from -----------------------------------------------------
    @property
    def spec(self) -> Spec:
        """The tables this engine runs."""
        return self.tables.spec

    @property
    def config(self) -> Config:
        """The configuration the tables were compiled against."""
        return self.tables.config

    @property
    def flavors(self) -> dict[str, Flavor]:
        """The configuration's flavors by name."""
        return self.tables.flavors

    @property
    def resources(self) -> Resources:
        """The resource-tracker arithmetic of the configuration's hosts and flavors."""
        return self.tables.resources

    @property
    def fifo(self) -> bool:
        """Whether messages to one service are delivered in the order sent."""
        return self.tables.fifo

    # ---- the initial state -------------------------------------------------------------------
    def initial(self) -> World:
        """The configuration's cloud before anything happens."""
        cfg = self.config
        res = self.resources
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
            usage: Usage = (0, 0, 0)
            for ic in on:
                usage = res.add(usage, res.usage_of(ic.flavor))
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
            history.initial([ic.name for ic in cfg.instances]),
        )

    # ---- the actions ------------------------------------------------------------------------
    def enabled(self, w: World) -> list[Action]:
        """Every action enabled in ``w`` (API requests included even when Nova would refuse
        them; such a step returns the same state). The actions are built from their fields'
        tuples (``_new``): the same values as their constructors give, without a call to the
        interpreted ``__new__`` of each (the compiled engine builds about 800,000 on ``ci``)."""
        tb = self.tables
        budgets = dict(w.budgets)
        acts: list[Action] = []
        tx: Tx | None = None
        if w.frames:
            tx = Tx.of(w)
            for fr in w.frames:
                if fr.waiting:
                    if self._timeout_enabled(tx, fr):
                        acts.append(_new(Timeout, ("timeout", fr.id)))
                    continue
                rows = applicable(tb, tx, fr)
                if rows:
                    if tb.has_choice[rows[0].id]:
                        n = self._choices(tx, fr, rows[0])
                        acts.extend(_new(Run, ("run", fr.id, c)) for c in range(max(n, 1)))
                    else:
                        acts.append(_new(Run, ("run", fr.id, 0)))
                if (fr.handler, fr.label) in tb.fault_rows:
                    for r in faults_at(tb, tx, fr):
                        acts.append(_new(Fail, ("fail", fr.id, r.id)))
        if w.messages:
            up = {h.name for h in w.hosts if h.status == "up"}
            fifo = tb.fifo
            lose = budgets.get("fault:lose", 0) > 0
            seen_targets: set[str] = set()
            for i, msg in enumerate(w.messages):
                deliverable = msg.target == "conductor" or msg.target in up
                if deliverable and not (fifo and msg.target in seen_targets):
                    acts.append(_new(Deliver, ("deliver", i)))
                seen_targets.add(msg.target)
                if lose:
                    acts.append(_new(Lose, ("lose", i)))
        crash = budgets.get("fault:crash", 0) > 0
        stay = budgets.get("fault:stay_down", 0) > 0
        for host in w.hosts:
            if host.status in ("up", "init"):
                if crash:
                    acts.append(_new(Crash, ("crash", host.name)))
                if stay:
                    acts.append(_new(StayDown, ("stay_down", host.name)))
            if host.status == "down":
                acts.append(_new(Restart, ("restart", host.name)))
        for key, flavor_requests, requests in self._requests:
            if budgets.get(key, 0) <= 0:
                continue
            if flavor_requests is not None:
                acts.extend(flavor_requests)
                continue
            for inst in w.instances:
                if not inst.deleted:
                    acts.extend(requests(inst.name))
        if self._audit_runs:
            audit_of = self.resources.audit_of
            for host in w.hosts:
                if host.status != "up":
                    continue
                # an audit that would change nothing is a self-loop: not worth enumerating
                view = audit_of(w.instances, w.migrations, host.name)
                if view != (host.usage, host.tracked_instances, host.tracked_migrations):
                    acts.append(_new(Periodic, ("periodic", "update_available_resource", host.name,
                                               None)))
        for task in self._periodic_tasks:
            acts.extend(self.periodic_candidates(w, task, tx))
        return acts

    def _request_table(self) -> list[tuple[str, tuple[ApiRequest, ...] | None,
                                           Callable[[str], tuple[ApiRequest, ...]]]]:
        """Per configured request, in the configuration's order: its budget's key, and either
        the requests about flavors or, per instance name, the requests about it (the same
        values on every call)."""
        out: list[tuple[str, tuple[ApiRequest, ...] | None,
                        Callable[[str], tuple[ApiRequest, ...]]]] = []
        for op, _ in self.config.actions:
            args = self.tables.op_args[op]
            if self.spec.operation(op).target == "flavor":
                out.append((f"op:{op}", tuple(ApiRequest(op, "", arg) for arg in args),
                            _no_requests))
                continue
            # a partial of a module-level function, not a closure: an engine pickles (Ray
            # ships the model to its actors), compiled or not
            out.append((f"op:{op}", None, partial(_requests_about, op, args,
                                                  self.config.targets_of(op), {})))
        return out

    def periodic_candidates(self, w: World, task: str, tx: Tx | None = None) -> list[Periodic]:
        """The runs of a periodic task that would do something in ``w``, whether or not the
        configuration enables the task: ``_poll_unconfirmed_resizes`` on the destination of
        each finished migration; ``_cleanup_incomplete_migrations`` on each host of an 'error'
        migration whose instance was deleted elsewhere; ``_reclaim_queued_deletes`` on each host
        with a soft-deleted instance and no task (not while a run of it is still going)."""
        if task == RECLAIM:
            return self._reclaims(w)
        if task not in ("poll_unconfirmed_resizes", "cleanup_incomplete_migrations"):
            raise SpecError(f"{task} is not a periodic task with candidates")
        if not w.migrations:
            return []
        tx = tx or Tx.of(w)
        if task == "poll_unconfirmed_resizes":
            out: list[Periodic] = []
            for mig in w.migrations:
                dest = tx.host(mig.dest_compute)
                if mig.status != FINISHED or dest is None or dest.status != "up":
                    continue
                if any(
                    f.method == "poll_unconfirmed_resizes" and f.migration is not None
                    and f.migration.id == mig.id
                    for f in w.frames
                ):
                    continue
                out.append(_new(Periodic, ("periodic", "poll_unconfirmed_resizes",
                                          mig.dest_compute, mig.id)))
            return out
        return self._cleanups(tx, w)

    def _reclaims(self, w: World) -> list[Periodic]:
        out: list[Periodic] = []
        for host in w.hosts:
            if host.status != "up":
                continue
            if any(f.service == host.name and f.method in RECLAIM_METHODS for f in w.frames):
                continue
            if any(not i.deleted and i.host == host.name and i.vm_state == SOFT_DELETED
                   and i.task_state is None for i in w.instances):
                out.append(_new(Periodic, ("periodic", RECLAIM, host.name, None)))
        return out

    def _cleanups(self, tx: Tx, w: World) -> list[Periodic]:
        out: list[Periodic] = []
        for mig in w.migrations:
            if mig.status != MIG_ERROR:
                continue
            inst = tx.instances[tx.inst_index(mig.instance)]
            if not inst.deleted:
                continue
            for host in dict.fromkeys((mig.source_compute, mig.dest_compute)):
                h = tx.host(host)
                if h is None or h.status != "up" or inst.host == host:
                    continue
                if any(f.method == "cleanup_incomplete_migrations" and f.migration is not None
                       and f.migration.id == mig.id and f.service == host for f in w.frames):
                    continue
                out.append(_new(Periodic, ("periodic", "cleanup_incomplete_migrations", host,
                                          mig.id)))
        return out

    def _choices(self, tx: Tx, fr: Frame | WFrame, row: m.Row) -> int:
        """How many hosts the scheduler could pick at this step."""
        flavor = get_local(fr, "flavor")
        ignore = get_local(fr, "ignore_hosts")
        ignore_t = (ignore,) if isinstance(ignore, str) else tuple(ignore or ())
        tried = tuple(get_local(fr, "tried") or ())
        hosts = self.resources.candidates(tx, flavor, ignore_t, tried)
        for e in row.effects:
            if isinstance(e, m.SelectDestination) and e.requested:
                wanted = resolve(self.tables, tx, fr, e.requested)
                hosts = [h for h in hosts if h == wanted]
        return len(hosts)

    def _timeout_enabled(self, tx: Tx, fr: Frame | WFrame) -> bool:
        if tx.budgets.get("fault:timeout", 0) > 0:
            return True
        return _call_dead(tx, fr)

    def step(self, w: World, action: Action | tuple[Any, ...]) -> StepResult:
        """The pure step function: the world after ``action`` (typed, or its plain tuple)."""
        a = action if type(action) in ACTION_CLASSES else coerce(action)
        if a[0] == "periodic" and a[1] == AUDIT and self._audit_memo:
            assert isinstance(a, Periodic)
            return self._audit_step(w, a)
        return self._step(w, a)

    def _step(self, w: World, a: Action | tuple[Any, ...]) -> StepResult:
        tb = self.tables
        tx = Tx.of(w)
        kind = a[0]
        if kind == "run":
            assert isinstance(a, Run)
            run_one(tb, tx, tx.thaw(a.frame), a.choice)
        elif kind == "fail":
            assert isinstance(a, Fail)
            fr = tx.thaw(a.frame)
            row = self.spec.row(a.row)
            tx.budgets[f"fault:{row.fault}"] -= 1
            exec_row(tb, tx, fr, row)
            if not fr.ended:
                run_eager(tb, tx, fr)
        elif kind == "deliver":
            assert isinstance(a, Deliver)
            self._deliver(tx, a.message)
        elif kind == "lose":
            assert isinstance(a, Lose)
            tx.budgets["fault:lose"] -= 1
            tx.rows.append("rpc.message_lost")
            del tx.messages[a.message]
        elif kind == "timeout":
            assert isinstance(a, Timeout)
            fr = tx.thaw(a.frame)
            if not _call_dead(tx, fr):
                tx.budgets["fault:timeout"] -= 1
            fr.waiting = False
            fr.locals["reply"] = "MessagingTimeout"
            tx.rows.append("rpc.call_timeout")
            run_eager(tb, tx, fr)
        elif kind == "crash":
            assert isinstance(a, Crash)
            self._crash(tx, a.host)
        elif kind == "stay_down":
            assert isinstance(a, StayDown)
            self._crash(tx, a.host, "gone")
        elif kind == "restart":
            assert isinstance(a, Restart)
            self._restart(tx, a.host)
        elif kind == "api":
            assert isinstance(a, ApiRequest)
            return self._api(w, tx, a)
        else:
            assert isinstance(a, Periodic)
            self._periodic(tx, a)
        return StepResult(tx.freeze(tb.fifo), tx.rows, tx.events, tx.notifications, tx.outcome,
                          tx.sent)

    def _audit_step(self, w: World, a: Periodic) -> StepResult:
        """The resource tracker's audit of a host, remembered: the step reads the instance and
        migration rows and the host's record and nothing else (its handler starts and ends
        within the step, its frame id appears nowhere in the result), and writes that host's
        record alone. So the first audit of each (rows, host record) runs the tables and later
        ones take its result over to their own world. Only while the tables' audit handler
        reads no more than that (``footprint.reads_rows_and_own_host``: a variant's audit may
        read more, and then runs every time), and a step found to write anything else is not
        remembered either. (On ci a quarter of the transitions are audits, and 99% of them
        repeat one already taken: 594 different ones in 197,243.)"""
        h = None
        for x in w.hosts:
            if x.name == a.host:
                h = x
                break
        key = (a, w.instances, w.migrations, h)
        memo = self._audit_steps
        if key in memo:
            got = memo[key]
            if got is not None:
                new_h, rows, events, notes, outcome, sent = got
                nw = w if new_h is None else w._replace(
                    hosts=tuple([new_h if x is h else x for x in w.hosts]))
                return StepResult(nw, list(rows), list(events), list(notes), outcome,
                                  list(sent))
            return self._step(w, a)
        res = self._step(w, a)
        if len(memo) >= AUDIT_STEPS:
            memo.clear()
        memo[key] = _audit_delta(w, res, h)
        return res

    def explore_step(self, w: World, action: Action) -> StepResult | None:
        """The step as a search takes it: None for a step that changes nothing, except a
        request nova-api turns down (a refusal, or an error before anything changed), which
        comes back to ``w`` itself: a self-loop, its answer seen by the properties."""
        res = self.step(w, action)
        if res.world is w and res.api is None:
            return None
        return res

    def _deliver(self, tx: Tx, i: int) -> None:
        msg = tx.messages.pop(i)
        handler = f"conductor.{msg.method}" if msg.target == "conductor" else msg.method
        if handler not in self.tables.handlers:
            raise SpecError(f"no handler for {msg.method} on {msg.target}")
        fr = new_frame(self.tables, tx, msg.target, msg.method, handler, msg.instance,
                       msg.migration, dict(msg.args), msg.reply_to)
        tx.rows.append(f"rpc.deliver.{msg.method}")
        run_eager(self.tables, tx, fr)

    def _crash(self, tx: Tx, host: str, status: str = "down") -> None:
        """The service stops between two steps: ``down`` (it will be restarted) or ``gone``
        (never again); its running handlers vanish with it."""
        fault = "crash" if status == "down" else "stay_down"
        tx.budgets[f"fault:{fault}"] -= 1
        tx.rows.append("compute.service.crash" if status == "down" else
                       "compute.service.stays_down")
        h = tx.host(host)
        assert h is not None
        tx.set_host(replaced(h, status=status))
        for fid in [f.id for f in tx.frames.values() if f.service == host]:
            del tx.frames[fid]

    def _restart(self, tx: Tx, host: str) -> None:
        """init_host runs as one step: the service takes no RPC message before it has finished
        (pre_start_hook, then the RPC server), and the model does not interleave other services'
        steps with it either; faults are not injected inside it."""
        tb = self.tables
        h = tx.host(host)
        assert h is not None
        tx.set_host(replaced(h, status="init", tracked_migrations=frozenset()))
        tx.rows.append("compute.service.restart")
        fr = new_frame(tb, tx, host, "init_host", "init_host", _nobody(host), None, {}, None)
        run_one(tb, tx, fr)
        for _ in range(10_000):
            pending = sorted(f.id for f in tx.frames.values()
                             if f.service == host and f.method == "init_instance")
            if not pending:
                break
            child = tx.thaw(pending[0])
            if child.waiting or not applicable(tb, tx, child):
                raise SpecError(f"init_instance blocked at {child.handler}:{child.label}")
            run_one(tb, tx, child)
        run_one(tb, tx, fr)

    def _periodic(self, tx: Tx, a: Periodic) -> None:
        tb = self.tables
        if a.task == "update_available_resource":
            fr = new_frame(tb, tx, a.host, a.task, a.task, _nobody(a.host), None, {}, None)
            run_one(tb, tx, fr)
        elif a.task == RECLAIM:
            # the query's instances are taken up by handlers of their own (a Spawn); each runs
            # its memory-only rows (the filter) in this step
            before = set(tx.frames)
            fr = new_frame(tb, tx, a.host, a.task, a.task, _nobody(a.host), None, {}, None)
            run_one(tb, tx, fr)
            for fid in sorted(set(tx.frames) - before):
                run_eager(tb, tx, tx.thaw(fid))
        elif a.task in ("poll_unconfirmed_resizes", "cleanup_incomplete_migrations"):
            if a.migration is None or a.migration not in tx.migrations:
                raise SpecError(f"periodic {a.task}: no migration {a.migration!r}")
            mig = tx.migrations[a.migration]
            inst = tx.instances[tx.inst_index(mig.instance)]
            fr = new_frame(tb, tx, a.host, a.task, a.task, inst, mig, {}, None)
            run_one(tb, tx, fr)
        else:
            raise SpecError(f"unknown periodic task {a.task}")

    def _api(self, w: World, tx: Tx, a: ApiRequest) -> StepResult:
        opd = self.spec.operation(a.op)
        refusal = self._refusal(tx, opd, a.instance, a.arg)
        if refusal is not None:
            events = [] if refusal.refused else [
                Event("api_error", a.op, (a.instance, refusal.exception, "its checks"))]
            return StepResult(w, [], events, [], str(refusal), [], refusal)
        inst = (_nobody() if opd.target == "flavor"
                else tx.instances[tx.inst_index(a.instance)])
        fr = new_frame(self.tables, tx, "api", a.op, opd.handler, inst, None,
                       _request_locals(opd, a.arg), None)
        run_eager(self.tables, tx, fr)
        if not fr.ended:
            run_one(self.tables, tx, fr)
        after = tx.freeze(self.tables.fifo)
        if replaced(after, budgets=w.budgets) == w:
            text = tx.outcome or "refused"
            return StepResult(w, tx.rows, tx.events, tx.notifications, text, tx.sent,
                              step_outcome(a.op, text, tx.refusal))
        budgets = dict(after.budgets)
        budgets[f"op:{a.op}"] = budgets.get(f"op:{a.op}", 1) - 1
        after = replaced(after, budgets=tuple(sorted(budgets.items())),
                         requests=history.record(after.requests,
                                                 opd.instance_action or a.op, inst))
        text = tx.outcome or "accepted"
        return StepResult(after, tx.rows, tx.events, tx.notifications, text, tx.sent,
                          step_outcome(a.op, text, tx.refusal))

    def api_refusal(self, w: World, op: str, name: str, arg: Any = None) -> str | None:
        """Why nova-api would refuse ``op`` on instance ``name`` in ``w`` (its decorators'
        checks and the validations, in Nova's order); None when it would accept it. A request
        about a flavor (``delete_flavor``) ignores ``name``: its only checks are validations."""
        r = self._refusal(Tx.of(w), self.spec.operation(op), name, arg)
        return None if r is None else str(r).removeprefix("refused: ")

    def api_check(self, w: World, op: str, name: str, arg: Any = None) -> ApiOutcome | None:
        """The refusal nova-api's checks give ``op`` on ``name`` in ``w`` (structured), or None
        when the request gets past them."""
        return self._refusal(Tx.of(w), self.spec.operation(op), name, arg)

    def _refusal(self, tx: Tx, opd: m.ApiOperation, name: str, arg: Any) -> ApiOutcome | None:
        if opd.target == "flavor":
            return self._invalid(tx, opd, _nobody(), arg)
        inst = tx.instances[tx.inst_index(name)]
        op = opd.name
        if inst.deleted:
            return ApiOutcome("refused", op, "InstanceNotFound", 404)
        if opd.lock_check and inst.locked:
            return _checked(op, "InstanceIsLocked")
        if opd.vm_states is not None and inst.vm_state not in opd.vm_states:
            return _checked(op, "InstanceInvalidState", f"vm_state {inst.vm_state}")
        if opd.task_states is not None and inst.task_state not in opd.task_states:
            return _checked(op, "InstanceInvalidState", f"task_state {inst.task_state}")
        if opd.must_have_launched and not inst.launched:
            return _checked(op, "InstanceInvalidState", "not launched")
        if opd.name in ("stop", "start") and not inst.host:
            return _checked(op, "InstanceNotReady")
        return self._invalid(tx, opd, inst, arg)

    def _invalid(self, tx: Tx, opd: m.ApiOperation, inst: Instance, arg: Any
                 ) -> ApiOutcome | None:
        """The first of the operation's validations that refuses the request."""
        probe = WFrame("api.probe", "api", opd.name, opd.handler, "start", inst, set(),
                       inst.task_state, None, set(), _request_locals(opd, arg), None, None,
                       None, False, None, False)
        for v in opd.validations:
            probe.migration = None
            if v.migration is not None:
                probe.migration = _lookup_migration(tx, inst.name, v.migration)
                if probe.migration is None:
                    continue  # the lookup it reads found nothing: it does not apply
            if self.tables.test(v.when)(self.tables, tx, probe):
                return ApiOutcome("refused", opd.name, v.exc, v.http)
        return None

    # ---- questions about a world and an action ------------------------------------------------
    def quiescent(self, w: World) -> bool:
        """No handler running, every compute service up or gone for good, no message in
        flight but to a service that is gone."""
        return quiescent(w)

    def is_own_step(self, w: World, action: Action) -> bool:
        """Whether Nova takes this step by itself: a delivery, a handler's next step, a restart,
        a periodic task, or the timeout of a call no one will ever answer. User requests and
        injected faults are not."""
        kind = action[0]
        if kind in OWN_KINDS:
            return True
        if kind == "timeout":
            assert isinstance(action, Timeout)
            tx = Tx.of(w)
            return _call_dead(tx, tx.frames[action.frame])
        return False

    def next_rows(self, w: World, frame: str) -> list[m.Row]:
        """The rows the running handler ``frame`` would run next (its label's applicable
        non-fault rows); empty when it waits."""
        tx = Tx.of(w)
        fr = tx.frames[frame]
        if fr.waiting:
            return []
        return applicable(self.tables, tx, fr)

    def fault_rows_at(self, w: World, frame: str) -> list[m.Row]:
        """The fault rows that could run instead of ``frame``'s next step (budget left)."""
        tx = Tx.of(w)
        return faults_at(self.tables, tx, tx.frames[frame])

    def describe(self, w: World, action: Action) -> str:
        """A one-line description of ``action`` in ``w``."""
        return describe(w, action)

    def audit_view(self, w: World, host: str, per_instance: dict[str, Usage] | None = None,
                   stopped: list[str] | None = None
                   ) -> tuple[Usage, frozenset[str], frozenset[tuple[str, str, str]]]:
        """What the resource tracker's audit (update_available_resource) would compute for
        ``host`` from the database in ``w``; ``per_instance`` receives each instance's share,
        ``stopped`` the instance whose migrations' NULL updated_at makes the audit raise
        TypeError part way (Python 2.7), when one does."""
        return self.resources.audit_of(w.instances, w.migrations, host, per_instance, stopped)


def _checked(op: str, exc: str, detail: str = "") -> ApiOutcome:
    """The answer to a request a decorator's check turns down with ``exc``: the controller's
    client error, or HTTP 500 (status ``error``) when its except clauses do not name ``exc``
    (force_delete catches only InstanceIsLocked; restore not InstanceIsLocked)."""
    http = answer_http(op, exc)
    return ApiOutcome("error" if http == UNEXPECTED_HTTP else "refused", op, exc, http, detail)


def _no_requests(name: str) -> tuple[ApiRequest, ...]:
    return ()


def _requests_about(op: str, args: tuple[Any, ...], targets: tuple[str, ...] | None,
                    memo: dict[str, tuple[ApiRequest, ...]], name: str
                    ) -> tuple[ApiRequest, ...]:
    """The requests of ``op`` about instance ``name`` (none when the configuration aims the
    operation at other instances), remembered in ``memo``."""
    got = memo.get(name)
    if got is None:
        got = memo[name] = (() if targets is not None and name not in targets else
                            tuple(ApiRequest(op, name, arg) for arg in args))
    return got


def _request_locals(opd: m.ApiOperation, arg: Any) -> dict[str, Any]:
    """What a request hands its handler: the flavor it names (``flavor_id``, None for an
    operation that names none), a host when the operation names one, and the operation's own
    ``hands``."""
    out: dict[str, Any] = {"flavor_id": arg if opd.takes_flavor else None}
    if opd.takes_host:
        out["host_name"] = arg
    out.update(opd.hands)
    return out


def _lookup_migration(tx: Tx, instance: str, statuses: tuple[str, ...]) -> Migration | None:
    """Migration.get_by_instance_and_status, each status in turn (the oldest first)."""
    for status in statuses:
        for mig in sorted(tx.migrations.values(), key=lambda x: x.id):
            if mig.instance == instance and mig.status == status:
                return mig
    return None


def _audit_delta(w: World, res: StepResult, h: Host | None) -> tuple[Any, ...] | None:
    """What an audit step changed, to replay on another world (see Engine._audit_step): the
    host's new record (None: nothing changed) and the step's rows, events, notifications,
    outcome and messages; None when it changed more than the host's record."""
    nw = res.world
    record = (tuple(res.rows), tuple(res.events), tuple(res.notifications), res.outcome,
              tuple(res.sent))
    if res.api is not None:
        return None
    if nw is w:
        return (None, *record)
    if h is None or any(nw[i] is not w[i] for i in range(len(w)) if i != HOSTS):
        return None
    new_h = None
    if len(w.hosts) != len(nw.hosts):
        return None
    for old, new in zip(w.hosts, nw.hosts, strict=True):
        if old is not new:
            if old is not h or new_h is not None:
                return None
            new_h = new
    if new_h is None:
        return None
    return (new_h, *record)


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


def describe(w: World, action: Action | tuple[Any, ...]) -> str:
    """A one-line description of an action in state ``w``."""
    a = coerce(action)
    kind = a[0]
    if isinstance(a, ApiRequest):
        if a.op in FLAVOR_ACTIONS:
            return f"admin: {a.op} {a.arg}"
        return f"user: {a.op} {a.instance}" + (f" to {a.arg}" if a.arg else "")
    if isinstance(a, (Deliver, Lose)):
        msg = w.messages[a.message]
        verb = "deliver" if kind == "deliver" else "LOSE"
        return f"{verb} {msg.kind} {msg.method} -> {msg.target}"
    if isinstance(a, (Run, Fail, Timeout)):
        fr = frame_of(w, a.frame)
        where = f"{fr.service}: {fr.method} [{fr.handler}:{fr.label}]"
        if isinstance(a, Fail):
            return f"FAIL {where} ({a.row})"
        if isinstance(a, Timeout):
            return f"TIMEOUT {where}"
        return f"{where}" + (f" choice {a.choice}" if a.choice else "")
    if isinstance(a, Crash):
        return f"CRASH nova-compute on {a.host}"
    if isinstance(a, StayDown):
        return f"nova-compute on {a.host} STOPS for good"
    if isinstance(a, Restart):
        return f"restart nova-compute on {a.host}"
    assert isinstance(a, Periodic)
    return f"periodic {a.task} on {a.host}"


__all__ = ["OWN_KINDS", "Action", "Engine", "StepResult", "describe"]
