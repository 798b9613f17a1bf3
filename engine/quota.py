"""Quota deltas, reservations, commits and rollbacks (nova/db/sqlalchemy/api.py semantics, the
deltas from nova_resize.spec.quota)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from nova_resize.spec.model import QuotaDelta

from .tx import Event, NovaError, Tx, replaced
from .world import Reservation

if TYPE_CHECKING:
    from .tables import Tables

RESOURCE_INDEX = {"instances": 0, "cores": 1, "ram": 2}


def deltas(tb: Tables, spec: QuotaDelta, new: Any, old: Any) -> tuple[tuple[str, int], ...]:
    """The deltas of ``spec`` for the flavors ``new`` and ``old`` (names; None raises TypeError as
    subscripting None does in Nova)."""
    if spec.kind in ("delete", "create"):
        if old is None:
            raise NovaError("TypeError")
        f = tb.flavors[old]
        sign = -1 if spec.kind == "delete" else 1
        return (("instances", sign), ("cores", sign * f.vcpus), ("ram", sign * f.memory_mb))
    if new is None or old is None:
        raise NovaError("TypeError")
    fn, fo = tb.flavors[new], tb.flavors[old]
    out = []
    for resource, attr in (("cores", "vcpus"), ("ram", "memory_mb")):
        d = spec.sense * (getattr(fn, attr) - getattr(fo, attr))
        if spec.compare * d > 0:
            out.append((resource, d))
    return tuple(out)


def reserve(tb: Tables, tx: Tx, ds: tuple[tuple[str, int], ...], row: str, owner: str
            ) -> tuple[str, ...]:
    """quota_reserve: OverQuota when a positive delta would pass the limit; positive deltas go to
    ``reserved``. An empty delta reserves nothing (reserve_quota_delta returns at once)."""
    if not ds:
        return ()
    limits = dict(tb.config.quota)
    for resource, d in ds:
        if d < 0:
            continue
        i = RESOURCE_INDEX[resource]
        limit = limits.get(resource, -1)
        if limit >= 0 and tx.in_use[i] + tx.reserved[i] + d > limit:
            raise NovaError("OverQuota")
    for resource, d in ds:
        if d > 0:
            tx.reserved[RESOURCE_INDEX[resource]] += d
    rid = tx.new_id(tx.reservations, owner, "/")
    tx.reservations[rid] = Reservation(rid, ds, "pending", row)
    return (rid,)


def resolve(tx: Tx, ids: tuple[str, ...] | None, commit: bool, row: str) -> None:
    """reservation_commit / reservation_rollback: each pending reservation resolves once; a
    reservation already resolved is not found (read_deleted="no") and is left alone."""
    for rid in ids or ():
        r = tx.reservations[rid]
        if r.status != "pending":
            wanted = "committed" if commit else "rolled_back"
            if r.status != wanted:
                tx.events.append(Event("quota_conflict", row, (rid, r.status, wanted)))
            continue
        for resource, d in r.deltas:
            i = RESOURCE_INDEX[resource]
            if commit:
                tx.in_use[i] += d
            if d >= 0:
                tx.reserved[i] -= d
        tx.reservations[rid] = replaced(r, status="committed" if commit else "rolled_back")
