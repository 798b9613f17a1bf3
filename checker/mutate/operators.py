"""Mutation operators: small, mechanical mistakes in Liberty's tables, each written as a variant.

Every mutant is a real variant document (docs/formats.md) changing one thing, so that a user can
open a surviving one and run ``nova-resize diff --variant`` on it. The operators:

==================  =========================================================================
guard-drop          an instance save's ``expected_task_state`` guard is removed (unguarded)
guard-widen         a guard accepts one more task state (None or ``deleting``, when absent)
guard-narrow        a guard of two or more states loses one
drop-row            a row (an atomic step, or a fault's alternative) is removed
drop-save           an instance or migration save (``SaveInstance``, ``SaveMigration``,
                    ``FreshSave``) is removed from its row
swap-effects        two adjacent effects of a row run in the other order
swap-rows           two consecutive unconditional steps of a handler run in the other order
move-quota          a quota commit or rollback moves to the step before or after its own
drop-quota          a quota commit or rollback is removed
drop-chain-entry    an error scope's chain loses one error handler (a decorator removed)
change-status       a migration status written is replaced by another status
drop-notification   a notification a step sends is removed
==================  =========================================================================

Some mutants are equivalent by construction, and say so (``proof``): swapping two assignments to
the handler's own memory that neither reads the other's, a hypervisor effect that cannot raise
and an assignment to memory it does not read, or a jump and an assignment (they commute);
dropping or widening a guard that nova-api's own check, in the same atomic step, already
ensures. Swapping two steps that
both only assign the handler's memory is not generated (the steps differ only in an
intermediate state no other service can see).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from nova_resize.spec import Spec
from nova_resize.spec import model as m

from ..spec_export import show_effect
from .variant_text import field_text, guard_text, header, replace_table, toml_string


@dataclass(frozen=True)
class Mutant:
    """One mutation of the tables, as a variant document."""

    id: str
    operator: str
    description: str
    text: str  # the variant TOML
    site: tuple[str, ...]  # the rows whose execution the change needs in order to matter
    proof: str = ""  # why the mutant is equivalent, when it is by construction
    local: bool = True
    """The change is to what the ``site`` rows do (their effects, notifications) or to the
    error chain of their scope, never to which row runs where: a run that executes none of
    them is the same run as Liberty's, step for step. Not so for a removed row (the rows at
    its label, and the way to it, change)."""

    @property
    def slug(self) -> str:
        """A file name for the variant (without .toml)."""
        return "".join(c if c.isalnum() or c in "-_." else "_" for c in self.id)


CONTROL = (m.Raise, m.Refuse, m.Goto, m.Spawn)
SAVES = (m.SaveInstance, m.SaveMigration, m.FreshSave)
WIDEN_WITH: tuple[str | None, ...] = (None, "deleting")


def _mutant(op: str, ident: str, desc: str, body: str, site: tuple[str, ...],
            proof: str = "", local: bool = True) -> Mutant:
    mid = f"{op}:{ident}"
    return Mutant(mid, op, desc, header(mid, desc) + "\n" + body, site, proof, local)


def _with_effects(row: m.Row, effects: tuple[object, ...], comment: str) -> str:
    return replace_table(dataclasses.replace(row, effects=effects), ("effects",), comment)


def _show_guard(g: tuple[str | None, ...] | None) -> str:
    return "none" if g is None else "[" + ", ".join(str(x) for x in g) + "]"


ApiCheck = tuple[str, tuple[str | None, ...]]
"""An API operation and the task states its check admits."""

MEMORY_ONLY: tuple[type, ...] = (m.Set, m.Raise, m.Refuse, m.Goto, m.Lock)
"""Effects that touch only the running handler's memory (the engine runs a row made of them
alone in the same step as the row before it: engine/tables.py's EAGER_EFFECTS)."""


def _checked_in_same_step(spec: Spec, r: m.Row, k: int) -> ApiCheck | None:
    """When the instance save ``r.effects[k]`` always runs in the same atomic step as nova-api's
    check of the request (the model runs the check, the handler's memory-only rows and its first
    other row as one step): the operation and the task states its check admits. None when
    that cannot be shown from the tables.

    Shown when: the row is in the handler API operations start, each with a task-state check; no
    other row enters that handler (a ``Goto`` or ``Spawn``), so it runs only after the check;
    every way to the row's label from ``start`` goes through memory-only rows at labels with no
    fault alternative; and the row's effects before the save touch only its memory."""
    ops = [o for o in spec.operations if o.handler == r.handler]
    if not ops or any(o.task_states is None for o in ops):
        return None
    # several operations may start the handler (resize and migrate): each checks its own
    # states, so the save can meet any state one of them admits
    admitted = tuple(dict.fromkeys(s for o in ops for s in o.task_states or ()))
    name = " and ".join(dict.fromkeys(o.name for o in ops))
    for row in spec.rows:
        for e in row.effects:
            if isinstance(e, (m.Goto, m.Spawn)) and getattr(e, "handler", None) == r.handler:
                return None
    if not all(isinstance(e, MEMORY_ONLY) for e in r.effects[:k]):
        return None
    rows = spec.rows_of(r.handler)
    preds: dict[str, list[m.Row]] = {}
    for row in rows:
        targets = {row.then, row.on_fail}
        targets |= {e.label for e in row.effects
                    if isinstance(e, m.Goto) and e.handler == r.handler}
        for t in targets:
            if t is not None:
                preds.setdefault(t, []).append(row)
    fault_labels = {row.at for row in rows if row.fault is not None}
    eager = {row.id: all(isinstance(e, MEMORY_ONLY) for e in row.effects) for row in rows}
    # labels reached from start through memory-only rows only (a fixpoint from "start")
    reached = {"start"} if "start" not in preds else set()
    changed = True
    while changed:
        changed = False
        for label, ps in preds.items():
            if label in reached:
                continue
            if all(eager[p.id] and p.at in reached and p.at not in fault_labels for p in ps):
                reached.add(label)
                changed = True
    if r.at not in reached:
        return None
    return name, admitted


def _always_passes(checked: ApiCheck | None,
                   guard: tuple[str | None, ...] | None) -> str:
    """The proof that a save's guard ``guard`` passes whenever it is evaluated, or ""."""
    if checked is None:
        return ""
    op, states = checked
    if guard is not None and not set(states) <= set(guard):
        return ""
    admitted = ", ".join(str(s) for s in states)
    return (f"the save runs in the same atomic step as nova-api's {op} check, which admits only "
            f"task_state {admitted}, and no other step comes between them, so the guard "
            f"{_show_guard(guard)} always passes, as the original one does")


def guard_mutants(spec: Spec) -> Iterator[Mutant]:
    """guard-drop, guard-widen, guard-narrow: one per guarded save and change. A mutant whose
    guard, like the original, always passes because the save runs in the step of nova-api's
    task-state check is equivalent, with that proof."""
    for r in spec.rows:
        saves = [k for k, e in enumerate(r.effects) if isinstance(e, m.SaveInstance)]
        for k in saves:
            e = r.effects[k]
            assert isinstance(e, m.SaveInstance)
            if e.guard is None:
                continue
            changes: list[tuple[str, tuple[str | None, ...] | None]] = [("guard-drop", None)]
            for s in WIDEN_WITH:
                if s not in e.guard:
                    changes.append(("guard-widen", (*e.guard, s)))
            if len(e.guard) > 1:
                for s in e.guard:
                    changes.append(("guard-narrow", tuple(x for x in e.guard if x != s)))
            for op, g in changes:
                desc = (f"{r.id}: instance.save(expected_task_state={_show_guard(e.guard)}) "
                        f"becomes {_show_guard(g)}")
                ident = f"{r.id}" + ("" if len(saves) == 1 else f"#{k}") + (
                    "" if op == "guard-drop" else f":{_show_guard(g)}")
                if len(saves) == 1:
                    body = (f"# {desc}\n[[guard]]\nrow = {toml_string(r.id)}\n"
                            f"expected_task_state = {guard_text(g)}\n")
                else:
                    effs = list(r.effects)
                    effs[k] = dataclasses.replace(e, guard=g)
                    body = _with_effects(r, tuple(effs), desc)
                checked = _checked_in_same_step(spec, r, k)
                proof = (_always_passes(checked, g)
                         if _always_passes(checked, e.guard) else "")
                yield _mutant(op, ident, desc, body, (r.id,), proof)


def drop_row_mutants(spec: Spec) -> Iterator[Mutant]:
    for r in spec.rows:
        desc = f"{r.id} ({r.handler} at {r.at}{', fault ' + r.fault if r.fault else ''}) is " \
               f"removed"
        yield _mutant("drop-row", r.id, desc, f"# {desc}\n[[remove]]\nrow = {toml_string(r.id)}\n",
                      (r.id,), local=False)


def drop_effect_mutants(spec: Spec, op: str, pick: Callable[[object], bool]) -> Iterator[Mutant]:
    """Remove one effect that ``pick`` selects (drop-save, drop-quota)."""
    for r in spec.rows:
        for k, e in enumerate(r.effects):
            if not pick(e):
                continue
            desc = f"{r.id}: '{show_effect(e)}' is removed"
            effs = r.effects[:k] + r.effects[k + 1:]
            yield _mutant(op, f"{r.id}#{k}", desc, _with_effects(r, effs, desc), (r.id,))


def _is_commit_or_rollback(e: object) -> bool:
    return isinstance(e, m.Quota) and e.op in ("commit", "rollback")


def _writes(e: object) -> str | None:
    if isinstance(e, m.Set):
        return f"{e.target}.{e.name}"
    if isinstance(e, m.Lock):
        return "self.lock"
    return None


def _reads(v: object) -> set[str]:
    """The reference paths a value reads."""
    out: set[str] = set()
    if isinstance(v, m.Ref):
        out.add(v.path)
    elif isinstance(v, (m.Default, m.NotEq, m.Append, m.Inc, m.IfEq)):
        out.add(v.path)
        for f in ("value", "then", "orelse"):
            if hasattr(v, f):
                out |= _reads(getattr(v, f))
    elif isinstance(v, tuple):
        for x in v:
            out |= _reads(x)
    return out


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


SAFE_DRIVER_OPS = frozenset({"power_off", "destroy_guest", "delete_files", "cleanup_resize",
                             "restore_resize_copy", "destroy_disk"})
"""Hypervisor effects the engine never raises a Nova exception from (engine/effects.py's
``_driver``; ``power_off`` only without a disk copy ``to`` another host)."""


def _driver_reads(d: m.Driver) -> set[str]:
    """What a hypervisor effect reads of the handler's memory: its host and destination
    references, its flags' references, and the instance's name and host."""
    out = {d.host, "instance.name", "instance.host"}
    if d.to is not None:
        out.add(d.to)
    return out | _reads(d.power_on) | _reads(d.keep_disk)


MEMORY_ROOTS = ("instance.", "migration.", "local.")
"""Reference roots that name the handler's own memory (its copies and its locals), never a
host's or the database's state."""


def _memory_only_reads(e: object) -> bool:
    return not isinstance(e, m.Set) or all(r.startswith(MEMORY_ROOTS) for r in _reads(e.value))


def _commutes_with_driver(d: object, e: object) -> bool:
    """A hypervisor effect that cannot raise and an assignment to the handler's memory that it
    does not read, of a value read from that memory alone: the one changes only the host, the
    other only the frame, so either order gives the same world and frame."""
    if not isinstance(d, m.Driver) or d.op not in SAFE_DRIVER_OPS:
        return False
    if d.op == "power_off" and d.to is not None:
        return False
    w = _writes(e)
    if w is None or not _memory_only_reads(e):
        return False
    return not any(_overlap(w, x) for x in _driver_reads(d))


def _commutes_with_goto(g: object, e: object) -> bool:
    """A jump to another label (which reads nothing and sets only where the handler goes on)
    and an assignment to the handler's memory: the row runs every effect either way."""
    return isinstance(g, m.Goto) and _writes(e) is not None and not isinstance(e, m.Lock)


def commute(a: object, b: object) -> bool:
    """Whether two effects provably commute: each only assigns the handler's own memory (an
    attribute of its instance or migration copy, a local, its lock flag), they assign different
    things, and neither reads what the other assigns. Evaluating a value never raises a Nova
    exception, and the dirty sets and locals are unordered, so either order gives the same
    frame. Or one is a hypervisor effect that cannot raise and the other assigns a constant
    the hypervisor effect does not read (:func:`_commutes_with_driver`)."""
    if _commutes_with_driver(a, b) or _commutes_with_driver(b, a):
        return True
    if _commutes_with_goto(a, b) or _commutes_with_goto(b, a):
        return True
    wa, wb = _writes(a), _writes(b)
    if wa is None or wb is None or _overlap(wa, wb):
        return False
    ra = _reads(a.value) if isinstance(a, m.Set) else set()
    rb = _reads(b.value) if isinstance(b, m.Set) else set()
    return not any(_overlap(wa, x) for x in rb) and not any(_overlap(wb, x) for x in ra)


def swap_effect_mutants(spec: Spec) -> Iterator[Mutant]:
    for r in spec.rows:
        for k in range(len(r.effects) - 1):
            a, b = r.effects[k], r.effects[k + 1]
            if a == b:
                continue
            effs = (*r.effects[:k], b, a, *r.effects[k + 2:])
            desc = f"{r.id}: '{show_effect(a)}' and '{show_effect(b)}' run in the other order"
            proof = ""
            if _commutes_with_driver(a, b) or _commutes_with_driver(b, a):
                proof = ("a hypervisor effect that cannot raise and an assignment to the "
                         "handler's memory it does not read, of a value from that memory: they "
                         "commute")
            elif _commutes_with_goto(a, b) or _commutes_with_goto(b, a):
                proof = ("a jump to another label and an assignment to the handler's memory: "
                         "the row runs both either way, they commute")
            elif commute(a, b):
                proof = ("the two effects only assign the handler's own memory, different "
                         "things, and neither reads the other's: they commute")
            else:
                proof = _save_and_message_commute(spec, r, k)
            yield _mutant("swap-effects", f"{r.id}#{k}", desc, _with_effects(r, effs, desc),
                          (r.id,), proof)


def _save_and_message_commute(spec: Spec, r: m.Row, k: int) -> str:
    """The proof that effects ``k`` and ``k+1`` of ``r``, an instance save and a message in
    either order, commute, or "". They do when neither can raise: the save runs in the atomic
    step of nova-api's check, which admits only states its guard accepts and a live instance
    (:func:`_checked_in_same_step`), and the message's target is never None
    (:func:`~nova_resize.checker.symbolic.exceptions.message_may_raise`). The save writes the
    database's row and leaves the handler's copy as it was (that copy was read in this step),
    and the message reads only that copy and the handler's memory and appends to the queue;
    the save's update notification is the step's only one either way."""
    a, b = r.effects[k], r.effects[k + 1]
    if isinstance(a, m.SaveInstance) and isinstance(b, m.Send):
        save, send = k, k + 1
    elif isinstance(a, m.Send) and isinstance(b, m.SaveInstance):
        save, send = k + 1, k
    else:
        return ""
    e = r.effects[save]
    assert isinstance(e, m.SaveInstance)
    if not _always_passes(_checked_in_same_step(spec, r, save), e.guard):
        return ""
    from ..symbolic.exceptions import message_may_raise
    if message_may_raise(spec, r, send):
        return ""
    return ("an instance save that runs in the atomic step of nova-api's check, whose guard "
            "that check makes always pass, and a message whose target is never None: neither "
            "can raise, and neither reads what the other writes, so they commute")


def _only_step(spec: Spec, handler: str, label: str) -> m.Row | None:
    rows = [r for r in spec.rows_of(handler) if r.at == label and r.fault is None]
    return rows[0] if len(rows) == 1 else None


def _plain_step(r: m.Row) -> bool:
    return (not r.when and not r.otherwise and r.on_fail is None and r.fault is None
            and not any(isinstance(e, CONTROL) or (isinstance(e, m.Send) and e.wait)
                        for e in r.effects))


def swap_row_mutants(spec: Spec) -> Iterator[Mutant]:
    fields = ("effects", "notify", "notify_before", "notify_late")
    for a in spec.rows:
        if not _plain_step(a) or _only_step(spec, a.handler, a.at) is not a:
            continue
        b = _only_step(spec, a.handler, a.then)
        if b is None or not _plain_step(b) or b.scope != a.scope:
            continue
        if all(isinstance(e, m.Set) for e in (*a.effects, *b.effects)):
            continue  # both only assign the handler's memory (see the module docstring)
        desc = f"{a.id} and the step after it, {b.id}, run in the other order"
        a2 = dataclasses.replace(a, **{f: getattr(b, f) for f in fields})
        b2 = dataclasses.replace(b, **{f: getattr(a, f) for f in fields})
        body = replace_table(a2, fields, desc) + replace_table(b2, fields)
        yield _mutant("swap-rows", a.id, desc, body, (a.id, b.id))


def move_quota_mutants(spec: Spec) -> Iterator[Mutant]:
    for r in spec.rows:
        qs = [e for e in r.effects if _is_commit_or_rollback(e)]
        if len(qs) != 1 or r.fault is not None:
            continue
        q = qs[0]
        assert isinstance(q, m.Quota)
        own = spec.rows_of(r.handler)
        before = [p for p in own if p.then == r.at and p.fault is None and p.id != r.id]
        after = [n for n in own if n.at == r.then and n.fault is None and n.id != r.id]
        for where, targets in (("earlier", before), ("later", after)):
            for t in targets:
                desc = f"{r.id}: 'quota {q.op}' moves to the {where} step {t.id}"
                if all(not isinstance(e, m.Quota) for e in r.effects if e is not q):
                    body = (f"# {desc}\n[[move_quota]]\nfrom = {toml_string(r.id)}\n"
                            f"to = {toml_string(t.id)}\n")
                else:
                    rest = tuple(e for e in r.effects if e is not q)
                    moved = list(t.effects)
                    pos = next((k for k, e in enumerate(moved)
                                if isinstance(e, (m.Raise, m.Send, m.Goto))), len(moved))
                    moved[pos:pos] = [q]
                    body = (_with_effects(r, rest, desc)
                            + _with_effects(t, tuple(moved), ""))
                yield _mutant("move-quota", f"{r.id}:{where}:{t.id}", desc, body, (r.id, t.id))


def drop_chain_mutants(spec: Spec) -> Iterator[Mutant]:
    for h in spec.handlers:
        for scope, chain in h.scopes:
            for k, entry in enumerate(chain):
                new = chain[:k] + chain[k + 1:]
                desc = (f"handler {h.name}, scope {scope}: error handler {entry} is removed "
                        f"from its chain ({', '.join(chain)})")
                scopes = ", ".join(f"{toml_string(s)} = [" + ", ".join(toml_string(x) for x in
                                                                          (new if s == scope
                                                                           else c)) + "]"
                                   for s, c in h.scopes)
                body = f"# {desc}\n[[handler]]\nname = {toml_string(h.name)}\nscopes = " \
                       f"{{{scopes}}}\n"
                # the chain is used only for what a row of this scope raises
                site = tuple(r.id for r in spec.rows_of(h.name) if r.scope == scope)
                yield _mutant("drop-chain-entry", f"{h.name}:{scope}:{k}:{entry}", desc, body,
                              site)


def change_status_mutants(spec: Spec) -> Iterator[Mutant]:
    for r in spec.rows:
        for k, e in enumerate(r.effects):
            if not (isinstance(e, m.Set) and e.target == "migration" and e.name == "status"
                    and isinstance(e.value, str)):
                continue
            for s in spec.migration_statuses:
                if s == e.value:
                    continue
                effs = list(r.effects)
                effs[k] = dataclasses.replace(e, value=s)
                desc = f"{r.id}: writes migration.status = {s} instead of {e.value}"
                yield _mutant("change-status", f"{r.id}#{k}:{s}", desc,
                              _with_effects(r, tuple(effs), desc), (r.id,))


def drop_notification_mutants(spec: Spec) -> Iterator[Mutant]:
    for r in spec.rows:
        for f in ("notify_before", "notify", "notify_late"):
            events: tuple[str, ...] = getattr(r, f)
            for k, ev in enumerate(events):
                new = events[:k] + events[k + 1:]
                desc = f"{r.id}: no longer sends {ev}"
                body = f"# {desc}\n[[replace]]\nrow = {toml_string(r.id)}\n{field_text(f, new)}\n"
                yield _mutant("drop-notification", f"{r.id}:{ev}", desc, body, (r.id,))


OPERATORS: dict[str, Callable[[Spec], Iterator[Mutant]]] = {
    "guard-drop": lambda s: (x for x in guard_mutants(s) if x.operator == "guard-drop"),
    "guard-widen": lambda s: (x for x in guard_mutants(s) if x.operator == "guard-widen"),
    "guard-narrow": lambda s: (x for x in guard_mutants(s) if x.operator == "guard-narrow"),
    "drop-row": drop_row_mutants,
    "drop-save": lambda s: drop_effect_mutants(s, "drop-save", lambda e: isinstance(e, SAVES)),
    "swap-effects": swap_effect_mutants,
    "swap-rows": swap_row_mutants,
    "move-quota": move_quota_mutants,
    "drop-quota": lambda s: drop_effect_mutants(s, "drop-quota", _is_commit_or_rollback),
    "drop-chain-entry": drop_chain_mutants,
    "change-status": change_status_mutants,
    "drop-notification": drop_notification_mutants,
}
"""Every operator by name, in the order reports list them."""


def generate(spec: Spec, operators: tuple[str, ...] = tuple(OPERATORS)) -> list[Mutant]:
    """Every mutant of ``spec`` by the named operators, in a stable order."""
    out: list[Mutant] = []
    for name in operators:
        out.extend(OPERATORS[name](spec))
    return out


__all__ = ["OPERATORS", "Mutant", "commute", "generate"]
