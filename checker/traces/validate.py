"""Trace validation: do observations of a real cloud fit some behaviour of the spec?

:func:`validate` fits an :class:`ObservationSet` (from files, :func:`.observe.read_all`) to a
configuration; :func:`validate_observations` does the same from Python values (notification
messages as captured, server documents, :class:`Obs` records). The search itself is
:class:`.matching.Validator`.

What the trace does not say is taken from the configuration or searched for:

- the instance follows the trace's hosts and flavors (:func:`adapt_config`); where it starts is
  the first host the trace shows it on, else each host in turn;
- ``notify_on_state_change`` must be chosen (by the configuration's ``[options]`` or the
  caller) when the stream holds ``compute.instance.update``: it decides which updates Liberty
  sends and with which states;
- the hosts of nova-api and nova-conductor (``api_host``, ``conductor_host``), which publish
  the updates, are the configuration's when it sets them, else searched among the hosts that
  published updates in the stream.

Bad input is an :class:`ObservationError` (exit status 2), never a verdict: no observation, an
instance no observation names, an event type outside the resize family for the followed
instance, updates with the option left to its default.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable
from typing import Any

from nova_resize.engine import UPDATE
from nova_resize.engine.config import Config, Flavor, HostConfig, InstanceConfig
from nova_resize.engine.core import Engine
from nova_resize.spec import LIBERTY, Spec
from nova_resize.spec.states import ACTIVE, STOPPED

from nova_resize.errors import ObservationError

from .matching import EVENT_METHOD, Validator, Verdict, verdict_json, verdict_text
from .notifications import known_event_types
from .observe import Obs, ObservationSet, observations_from_records

UNLIMITED = 10**6
STATUS_VM = {"ACTIVE": ACTIVE, "SHUTOFF": STOPPED}
MAX_ROLE_CANDIDATES = 3
"""Hosts tried for nova-api and nova-conductor when the configuration does not name them."""


def adapt_config(base: Config, obs: ObservationSet, instance: str | None,
                 first_host: str | None = None) -> tuple[Config, str]:
    """The cloud of the trace: its instance, hosts and flavors replace the base
    configuration's (in order), requests are unlimited, the fault model stays. The instance
    starts on ``first_host`` (default: the first host an observation shows it on)."""
    name = instance or (obs.instances[0] if obs.instances else base.instances[0].name)
    hosts = list(base.hosts)
    mine = [o for o in obs.observations if o.instance == name]
    if first_host is None:
        first_host = next((o.get("host") for o in mine if o.get("host")), None)
    trace_hosts = ([first_host] if first_host else []) + [h for h in obs.hosts
                                                          if h != first_host]
    for i, h in enumerate(trace_hosts):
        if i < len(hosts):
            hosts[i] = dataclasses.replace(hosts[i], name=h)
        else:
            hosts.append(HostConfig(h))
    flavors = list(base.flavors)
    known = {f.name for f in flavors}
    ids = {str(f.id) for f in flavors}
    pairs = {(o.get("flavor"), o.get("flavor_id")) for o in obs.observations
             if o.get("flavor") or o.get("flavor_id")}
    pairs |= {(f, None) for f in obs.flavors}
    for fname, fid in sorted(pairs, key=lambda p: (str(p[0]), str(p[1]))):
        if (fname in known) or (fname is None and fid in ids):
            continue
        idx = len(flavors) + 1
        new_id = int(fid) if fid is not None and fid.isdigit() and fid not in ids else 100 + idx
        flavors.append(Flavor(fname or f"flavor-{fid}", new_id, idx, 512 * idx, 10 * idx))
        known.add(flavors[-1].name)
        ids.add(str(new_id))
    by_id = {str(f.id): f.name for f in flavors}
    first = next((o for o in mine if o.get("flavor") or o.get("flavor_id")), None)
    first_flavor = None
    if first is not None:
        first_flavor = first.get("flavor") or by_id.get(first.get("flavor_id"))
    snap = next((o for o in mine if o.kind == "snapshot"), None)
    vm = ACTIVE
    if snap is not None:
        vm = snap.get("vm_state") or STATUS_VM.get(snap.get("status") or "", ACTIVE)
    elif mine and mine[0].kind == "notification":
        vm = mine[0].get("old_state") or mine[0].get("state") or ACTIVE
    if vm not in (ACTIVE, STOPPED, "error"):
        vm = ACTIVE  # the model's instances start active, stopped or error
    base_inst = base.instances[0]
    inst = InstanceConfig(name, hosts[0].name, first_flavor or base_inst.flavor, vm,
                          base_inst.locked)
    ops = ["resize", "migrate", "confirm_resize", "revert_resize", "delete", "stop", "start"]
    periodic = base.periodic
    options = base.options
    if soft_deletes(mine):
        # the cloud soft-deletes: DELETE keeps the instance SOFT_DELETED until a restore, a
        # force delete or the periodic reclaim; the trace says so even when the base does not
        ops += ["restore", "force_delete"]
        if not base.option("reclaim_instance_interval"):
            if "reclaim_instance_interval" in base.options_set():
                raise ObservationError(
                    f"{base.source}: options.reclaim_instance_interval is 0, but the "
                    f"observations of {name} show a soft delete or a restore (they happen "
                    f"only when it is above 0): set it above 0, or leave it out")
            options = base.with_options(reclaim_instance_interval=REINFERRED_INTERVAL).options
        periodic = tuple(sorted({**dict(periodic), "reclaim_queued_deletes": True}.items()))
    cfg = dataclasses.replace(
        base,
        hosts=tuple(hosts),
        flavors=tuple(flavors),
        instances=(inst,),
        actions=tuple((op, UNLIMITED) for op in ops),
        resize_flavors=tuple(f.name for f in flavors),
        targets=(),
        options=options,
        periodic=periodic,
    )
    return cfg, name


SOFT_DELETE_STATES = {"soft-delete", "soft-deleting", "restoring", "SOFT_DELETED"}
SOFT_DELETE_EVENTS = ("compute.instance.soft_delete.", "compute.instance.restore.")
REINFERRED_INTERVAL = 3600
"""The reclaim interval assumed when the trace shows soft deletes and the configuration leaves
it out: the model tells only 0 from not 0."""


def soft_deletes(mine: list[Obs]) -> bool:
    """Whether the instance's observations show the cloud soft-deleting (a state, status,
    notification or instance action only soft delete and restore produce)."""
    for o in mine:
        if any(o.get(k) in SOFT_DELETE_STATES for k in (
                "vm_state", "task_state", "status", "state", "old_state", "old_task_state",
                "new_task_state")):
            return True
        if str(o.get("event_type") or "").startswith(SOFT_DELETE_EVENTS):
            return True
        if o.kind == "action" and o.get("action") == "restore":
            return True
    return False


def _canonical(obs: ObservationSet) -> ObservationSet:
    """The same observations with every instance named by its name (an observation that names
    it by uuid, such as an instance action, takes the name another gives with that uuid)."""
    alias = {o.get("id"): o.instance for o in obs.observations
             if o.get("id") and o.instance != o.get("id")}
    if not any(o.instance in alias for o in obs.observations):
        return obs
    new = [dataclasses.replace(o, instance=alias.get(o.instance, o.instance))
           for o in obs.observations]
    return dataclasses.replace(obs, observations=new,
                               instances=list(dict.fromkeys(o.instance for o in new)))


def _followed(obs: ObservationSet, instance: str | None) -> str:
    if not obs.observations:
        raise ObservationError("no observations to validate (the files hold no nova list or "
                               "server snapshot, compute.instance notification or instance "
                               "action)")
    if instance is None:
        return obs.instances[0]
    if instance in obs.instances:
        return instance
    by_id = {o.get("id"): o.instance for o in obs.observations if o.get("id")}
    if instance in by_id:
        return str(by_id[instance])
    raise ObservationError(f"--instance {instance}: no observation of it (the observations "
                           f"name {', '.join(obs.instances[:10])})")


def _check_event_types(obs: ObservationSet, name: str, spec: Spec) -> None:
    known = known_event_types(spec)
    for o in obs.observations:
        if o.instance == name and o.kind == "notification" and o.get("event_type") not in known:
            raise ObservationError(
                f"{o.source}: {o.get('event_type')}: not an event of the resize family the "
                f"spec models (expected one of {', '.join(sorted(known))}); cut the stream to "
                f"the resize, or follow another instance with --instance")


def _notify_setting(config: Config, obs: ObservationSet, name: str) -> None:
    has_updates = any(o.instance == name and o.get("event_type") == UPDATE
                      for o in obs.observations)
    if has_updates and "notify_on_state_change" not in config.options_set():
        raise ObservationError(
            f"{config.source}: the notifications include {UPDATE}, which Liberty sends only "
            f"with notify_on_state_change set, and which ones and with which states depend on "
            f"its value: set [options] notify_on_state_change to \"vm_state\" or "
            f"\"vm_and_task_state\" (or pass --notify-on-state-change)")


def _roles(config: Config, obs: ObservationSet) -> list[tuple[str | None, str | None]]:
    """(api_host, conductor_host) assignments to try; None keeps the configuration's."""
    given = config.options_set()
    if "api_host" in given and "conductor_host" in given:
        return [(None, None)]
    cands = obs.update_publishers[:MAX_ROLE_CANDIDATES]
    if not cands:
        return [(None, None)]
    api = [None] if "api_host" in given else cands
    cond = [None] if "conductor_host" in given else cands
    pairs = list(itertools.product(api, cond))
    # the usual deployment first: both services on one controller
    return sorted(pairs, key=lambda p: (p[0] != p[1], cands.index(p[0]) if p[0] else 0))


def validate(base: Config, spec: Spec, obs: ObservationSet, instance: str | None = None,
             max_gap: int = 40, max_requests: int = 1) -> Verdict:
    """Validate ``obs`` against the spec under ``base``'s cloud and fault model; when no
    observation says where the instance starts, try each host the trace or the configuration
    names, and likewise each assignment of the stream's publishers to nova-api and
    nova-conductor the configuration leaves open; keep the first that explains the trace (else
    the rejection that got furthest)."""
    obs = _canonical(obs)
    name = _followed(obs, instance)
    _check_event_types(obs, name, spec)
    _notify_setting(base, obs, name)
    seen_host = any(o.instance == name and o.get("host") for o in obs.observations)
    starts: list[str | None] = [None]
    if not seen_host:
        starts = list(dict.fromkeys([*obs.hosts, *(h.name for h in base.hosts)]))
    best: Verdict | None = None
    for (api_host, cond_host), start in itertools.product(_roles(base, obs), starts):
        roles = {k: v for k, v in (("api_host", api_host), ("conductor_host", cond_host)) if v}
        cfg, name = adapt_config(base.with_options(**roles) if roles else base, obs, name,
                                 start)
        v = Validator(Engine(cfg, spec), name, max_gap, max_requests=max_requests).run(
            obs.observations)
        v.warnings = list(obs.warnings)
        v.assumptions = {"start_host": cfg.instances[0].host, "flavor": cfg.instances[0].flavor,
                         "notify_on_state_change": cfg.option("notify_on_state_change"),
                         "reclaim_instance_interval": cfg.option("reclaim_instance_interval"),
                         "api_host": cfg.option("api_host"),
                         "conductor_host": cfg.option("conductor_host")}
        if v.accepted:
            return v
        if best is None or v.matched > best.matched:
            best = v
    assert best is not None
    return best


def validate_observations(observations: ObservationSet | Iterable[Any],
                          config: Config | str = "seed", spec: Spec | None = None,
                          instance: str | None = None, max_gap: int = 40,
                          max_requests: int = 1, **options: Any) -> Verdict:
    """Validate observations given as Python values: an :class:`ObservationSet`, or an
    iterable of notification messages (bare or in the oslo.messaging envelope), server
    documents and :class:`Obs` records, in the order they were seen. ``config`` is a
    :class:`Config` or a preset name; ``options`` replace its ``[options]``
    (``notify_on_state_change="vm_and_task_state"``, ``api_host=...``). Returns the
    :class:`Verdict` (``.accepted``, ``.witness``, ``.rejected_at``...); bad input raises
    :class:`ObservationError`."""
    if isinstance(config, str):
        from nova_resize.engine.presets import load_preset

        config = load_preset(config)
    if options:
        config = config.with_options(**options)
    obs = observations if isinstance(observations, ObservationSet) else \
        observations_from_records(observations)
    return validate(config, LIBERTY if spec is None else spec, obs, instance, max_gap,
                    max_requests)


__all__ = ["EVENT_METHOD", "Obs", "ObservationSet", "Validator", "Verdict", "adapt_config",
           "validate", "validate_observations", "verdict_json", "verdict_text"]
