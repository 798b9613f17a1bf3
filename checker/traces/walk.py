"""The seed's walk: one resize driven step by step, with a ``nova list`` snapshot each time the
Status or Task State column changes (the snapshots the seed document took by hand)."""

from __future__ import annotations

from dataclasses import dataclass

from nova_resize.engine.config import Config
from nova_resize.engine.facade import Cloud
from nova_resize.engine.render import nova_list

from nova_resize.errors import ConfigError, UsageError


@dataclass
class Snapshot:
    step: int
    action: str
    rows: list[str]
    status: str
    task_state: str
    table: str


def seed_walk(config: Config, instance: str | None = None, flavor: str | None = None
              ) -> list[Snapshot]:
    """Resize ``instance`` to ``flavor`` (defaults: the first instance, the first of
    ``actions.resize_flavors``) and return a snapshot per visible change."""
    names = [i.name for i in config.instances]
    name = instance or names[0]
    if name not in names:
        raise UsageError(f"--instance {name}: no such instance in {config.name} (expected one "
                         f"of {', '.join(names)})")
    if flavor is None:
        if not config.resize_flavors:
            raise ConfigError(f"{config.source}: actions.resize_flavors: expected a flavor to "
                              f"resize to, found none")
        flavor = config.resize_flavors[0]
    flavors = [f.name for f in config.flavors]
    if flavor not in flavors:
        raise UsageError(f"--flavor {flavor}: no such flavor in {config.name} (expected one of "
                         f"{', '.join(flavors)})")
    cloud = Cloud.from_config(config)
    snaps: list[Snapshot] = []
    last = cloud.status(name)
    snaps.append(Snapshot(0, "(before)", [], last[0], last[1], nova_list(cloud.world)))
    outcome = cloud.api.resize(name, flavor).outcome or ""
    if outcome.startswith("refused"):
        raise UsageError(f"--flavor {flavor}: nova-api refuses to resize {name} to it "
                         f"({outcome.removeprefix('refused: ')})")
    done = 0
    while True:
        for rec in cloud.history[done:]:
            done += 1
            now = cloud.status(name)
            if now != last:
                snaps.append(Snapshot(done, rec.text, rec.rows, now[0], now[1],
                                      nova_list(cloud.world)))
                last = now
        if cloud.step() is None:
            break
    return snaps
