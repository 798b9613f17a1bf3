"""The clouds the diagrams are drawn from, read from ``clouds.toml`` beside this module."""

from __future__ import annotations

from typing import Any

from nova_resize.engine.config import Config, parse_config

from nova_resize.files import bundled_text, parse_toml

SOURCE = "<checker/diagrams/clouds.toml>"


def _load() -> dict[str, Any]:
    return parse_toml(bundled_text("nova_resize.checker.diagrams", "clouds.toml"), SOURCE)


def cloud(vm_state: str = "active", hosts: int = 2, **extra: Any) -> Config:
    """One instance vm1 on host1 of ``hosts`` hosts, with the base flavors."""
    base = _load()["base"]
    data: dict[str, Any] = {
        "name": base["name"],
        "flavors": base["flavors"],
        "hosts": [{"name": f"host{i + 1}"} for i in range(hosts)],
        "instances": [{"name": "vm1", "host": "host1", "flavor": "small",
                       "vm_state": vm_state}],
    }
    data.update(extra)
    return parse_config(data, SOURCE, base["name"])


def clouds(kind: str) -> tuple[Config, ...]:
    """The clouds of a kind (``edges``), each for every base vm_state."""
    doc = _load()
    out = []
    for vm in doc["base"]["vm_states"]:
        for entry in doc[kind]:
            kw = dict(entry)
            hosts = int(kw.pop("hosts", 2))
            out.append(cloud(vm, hosts, **kw))
    return tuple(out)


__all__ = ["cloud", "clouds"]
