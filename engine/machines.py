"""Per-instance and per-migration state machines, built with ``transitions`` from the same
tables the engine executes.

Each row that writes an instance's (vm_state, task_state) or a migration's status becomes a
transition triggered by the row's id, from every state its guard admits to the state its writes
produce. The facade checks every change a step makes against these machines: a change no row can
explain raises :class:`IllegalTransition` at once. (Whether a reachable pair is one Nova
*designs* is a different question, answered by the checker's legal-state property.)

An error handler's save also writes whatever a failed save left dirty, so its transitions admit
any value some row assigns.
"""

from __future__ import annotations

from typing import Any

from nova_resize.spec import Spec
from nova_resize.spec import model as m
from nova_resize.spec.query import error_handler_names, instance_writes, is_constant
from nova_resize.spec.states import PRE_MIGRATING
from transitions import Machine

from nova_resize.errors import IllegalTransition

from .core import StepResult
from .world import World

NONE = "-"


def pair_name(vm: str, task: str | None) -> str:
    return f"{vm}/{task or NONE}"




class Machines:
    """The instance machine (states: vm_state/task_state pairs) and the migration machine
    (states: statuses, plus ``-`` before creation)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        error_handlers = error_handler_names(spec)
        vms = list(spec.vm_states)
        tasks = list(spec.task_states)
        assigned_vm = {v for r in spec.rows for v in _writes(r, "vm_state") if v is not _ANY}
        assigned_task = {v for r in spec.rows for v in _writes(r, "task_state") if v is not _ANY}
        states = [pair_name(v, t) for v in vms for t in tasks]
        self.instance_machine = Machine(states=states, initial=states[0], auto_transitions=False,
                                        send_event=False)
        for r in spec.rows:
            saves = [e for e in r.effects if isinstance(e, (m.SaveInstance, m.FreshSave))]
            if not saves:
                continue
            guard = next((e.guard for e in r.effects if isinstance(e, m.SaveInstance)), None)
            vm_w = _writes(r, "vm_state")
            task_w = _writes(r, "task_state")
            carry = r.handler in error_handlers or r.on_fail is not None
            for vm in vms:
                for task in tasks:
                    if guard is not None and task not in guard:
                        continue
                    dvms = _dest(vm_w, vm, vms, assigned_vm, carry)
                    dtasks = _dest(task_w, task, tasks, assigned_task, carry)
                    src = pair_name(vm, task)
                    dests = sorted({pair_name(a, b) for a in dvms for b in dtasks} - {src})
                    if dests:
                        for d in dests:
                            self.instance_machine.add_transition(r.id, src, d)
        statuses = [NONE, *spec.migration_statuses]
        self.migration_machine = Machine(states=statuses, initial=NONE, auto_transitions=False)
        for r in spec.rows:
            for e in r.effects:
                if isinstance(e, m.CreateMigration):
                    self.migration_machine.add_transition(r.id, NONE, PRE_MIGRATING)
                if isinstance(e, m.Set) and e.target == "migration" and e.name == "status":
                    sources: list[Any] = statuses[1:]
                    self.migration_machine.add_transition(r.id, sources, e.value)

    def explain_instance(self, row: str, before: tuple[str, str | None],
                         after: tuple[str, str | None]) -> bool:
        src, dst = pair_name(*before), pair_name(*after)
        return bool(self.instance_machine.get_transitions(trigger=row, source=src, dest=dst))

    def explain_migration(self, row: str, before: str | None, after: str) -> bool:
        src = before or NONE
        return bool(self.migration_machine.get_transitions(trigger=row, source=src, dest=after))

    def check(self, before: World, res: StepResult) -> None:
        """Raise IllegalTransition if a write of the step is not a transition of its row."""
        for ev in res.events:
            if ev.kind == "instance_write":
                a, b = ev.data
                pa, pb = (a.vm_state, a.task_state), (b.vm_state, b.task_state)
                if pa != pb and not self.explain_instance(ev.row, pa, pb):
                    raise IllegalTransition(
                        f"row {ev.row} moved {a.name} from {pair_name(*pa)} to {pair_name(*pb)}, "
                        f"which no transition of the spec allows"
                    )
            elif ev.kind == "migration_write":
                a, b = ev.data
                sa = a.status if a is not None else None
                if sa != b.status and not self.explain_migration(ev.row, sa, b.status):
                    raise IllegalTransition(
                        f"row {ev.row} moved migration {b.id} from {sa} to {b.status}, which no "
                        f"transition of the spec allows"
                    )


class _Any:
    def __repr__(self) -> str:
        return "<any>"


_ANY = _Any()


def _writes(r: m.Row, field: str) -> list[Any]:
    """The row's writes of ``field``: constants, or ``_ANY`` for an expression."""
    return [v if is_constant(v) else _ANY for v in instance_writes(r, field)]


def _dest(writes: list[Any], cur: Any, universe: list[Any], assigned: set[Any],
          carry: bool) -> set[Any]:
    if not writes:
        return ({cur} | assigned) if carry else {cur}
    last = writes[-1]
    if last is _ANY:
        return set(universe)
    return {last}
