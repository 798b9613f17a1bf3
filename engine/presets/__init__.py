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
