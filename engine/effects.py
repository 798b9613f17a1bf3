"""What each kind of effect does to the world (nova_resize.spec.model documents the meaning).

Object semantics follow Nova (docs/liberty-reference.md §2.1-2.2): a handler works on its own
copy of the instance and migration; ``Instance.save`` writes only what the handler changed,
object fields first and unconditionally, the columns under the ``expected_task_state``
compare-and-swap; a failed save leaves its changes dirty; ``Migration.save`` is
last-writer-wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nova_resize.spec import model as m
from nova_resize.spec.states import DELETING, PRE_MIGRATING

from nova_resize.errors import SpecError

from . import quota
from .notify import issues_update, update_notification
from .refs import resolve, value
from .tx import Event, NovaError, Tx, WFrame, _new, replaced
from .world import (
    FLAVOR_SLOTS,
    INSTANCE_FIELDS,
    INSTANCE_INDEX,
    Host,
    Instance,
    Message,
    Migration,
)

if TYPE_CHECKING:
    from .tables import Tables


class Refused(Exception):
    """An API request refused (an HTTP error) before it changed anything."""

    def __init__(self, exc: str, http: int) -> None:
        super().__init__(exc)
        self.exc = exc
        self.http = http


def apply(tb: Tables, tx: Tx, fr: WFrame, eff: Any, row: m.Row) -> None:
    """Apply one effect of ``row`` for frame ``fr``; raises :class:`NovaError` or
    :class:`Refused`."""
    kind = type(eff)
    if kind is m.Set:
        _set(tb, tx, fr, eff)
    elif kind is m.SaveInstance:
        save_instance(tb, tx, fr, eff.guard, row.id, eff.columns)
    elif kind is m.SaveMigration:
        _save_migration(tx, fr, row.id)
    elif kind is m.Send:
        _send(tb, tx, fr, eff)
    elif kind is m.Quota:
        _quota(tb, tx, fr, eff, row.id)
    elif kind is m.Claim:
        _claim(tb, tx, fr, eff)
    elif kind is m.Driver:
        _driver(tb, tx, fr, eff)
    elif kind is m.Raise:
        raise NovaError(value(tb, tx, fr, eff.exc))
    elif kind is m.Refuse:
        raise Refused(eff.exc, eff.http)
    elif kind is m.Reread:
        _reread(tx, fr, eff.target)
    elif kind is m.LookupMigration:
        _lookup(tx, fr, eff.statuses)
    elif kind is m.CreateMigration:
        _create_migration(tb, tx, fr, eff, row.id)
    elif kind is m.FreshSave:
        _fresh_save(tb, tx, fr, eff, row.id)
    elif kind is m.Lock:
        fr.lock = eff.op == "acquire"
    elif kind is m.Destroy:
        i = tx.inst_index(fr.instance.name)
        tx.instances[i] = replaced(tx.instances[i], deleted=True)
    elif kind is m.DestroyFlavor:
        name = value(tb, tx, fr, eff.flavor)
        if name not in tb.flavors:
            raise SpecError(f"row {row.id}: DestroyFlavor of an unknown flavor {name!r}")
        tx.deleted_flavors.add(name)
    elif kind is m.SelectDestination:
        _select(tb, tx, fr, resolve(tb, tx, fr, eff.requested) if eff.requested else None)
    elif kind is m.Spawn:
        _spawn(tb, tx, fr, eff)
    elif kind is m.Goto:
        fr.handler = eff.handler
        fr.label = eff.label
        if eff.chain is not None:
            fr.override = eff.chain
    elif kind is m.Service:
        h = tx.host(fr.service)
        assert h is not None
        tx.set_host(replaced(h, status=eff.op))
    else:
        raise SpecError(f"row {row.id}: unknown effect {eff!r}")


# ---- instance and migration objects -----------------------------------------------------


def _set(tb: Tables, tx: Tx, fr: WFrame, eff: m.Set) -> None:
    v = value(tb, tx, fr, eff.value)
    if eff.target == "local":
        fr.locals[eff.name] = v
    elif eff.target == "instance":
        i = INSTANCE_INDEX.get(eff.name)
        if i is None:
            fr.instance = replaced(fr.instance, **{eff.name: v})  # raises: no such field
        else:
            fields = list(fr.instance)
            fields[i] = v
            fr.instance = _new(Instance, fields)
        fr.dirty.add(eff.name)
    elif eff.target == "migration":
        if fr.migration is None:
            raise SpecError(f"Set migration.{eff.name}: the handler has no migration")
        fr.migration = replaced(fr.migration, **{eff.name: v})
        fr.mig_dirty.add(eff.name)
    else:
        raise SpecError(f"Set: unknown target {eff.target}")


def save_instance(tb: Tables, tx: Tx, fr: WFrame, guard: tuple[str | None, ...] | None,
                  row: str, columns: tuple[str, ...] = ()) -> None:
    """Instance.save(expected_task_state=guard). ``columns`` names columns the world does not
    hold that the save also writes (the flavor's instance_type_id, memory_mb..., a whole
    system_metadata): they make it an UPDATE, with its guard, even when no modelled column
    changed."""
    if not fr.dirty and not columns:
        return  # nothing changed: no UPDATE, and so no guard check either
    i = tx.inst_index(fr.instance.name)
    db = tx.instances[i]
    cols = [f for f in fr.dirty if f not in FLAVOR_SLOTS]
    update = issues_update(cols, db, replaced(db, **{f: getattr(fr.instance, f) for f in cols}),
                           columns)
    if fr.dirty & FLAVOR_SLOTS:
        # Instance._save_flavor: current, old and new flavor together, from this copy, in a
        # statement of their own before the UPDATE and whatever becomes of its guard (on a
        # destroyed instance it matches no row and nothing happens)
        if not db.deleted:
            db = replaced(db, flavor=fr.instance.flavor, old_flavor=fr.instance.old_flavor,
                          new_flavor=fr.instance.new_flavor)
            tx.instances[i] = db
        if not update or fr.service == "api":
            # nova-api saves locally and _save_flavor resets the three fields; a compute's
            # save runs in nova-conductor and the copy is reset only when the call succeeds
            fr.dirty.difference_update(FLAVOR_SLOTS)
    if not update:
        fr.dirty.clear()
        return  # only the flavor objects (or a value set to itself): Nova returns before the
        # UPDATE and its guard, and sends no notification
    if db.deleted:
        raise NovaError("InstanceNotFound")
    if guard is not None and db.task_state not in guard:
        tx.events.append(Event("guard_refused", row, (db.task_state, guard)))
        if db.task_state == DELETING:
            raise NovaError("UnexpectedDeletingTaskStateError")
        raise NovaError("UnexpectedTaskStateError")
    if "task_state" in cols and guard is None and db.task_state != fr.instance.task_state:
        tx.events.append(Event("unguarded_task_write", row,
                               (db.task_state, fr.instance.task_state, fr.seen_task, fr.method,
                                db.name)))
    before = db
    db = replaced(db, **{f: getattr(fr.instance, f) for f in cols})
    tx.instances[i] = db
    tx.events.append(Event("instance_write", row, (before, db), guard))
    _notify_update(tb, tx, fr.service, row, before, db)
    fr.instance = db
    fr.dirty.clear()
    fr.seen_task = db.task_state


def _fresh_save(tb: Tables, tx: Tx, fr: WFrame, eff: m.FreshSave, row: str) -> None:
    i = tx.inst_index(fr.instance.name)
    db = tx.instances[i]
    if db.deleted:
        raise NovaError("InstanceNotFound")
    fields = {k: value(tb, tx, fr, v) for k, v in eff.fields}
    if "task_state" in fields and db.task_state != fields["task_state"]:
        tx.events.append(Event("unguarded_task_write", row,
                               (db.task_state, fields["task_state"], fr.seen_task, fr.method,
                                db.name)))
    after = replaced(db, **fields)
    tx.instances[i] = after
    tx.events.append(Event("instance_write", row, (db, after), None))
    _notify_update(tb, tx, fr.service, row, db, after)


def _notify_update(tb: Tables, tx: Tx, service: str, row: str, a: Instance, b: Instance) -> None:
    """notifications.send_update after an UPDATE (nothing when notify_on_state_change is
    unset)."""
    n = update_notification(tb, service, row, a, b)
    if n is not None:
        tx.notifications.append(n)


def _save_migration(tx: Tx, fr: WFrame, row: str) -> None:
    if fr.migration is None:
        raise SpecError(f"{row}: SaveMigration without a migration")
    db = tx.migrations[fr.migration.id]
    if fr.mig_dirty:
        after = replaced(db, **{f: getattr(fr.migration, f) for f in fr.mig_dirty})
        if after != db:
            # an UPDATE that changes a column sets updated_at (TimestampMixin's onupdate)
            after = _touch(tx, after)
        tx.migrations[db.id] = after
        tx.events.append(Event("migration_write", row, (db, after)))
        db = after
    fr.migration = db
    fr.mig_dirty.clear()


def _touch(tx: Tx, mig: Migration) -> Migration:
    """``mig`` as the most recently updated migration of its instance: updated_at is kept as a
    rank among the instance's migrations (1 = least recent), the others renumbered, so that
    only the order, which is all the resource tracker compares, is in the state."""
    others = sorted((o for o in tx.migrations.values()
                     if o.instance == mig.instance and o.id != mig.id
                     and o.updated_at is not None), key=lambda o: o.updated_at or 0)
    for rank, o in enumerate(others, 1):
        if o.updated_at != rank:
            tx.migrations[o.id] = replaced(o, updated_at=rank)
    return replaced(mig, updated_at=len(others) + 1)


def _reread(tx: Tx, fr: WFrame, target: str) -> None:
    if target == "instance":
        db = tx.instances[tx.inst_index(fr.instance.name)]
        found = not db.deleted
        if found:
            fr.instance = db
            fr.dirty.clear()
            fr.seen_task = db.task_state
        fr.locals["instance_found"] = found
    elif target == "migration":
        if fr.migration is None:
            raise SpecError("Reread migration without a migration")
        fr.migration = tx.migrations[fr.migration.id]
        fr.mig_dirty.clear()
        fr.locals["migration_found"] = True
    else:
        raise SpecError(f"Reread: unknown target {target}")


def _lookup(tx: Tx, fr: WFrame, statuses: tuple[str, ...]) -> None:
    name = fr.instance.name
    for status in statuses:
        for mig in sorted(tx.migrations.values(), key=lambda m: m.id):
            if mig.instance == name and mig.status == status:
                fr.migration = mig
                fr.mig_dirty.clear()
                fr.locals["migration_found"] = True
                return
    fr.locals["migration_found"] = False


def _create_migration(tb: Tables, tx: Tx, fr: WFrame, eff: m.CreateMigration, row: str) -> None:
    new_flavor = resolve(tb, tx, fr, eff.new_flavor)
    old_flavor = fr.instance.flavor
    mtype = "resize" if tb.flavors[old_flavor].id != tb.flavors[new_flavor].id else "migration"
    mig = Migration(
        tx.new_id(tx.migrations, fr.instance.name, "#"),
        fr.instance.name,
        fr.instance.host or "",
        fr.service,
        old_flavor,
        new_flavor,
        PRE_MIGRATING,
        mtype,
    )
    tx.migrations[mig.id] = mig
    tx.events.append(Event("migration_write", row, (None, mig)))
    fr.migration = mig
    fr.mig_dirty.clear()


# ---- messages ---------------------------------------------------------------------------


def _send(tb: Tables, tx: Tx, fr: WFrame, eff: m.Send) -> None:
    target = eff.target if eff.target == "conductor" else resolve(tb, tx, fr, eff.target)
    if target is None:
        raise NovaError("InstanceNotReady")
    args = tuple(sorted((k, value(tb, tx, fr, v)) for k, v in eff.args))
    reply_to = fr.id if eff.wait else None
    msg = Message(eff.kind, eff.method, target, fr.instance, fr.migration, args, reply_to)
    tx.messages.append(msg)
    tx.sent.append(msg)
    tx.events.append(Event("send", fr.method, (msg,)))
    for k, v in args:
        if k == "reservations" and v:
            fr.handed = tuple(sorted({*fr.handed, *v}))
    if eff.wait:
        fr.waiting = True
        fr.locals.pop("reply", None)


# ---- quota ------------------------------------------------------------------------------


def _quota(tb: Tables, tx: Tx, fr: WFrame, eff: m.Quota, row: str) -> None:
    if eff.op == "reserve":
        spec = tb.quota_deltas[eff.delta or ""]
        new = resolve(tb, tx, fr, spec.new) if spec.new else None
        old = resolve(tb, tx, fr, spec.old)
        ds = quota.deltas(tb, spec, new, old)
        fr.locals[eff.var] = quota.reserve(tb, tx, ds, row, fr.instance.name)
    elif eff.op in ("commit", "rollback"):
        quota.resolve(tx, fr.locals.get(eff.var), eff.op == "commit", row)
    else:
        raise SpecError(f"{row}: unknown quota op {eff.op}")


# ---- resource tracker and hypervisor ------------------------------------------------------


def _claim(tb: Tables, tx: Tx, fr: WFrame, eff: m.Claim) -> None:
    res = tb.resources
    host = resolve(tb, tx, fr, eff.host)
    if eff.op == "resize_claim":
        if fr.migration is None:
            raise SpecError("resize_claim: the handler has no migration")
        # MoveClaim accounts the copy as it is at claim time (new_flavor is stashed by then).
        res.resize_claim(tx, host, fr.instance, fr.migration)
    elif eff.op == "drop_move_claim":
        flavor = resolve(tb, tx, fr, eff.flavor) if eff.flavor else None
        res.drop_move_claim(tx, host, fr.instance, fr.migration, flavor, eff.prefix or "new_")
    elif eff.op == "update_usage":
        res.update_usage(tx, fr.service, fr.instance)
    elif eff.op == "audit":
        res.audit(tx, host)
        tx.events.append(Event("audit", "", (host,)))
    else:
        raise SpecError(f"unknown claim op {eff.op}")


def _driver(tb: Tables, tx: Tx, fr: WFrame, eff: m.Driver) -> None:
    name = fr.instance.name
    host = resolve(tb, tx, fr, eff.host)
    h = tx.host(host)
    if h is None:
        raise SpecError(f"driver op on unknown host {host}")
    if eff.op == "power_off":
        h = replaced(h, running=h.running - {name})
        tx.set_host(h)
        if eff.to is not None:
            # libvirt's migrate_disk_and_power_off: the instance directory is moved aside to
            # <path>_resize, then its disks are copied to the destination's <path> (a local
            # copy when the destination is this host)
            dest_name = resolve(tb, tx, fr, eff.to)
            if tx.host(dest_name) is None:
                raise NovaError("Exception")
            if name not in h.disks:
                raise NovaError("InstanceDiskMissing")
            tx.set_host(replaced(h, disks=h.disks - {name},
                                 resize_disks=h.resize_disks | {name}))
            dest = tx.host(dest_name)
            assert dest is not None
            tx.set_host(replaced(dest, disks=dest.disks | {name}))
    elif eff.op == "spawn":
        if name not in h.disks:
            raise NovaError("InstanceDiskMissing")
        if value(tb, tx, fr, eff.power_on):
            tx.set_host(replaced(h, running=h.running | {name}))
    elif eff.op == "destroy_guest":
        keep = value(tb, tx, fr, eff.keep_disk)
        h = replaced(h, running=h.running - {name})
        if not keep:
            h = _delete_instance_files(h, name)
        tx.set_host(h)
    elif eff.op == "delete_files":
        tx.set_host(_delete_instance_files(h, name))
    elif eff.op == "cleanup_resize":
        # confirm_migration -> _cleanup_resize: remove <path>_resize; undefine the domain only
        # when the instance now lives on another host (on the same host it is the new guest)
        running = h.running if fr.instance.host == h.name else h.running - {name}
        tx.set_host(replaced(h, resize_disks=h.resize_disks - {name}, running=running))
    elif eff.op == "restore_resize_copy":
        # finish_revert_migration: if <path>_resize exists, remove <path> and move it back
        if name in h.resize_disks:
            tx.set_host(replaced(h, disks=h.disks | {name},
                                 resize_disks=h.resize_disks - {name}))
    elif eff.op == "destroy_disk":
        tx.set_host(replaced(h, disks=h.disks - {name}))
    else:
        raise SpecError(f"unknown driver op {eff.op}")


def _delete_instance_files(h: Host, name: str) -> Host:
    """libvirt's delete_instance_files: rename <path> to <path>_del, or if there is no <path>,
    <path>_resize; then remove it. One of the two per call: a host holding both keeps the
    resize copy."""
    if name in h.disks:
        return replaced(h, disks=h.disks - {name})
    return replaced(h, resize_disks=h.resize_disks - {name})


# ---- scheduling and service start ---------------------------------------------------------


def _select(tb: Tables, tx: Tx, fr: WFrame, requested: str | None = None) -> None:
    flavor = fr.locals.get("flavor")
    if not isinstance(flavor, str):
        raise SpecError(f"{fr.handler}:{fr.label}: select_destinations without a flavor")
    ignore = fr.locals.get("ignore_hosts")
    ignore_t: tuple[str, ...] = (ignore,) if isinstance(ignore, str) else tuple(ignore or ())
    tried = tuple(fr.locals.get("tried") or ())
    hosts = tb.resources.candidates(tx, flavor, ignore_t, tried)
    if requested is not None:
        hosts = [h for h in hosts if h == requested]
    if not hosts:
        raise NovaError("NoValidHost")
    choice = fr.locals.pop("choice", 0)
    host = hosts[choice % len(hosts)]
    fr.locals["host"] = host
    if fr.locals.get("attempts") is not None:
        fr.locals["tried"] = (*tried, host)


def _spawn(tb: Tables, tx: Tx, fr: WFrame, eff: m.Spawn) -> None:
    for inst in tx.instances:
        if inst.deleted or inst.host != fr.service:
            continue
        new_frame(tb, tx, fr.service, eff.handler, eff.handler, inst, None, {}, None)


def new_frame(tb: Tables, tx: Tx, service: str, method: str, handler: str, inst: Instance,
              mig: Migration | None, locals_: dict[str, Any], reply_to: str | None) -> WFrame:
    h = tb.handlers[handler]
    fr = WFrame(
        tx.new_frame_id(inst.name or service), service, method, handler, h.entry, inst, set(),
        inst.task_state, mig, set(), dict(locals_), None, None, None, False, reply_to, False,
    )
    tx.frames[fr.id] = fr
    return fr


__all__ = ["INSTANCE_FIELDS", "Refused", "apply", "new_frame", "save_instance"]
