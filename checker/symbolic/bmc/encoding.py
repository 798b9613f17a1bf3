"""The spec's tables, for one configuration, as a z3 transition relation: the fragment the
encoding covers, the interned atoms, the per-step variables and the initial state. The rules are
mixed in from the modules named after the engine parts they mirror."""

from __future__ import annotations

import itertools
from typing import Any

import z3
from nova_resize.engine.config import Config
from nova_resize.spec import LIBERTY, Spec
from nova_resize.spec import model as m
from nova_resize.spec.states import RUNNING, SHUTDOWN, STOPPED

from .atoms import (
    FLAVOR_ATTRS,
    INSTANCE_FIELDS,
    MIGRATION_FIELDS,
    UNSUPPORTED_FAULTS,
    UNSUPPORTED_OPS,
    WIDTH,
    Atoms,
    Ctl,
    Layout,
    OutsideFragment,
    local_refs,
)
from .core import CoreRules
from .effects import EffectRules
from .handlers import HandlerRules
from .refs import RefRules


class Encoding(CoreRules, HandlerRules, RefRules, EffectRules):
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
        for op, n in cfg.actions:
            opd = self.spec.operation(op)
            if n and opd.takes_host:
                raise OutsideFragment(f"bmc: operation {op} names a host, which the encoding "
                                      f"does not cover")
            if n and any(v.migration is not None for v in opd.validations):
                raise OutsideFragment(f"bmc: operation {op} has a validation that reads a "
                                      f"migration, which the encoding does not cover")
        for r in self.spec.rows:
            if any(isinstance(e, m.SelectDestination) and e.requested for e in r.effects):
                raise OutsideFragment(f"bmc: row {r.id} asks the scheduler for a requested "
                                      f"destination, which the encoding does not cover")
        if len(cfg.hosts) > 5:
            raise OutsideFragment("bmc: at most 5 hosts (each tuple of hosts is an atom of a "
                                  "12-bit encoding)")
        if len(cfg.instances) != 1:
            raise OutsideFragment("bmc: the encoding covers exactly one instance")
        for f, n in cfg.faults:
            if f in UNSUPPORTED_FAULTS and n > 0:
                raise OutsideFragment(f"bmc: fault {f!r} is outside the encoding")
        if any(on for _, on in cfg.periodic):
            raise OutsideFragment("bmc: periodic tasks are outside the encoding")
        for op in UNSUPPORTED_OPS:
            if dict(cfg.actions).get(op, 0) > 0:
                raise OutsideFragment(f"bmc: request {op!r} is outside the encoding")
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
                names.update(local_refs(c.ref, c.value))
            for e in r.effects:
                if isinstance(e, m.Set) and e.target == "local":
                    names.add(e.name)
                if isinstance(e, m.Send):
                    names.update(k for k, _ in e.args)
                if isinstance(e, m.Quota) and e.var:
                    names.add(e.var)
                for v in vars(e).values() if hasattr(e, "__dict__") else ():
                    names.update(local_refs(v, None))
        for op in self.spec.operations:
            for v in op.validations:
                for c in v.when:
                    names.update(local_refs(c.ref, c.value))
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
                "old_vm_state": None, "launched": True, "locked": ic.locked, "deleted": False,
                "progress": None}
        for f in INSTANCE_FIELDS:
            lay.add(f"i.{f}", init[f])
        lay.add("m.exists", False)
        for f in MIGRATION_FIELDS:
            lay.add(f"m.{f}", None)
        for h in self.hosts:
            lay.add(f"h.{h}.disk", h == ic.host)
            lay.add(f"h.{h}.resize", False)
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



__all__ = ["Encoding"]
