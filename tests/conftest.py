"""Shared helpers: build small clouds for scenario tests."""

from __future__ import annotations

import os

# the suite runs the engine's Python sources even where a compiled build exists (make native):
# tests patch engine functions, which compiled modules bind early; tests/test_native.py
# compares the two
os.environ["NOVA_RESIZE_PURE"] = "1"

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir
from nova_resize.engine.config import Config, parse_config
from nova_resize.engine.facade import Cloud

# Hypothesis runs derandomized (the same examples on every run, in CI and here) and keeps no
# example database (nothing is written into the checkout)
settings.register_profile("suite", derandomize=True, database=None, deadline=None)
settings.load_profile("suite")
# and its other caches (constants, unicode data) go to the temporary directory, not to the
# working directory's .hypothesis/
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "nova-resize-hypothesis")

FLAVORS = [
    {"name": "small", "id": 1, "vcpus": 1, "memory_mb": 512, "root_gb": 10},
    {"name": "medium", "id": 2, "vcpus": 2, "memory_mb": 2048, "root_gb": 20},
    {"name": "large", "id": 3, "vcpus": 4, "memory_mb": 4096, "root_gb": 40},
    {"name": "nodisk", "id": 4, "vcpus": 1, "memory_mb": 512, "root_gb": 0},
    {"name": "retired", "id": 5, "vcpus": 2, "memory_mb": 2048, "root_gb": 20, "disabled": True},
]


def config(
    hosts: int = 2,
    vm_state: str = "active",
    flavor: str = "small",
    locked: bool = False,
    options: dict[str, Any] | None = None,
    quota: dict[str, int] | None = None,
    host_ram: int = 8192,
    instances: int = 1,
    **extra: Any,
) -> Config:
    data: dict[str, Any] = {
        "flavors": FLAVORS,
        "hosts": [
            {"name": f"host{i + 1}", "vcpus": 16, "memory_mb": host_ram, "disk_gb": 200}
            for i in range(hosts)
        ],
        "instances": [
            {"name": "vm" if i == 0 else f"vm{i + 1}", "host": "host1", "flavor": flavor,
             "vm_state": vm_state, "locked": locked}
            for i in range(instances)
        ],
        "options": options or {},
        "quota": quota or {},
    }
    data.update(extra)
    return parse_config(data, "<test>", "test")


def cloud(**kw: Any) -> Cloud:
    return Cloud.from_config(config(**kw))


@pytest.fixture
def make_cloud():
    return cloud
