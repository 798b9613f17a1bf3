"""Built-in configurations (TOML files beside this module)."""

from __future__ import annotations

from importlib import resources

from nova_resize.errors import ConfigError
from nova_resize.files import parse_toml

from ..config import Config, parse_config


def preset_names() -> list[str]:
    """The names of the built-in configurations."""
    return sorted(
        p.name.removesuffix(".toml")
        for p in resources.files(__package__).iterdir()
        if p.name.endswith(".toml")
    )


REGRESSION_PREFIX = "regression-"
"""The presets of the regression set: small configurations, each pinned to its exact findings
(checker/regression.toml), that together kill most mutants of the tables (docs/mutate.md)."""


def regression_names() -> list[str]:
    """The presets of the regression set."""
    return [n for n in preset_names() if n.startswith(REGRESSION_PREFIX)]


def load_preset(name: str) -> Config:
    """A built-in configuration by name."""
    if name not in preset_names():
        raise ConfigError(
            f"--config {name}: no such preset (expected one of {', '.join(preset_names())} or a "
            f"TOML file)"
        )
    text = resources.files(__package__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    source = f"<preset {name}>"
    return parse_config(parse_toml(text, source), source, name)
