"""Bounded model checking: k steps of the one-instance model as a z3 formula, and a cross-check
against the explicit-state explorer.

The formula is built by a second interpreter of the spec's tables, written against z3 rather
than Python values, and sharing nothing with the engine but the tables and the configuration.
Control is concrete and data symbolic: a running handler's control point (handler, label,
error chain, exception) is one atom of a finite set found by running this interpreter itself
over the tables; everything else (the instance and migration rows, the handlers' copies and
dirty fields, their locals, the messages in flight and their copies, the disks, the budgets) is
a z3 variable per step. One step is one of the engine's actions: a user request (with the
handler's first database step), a message delivery, the next step of a handler, or an injected
fault, each followed by the steps that touch only the handler's memory, as the engine runs
them.

What the encoding leaves out, and the fragment check enforces, so that leaving it out changes
no reachable (vm_state, task_state, migration status) combination: one instance and at most one
migration (one resize or migrate), at most one handler and one message of each kind at a time
(a sticky ``overflow`` variable records any attempt, and the cross-check fails if one is
reachable), no crash, lost message, timeout or periodic task, and room for every flavor on every
host and in the quota (so claims and reservations never refuse; their bookkeeping is not
encoded).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import z3
from nova_resize.engine.config import Config
from nova_resize.engine.core import Engine
from nova_resize.spec import END, LIBERTY, RAISE, Spec
from nova_resize.spec import model as m
from nova_resize.spec.states import DELETING, PRE_MIGRATING, RUNNING, SHUTDOWN, STOPPED

INSTANCE_FIELDS = ("vm_state", "task_state", "power_state", "host", "flavor", "old_flavor",
                   "new_flavor", "old_vm_state", "launched", "locked", "deleted")
OBJECT_FIELDS = ("flavor", "old_flavor", "new_flavor")
MIGRATION_FIELDS = ("source_compute", "dest_compute", "old_flavor", "new_flavor", "status",
                    "migration_type")
FLAVOR_ATTRS = ("id", "name", "vcpus", "memory_mb", "root_gb", "disabled")
UNSUPPORTED_FAULTS = ("crash", "lose", "timeout", "claim_refused")

Projection = tuple[Any, Any, Any]
# Atoms and budgets are bit-vectors: the solver bit-blasts the unrolling (QF_BV), which is much
# faster than linear integer arithmetic on these equalities.
WIDTH = 12


class OutsideFragment(ValueError):
    """The configuration or spec uses something this encoding does not cover."""


# ---- atoms ------------------------------------------------------------------------------------


class Atoms:
    """Every value (strings, None, booleans, small integers, tuples of hosts) as an integer."""

    def __init__(self, ctx: z3.Context) -> None:
        self.ctx = ctx
        self.ids: dict[tuple[str, Any], int] = {}
        self.values: list[Any] = []

    def __call__(self, v: Any) -> z3.BitVecNumRef:
        return z3.BitVecVal(self.id(v), WIDTH, ctx=self.ctx)

    def id(self, v: Any) -> int:
        key = (type(v).__name__, v)
        i = self.ids.get(key)
        if i is None:
            i = self.ids[key] = len(self.values)
            self.values.append(v)
        return i

    def value(self, i: int) -> Any:
        return self.values[i]

    def ints(self) -> list[int]:
        return [v for v in self.values if type(v) is int]

    def tuples(self) -> list[tuple[Any, ...]]:
        """The tuples of hosts (ignore_hosts, tried)."""
        return [v for v in self.values if type(v) is tuple and all(type(e) is str for e in v)]


# ---- the symbolic state ---------------------------------------------------------------------


@dataclass(frozen=True)
class CtlKey:
    """A control point as an atom (not a tuple of hosts)."""

    parts: tuple[Any, ...]


@dataclass
class Ctl:
    """A running handler's control point, concrete."""

    handler: str
    label: str
    chain: tuple[str, ...] | None = None
    override: tuple[str, ...] | None = None
    exc: str | None = None
    inner_exc: str | None = None
    ended: bool = False
    refused: bool = False

    def key(self) -> CtlKey:
        return CtlKey((self.handler, self.label, self.chain, self.override, self.exc,
                       self.inner_exc))


@dataclass
class Path:
    """One path through an action: its condition, the variables it changed, its control."""

    pc: Any
    upd: dict[str, Any]
    ctl: Ctl
    slot: str
    choice: str | None = None

    def fork(self, cond: Any) -> Path:
        return Path(z3.And(self.pc, cond), dict(self.upd), Ctl(**vars(self.ctl)), self.slot,
                    self.choice)


class Raised(Exception):
    pass


@dataclass
class Layout:
    """The variables of one step and their values in the initial state."""

    names: list[str] = field(default_factory=list)
    ints: set[str] = field(default_factory=set)  # budgets: numbers, not atoms
    default: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, default: Any, is_int: bool = False) -> None:
        self.names.append(name)
        self.default[name] = default
        if is_int:
            self.ints.add(name)


class Encoding:
    """The spec's tables, for one configuration, as a z3 transition relation."""

    def __init__(self, config: Config, spec: Spec = LIBERTY) -> None:
        self.spec = spec
        self.config = config
        # a context of its own: the unrolling's terms would slow every later z3 user down
        self.ctx = z3.Context()
        self.true = z3.BoolVal(True, ctx=self.ctx)
        self.false = z3.BoolVal(False, ctx=self.ctx)
        self.a = Atoms(self.ctx)
        self.flavors = {f.name: f for f in config.flavors}
        self.hosts = tuple(h.name for h in config.hosts)
        self.handlers = {h.name: h for h in spec.handlers}
        self.rows: dict[tuple[str, str], list[m.Row]] = {}
        self.fault_rows: dict[tuple[str, str], list[m.Row]] = {}
        for r in spec.rows:
            (self.fault_rows if r.fault else self.rows).setdefault((r.handler, r.at), []).append(r)
        self.quota_deltas = {q.name: q for q in spec.quota_deltas}
        self._check_fragment()
        self._intern()
        self.ops = [op for op, n in config.actions if n > 0]
        self.api_slots = {op: spec.operation(op).handler for op in self.ops}
        self.methods: list[str] = []  # grown below to what the operations can send
        self.wanted: set[str] = set()
        self.to_conductor = {e.method for r in spec.rows for e in r.effects
                             if isinstance(e, m.Send) and e.target == "conductor"}
        self.locals = self._local_names()
        self.layout = self._layout()
        self.ctls: dict[str, list[Ctl]] = {}
        self.actions = self._actions()
        # only the messages the configured operations can lead to: fewer variables per step
        while not self.wanted <= set(self.methods):
            self.methods = sorted(self.wanted | set(self.methods))
            self.layout = self._layout()
            self.ctls = {}
            self.actions = self._actions()

    # ---- the fragment ------------------------------------------------------------------------
    def _check_fragment(self) -> None:
        cfg = self.config
        if len(cfg.instances) != 1:
            raise OutsideFragment("bmc: the encoding covers exactly one instance")
        for f, n in cfg.faults:
            if f in UNSUPPORTED_FAULTS and n > 0:
                raise OutsideFragment(f"bmc: fault {f!r} is outside the encoding")
        if any(on for _, on in cfg.periodic):
            raise OutsideFragment("bmc: periodic tasks are outside the encoding")
        moves = sum(n for op, n in cfg.actions if op in ("resize", "migrate"))
        if moves > 1:
            raise OutsideFragment("bmc: at most one resize or migrate (one migration)")
        if any(not h.up for h in cfg.hosts):
            raise OutsideFragment("bmc: every host must be up")
        if cfg.check_option("fifo", False):
            raise OutsideFragment("bmc: FIFO delivery is outside the encoding")
        big = [max(getattr(f, a) for f in cfg.flavors) for a in ("memory_mb", "root_gb")]
        for h in cfg.hosts:
            # every instance's old and new flavor claimed at once must still fit
            if h.memory_mb < 2 * big[0] or h.disk_gb < 2 * big[1]:
                raise OutsideFragment(f"bmc: host {h.name} must have room for two of the "
                                      "largest flavor (claims are not encoded)")
        limits = dict(cfg.quota)
        need = {"cores": max(f.vcpus for f in cfg.flavors),
                "ram": max(f.memory_mb for f in cfg.flavors)}
        for res, top in need.items():
            limit = limits.get(res, -1)
            if limit >= 0 and limit < 2 * top:
                raise OutsideFragment(f"bmc: quota {res} must leave room for any reservation "
                                      "(reservations are not encoded)")

    def _intern(self) -> None:
        a = self.a
        for v in (None, True, False, "", 0, "api", "conductor", "<reservations>"):
            a.id(v)
        for n in range(0, 12):
            a.id(n)
        for s in (*self.spec.vm_states, *self.spec.task_states, *self.spec.migration_statuses):
            a.id(s)
        for h in self.hosts:
            a.id(h)
        for k in range(len(self.hosts) + 1):
            for t in itertools.permutations(self.hosts, k):
                a.id(t)
        for f in self.flavors.values():
            for attr in FLAVOR_ATTRS:
                a.id(getattr(f, attr))

    def _local_names(self) -> list[str]:
        names = {"flavor_id", "migration_found", "instance_found", "host", "tried",
                 "reservations"}
        for r in self.spec.rows:
            for c in r.when:
                names.update(_local_refs(c.ref, c.value))
            for e in r.effects:
                if isinstance(e, m.Set) and e.target == "local":
                    names.add(e.name)
                if isinstance(e, m.Send):
                    names.update(k for k, _ in e.args)
                if isinstance(e, m.Quota) and e.var:
                    names.add(e.var)
                for v in vars(e).values() if hasattr(e, "__dict__") else ():
                    names.update(_local_refs(v, None))
        for op in self.spec.operations:
            for v in op.validations:
                for c in v.when:
                    names.update(_local_refs(c.ref, c.value))
        names.discard("choice")
        names.discard("inner_exc")
        names.discard("reply")
        return sorted(names)

    def _layout(self) -> Layout:
        cfg = self.config
        ic = cfg.instances[0]
        lay = Layout()
        init = {"vm_state": ic.vm_state, "task_state": None,
                "power_state": SHUTDOWN if ic.vm_state == STOPPED else RUNNING,
                "host": ic.host, "flavor": ic.flavor, "old_flavor": None, "new_flavor": None,
                "old_vm_state": None, "launched": True, "locked": ic.locked, "deleted": False}
        for f in INSTANCE_FIELDS:
            lay.add(f"i.{f}", init[f])
        lay.add("m.exists", False)
        for f in MIGRATION_FIELDS:
            lay.add(f"m.{f}", None)
        for h in self.hosts:
            lay.add(f"h.{h}.disk", h == ic.host)
            lay.add(f"h.{h}.run", h == ic.host and ic.vm_state != STOPPED)
        for k, v in sorted(cfg.actions):
            lay.add(f"b.op:{k}", v, True)
        for k, v in sorted(cfg.faults):
            lay.add(f"b.fault:{k}", v, True)
        lay.add("overflow", False)
        for meth in self.methods:
            q = f"q.{meth}"
            lay.add(f"{q}.on", False)
            lay.add(f"{q}.target", None)
            for f in INSTANCE_FIELDS:
                lay.add(f"{q}.i.{f}", None)
            lay.add(f"{q}.m.present", False)
            for f in MIGRATION_FIELDS:
                lay.add(f"{q}.m.{f}", None)
            for loc in self.locals:
                lay.add(f"{q}.a.{loc}", None)
        for slot in self.slots():
            self._frame_layout(lay, slot)
        return lay

    def slots(self) -> list[str]:
        return sorted(set(self.api_slots.values()) | set(self.methods))

    def _frame_layout(self, lay: Layout, slot: str) -> None:
        f = f"f.{slot}"
        lay.add(f"{f}.on", False)
        lay.add(f"{f}.ctl", None)
        lay.add(f"{f}.svc", None)
        lay.add(f"{f}.lock", False)
        for x in INSTANCE_FIELDS:
            lay.add(f"{f}.i.{x}", None)
            lay.add(f"{f}.d.{x}", False)
        lay.add(f"{f}.m.present", False)
        for x in MIGRATION_FIELDS:
            lay.add(f"{f}.m.{x}", None)
            lay.add(f"{f}.md.{x}", False)
        for loc in self.locals:
            lay.add(f"{f}.l.{loc}", None)

    # ---- variables -------------------------------------------------------------------------
    def variables(self, t: int) -> dict[str, Any]:
        if len(self.a.values) >= 1 << WIDTH:
            raise OutsideFragment(f"bmc: more than {1 << WIDTH} distinct values")
        return {n: z3.BitVec(f"{n}@{t}", WIDTH, ctx=self.ctx) for n in self.layout.names}

    def initial(self, s: dict[str, Any]) -> Any:
        out = []
        for n in self.layout.names:
            d = self.layout.default[n]
            v = z3.BitVecVal(d, WIDTH, ctx=self.ctx) if n in self.layout.ints else self.a(d)
            out.append(s[n] == v)
        return z3.And(out)

    def projection(self, s: dict[str, Any]) -> tuple[Any, Any, Any]:
        status = z3.If(s["m.exists"] == self.a(True), s["m.status"], self.a(None))
        return (s["i.vm_state"], s["i.task_state"], status)

    # ---- the actions -----------------------------------------------------------------------
    def _actions(self) -> list[tuple[str, Any]]:
        """(kind, detail) for every action; control points found by a fixpoint over the
        paths this interpreter itself takes from each handler's entry."""
        acts: list[tuple[str, Any]] = []
        for op in self.ops:
            opd = self.spec.operation(op)
            if opd.takes_flavor or op == "resize":
                for fl in self.config.resize_flavors:
                    acts.append(("api", (op, fl)))
            else:
                acts.append(("api", (op, None)))
        for meth in self.methods:
            acts.append(("deliver", meth))
        # control points: run the interpreter symbolically on free variables
        free = self.variables(-1)
        todo: list[tuple[str, Ctl]] = []
        seen: set[tuple[str, tuple[Any, ...]]] = set()
        for kind, detail in acts:
            for p in self._apply(free, kind, detail):
                if not p.ctl.ended:
                    todo.append((p.slot, p.ctl))
        while todo:
            slot, ctl = todo.pop()
            if (slot, ctl.key()) in seen:
                continue
            seen.add((slot, ctl.key()))
            self.ctls.setdefault(slot, []).append(ctl)
            for act in self._frame_actions(slot, ctl):
                for p in self._apply(free, *act):
                    if not p.ctl.ended:
                        todo.append((p.slot, p.ctl))
        for slot in sorted(self.ctls):
            for ctl in sorted(self.ctls[slot], key=lambda c: repr(c.key())):
                acts.extend(self._frame_actions(slot, ctl))
        return acts

    def _frame_actions(self, slot: str, ctl: Ctl) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        rows = self.rows.get((ctl.handler, ctl.label), [])
        if any(any(isinstance(e, m.SelectDestination) for e in r.effects) for r in rows):
            for h in (*self.hosts, None):
                out.append(("run", (slot, ctl, h)))
        elif rows:
            out.append(("run", (slot, ctl, None)))
        for r in self.fault_rows.get((ctl.handler, ctl.label), []):
            out.append(("fail", (slot, ctl, r.id)))
        return out

    def _apply(self, s: dict[str, Any], kind: str, detail: Any) -> list[Path]:
        """The paths of one action from the symbolic state ``s``; each path's ``pc`` includes
        the action's enabling condition, and a handler still running rests at its control
        point."""
        paths = self._apply_raw(s, kind, detail)
        for p in paths:
            if not p.ctl.ended:
                p.upd[f"f.{p.slot}.ctl"] = self.a(p.ctl.key())
        return paths

    def _apply_raw(self, s: dict[str, Any], kind: str, detail: Any) -> list[Path]:
        a = self.a
        if kind == "api":
            op, flavor = detail
            return self._api(s, op, flavor)
        if kind == "deliver":
            meth = detail
            q = f"q.{meth}"
            handler = f"conductor.{meth}" if meth in self.to_conductor else meth
            if handler not in self.handlers:
                return []
            p0 = Path(s[f"{q}.on"] == a(True), {}, Ctl("", ""), meth)
            target = s[f"{q}.target"]
            # the slot must be free: otherwise the encoding cannot represent the second frame
            busy = p0.fork(s[f"f.{meth}.on"] == a(True))
            busy.upd["overflow"] = a(True)
            busy.ctl.ended = True
            p = p0.fork(s[f"f.{meth}.on"] == a(False))
            self._clear_message(p, meth)
            f = f"f.{meth}"
            p.upd[f"{f}.on"] = a(True)
            p.upd[f"{f}.svc"] = target
            p.upd[f"{f}.lock"] = a(False)
            for x in INSTANCE_FIELDS:
                p.upd[f"{f}.i.{x}"] = s[f"{q}.i.{x}"]
                p.upd[f"{f}.d.{x}"] = a(False)
            p.upd[f"{f}.m.present"] = s[f"{q}.m.present"]
            for x in MIGRATION_FIELDS:
                p.upd[f"{f}.m.{x}"] = s[f"{q}.m.{x}"]
                p.upd[f"{f}.md.{x}"] = a(False)
            for loc in self.locals:
                p.upd[f"{f}.l.{loc}"] = s[f"{q}.a.{loc}"]
            p.ctl = Ctl(handler, self.handlers[handler].entry)
            return [busy, *self._eager(s, p)]
        if kind == "run":
            slot, ctl, choice = detail
            p = Path(self._at(s, slot, ctl), {}, Ctl(**vars(ctl)), slot, choice)
            out = []
            for row, cond in self._applicable(s, p):
                q = p.fork(cond)
                out.extend(self._after_row(s, self._exec_row(s, q, row)))
            return out
        if kind == "fail":
            slot, ctl, row_id = detail
            row = self.spec.row(row_id)
            budget = f"b.fault:{row.fault}"
            if budget not in self.layout.default:
                return []
            p = Path(z3.And(self._at(s, slot, ctl), z3.UGT(s[budget], 0),
                            self._when(s, Path(self.true, {}, ctl, slot), row.when)),
                     {budget: s[budget] - 1}, Ctl(**vars(ctl)), slot)
            return self._after_row(s, self._exec_row(s, p, row))
        raise ValueError(kind)

    def _at(self, s: dict[str, Any], slot: str, ctl: Ctl) -> Any:
        f = f"f.{slot}"
        return z3.And(s[f"{f}.on"] == self.a(True), s[f"{f}.ctl"] == self.a(ctl.key()))

    def _after_row(self, s: dict[str, Any], paths: list[Path]) -> list[Path]:
        out = []
        for p in paths:
            if p.ctl.ended:
                out.append(p)
            else:
                out.extend(self._eager(s, p))
        return out

    def _api(self, s: dict[str, Any], op: str, flavor: str | None) -> list[Path]:
        a = self.a
        opd = self.spec.operation(op)
        slot = opd.handler
        f = f"f.{slot}"
        budget = f"b.op:{op}"
        probe = Path(self.true, {}, Ctl(slot, "start"), slot)
        # a probe frame: the database instance as its copy
        for x in INSTANCE_FIELDS:
            probe.upd[f"{f}.i.{x}"] = s[f"i.{x}"]
        for loc in self.locals:
            probe.upd[f"{f}.l.{loc}"] = a(None)
        probe.upd[f"{f}.l.flavor_id"] = a(flavor)
        probe.upd[f"{f}.svc"] = a("api")
        accept = [z3.UGT(s[budget], 0), s["i.deleted"] == a(False)]
        if opd.lock_check:
            accept.append(s["i.locked"] == a(False))
        if opd.vm_states is not None:
            accept.append(self._in(s["i.vm_state"], opd.vm_states))
        if opd.task_states is not None:
            accept.append(self._in(s["i.task_state"], opd.task_states))
        if opd.must_have_launched:
            accept.append(self._truthy(s["i.launched"]))
        if opd.name in ("stop", "start"):
            accept.append(self._truthy(s["i.host"]))
        for v in opd.validations:
            accept.append(z3.Not(self._when(s, probe, v.when)))
        busy = Path(z3.And(*accept, s[f"{f}.on"] == a(True)), {"overflow": a(True)},
                    Ctl("", "", ended=True), slot)
        p = Path(z3.And(*accept, s[f"{f}.on"] == a(False)), dict(probe.upd), Ctl(slot, "start"),
                 slot)
        p.upd[f"{f}.on"] = a(True)
        p.upd[f"{f}.lock"] = a(False)
        p.upd[f"{f}.m.present"] = a(False)
        for x in INSTANCE_FIELDS:
            p.upd[f"{f}.d.{x}"] = a(False)
        for x in MIGRATION_FIELDS:
            p.upd[f"{f}.m.{x}"] = a(None)
            p.upd[f"{f}.md.{x}"] = a(False)
        out = []
        for q in self._eager(s, p):
            if q.ctl.ended:
                out.append(q)
                continue
            for row, cond in self._applicable(s, q):
                r = q.fork(cond)
                out.extend(self._after_row(s, self._exec_row(s, r, row)))
        result = []
        for q in out:
            if q.ctl.refused:
                # Nova answered with an error before changing anything: the same state
                result.append(Path(q.pc, {}, q.ctl, slot))
                continue
            # the slot's own variables are scratch once the handler has returned
            own = f"{f}."
            diffs = [q.upd[n] != s[n] for n in q.upd if n != budget and not n.startswith(own)]
            changed = self.true if not q.ctl.ended else z3.Or(diffs) if diffs else \
                self.false
            q.upd[budget] = z3.If(changed, s[budget] - 1, s[budget])
            result.append(q)
        return [busy, *result]

    # ---- rows ------------------------------------------------------------------------------
    def _applicable(self, s: dict[str, Any], p: Path) -> list[tuple[m.Row, Any]]:
        rows = self.rows.get((p.ctl.handler, p.ctl.label), [])
        plain = [(r, self._when(s, p, r.when)) for r in rows if not r.otherwise]
        other = [(r, self._when(s, p, r.when)) for r in rows if r.otherwise]
        any_plain = z3.Or([c for _, c in plain]) if plain else self.false
        out = list(plain)
        for r, c in other:
            out.append((r, z3.And(z3.Not(any_plain), c)))
        return out

    def _eager(self, s: dict[str, Any], p: Path) -> list[Path]:
        """Run the rows that touch only the handler's memory, as the engine does at once."""
        out: list[Path] = []
        todo = [p]
        while todo:
            p = todo.pop()
            if p.ctl.ended:
                out.append(p)
                continue
            key = (p.ctl.handler, p.ctl.label)
            if key in self.fault_rows:
                out.append(p)
                continue
            choices = self._applicable(s, p)
            none = z3.Not(z3.Or([c for _, c in choices])) if choices else self.true
            out.append(p.fork(none))
            for row, cond in choices:
                q = p.fork(cond)
                if not _eager_row(row):
                    out.append(q)
                    continue
                todo.extend(self._exec_row(s, q, row))
        return out

    def _exec_row(self, s: dict[str, Any], p: Path, row: m.Row) -> list[Path]:
        paths = [p]
        done: list[Path] = []
        for eff in row.effects:
            nxt = []
            for q in paths:
                for r in self._effect(s, q, eff, row):
                    if isinstance(r, tuple):  # (path, exception)
                        path, exc = r
                        if row.on_fail is not None:
                            path.ctl.inner_exc = exc
                            self._goto(path, row.on_fail)
                        else:
                            self._raise(path, exc, row.scope)
                        done.append(path)
                    else:
                        nxt.append(r)
            paths = nxt
        for q in paths:
            if q.ctl.ended:
                done.append(q)
                continue
            gotos = [e for e in row.effects if isinstance(e, m.Goto)]
            if gotos:
                done.append(q)  # a Goto chose where to continue
                continue
            self._goto(q, row.then)
            done.append(q)
        return done

    def _goto(self, p: Path, target: str) -> None:
        if target == END:
            self._end(p)
        elif target == RAISE:
            self._enter_chain(p, p.ctl.chain or ())
        else:
            p.ctl.label = target

    def _raise(self, p: Path, exc: str, scope: str) -> None:
        p.ctl.exc = exc
        if p.ctl.chain is not None:
            chain = p.ctl.chain
        elif p.ctl.override is not None:
            chain = p.ctl.override
        else:
            chain = self.handlers[p.ctl.handler].chain(scope)
        self._enter_chain(p, chain)

    def _enter_chain(self, p: Path, chain: tuple[str, ...]) -> None:
        if not chain:
            self._end(p)
            return
        p.ctl.handler = chain[0]
        p.ctl.label = self.handlers[chain[0]].entry
        p.ctl.chain = chain[1:]

    def _end(self, p: Path) -> None:
        """The handler returns: its slot is free (a new frame writes every other variable of
        the slot, so they need no reset)."""
        p.ctl.ended = True
        f = f"f.{p.slot}"
        p.upd[f"{f}.on"] = self.a(False)
        p.upd[f"{f}.ctl"] = self.a(None)
        p.upd[f"{f}.lock"] = self.a(False)

    # ---- references and values ---------------------------------------------------------------
    def get(self, s: dict[str, Any], p: Path, name: str) -> Any:
        return p.upd[name] if name in p.upd else s[name]

    def resolve(self, s: dict[str, Any], p: Path, path: str) -> Any:
        a = self.a
        f = f"f.{p.slot}"
        parts = path.split(".")
        head = parts[0]
        if head == "instance":
            x = self.get(s, p, f"{f}.i.{parts[1]}")
            rest = parts[2:]
        elif head == "migration":
            x = self.get(s, p, f"{f}.m.{parts[1]}")
            rest = parts[2:]
        elif head == "db":
            x = self.get(s, p, f"{'i' if parts[1] == 'instance' else 'm'}.{parts[2]}")
            rest = parts[3:]
        elif head == "local":
            if parts[1] == "inner_exc":
                return a(p.ctl.inner_exc)
            x = self.get(s, p, f"{f}.l.{parts[1]}")
            rest = parts[2:]
        elif head == "config":
            x = a(self.config.option(parts[1]))
            rest = parts[2:]
        elif head == "exc":
            return a(p.ctl.exc)
        elif head == "self":
            return self._self(s, p, parts[1])
        else:
            raise OutsideFragment(f"bmc: unknown reference {path}")
        if rest:
            attr = rest[0]
            out = a(None)
            for fl in self.flavors.values():
                out = z3.If(x == a(fl.name), a(getattr(fl, attr)), out)
            return out
        return x

    def _self(self, s: dict[str, Any], p: Path, what: str) -> Any:
        a = self.a
        svc = self.get(s, p, f"f.{p.slot}.svc")
        if what == "host":
            return svc
        if what == "lock":
            held = [z3.And(self.get(s, p, f"f.{o}.on") == a(True),
                           self.get(s, p, f"f.{o}.lock") == a(True),
                           self.get(s, p, f"f.{o}.svc") == svc)
                    for o in self.slots() if o != p.slot]
            return z3.If(z3.Or(held), a(True), a(False)) if held else a(False)
        if what == "guest_running":
            run = z3.Or([z3.And(svc == a(h), self.get(s, p, f"h.{h}.run") == a(True))
                         for h in self.hosts])
            return z3.If(run, a(True), a(False))
        if what == "init_pending":
            return a(0)
        raise OutsideFragment(f"bmc: unknown reference self.{what}")

    def value(self, s: dict[str, Any], p: Path, v: Any) -> Any:
        a = self.a
        if isinstance(v, m.Ref):
            return self.resolve(s, p, v.path)
        if isinstance(v, m.Default):
            x = self.resolve(s, p, v.path)
            return z3.If(x == a(None), a(v.value), x)
        if isinstance(v, m.NotEq):
            x = self.resolve(s, p, v.path)
            return z3.If(x != a(v.value), a(True), a(False))
        if isinstance(v, m.Inc):
            x = self.resolve(s, p, v.path)
            out = a(1)  # None (or anything falsy) + 1
            for n in self.a.ints():
                if 0 < n < 11:
                    out = z3.If(x == a(n), a(n + 1), out)
            return out
        if isinstance(v, m.Append):
            x = self.resolve(s, p, v.path)
            y = self.value(s, p, v.value)
            out = a(None)
            for t in self.a.tuples():
                for h in self.hosts:
                    if (*t, h) in self.a.values and h not in t:
                        base = z3.Or(x == a(t), x == a(None)) if t == () else x == a(t)
                        out = z3.If(z3.And(base, y == a(h)), a((*t, h)), out)
            return out
        if isinstance(v, m.IfEq):
            x = self.resolve(s, p, v.path)
            return z3.If(x == a(v.value), self.value(s, p, v.then), self.value(s, p, v.orelse))
        return a(v)

    def _truthy(self, x: Any) -> Any:
        a = self.a
        return z3.And([x != a(v) for v in (None, False, "", 0, ())])

    def _or(self, xs: list[Any]) -> Any:
        return z3.Or(xs) if xs else self.false

    def _in(self, x: Any, values: Iterable[Any]) -> Any:
        return self._or([x == self.a(v) for v in values])

    def _contains(self, coll: Any, x: Any) -> Any:
        """``x in coll`` for a tuple-of-hosts atom, or a single host (ignore_hosts)."""
        a = self.a
        alts = [z3.And(coll == a(t), z3.Or([x == a(e) for e in t]))
                for t in self.a.tuples() if t]
        alts.append(z3.And(coll == x, x != a(None)))
        return z3.Or(alts)

    def _cond(self, s: dict[str, Any], p: Path, c: m.Cond) -> Any:
        a = self.a
        op = c.op
        x = self.resolve(s, p, c.ref)
        if op == "truthy":
            return self._truthy(x)
        if op == "falsy":
            return z3.Not(self._truthy(x))
        if op in ("up", "down"):
            up = self._in(x, self.hosts)
            return up if op == "up" else z3.Not(up)
        if op == "unknown_flavor":
            return z3.Not(self._in(x, self.flavors))
        if op == "fits":
            return self.true  # the fragment has room for every flavor everywhere
        if op in ("in", "not in"):
            if isinstance(c.value, (m.Ref, m.Default, m.IfEq)):
                f = self._contains(self.value(s, p, c.value), x)
            else:
                f = self._in(x, c.value)
            return f if op == "in" else z3.Not(f)
        y = self.value(s, p, c.value)
        if op == "==":
            return x == y
        if op == "!=":
            return x != y
        ints = self.a.ints()
        rel = {">": lambda i, j: i > j, "<": lambda i, j: i < j,
               ">=": lambda i, j: i >= j, "<=": lambda i, j: i <= j}[op]
        holds = self._or([z3.And(x == a(i), y == a(j)) for i in ints for j in ints if rel(i, j)])
        if op == "<=":  # the engine: None on either side compares as true
            return z3.Or(holds, x == a(None), y == a(None))
        return holds

    def _when(self, s: dict[str, Any], p: Path, conds: Iterable[m.Cond]) -> Any:
        fs = [self._cond(s, p, c) for c in conds]
        return z3.And(fs) if fs else self.true

    # ---- effects ---------------------------------------------------------------------------
    def _effect(self, s: dict[str, Any], p: Path, eff: Any, row: m.Row) -> list[Any]:
        """The paths after one effect: a Path to go on with, or (Path, exception)."""
        a = self.a
        f = f"f.{p.slot}"
        kind = type(eff)
        if kind is m.Set:
            v = self.value(s, p, eff.value)
            if eff.target == "local":
                p.upd[f"{f}.l.{eff.name}"] = v
            elif eff.target == "instance":
                p.upd[f"{f}.i.{eff.name}"] = v
                p.upd[f"{f}.d.{eff.name}"] = a(True)
            elif eff.target == "migration":
                p.upd[f"{f}.m.{eff.name}"] = v
                p.upd[f"{f}.md.{eff.name}"] = a(True)
            return [p]
        if kind is m.SaveInstance:
            return self._save_instance(s, p, eff.guard)
        if kind is m.FreshSave:
            gone = p.fork(self.get(s, p, "i.deleted") == a(True))
            ok = p.fork(self.get(s, p, "i.deleted") == a(False))
            for k, v in eff.fields:
                ok.upd[f"i.{k}"] = self.value(s, p, v)
            return [(gone, "InstanceNotFound"), ok]
        if kind is m.SaveMigration:
            for x in MIGRATION_FIELDS:
                d = self.get(s, p, f"{f}.md.{x}") == a(True)
                p.upd[f"m.{x}"] = z3.If(d, self.get(s, p, f"{f}.m.{x}"), self.get(s, p, f"m.{x}"))
            for x in MIGRATION_FIELDS:
                p.upd[f"{f}.m.{x}"] = p.upd[f"m.{x}"]
                p.upd[f"{f}.md.{x}"] = a(False)
            return [p]
        if kind is m.Send:
            return self._send(s, p, eff)
        if kind is m.Quota:
            if eff.op == "reserve":
                spec = self.quota_deltas[eff.delta or ""]
                bad = []
                if spec.kind != "delete":
                    bad.append(self.resolve(s, p, spec.new) == a(None) if spec.new else
                               self.true)
                bad.append(self.resolve(s, p, spec.old) == a(None))
                err = p.fork(z3.Or(bad))
                ok = p.fork(z3.Not(z3.Or(bad)))
                ok.upd[f"{f}.l.{eff.var}"] = a("<reservations>")
                return [(err, "TypeError"), ok]
            return [p]  # commit and rollback: quota is not encoded
        if kind is m.Claim:
            return [p]  # claims are not encoded
        if kind is m.Driver:
            return self._driver(s, p, eff)
        if kind is m.Raise:
            exc = self.value(s, p, eff.exc)
            return [(p, a.value(_const_of(exc)))]
        if kind is m.Refuse:
            p.ctl.refused = True
            self._end(p)
            return [p]
        if kind is m.Reread:
            if eff.target == "instance":
                found = self.get(s, p, "i.deleted") == a(False)
                yes = p.fork(found)
                no = p.fork(z3.Not(found))
                for x in INSTANCE_FIELDS:
                    yes.upd[f"{f}.i.{x}"] = self.get(s, p, f"i.{x}")
                    yes.upd[f"{f}.d.{x}"] = a(False)
                yes.upd[f"{f}.l.instance_found"] = a(True)
                no.upd[f"{f}.l.instance_found"] = a(False)
                return [yes, no]
            self._read_migration(s, p)
            return [p]
        if kind is m.LookupMigration:
            found = z3.And(self.get(s, p, "m.exists") == a(True),
                           self._in(self.get(s, p, "m.status"), eff.statuses))
            yes = p.fork(found)
            no = p.fork(z3.Not(found))
            yes.upd[f"{f}.m.present"] = a(True)
            self._read_migration(s, yes)
            no.upd[f"{f}.l.migration_found"] = a(False)
            return [yes, no]
        if kind is m.CreateMigration:
            new = self.resolve(s, p, eff.new_flavor)
            old = self.get(s, p, f"{f}.i.flavor")
            ids_differ = self._or([z3.And(new == a(x.name), old == a(y.name))
                                for x in self.flavors.values() for y in self.flavors.values()
                                if x.id != y.id])
            host = self.get(s, p, f"{f}.i.host")
            vals = {"source_compute": z3.If(host == a(None), a(""), host),
                    "dest_compute": self.get(s, p, f"{f}.svc"), "old_flavor": old,
                    "new_flavor": new, "status": a(PRE_MIGRATING),
                    "migration_type": z3.If(ids_differ, a("resize"), a("migration"))}
            p.upd["overflow"] = z3.If(self.get(s, p, "m.exists") == a(True), a(True),
                                      self.get(s, p, "overflow"))
            p.upd["m.exists"] = a(True)
            p.upd[f"{f}.m.present"] = a(True)
            for x, v in vals.items():
                p.upd[f"m.{x}"] = v
                p.upd[f"{f}.m.{x}"] = v
                p.upd[f"{f}.md.{x}"] = a(False)
            return [p]
        if kind is m.Lock:
            p.upd[f"{f}.lock"] = a(eff.op == "acquire")
            return [p]
        if kind is m.Destroy:
            p.upd["i.deleted"] = a(True)
            return [p]
        if kind is m.SelectDestination:
            return self._select(s, p)
        if kind is m.Goto:
            p.ctl.handler = eff.handler
            p.ctl.label = eff.label
            if eff.chain is not None:
                p.ctl.override = eff.chain
            return [p]
        return [self._beyond(p)]  # Spawn, Service: compute restart

    def _beyond(self, p: Path) -> Path:
        """A path the encoding does not follow: it marks ``overflow`` and stops, so that the
        cross-check fails if the path is feasible."""
        p.upd["overflow"] = self.a(True)
        p.ctl.ended = True
        return p

    def _read_migration(self, s: dict[str, Any], p: Path) -> None:
        """The handler's migration copy := the database row, nothing dirty; found."""
        f = f"f.{p.slot}"
        for x in MIGRATION_FIELDS:
            p.upd[f"{f}.m.{x}"] = self.get(s, p, f"m.{x}")
            p.upd[f"{f}.md.{x}"] = self.a(False)
        p.upd[f"{f}.l.migration_found"] = self.a(True)

    def _save_instance(self, s: dict[str, Any], p: Path, guard: Any) -> list[Any]:
        a = self.a
        f = f"f.{p.slot}"
        deleted = self.get(s, p, "i.deleted") == a(True)
        for x in OBJECT_FIELDS:
            d = self.get(s, p, f"{f}.d.{x}") == a(True)
            p.upd[f"i.{x}"] = z3.If(z3.And(d, z3.Not(deleted)), self.get(s, p, f"{f}.i.{x}"),
                                    self.get(s, p, f"i.{x}"))
            p.upd[f"{f}.d.{x}"] = a(False)
        cols = [x for x in INSTANCE_FIELDS if x not in OBJECT_FIELDS]
        anycol = z3.Or([self.get(s, p, f"{f}.d.{x}") == a(True) for x in cols])
        out: list[Any] = [p.fork(z3.Not(anycol))]
        w = p.fork(anycol)
        out.append((w.fork(deleted), "InstanceNotFound"))
        w = w.fork(z3.Not(deleted))
        if guard is not None:
            task = self.get(s, p, "i.task_state")
            ok = self._in(task, guard)
            out.append((w.fork(z3.And(z3.Not(ok), task == a(DELETING))),
                        "UnexpectedDeletingTaskStateError"))
            out.append((w.fork(z3.And(z3.Not(ok), task != a(DELETING))),
                        "UnexpectedTaskStateError"))
            w = w.fork(ok)
        for x in cols:
            d = self.get(s, p, f"{f}.d.{x}") == a(True)
            w.upd[f"i.{x}"] = z3.If(d, self.get(s, p, f"{f}.i.{x}"), self.get(s, p, f"i.{x}"))
        for x in INSTANCE_FIELDS:
            w.upd[f"{f}.i.{x}"] = w.upd.get(f"i.{x}", s[f"i.{x}"])
            w.upd[f"{f}.d.{x}"] = a(False)
        out.append(w)
        return out

    def _send(self, s: dict[str, Any], p: Path, eff: m.Send) -> list[Any]:
        a = self.a
        f = f"f.{p.slot}"
        if eff.wait:
            return [self._beyond(p)]  # a call that waits for its reply
        target = a("conductor") if eff.target == "conductor" else self.resolve(s, p, eff.target)
        none = p.fork(target == a(None))
        p = p.fork(target != a(None))
        q = f"q.{eff.method}"
        if eff.method not in self.methods:
            self.wanted.add(eff.method)  # while the layout is still growing
            return [(none, "InstanceNotReady"), p]
        p.upd["overflow"] = z3.If(self.get(s, p, f"{q}.on") == a(True), a(True),
                                  self.get(s, p, "overflow"))
        p.upd[f"{q}.on"] = a(True)
        p.upd[f"{q}.target"] = target
        for x in INSTANCE_FIELDS:
            p.upd[f"{q}.i.{x}"] = self.get(s, p, f"{f}.i.{x}")
        p.upd[f"{q}.m.present"] = self.get(s, p, f"{f}.m.present")
        for x in MIGRATION_FIELDS:
            p.upd[f"{q}.m.{x}"] = self.get(s, p, f"{f}.m.{x}")
        args = dict(eff.args)
        for loc in self.locals:
            p.upd[f"{q}.a.{loc}"] = self.value(s, p, args[loc]) if loc in args else a(None)
        return [(none, "InstanceNotReady"), p]

    def _clear_message(self, p: Path, meth: str) -> None:
        """The message is consumed (a new one writes every other variable of the slot)."""
        p.upd[f"q.{meth}.on"] = self.a(False)

    def _driver(self, s: dict[str, Any], p: Path, eff: m.Driver) -> list[Any]:
        a = self.a
        host = self.resolve(s, p, eff.host)

        def setbool(name: str, cond: Any, v: bool) -> None:
            for h in self.hosts:
                n = f"h.{h}.{name}"
                p.upd[n] = z3.If(z3.And(cond, host == a(h)), a(v), self.get(s, p, n))

        def disk_at(x: Any) -> Any:
            return z3.Or([z3.And(x == a(h), self.get(s, p, f"h.{h}.disk") == a(True))
                          for h in self.hosts])

        if eff.op == "power_off":
            setbool("run", self.true, False)
            if eff.to is None:
                return [p]
            dest = self.resolve(s, p, eff.to)
            bad_dest = z3.Not(self._in(dest, self.hosts))
            e1 = p.fork(bad_dest)
            q = p.fork(z3.Not(bad_dest))
            has = disk_at(host)
            e2 = q.fork(z3.Not(has))
            ok = q.fork(has)
            for h in self.hosts:
                n = f"h.{h}.disk"
                ok.upd[n] = z3.If(dest == a(h), a(True), self.get(s, ok, n))
            return [(e1, "Exception"), (e2, "InstanceDiskMissing"), ok]
        if eff.op == "spawn":
            has = disk_at(host)
            err = p.fork(z3.Not(has))
            ok = p.fork(has)
            on = self._truthy(self.value(s, ok, eff.power_on))
            for h in self.hosts:
                n = f"h.{h}.run"
                ok.upd[n] = z3.If(z3.And(on, host == a(h)), a(True), self.get(s, ok, n))
            return [(err, "InstanceDiskMissing"), ok]
        if eff.op == "destroy_guest":
            keep = self._truthy(self.value(s, p, eff.keep_disk))
            setbool("run", self.true, False)
            setbool("disk", z3.Not(keep), False)
            return [p]
        if eff.op == "destroy_disk":
            setbool("disk", self.true, False)
            return [p]
        raise OutsideFragment(f"bmc: driver op {eff.op} is outside the encoding")

    def _select(self, s: dict[str, Any], p: Path) -> list[Any]:
        a = self.a
        f = f"f.{p.slot}"
        ignore = self.get(s, p, f"{f}.l.ignore_hosts")
        tried = self.get(s, p, f"{f}.l.tried")
        cand = {h: z3.And(z3.Not(self._contains(ignore, a(h))),
                          z3.Not(self._contains(tried, a(h)))) for h in self.hosts}
        if p.choice is None:
            return [(p.fork(z3.Not(z3.Or(list(cand.values())))), "NoValidHost")]
        h = p.choice
        q = p.fork(cand[h])
        q.upd[f"{f}.l.host"] = a(h)
        attempts = self.get(s, q, f"{f}.l.attempts")
        appended = self.value(s, q, m.Append("local.tried", h))
        q.upd[f"{f}.l.tried"] = z3.If(attempts != a(None), appended, tried)
        return [q]


def _eager_row(row: m.Row) -> bool:
    return all(isinstance(e, (m.Set, m.Raise, m.Refuse, m.Goto, m.Lock)) for e in row.effects)


def _const_of(x: Any) -> int:
    v = z3.simplify(x)
    if not z3.is_bv_value(v):
        raise OutsideFragment("bmc: an exception raised from a value the encoding cannot fix")
    return int(v.as_long())


def _local_refs(*vals: Any) -> set[str]:
    out: set[str] = set()
    for v in vals:
        if isinstance(v, str) and v.startswith("local."):
            out.add(v.split(".")[1])
        elif isinstance(v, (m.Ref, m.Default, m.NotEq, m.Inc, m.Append, m.IfEq)):
            out.update(_local_refs(getattr(v, "path", None), getattr(v, "value", None),
                                   getattr(v, "then", None), getattr(v, "orelse", None)))
        elif isinstance(v, tuple):
            out.update(_local_refs(*v))
    return out


# ---- unrolling ---------------------------------------------------------------------------------


class Unrolling:
    """``init(s0) /\\ T(s0, s1) /\\ ... /\\ T(sk-1, sk)``, one step at a time, with stuttering so
    that the last step's projections are those reachable within k steps."""

    def __init__(self, enc: Encoding) -> None:
        self.enc = enc
        self.solver = z3.SolverFor("QF_BV", ctx=enc.ctx)
        self.states = [enc.variables(0)]
        self.solver.add(enc.initial(self.states[0]))
        self.stutter = len(enc.actions)

    def _relation(self, s: dict[str, Any], s2: dict[str, Any], sel: Any) -> list[Any]:
        """T(s, s2), the action chosen by ``sel``."""
        enc = self.enc
        guards = []
        nxt: dict[str, list[tuple[Any, Any]]] = {}
        for i, (kind, detail) in enumerate(enc.actions):
            paths = enc._apply(s, kind, detail)
            if not paths:
                continue
            guards.append(z3.And(sel == i, z3.Or([p.pc for p in paths])))
            names = set().union(*(p.upd for p in paths))
            for n in names:
                val = s[n]
                for p in reversed(paths):
                    if n in p.upd:
                        val = z3.If(p.pc, p.upd[n], val)
                nxt.setdefault(n, []).append((sel == i, val))
        out = [z3.Or(sel == self.stutter, *guards)]
        for n in enc.layout.names:
            val = s[n]
            for c, v in nxt.get(n, []):
                val = z3.If(c, v, val)
            out.append(s2[n] == val)
        return out

    def step(self) -> None:
        t = len(self.states) - 1
        s2 = self.enc.variables(t + 1)
        for c in self._relation(self.states[t], s2, z3.BitVec(f"sel@{t}", WIDTH, ctx=self.enc.ctx)):
            self.solver.add(c)
        self.states.append(s2)

    def projections(self) -> set[Projection]:
        """Every (vm_state, task_state, migration status) of the last state, by enumeration
        with blocking clauses."""
        enc = self.enc
        proj = enc.projection(self.states[-1])
        out: set[Projection] = set()
        self.solver.push()
        try:
            while self.solver.check() == z3.sat:
                model = self.solver.model()
                vals = tuple(model.eval(x, model_completion=True).as_long() for x in proj)
                out.add(tuple(enc.a.value(v) for v in vals))  # type: ignore[arg-type]
                self.solver.add(z3.Or([x != v for x, v in zip(proj, vals, strict=True)]))
        finally:
            self.solver.pop()
        return out

    def overflow(self) -> bool:
        s = self.states[-1]
        self.solver.push()
        self.solver.add(s["overflow"] == self.enc.a(True))
        r = self.solver.check() == z3.sat
        self.solver.pop()
        return r


def explicit_projections(config: Config, k: int, spec: Spec = LIBERTY) -> list[set[Projection]]:
    """The explicit-state explorer's side: for each depth d <= k, the combinations reachable
    within d steps (breadth-first over the engine's step function)."""
    eng = Engine(config, spec)
    w0 = eng.initial()
    seen = {w0}
    frontier = [w0]

    def proj(w: Any) -> Projection:
        i = w.instances[0]
        return (i.vm_state, i.task_state, w.migrations[-1].status if w.migrations else None)

    out = [{proj(w0)}]
    for _ in range(k):
        nxt = []
        for w in frontier:
            for act in eng.enabled(w):
                w2 = eng.step(w, act).world
                if w2 not in seen:
                    seen.add(w2)
                    nxt.append(w2)
        frontier = nxt
        out.append(out[-1] | {proj(w) for w in nxt})
    return out


@dataclass
class CrossCheck:
    depth: int
    symbolic: set[Projection]
    explicit: set[Projection]
    seconds: float
    overflow: bool = False

    @property
    def agree(self) -> bool:
        return self.symbolic == self.explicit and not self.overflow


def iter_cross_check(enc: Encoding, k: int) -> Iterator[CrossCheck]:
    """For each depth 0..k, the z3 side and the explicit side, and whether they agree."""
    explicit = explicit_projections(enc.config, k, enc.spec)
    un = Unrolling(enc)
    for d in range(k + 1):
        t0 = time.monotonic()
        if d:
            un.step()
        sym = un.projections()
        yield CrossCheck(d, sym, explicit[d], time.monotonic() - t0, un.overflow())


def cross_check(config: Config, k: int, spec: Spec = LIBERTY) -> list[CrossCheck]:
    return list(iter_cross_check(Encoding(config, spec), k))


def format_projection(p: Projection) -> str:
    vm, task, status = p
    return f"({vm}, {task or '-'}, {status or '-'})"
