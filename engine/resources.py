"""The resource tracker and the scheduler's filters, as the spec's resource-tracker table and
filter list describe them (nova_resize.spec.resource_tracker, nova_resize.spec.conductor)."""

from __future__ import annotations

from nova_resize.spec import Spec
from nova_resize.spec.states import DELETED

from .config import Config, Flavor
from .tx import Tx, replaced
from .world import Host, Instance, Migration

Usage = tuple[int, int, int]

AUDIT_MEMO = 100_000
"""How many audits (per database and host) are remembered before the memo starts afresh."""


class Resources:
    """Resource accounting for one configuration (its flavors and host capacities) under one
    spec's resource-tracker rules."""

    def __init__(self, spec: Spec, config: Config, flavors: dict[str, Flavor]) -> None:
        self.flavors = flavors
        self.resize_states = {vm: tasks for vm, tasks in spec.resize_states}
        self.rules = {r.direction: r for r in spec.usage_rules}
        self.trackable = frozenset(spec.trackable_migration_types)
        self.stashed = frozenset(spec.stashed_flavor_migration_types)
        self.rules_rt = spec.tracker
        self.excluded = frozenset(spec.tracker.in_progress_excluded)
        index = {"vcpus": 0, "memory_mb": 1, "root_gb": 2}
        self.claimed = tuple(index[r] for r in spec.tracker.claim_resources)
        self.capacity = {h.name: (h.vcpus, h.memory_mb, h.disk_gb) for h in config.hosts}
        self._audits: dict[tuple[tuple[Instance, ...], tuple[Migration, ...], str], tuple[
            tuple[Usage, frozenset[str], frozenset[tuple[str, str, str]]],
            tuple[tuple[str, Usage], ...], tuple[str, ...]]] = {}

    # ---- flavors ---------------------------------------------------------------------------
    def usage_of(self, flavor: str | None) -> Usage:
        if flavor is None:
            return (0, 0, 0)
        f = self.flavors[flavor]
        return (f.vcpus, f.memory_mb, f.root_gb)

    @staticmethod
    def add(a: Usage, b: Usage, sign: int = 1) -> Usage:
        return (a[0] + sign * b[0], a[1] + sign * b[1], a[2] + sign * b[2])

    # ---- what the scheduler and MoveClaim test ------------------------------------------------
    def fits(self, tx: Tx, flavor: str, host_name: str) -> bool:
        """RamFilter/DiskFilter and MoveClaim._claim_test: the flavor's memory and disk fit in
        the host's limits minus the tracker's usage (vCPUs are not limited by default)."""
        h = tx.host(host_name)
        if h is None:
            return False
        cap = self.capacity[host_name]
        need = self.usage_of(flavor)
        return all(h.usage[k] + need[k] <= cap[k] for k in self.claimed)

    def candidates(self, tx: Tx, flavor: str, ignore: tuple[str, ...], tried: tuple[str, ...]
                   ) -> list[str]:
        """The hosts passing the scheduler filters, in name order."""
        out = []
        for h in tx.hosts:
            if h.name in ignore or h.name in tried or h.status != "up":
                continue
            if not self.fits(tx, flavor, h.name):
                continue
            out.append(h.name)
        return out

    # ---- resource tracker ------------------------------------------------------------------
    def in_resize_state(self, inst: Instance) -> bool:
        if inst.vm_state not in self.resize_states:
            return False
        tasks = self.resize_states[inst.vm_state]
        return tasks is None or inst.task_state in tasks

    def migration_flavor(self, host: str, inst: Instance, mig: Migration,
                         tracked_instance: bool) -> str | None:
        """_update_usage_from_migration: which flavor the migration holds on ``host``."""
        if mig.migration_type not in self.trackable:
            return None
        incoming = mig.dest_compute == host
        outbound = mig.source_compute == host
        if incoming and outbound:
            prefix = "new_" if inst.flavor == mig.old_flavor else "old_"
        elif incoming and not tracked_instance:
            prefix = self.rules["incoming"].prefix
        elif outbound and not tracked_instance:
            prefix = self.rules["outbound"].prefix
        else:
            return None
        return self.instance_type(inst, mig, prefix)

    def instance_type(self, inst: Instance, mig: Migration | None, prefix: str) -> str | None:
        """_get_instance_type: a stashed flavor for 'resize' migrations, else the flavor."""
        if mig is not None and mig.migration_type in self.stashed:
            return inst.new_flavor if prefix == "new_" else inst.old_flavor
        return inst.flavor

    def resize_claim(self, tx: Tx, host_name: str, inst: Instance, mig: Migration) -> None:
        h = tx.host(host_name)
        assert h is not None
        tracked = inst.name in h.tracked_instances
        itype = self.migration_flavor(host_name, inst, mig, tracked)
        if itype is None:
            return
        tx.set_host(replaced(
            h,
            usage=self.add(h.usage, self.usage_of(itype)),
            tracked_migrations=self._untrack(h, inst.name) | {(inst.name, itype, mig.id)},
        ))

    @staticmethod
    def _untrack(h: Host, name: str) -> frozenset[tuple[str, str, str]]:
        return frozenset(t for t in h.tracked_migrations if t[0] != name)

    def drop_move_claim(self, tx: Tx, host_name: str, inst: Instance, mig: Migration | None,
                        flavor: str | None, prefix: str) -> bool:
        """Remove a tracked migration; subtract its usage only when ``flavor`` (or the stashed
        one for ``prefix``) is the tracked flavor. Returns whether usage was subtracted."""
        h = tx.host(host_name)
        if h is None or h.status != "up":
            return False
        entry = next((t for t in h.tracked_migrations if t[0] == inst.name), None)
        if entry is None:
            return False
        if flavor is None:
            flavor = self.instance_type(inst, mig, prefix)
        usage = h.usage
        if self.rules_rt.drop_needs_flavor_match:
            dropped = flavor is not None and flavor == entry[1]
            if dropped:
                usage = self.add(usage, self.usage_of(entry[1]), -1)
        else:  # the flavor the caller names comes off whenever the migration is tracked
            dropped = flavor is not None
            if dropped:
                usage = self.add(usage, self.usage_of(flavor), -1)
        tx.set_host(replaced(h, usage=usage, tracked_migrations=self._untrack(h, inst.name)))
        return dropped

    def update_usage(self, tx: Tx, host_name: str, inst: Instance) -> None:
        """_update_resource_tracker -> ResourceTracker.update_usage: only for an instance this
        tracker already tracks ("unless it submitted a resource claim first"), then
        _update_usage_from_instance, which changes usage only for a deleted instance (its
        current flavor comes off); an untracked instance changes nothing until the next
        audit."""
        if inst.host != host_name:
            return
        h = tx.host(host_name)
        if h is None or h.status != "up":
            return
        if inst.name not in h.tracked_instances:
            if self.rules_rt.update_usage_tracked_only:
                return
            if inst.vm_state != DELETED:  # _update_usage_from_instance on a new instance
                tx.set_host(replaced(h, usage=self.add(h.usage, self.usage_of(inst.flavor)),
                                     tracked_instances=h.tracked_instances | {inst.name}))
            return
        if inst.vm_state == DELETED:
            tx.set_host(replaced(h, usage=self.add(h.usage, self.usage_of(inst.flavor), -1),
                                 tracked_instances=h.tracked_instances - {inst.name}))

    def audit_view(self, tx: Tx, host_name: str, per_instance: dict[str, Usage] | None = None,
                   stopped: list[str] | None = None
                   ) -> tuple[Usage, frozenset[str], frozenset[tuple[str, str, str]]]:
        """What update_available_resource computes for a host from the database now
        (``per_instance``, when given, receives each instance's share; ``stopped`` receives
        the instance whose migrations made the audit raise, when one does)."""
        mg = tx.migrations
        return self.audit_of(tuple(tx.instances), tuple(mg[k] for k in sorted(mg)), host_name,
                             per_instance, stopped)

    def audit_of(self, instances: tuple[Instance, ...], migrations: tuple[Migration, ...],
                 host_name: str, per_instance: dict[str, Usage] | None = None,
                 stopped: list[str] | None = None
                 ) -> tuple[Usage, frozenset[str], frozenset[tuple[str, str, str]]]:
        """:meth:`audit_view` of the database rows ``instances`` and ``migrations`` (in id
        order, as a world holds them). It reads nothing else, and far fewer databases than
        worlds are reached (worlds differ mostly in messages and handlers), so each answer is
        remembered per database and host."""
        key = (instances, migrations, host_name)
        got = self._audits.get(key)
        if got is None:
            if len(self._audits) >= AUDIT_MEMO:
                self._audits.clear()
            shares: dict[str, Usage] = {}
            stop: list[str] = []
            view = self._audit(instances, migrations, host_name, shares, stop)
            got = self._audits[key] = (view, tuple(shares.items()), tuple(stop))
        view, share_items, stop_names = got
        if per_instance is not None:
            for name, u in share_items:
                per_instance[name] = self.add(per_instance.get(name, (0, 0, 0)), u)
        if stopped is not None:
            stopped.extend(stop_names)
        return view

    def _audit(self, instances: tuple[Instance, ...], migrations: tuple[Migration, ...],
               host_name: str, share: dict[str, Usage], stopped: list[str]
               ) -> tuple[Usage, frozenset[str], frozenset[tuple[str, str, str]]]:
        usage: Usage = (0, 0, 0)
        tracked: set[str] = set()
        for inst in instances:
            if inst.deleted or inst.host != host_name or inst.vm_state == DELETED:
                continue
            tracked.add(inst.name)
            usage = self.add(usage, self.usage_of(inst.flavor))
            share[inst.name] = self.add(share.get(inst.name, (0, 0, 0)),
                                        self.usage_of(inst.flavor))
        latest: dict[str, Migration] = {}
        by_name = {i.name: i for i in instances}
        # MigrationList.get_in_progress_by_host_and_node has no ORDER BY: the rows come in
        # creation order, as MySQL and SQLite return them
        for mig in migrations:
            if mig.status in self.excluded:
                continue
            if host_name not in (mig.source_compute, mig.dest_compute):
                continue
            inst = by_name[mig.instance]
            if inst.deleted or not self.in_resize_state(inst):
                continue
            other = latest.get(mig.instance)
            if other is None:
                latest[mig.instance] = mig
            elif self.rules_rt.latest_migration == "updated_at_py27":
                if (other.updated_at is None) != (mig.updated_at is None):
                    # `migration.updated_at >= other.updated_at` with one side NULL raises
                    # TypeError on Python 2.7 (datetime against None): the audit stops here,
                    # its instances counted and no migration at all (logged by
                    # update_available_resource)
                    stopped.append(mig.instance)
                    return usage, frozenset(tracked), frozenset()
                if mig.updated_at is None or (other.updated_at is not None
                                              and mig.updated_at >= other.updated_at):
                    latest[mig.instance] = mig  # None >= None is True: the later row wins
            else:  # (updated_at or created_at), strict: NULL falls back to creation order
                if mig.updated_at is not None and (other.updated_at is None
                                                   or mig.updated_at > other.updated_at):
                    latest[mig.instance] = mig
        migs: set[tuple[str, str, str]] = set()
        for name, mig in sorted(latest.items()):
            inst = by_name[name]
            itype = self.migration_flavor(host_name, inst, mig, name in tracked)
            if itype is None:
                continue
            usage = self.add(usage, self.usage_of(itype))
            share[name] = self.add(share.get(name, (0, 0, 0)), self.usage_of(itype))
            migs.add((name, itype, mig.id))
        return usage, frozenset(tracked), frozenset(migs)

    def audit(self, tx: Tx, host_name: str) -> None:
        h = tx.host(host_name)
        assert h is not None
        usage, tracked, migs = self.audit_view(tx, host_name)
        tx.set_host(replaced(h, usage=usage, tracked_instances=tracked, tracked_migrations=migs))
