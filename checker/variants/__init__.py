"""Variants: TOML overlays that patch the spec, to check a proposed Nova patch or a historical
fix against Liberty. The format is documented in docs/formats.md (with an example per section):

* rows: ``[[remove]]``, ``[[guard]]``, ``[[move_quota]]``, ``[[replace]]``, ``[[add]]``;
* ``[[handler]]``: a handler's error chain (which decorators wrap it, in which order), or a new
  handler;
* ``[[operation]]`` and ``[[validation]]``: API operations and their preconditions (which may
  read the operation's migration lookup);
* ``[[migration_edge]]``: a status move a row is designed to make;
* ``[resource_tracker]``: the claim and audit rules.

Values in effects may be expressions (``{default = "local.x", value = "active"}`` and the like:
:func:`.values.parse_value`). Every variant is checked statically (engine.wellformed) before
anything runs.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from nova_resize.engine.config import escape_key as _esc
from nova_resize.engine.wellformed import problems
from nova_resize.spec import LIBERTY, Spec

from nova_resize.errors import ConfigError, VariantError
from nova_resize.files import parse_toml, read_text

from .patch import Patch
from .rows import apply_rows
from .tables import apply_edges, apply_handlers, apply_operations, apply_tracker, apply_validations
from .values import parse_cond, parse_effect, parse_value

SECTIONS = ("name", "description", "handler", "operation", "remove", "guard", "move_quota",
            "replace", "add", "validation", "migration_edge", "resource_tracker")


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    description: str
    source: str
    changed_rows: tuple[str, ...]
    spec: Spec
    removed_rows: tuple[str, ...] = ()


def build_spec(variant_paths: list[str], base: Spec | None = None) -> tuple[Spec, list[Variant]]:
    """Liberty (or ``base``) patched by each variant file in turn."""
    spec = LIBERTY if base is None else base
    variants = []
    for path in variant_paths:
        v = apply_variant(spec, path)
        variants.append(v)
        spec = v.spec
    return spec, variants


def apply_variant(spec: Spec, path: str | Path) -> Variant:
    return apply_variant_text(spec, read_text(path), str(path))


def apply_variant_text(spec: Spec, text: str, source: str) -> Variant:
    return apply_variant_data(spec, parse_toml(text, source), source)


def apply_variant_data(spec: Spec, data: dict[str, Any], source: str) -> Variant:
    """Apply a parsed variant document to ``spec``."""
    for k in data:
        if k not in SECTIONS:
            raise ConfigError(f"{source}: {_esc(k)}: unknown key (expected one of "
                              f"{', '.join(SECTIONS)})")
    p = Patch(spec, data, source)
    try:
        apply_handlers(p)
        apply_operations(p)
        apply_rows(p)
        apply_validations(p)
        apply_edges(p)
        apply_tracker(p)
    except RecursionError:
        raise ConfigError(f"{source}: a value nested too deeply to be a row's") from None
    name = data.get("name", Path(source).stem)
    desc = data.get("description", "")
    if not isinstance(name, str) or not isinstance(desc, str):
        raise ConfigError(f"{source}: name/description: expected strings")
    assert p.tracker is not None
    # a removed row's migration edges go with it (the status write they describe is gone)
    gone = set(p.removed) - {r.id for r in p.rows}
    p.edges = [e for e in p.edges if e.row not in gone]
    new = dataclasses.replace(spec, name=f"{spec.name} + {name}", rows=tuple(p.rows),
                              operations=tuple(p.ops), handlers=tuple(p.handlers),
                              migration_edges=tuple(p.edges), tracker=p.tracker, _index={})
    _validate(new, source)
    return Variant(name, desc, source, tuple(dict.fromkeys(p.changed)), new,
                   tuple(p.removed))


def _validate(spec: Spec, source: str) -> None:
    """Refuse a variant whose tables the engine could not interpret (engine.wellformed)."""
    found = problems(spec)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise VariantError(f"{source}: {found[0]}{more}")


__all__ = ["SECTIONS", "Variant", "apply_variant", "apply_variant_data", "apply_variant_text",
           "build_spec", "parse_cond", "parse_effect", "parse_value"]
