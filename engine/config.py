"""Configurations: the cloud a run starts from and what may happen to it.

A configuration is TOML (``[options]``, ``[[flavors]]``, ``[[hosts]]``, ``[[instances]]``,
``[quota]``, ``[actions]``, ``[faults]``, ``[periodic]``, ``[check]``). Presets ship with the
checker; :func:`load_config` reads a file. A mistake raises :class:`ConfigError` with one line
naming the file, the key and what was expected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nova_resize.spec.options import DEFAULTS, OPTIONS
from nova_resize.spec.states import ACTIVE, ERROR, STOPPED

from nova_resize.errors import ConfigError
from nova_resize.files import parse_toml, read_text


@dataclass(frozen=True)
class Flavor:
    """A flavor (``[[flavors]]``): its name, API id, vCPUs, RAM and root disk; ``disabled``
    flavors are refused by a resize."""

    name: str
    id: int
    vcpus: int
    memory_mb: int
    root_gb: int
    disabled: bool = False


@dataclass(frozen=True)
class HostConfig:
    """A compute host (``[[hosts]]``): its capacity and whether nova-compute is up at the
    start."""

    name: str
    vcpus: int = 16
    memory_mb: int = 16384
    disk_gb: int = 200
    up: bool = True


@dataclass(frozen=True)
class InstanceConfig:
    """An instance at the start (``[[instances]]``): its host, flavor, vm_state and lock."""

    name: str
    host: str
    flavor: str
    vm_state: str = ACTIVE
    locked: bool = False


CHOICES: dict[str, tuple[Any, ...]] = {o.name: o.choices for o in OPTIONS if o.choices}
"""Options whose values are a closed set (spec.options)."""

MAX_HOSTS = 256
MAX_INSTANCES = 64
MAX_FLAVORS = 64
MAX_BUDGET = 10_000
MAX_AMOUNT = 2**40
"""Sizes past which a configuration is refused: every host and instance adds actions to every
state, and the state space grows with every budget (an exhaustive run of the `full` preset,
three hosts and two instances, is 1.5 million states)."""

OP_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")

ACTION_KEYS = ("resize", "migrate", "confirm_resize", "revert_resize", "delete", "stop", "start",
               "restore", "force_delete", "delete_flavor")
FLAVOR_ACTIONS = ("delete_flavor",)
"""Requests about a flavor, not an instance (an admin's): no ``targets``."""
FAULT_KEYS = ("driver", "claim_refused", "no_valid_host", "crash", "stay_down", "lose",
              "timeout")
PERIODIC_KEYS = ("update_available_resource", "poll_unconfirmed_resizes",
                 "cleanup_incomplete_migrations", "reclaim_queued_deletes")


@dataclass(frozen=True)
class Config:
    """A cloud and its allowed behaviour."""

    name: str = "custom"
    flavors: tuple[Flavor, ...] = ()
    hosts: tuple[HostConfig, ...] = ()
    instances: tuple[InstanceConfig, ...] = ()
    quota: tuple[tuple[str, int], ...] = (("instances", 10), ("cores", 20), ("ram", 51200))
    options: tuple[tuple[str, Any], ...] = ()
    actions: tuple[tuple[str, int], ...] = ()
    resize_flavors: tuple[str, ...] = ()
    deletable_flavors: tuple[str, ...] = ()
    targets: tuple[tuple[str, tuple[str, ...]], ...] = ()
    faults: tuple[tuple[str, int], ...] = ()
    periodic: tuple[tuple[str, bool], ...] = ()
    check: tuple[tuple[str, Any], ...] = field(default=())
    source: str = "<built-in>"

    def option(self, name: str) -> Any:
        """The value of an ``[options]`` entry (Liberty's default when not given)."""
        for k, v in self.options:
            if k == name:
                return v
        return DEFAULTS[name]

    def flavor(self, name: str) -> Flavor:
        """The flavor called ``name`` (KeyError when there is none)."""
        for f in self.flavors:
            if f.name == name:
                return f
        raise KeyError(name)

    def check_option(self, name: str, default: Any = None) -> Any:
        """The value of a ``[check]`` entry (bounds, FIFO queues)."""
        for k, v in self.check:
            if k == name:
                return v
        return default

    def targets_of(self, op: str) -> tuple[str, ...] | None:
        """The instances a user operation may target (None: all)."""
        for k, v in self.targets:
            if k == op:
                return v
        return None

    def periodic_enabled(self, name: str) -> bool:
        """Whether the ``[periodic]`` task ``name`` runs in this configuration."""
        return dict(self.periodic).get(name, False)

    def with_options(self, **options: Any) -> Config:
        """This configuration with some [options] replaced (checked as the TOML reader checks
        them: :class:`ConfigError` for an unknown option or a bad value)."""
        merged = dict(self.options)
        for k, v in options.items():
            if k not in DEFAULTS:
                raise ConfigError(f"{self.source}: options.{escape_key(k)}: unknown key "
                                  f"(expected one of {', '.join(DEFAULTS)})")
            merged[k] = _option_value(self.source, k, "" if v is None and k in CHOICES else v)
        return replace(self, options=tuple(sorted(merged.items(), key=lambda kv: kv[0])))

    def options_set(self) -> dict[str, Any]:
        """The [options] this configuration gives explicitly (the rest take Liberty's
        defaults)."""
        return dict(self.options)


def escape_key(k: Any) -> str:
    """A user's key as it can be shown on one line."""
    return str(k).encode("unicode_escape").decode("ascii")


def _err(source: str, key: str, expected: str, found: Any) -> ConfigError:
    return ConfigError(f"{source}: {key}: expected {expected}, found {found!r}")


def _missing(source: str, key: str, expected: str) -> ConfigError:
    return ConfigError(f"{source}: {key}: missing (expected {expected})")


def _typed(source: str, key: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if isinstance(value, bool) and kind is int:
        raise _err(source, key, what, value)
    if not isinstance(value, kind):
        raise _err(source, key, what, value)
    return value


def _name(source: str, key: str, value: Any, reserved: str) -> str:
    """A flavor's, host's or instance's name: a non-empty line of printable characters without
    the ``reserved`` ones (the engine builds ids from instance names: reservations
    ``<name>/<n>``, migrations ``<name>#<n>``)."""
    name: str = _typed(source, key, value, str, "a string")
    bad = [c for c in name if not c.isprintable() or c in reserved]
    if not name or bad:
        extra = f" and without {' or '.join(repr(c) for c in reserved)}" if reserved else ""
        raise _err(source, key, f"a non-empty name of printable characters{extra}", name)
    return name


def _table(source: str, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _err(source, key, "a table", value)
    return value


def _known(source: str, prefix: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for k in table:
        if k not in allowed:
            shown = escape_key(k)
            raise ConfigError(
                f"{source}: {prefix}{shown}: unknown key (expected one of {', '.join(allowed)})"
            )


def _option_value(source: str, k: str, v: Any) -> Any:
    """An [options] value checked against the option's default type or its choices (TOML has no
    null: ``""`` stands for an option left unset, as an empty value does in nova.conf)."""
    choices = CHOICES.get(k, ())
    if choices:
        value = None if v == "" else v
        if value not in choices:
            shown = ", ".join('"" (unset)' if c is None else repr(c) for c in choices)
            raise _err(source, f"options.{k}", f"one of {shown}", v)
        return value
    default = DEFAULTS[k]
    kind = type(default)
    _typed(source, f"options.{k}", v, kind, kind.__name__)
    if isinstance(default, int) and not isinstance(default, bool):
        low = MIN_OPTION.get(k, 0)
        if v < low:
            raise _err(source, f"options.{k}", "a positive integer" if low else
                       "a non-negative integer", v)
        if v > MAX_AMOUNT:
            raise _err(source, f"options.{k}", f"at most {MAX_AMOUNT:,}", v)
    if isinstance(default, str) and (not v or not v.isprintable()):
        raise _err(source, f"options.{k}", "a non-empty name of printable characters", v)
    return v


MIN_OPTION = {"scheduler_max_attempts": 1}
"""Integer options with a floor above 0: below 1, scheduler_max_attempts makes every scheduling
request fail (nova/scheduler/utils.py:_max_attempts raises NovaException), a configuration
error rather than a cloud to check."""

def _at_most(source: str, key: str, items: list[Any], limit: int) -> None:
    if len(items) > limit:
        raise ConfigError(f"{source}: {key}: {len(items):,} entries, at most {limit} (every one "
                          f"multiplies the states to explore)")


def parse_config(data: dict[str, Any], source: str, name: str) -> Config:
    """Build a :class:`Config` from parsed TOML, validating every key."""
    top = ("name", "options", "flavors", "hosts", "instances", "quota", "actions", "faults",
           "periodic", "check")
    _known(source, "", data, top)
    name = _typed(source, "name", data.get("name", name), str, "a string")

    options_t = _table(source, "options", data.get("options", {}))
    _known(source, "options.", options_t, tuple(DEFAULTS))
    options = []
    for k, v in options_t.items():
        options.append((k, _option_value(source, k, v)))

    flavors = []
    fl = data.get("flavors", [])
    if not isinstance(fl, list) or not fl:
        raise _err(source, "flavors", "a non-empty array of tables [[flavors]]", fl)
    _at_most(source, "flavors", fl, MAX_FLAVORS)
    for i, f in enumerate(fl):
        key = f"flavors[{i}]"
        f = _table(source, key, f)
        _known(source, key + ".", f, ("name", "id", "vcpus", "memory_mb", "root_gb", "disabled"))
        for req in ("name", "vcpus", "memory_mb", "root_gb"):
            if req not in f:
                raise _missing(source, f"{key}.{req}", "a string" if req == "name" else
                               "a non-negative integer")
        fname = _name(source, f"{key}.name", f["name"], "")
        nums = {}
        for n in ("vcpus", "memory_mb", "root_gb"):
            nums[n] = _typed(source, f"{key}.{n}", f[n], int, "a non-negative integer")
            if nums[n] < 0:
                raise _err(source, f"{key}.{n}", "a non-negative integer", nums[n])
            if nums[n] > MAX_AMOUNT:
                raise _err(source, f"{key}.{n}", f"at most {MAX_AMOUNT:,}", nums[n])
        fid = _typed(source, f"{key}.id", f.get("id", i + 1), int, "an integer")
        disabled = _typed(source, f"{key}.disabled", f.get("disabled", False), bool, "a boolean")
        flavors.append(Flavor(fname, fid, nums["vcpus"], nums["memory_mb"], nums["root_gb"],
                              disabled))
    names = [f.name for f in flavors]
    if len(set(names)) != len(names):
        raise _err(source, "flavors", "distinct flavor names", names)
    ids = [f.id for f in flavors]
    if len(set(ids)) != len(ids):
        raise _err(source, "flavors", "distinct flavor ids", ids)

    hosts = []
    hl = data.get("hosts", [])
    if not isinstance(hl, list) or not hl:
        raise _err(source, "hosts", "a non-empty array of tables [[hosts]]", hl)
    _at_most(source, "hosts", hl, MAX_HOSTS)
    for i, h in enumerate(hl):
        key = f"hosts[{i}]"
        h = _table(source, key, h)
        _known(source, key + ".", h, ("name", "vcpus", "memory_mb", "disk_gb", "up"))
        if "name" not in h:
            raise _missing(source, f"{key}.name", "a string")
        hname = _name(source, f"{key}.name", h["name"], "")
        if hname in ("api", "conductor") or not hname:
            raise _err(source, f"{key}.name", "a host name other than api/conductor", hname)
        nums = {}
        for n, d in (("vcpus", 16), ("memory_mb", 16384), ("disk_gb", 200)):
            nums[n] = _typed(source, f"{key}.{n}", h.get(n, d), int, "a non-negative integer")
            if nums[n] < 0:
                raise _err(source, f"{key}.{n}", "a non-negative integer", nums[n])
            if nums[n] > MAX_AMOUNT:
                raise _err(source, f"{key}.{n}", f"at most {MAX_AMOUNT:,}", nums[n])
        up = _typed(source, f"{key}.up", h.get("up", True), bool, "a boolean")
        hosts.append(HostConfig(hname, nums["vcpus"], nums["memory_mb"], nums["disk_gb"], up))
    hnames = [h.name for h in hosts]
    if len(set(hnames)) != len(hnames):
        raise _err(source, "hosts", "distinct host names", hnames)

    instances = []
    il = data.get("instances", [])
    if not isinstance(il, list) or not il:
        raise _err(source, "instances", "a non-empty array of tables [[instances]]", il)
    _at_most(source, "instances", il, MAX_INSTANCES)
    for i, inst in enumerate(il):
        key = f"instances[{i}]"
        inst = _table(source, key, inst)
        _known(source, key + ".", inst, ("name", "host", "flavor", "vm_state", "locked"))
        for req in ("name", "host", "flavor"):
            if req not in inst:
                raise _missing(source, f"{key}.{req}", "a string")
        iname = _name(source, f"{key}.name", inst["name"], "/#")
        ihost = _typed(source, f"{key}.host", inst["host"], str, "a string")
        if ihost not in hnames:
            raise _err(source, f"{key}.host", f"one of the hosts {hnames}", ihost)
        iflavor = _typed(source, f"{key}.flavor", inst["flavor"], str, "a string")
        if iflavor not in names:
            raise _err(source, f"{key}.flavor", f"one of the flavors {names}", iflavor)
        vm = _typed(source, f"{key}.vm_state", inst.get("vm_state", ACTIVE), str, "a string")
        if vm not in (ACTIVE, STOPPED, ERROR):
            raise _err(source, f"{key}.vm_state", "active, stopped or error", vm)
        locked = _typed(source, f"{key}.locked", inst.get("locked", False), bool, "a boolean")
        instances.append(InstanceConfig(iname, ihost, iflavor, vm, locked))
    inames = [i.name for i in instances]
    if len(set(inames)) != len(inames):
        raise _err(source, "instances", "distinct instance names", inames)

    quota_t = _table(source, "quota", data.get("quota", {}))
    _known(source, "quota.", quota_t, ("instances", "cores", "ram"))
    quota = dict(Config().quota)
    for k, v in quota_t.items():
        quota[k] = _typed(source, f"quota.{k}", v, int, "an integer (-1 for unlimited)")
        if quota[k] < -1 or quota[k] > MAX_AMOUNT:
            raise _err(source, f"quota.{k}", "-1 (unlimited) or a limit from 0", v)

    actions_t = _table(source, "actions", data.get("actions", {}))
    actions = []
    # Liberty's operations first, in their order; a variant may add operations, so any other
    # name is kept too and checked against the spec when an engine is built from it
    lists = ("resize_flavors", "deletable_flavors", "targets")
    extra = [k for k in actions_t if k not in (*ACTION_KEYS, *lists)]
    for k in extra:
        if not isinstance(k, str) or not OP_NAME.fullmatch(k):
            raise ConfigError(f"{source}: actions.{escape_key(k)}: unknown key (expected one of "
                              f"{', '.join((*ACTION_KEYS, *lists))}, or "
                              f"the name of an operation a variant adds)")
    for k in (*ACTION_KEYS, *extra):
        if k in actions_t:
            v = _typed(source, f"actions.{k}", actions_t[k], int, "a non-negative integer")
            if v < 0:
                raise _err(source, f"actions.{k}", "a non-negative integer", v)
            if v > MAX_BUDGET:
                raise _err(source, f"actions.{k}", f"at most {MAX_BUDGET:,} requests", v)
            actions.append((k, v))
    rf = actions_t.get("resize_flavors", [])
    if not isinstance(rf, list) or not all(isinstance(x, str) for x in rf):
        raise _err(source, "actions.resize_flavors", "an array of flavor names", rf)
    for x in rf:
        if x not in names:
            raise _err(source, "actions.resize_flavors", f"flavors among {names}", x)
    if dict(actions).get("resize", 0) and not rf:
        raise _err(source, "actions.resize_flavors", "at least one flavor when resize > 0", rf)
    df = actions_t.get("deletable_flavors", [])
    if not isinstance(df, list) or not all(isinstance(x, str) for x in df):
        raise _err(source, "actions.deletable_flavors", "an array of flavor names", df)
    for x in df:
        if x not in names:
            raise _err(source, "actions.deletable_flavors", f"flavors among {names}", x)
    if len(set(df)) != len(df):
        raise _err(source, "actions.deletable_flavors", "distinct flavor names", df)
    if dict(actions).get("delete_flavor", 0) and not df:
        raise _err(source, "actions.deletable_flavors", "at least one flavor when "
                   "delete_flavor > 0", df)

    targets_t = _table(source, "actions.targets", actions_t.get("targets", {}))
    _known(source, "actions.targets.", targets_t,
           tuple(k for k, _ in actions if k not in FLAVOR_ACTIONS))
    targets = []
    for k, v in targets_t.items():
        if not isinstance(v, list) or not all(isinstance(x, str) and x in inames for x in v):
            raise _err(source, f"actions.targets.{k}", f"an array of instance names among "
                       f"{inames}", v)
        targets.append((k, tuple(v)))

    faults_t = _table(source, "faults", data.get("faults", {}))
    _known(source, "faults.", faults_t, FAULT_KEYS)
    faults = []
    for k, v in faults_t.items():
        v = _typed(source, f"faults.{k}", v, int, "a non-negative integer")
        if v < 0:
            raise _err(source, f"faults.{k}", "a non-negative integer", v)
        if v > MAX_BUDGET:
            raise _err(source, f"faults.{k}", f"at most {MAX_BUDGET:,} faults", v)
        faults.append((k, v))

    periodic_t = _table(source, "periodic", data.get("periodic", {}))
    _known(source, "periodic.", periodic_t, PERIODIC_KEYS)
    periodic = []
    for k, v in periodic_t.items():
        periodic.append((k, _typed(source, f"periodic.{k}", v, bool, "a boolean")))
    if dict(periodic).get("poll_unconfirmed_resizes") and not dict(options).get(
        "resize_confirm_window", 0
    ):
        raise _err(
            source,
            "periodic.poll_unconfirmed_resizes",
            "options.resize_confirm_window > 0 (Nova disables the task at 0)",
            True,
        )
    if dict(periodic).get("reclaim_queued_deletes") and not dict(options).get(
        "reclaim_instance_interval", 0
    ):
        raise _err(
            source,
            "periodic.reclaim_queued_deletes",
            "options.reclaim_instance_interval > 0 (Nova skips the task at 0)",
            True,
        )

    check_t = _table(source, "check", data.get("check", {}))
    _known(source, "check.", check_t, ("fifo", "max_states", "max_depth", "max_seconds",
                                       "allow_partial"))
    check = []
    for k, v in check_t.items():
        if k in ("fifo", "allow_partial"):
            check.append((k, _typed(source, f"check.{k}", v, bool, "a boolean")))
        else:
            v = _typed(source, f"check.{k}", v, int, "a positive integer")
            if v <= 0:
                raise _err(source, f"check.{k}", "a positive integer", v)
            check.append((k, v))

    return Config(
        name=name,
        flavors=tuple(flavors),
        hosts=tuple(hosts),
        instances=tuple(instances),
        quota=tuple(sorted(quota.items())),
        options=tuple(sorted(options, key=lambda kv: kv[0])),
        actions=tuple(actions),
        resize_flavors=tuple(rf),
        deletable_flavors=tuple(df),
        targets=tuple(sorted(targets)),
        faults=tuple(sorted(faults)),
        periodic=tuple(sorted(periodic)),
        check=tuple(sorted(check)),
        source=source,
    )


def load_config(path: str | Path) -> Config:
    """Read a configuration file."""
    p = Path(path)
    return parse_config(parse_toml(read_text(p), str(p)), str(p), p.stem)


__all__ = ["FLAVOR_ACTIONS", "Config", "ConfigError", "Flavor", "HostConfig", "InstanceConfig",
           "escape_key", "load_config", "parse_config"]
