"""Which spec rows a run executed (a visitor), and which rows each built-in configuration is
not expected to execute, with the reason (``checker/coverage.toml``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

try:  # Counter.update's own C loop, without the Python call around it (a step's rows)
    from collections import _count_elements as _count  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python
    def _count(mapping: Any, rows: Any) -> None:
        for r in rows:
            mapping[r] = mapping.get(r, 0) + 1

from nova_resize.errors import ConfigError
from nova_resize.files import bundled_text, parse_toml

from ..explorer.visitor import Visitor


class RowCoverage(Visitor):
    """Counts every row each step executes."""

    def __init__(self) -> None:
        self.rows: Counter[str] = Counter()

    def on_step(self, before: Any, action: Any, step: Any) -> None:
        _count(self.rows, step.rows)

    def merge(self, other: Visitor) -> None:
        assert isinstance(other, RowCoverage)
        self.rows.update(other.rows)


def coverage_exemptions(config_name: str) -> dict[str, str]:
    """Rows a preset is not expected to execute, with the reason."""
    data = parse_toml(bundled_text("nova_resize.checker", "coverage.toml"), "<coverage.toml>")
    out: dict[str, str] = {}
    for key in ("all", config_name):
        section = data.get(key, {})
        if not isinstance(section, dict):
            raise ConfigError(f"<coverage.toml>: {key}: expected a table")
        out.update({str(k): str(v) for k, v in section.items()})
    return out


__all__ = ["RowCoverage", "coverage_exemptions"]
