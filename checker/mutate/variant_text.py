"""Writing table entries back as variant TOML (the inverse of :mod:`..variants.values`): a
mutant is a variant file a user can open, edit and run with ``nova-resize diff``.

Only what variants can express is written: effects, conditions and value expressions as
docs/formats.md describes them. :func:`replace_table` writes a ``[[replace]]`` of chosen row
fields; reading it back with :func:`nova_resize.checker.variants.apply_variant_text` gives the
same row (tests/test_mutate.py checks that for every row of Liberty).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from nova_resize.spec import model as m


def toml_string(s: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(s)


def value_text(v: Any) -> str:
    """An effect's value as variant TOML: "None" for None, expressions as inline tables."""
    if v is None:
        return '"None"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, tuple):
        return "[" + ", ".join(value_text(x) for x in v) + "]"
    if isinstance(v, m.Ref):
        return f"{{ref = {toml_string(v.path)}}}"
    if isinstance(v, m.Default):
        return f"{{default = {toml_string(v.path)}, value = {value_text(v.value)}}}"
    if isinstance(v, m.NotEq):
        return f"{{not_eq = {toml_string(v.path)}, value = {value_text(v.value)}}}"
    if isinstance(v, m.Inc):
        return f"{{inc = {toml_string(v.path)}}}"
    if isinstance(v, m.Append):
        return f"{{append = {toml_string(v.path)}, value = {value_text(v.value)}}}"
    if isinstance(v, m.IfEq):
        return (f"{{if_eq = {toml_string(v.path)}, value = {value_text(v.value)}, "
                f"then = {value_text(v.then)}, else = {value_text(v.orelse)}}}")
    raise ValueError(f"no variant form for the value {v!r}")


def guard_text(guard: tuple[str | None, ...] | None) -> str:
    """A SaveInstance guard: "none" (unguarded) or an array where "None" is None."""
    if guard is None:
        return '"none"'
    return "[" + ", ".join('"None"' if g is None else toml_string(g) for g in guard) + "]"


def effect_text(e: Any) -> str:
    """One effect as an inline table ``{type = "...", field = value, ...}``."""
    parts = [f"type = {toml_string(type(e).__name__)}"]
    for f in dataclasses.fields(e):
        v = getattr(e, f.name)
        if isinstance(e, m.SaveInstance) and f.name == "guard":
            parts.append(f"guard = {guard_text(v)}")
        else:
            parts.append(f"{f.name} = {value_text(v)}")
    return "{" + ", ".join(parts) + "}"


def _literal_text(v: Any) -> str:
    """A condition's right-hand side as ``parse_cond`` reads it back."""
    if isinstance(v, m.Ref):
        return v.path
    if isinstance(v, tuple):
        return json.dumps(list(v))
    if v is None:
        return "None"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v)


def cond_text(c: m.Cond) -> str:
    """A condition as the string a variant's ``when`` holds."""
    if c.op in ("truthy", "falsy", "up", "down", "unknown_flavor"):
        return f"{c.ref} is {c.op.replace('_', ' ')}"
    return f"{c.ref} {c.op} {_literal_text(c.value)}"


def field_text(name: str, v: Any) -> str:
    """``name = value`` for one Row field."""
    if name == "effects":
        if not v:
            return "effects = []"
        return "effects = [\n" + "".join(f"  {effect_text(e)},\n" for e in v) + "]"
    if name == "when":
        return "when = [" + ", ".join(toml_string(cond_text(c)) for c in v) + "]"
    if name in ("notify", "notify_before", "notify_late"):
        return f"{name} = [" + ", ".join(toml_string(x) for x in v) + "]"
    if isinstance(v, bool):
        return f"{name} = {'true' if v else 'false'}"
    if v is None:
        raise ValueError(f"{name}: a variant cannot set a row field back to None")
    return f"{name} = {toml_string(str(v))}"


def replace_table(row: m.Row, fields: tuple[str, ...], comment: str = "") -> str:
    """A ``[[replace]]`` table setting ``fields`` of ``row`` to the values the row has."""
    head = f"# {comment}\n" if comment else ""
    body = "".join(field_text(f, getattr(row, f)) + "\n" for f in fields)
    return f"{head}[[replace]]\nrow = {toml_string(row.id)}\n{body}"


def header(name: str, description: str) -> str:
    """A variant's ``name`` and ``description`` lines."""
    return f"name = {toml_string(name)}\ndescription = {toml_string(description)}\n"


__all__ = ["cond_text", "effect_text", "field_text", "guard_text", "header", "replace_table",
           "toml_string", "value_text"]
