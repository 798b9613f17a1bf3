"""The resource trackers' claims: what an audit would count against what each host's occupants
need."""

from __future__ import annotations

from typing import Any

from nova_resize.engine.core import Engine
from nova_resize.engine.world import World
from nova_resize.spec.states import (
    CONFIRMED,
    DELETED,
    ERROR,
    MIG_ERROR,
    RESIZE_TASK_STATES,
    RESIZED,
    REVERTED,
)

from ...explorer.model import Property, Violation
from ..world_json import usage_text
from .context import Context, mig_text, pair, role


def claims_consistent(ctx: Context, w: World) -> list[Violation]:
    """What an audit (update_available_resource) would count on each host equals what its
    instances and the unresolved resizes occupying it need: no claim leaked, doubled or
    missing. The key names each instance whose share is wrong, with its role on the host.
    It reads only the database and the hosts' service status: many worlds share those (they
    differ in messages and handlers), so the answer is remembered per database."""
    key = (w.instances, w.migrations, tuple(h.status for h in w.hosts))
    memo: dict[Any, list[Violation]] | None = getattr(ctx, "_claims_memo", None)
    if memo is None:
        memo = ctx._claims_memo = {}  # type: ignore[attr-defined]
    got = memo.get(key)
    if got is None:
        if len(memo) > 200_000:
            memo.clear()
        got = memo[key] = _claims_consistent(ctx, w)
    return got


def _claims_consistent(ctx: Context, w: World) -> list[Violation]:
    eng = ctx.engine
    out: list[Violation] = []
    truth: dict[str, dict[str, tuple[int, int, int]]] = {}
    occupancy(eng, w, truth)
    for h in w.hosts:
        if h.status != "up":
            continue
        shares: dict[str, tuple[int, int, int]] = {}
        stopped: list[str] = []
        usage, _, _ = eng.audit_view(w, h.name, shares, stopped)
        want = truth.get(h.name, {})
        wrong = []
        first: str | None = None
        for name in sorted(set(shares) | set(want)):
            got, need = shares.get(name, (0, 0, 0)), want.get(name, (0, 0, 0))
            if got == need:
                continue
            i = next(x for x in w.instances if x.name == name)
            mig = ctx.latest_migration(w, name)
            sign = "over" if any(a > b for a, b in zip(got, need, strict=True)) else "under"
            first = first or name
            wrong.append(f"{sign}-counts {pair(i)}, {mig_text(mig)}, {role(h.name, i, mig)}")
        if wrong and stopped:
            # the audit itself raised part way: name the instance whose migrations did it
            i = next(x for x in w.instances if x.name == stopped[0])
            mig = ctx.latest_migration(w, i.name)
            total = tuple(sum(v[k] for v in want.values()) for k in range(3))
            out.append((f"audit stopped by TypeError: a NULL updated_at among the migrations "
                        f"of {pair(i)}, {role(h.name, i, mig)}",
                        f"an audit of {h.name} would raise TypeError comparing {i.name}'s "
                        f"migrations (one never updated) and count {usage_text(usage)}; its "
                        f"occupants need {usage_text(total)}", i.name))
        elif wrong:
            total = tuple(sum(v[k] for v in want.values()) for k in range(3))
            msg = (f"an audit of {h.name} would count {usage_text(usage)} but its occupants "
                   f"need {usage_text(total)}")
            out.append(("audit " + "; ".join(wrong), msg, first) if first else
                       ("audit " + "; ".join(wrong), msg))
    return out


def occupancy(eng: Engine, w: World,
              per_instance: dict[str, dict[str, tuple[int, int, int]]] | None = None
              ) -> dict[str, tuple[int, int, int]]:
    """What each host should hold. A live instance holds its flavor on its host; while its
    latest resize is unresolved (the instance is resized, or not in ERROR and in a resize task;
    the migration not confirmed, errored, or reverted back onto the source) the source holds the
    old flavor and the destination the new one, as Nova's claims intend."""
    res = eng.resources
    out: dict[str, tuple[int, int, int]] = {}

    shares = per_instance if per_instance is not None else {}

    def hold(host: str | None, flavor: str | None) -> None:
        if host:
            out[host] = res.add(out.get(host, (0, 0, 0)), res.usage_of(flavor))
            d = shares.setdefault(host, {})
            d[name] = res.add(d.get(name, (0, 0, 0)), res.usage_of(flavor))

    for i in w.instances:
        if i.deleted or i.vm_state == DELETED:
            continue
        name = i.name
        migs = [m for m in w.migrations if m.instance == i.name]
        m = migs[-1] if migs else None
        resizing = i.vm_state == RESIZED or (
            i.vm_state != ERROR and i.task_state in RESIZE_TASK_STATES
        )
        unresolved = (
            m is not None
            and resizing
            and m.status not in (CONFIRMED, MIG_ERROR)
            and not (m.status == REVERTED and i.host == m.source_compute)
        )
        if unresolved and m is not None:
            hold(m.source_compute, m.old_flavor)
            hold(m.dest_compute, m.new_flavor)
        else:
            hold(i.host, i.flavor)
    return out


CLAIMS_CONSISTENT: Property = Property(
    "claims-consistent",
    "In every state, what an audit (update_available_resource) of each up host would count "
    "equals what its instances and the unresolved resizes occupying it need.",
    always=claims_consistent,
)


__all__ = ["CLAIMS_CONSISTENT", "claims_consistent", "occupancy"]
