"""Readings of a world with named fields: quota usage per resource, a host's resource-tracker
usage, and the in-flight messages and running handlers as a test would look for them.

A world stores these as plain tuples (it is hashed millions of times by the checker); these
views name the positions.
"""

from __future__ import annotations

from typing import NamedTuple

from .config import Config
from .world import Host, Quota

QUOTA_RESOURCES: tuple[str, ...] = ("instances", "cores", "ram")
"""The quota resources the resize family touches, in the order a world stores them."""


class ResourceQuota(NamedTuple):
    """One quota resource of the project: what is in use, what pending reservations hold,
    and the limit (-1: unlimited)."""

    in_use: int
    reserved: int
    limit: int


class QuotaUsage(NamedTuple):
    """The project's quota (nova's ``quota_usages`` rows and ``[quota]`` limits) by resource."""

    instances: ResourceQuota
    cores: ResourceQuota
    ram: ResourceQuota

    def in_use(self) -> dict[str, int]:
        """``in_use`` per resource, as a dict."""
        return {k: getattr(self, k).in_use for k in QUOTA_RESOURCES}

    def reserved(self) -> dict[str, int]:
        """``reserved`` per resource, as a dict."""
        return {k: getattr(self, k).reserved for k in QUOTA_RESOURCES}


class HostUsage(NamedTuple):
    """What a host's resource tracker counts as used (``compute_nodes`` vcpus_used,
    memory_mb_used, local_gb_used)."""

    vcpus: int
    memory_mb: int
    root_gb: int


def quota_usage(quota: Quota, config: Config) -> QuotaUsage:
    """The world's quota with named resources and the configuration's limits."""
    limits = dict(config.quota)
    return QuotaUsage(*(ResourceQuota(quota.in_use[i], quota.reserved[i], limits.get(k, -1))
                        for i, k in enumerate(QUOTA_RESOURCES)))


def host_usage(host: Host) -> HostUsage:
    """A host's resource-tracker usage with named fields."""
    return HostUsage(*host.usage)


__all__ = ["QUOTA_RESOURCES", "HostUsage", "QuotaUsage", "ResourceQuota", "host_usage",
           "quota_usage"]
