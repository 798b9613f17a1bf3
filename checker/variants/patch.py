"""A variant being applied: the tables it patches, as mutable lists, and what it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nova_resize.spec import Spec
from nova_resize.spec import model as m

from nova_resize.errors import ConfigError


@dataclass
class Patch:
    """The tables of ``spec`` under change by the document ``data`` read from ``source``."""

    spec: Spec
    data: dict[str, Any]
    source: str
    rows: list[m.Row] = field(default_factory=list)
    ops: list[m.ApiOperation] = field(default_factory=list)
    handlers: list[m.Handler] = field(default_factory=list)
    edges: list[m.MigrationEdge] = field(default_factory=list)
    tracker: m.TrackerRules | None = None
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.rows = list(self.spec.rows)
        self.ops = list(self.spec.operations)
        self.handlers = list(self.spec.handlers)
        self.edges = list(self.spec.migration_edges)
        self.tracker = self.spec.tracker

    def find(self, row_id: Any, where: str) -> int:
        """The index of the row ``row_id``; ConfigError naming ``where`` otherwise."""
        if not isinstance(row_id, str):
            raise ConfigError(f"{where}: expected a row id string, found {row_id!r}")
        for i, r in enumerate(self.rows):
            if r.id == row_id:
                return i
        raise ConfigError(f"{where}: no spec row {row_id!r}")

    def tables(self, key: str) -> list[dict[str, Any]]:
        """The document's array of tables ``[[key]]`` (empty when absent)."""
        v = self.data.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise ConfigError(f"{self.source}: {key}: expected an array of tables [[{key}]]")
        return v


__all__ = ["Patch"]
