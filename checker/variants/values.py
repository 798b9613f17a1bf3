"""The small languages inside a variant: literals, conditions, value expressions, effects."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from nova_resize.engine.config import escape_key as _esc
from nova_resize.spec import model as m

from nova_resize.errors import ConfigError

REF_HEADS = ("instance.", "migration.", "local.", "db.", "config.", "self.")
OPS = ("not in", "==", "!=", "<=", ">=", "<", ">", "in")
EFFECTS = {
    c.__name__: c
    for c in (m.Set, m.SaveInstance, m.FreshSave, m.SaveMigration, m.CreateMigration, m.Reread,
              m.LookupMigration, m.Quota, m.Claim, m.Driver, m.Send, m.Raise, m.Refuse, m.Lock,
              m.Destroy, m.DestroyFlavor, m.SelectDestination, m.Spawn, m.Goto, m.Service)
}


def _literal(text: str) -> Any:
    t = text.strip()
    if t in ("None", "none", "null"):
        return None
    if t in ("true", "True"):
        return True
    if t in ("false", "False"):
        return False
    if t.startswith(REF_HEADS) or t == "exc":
        return m.Ref(t)
    if t.startswith("[") or t.startswith('"'):
        try:
            v = json.loads(t)
        except ValueError as e:
            raise ValueError(f"cannot read {t!r}: {e}") from None
        return tuple(v) if isinstance(v, list) else v
    try:
        return int(t)
    except ValueError:
        return t


def parse_cond(text: str) -> m.Cond:
    t = text.strip()
    if " is " in t:
        ref, what = t.split(" is ", 1)
        what = what.strip().replace(" ", "_")
        if what not in ("truthy", "falsy", "up", "down", "unknown_flavor"):
            raise ValueError(f"unknown test {what!r}")
        return m.Cond(ref.strip(), what)
    for op in OPS:
        token = f" {op} "
        if token in t:
            ref, value = t.split(token, 1)
            return m.Cond(ref.strip(), op, _literal(value))
    raise ValueError(f"expected '<ref> <op> <value>', found {t!r}")


EXPRESSION_KEYS = {
    frozenset({"ref"}): "a reference",
    frozenset({"default", "value"}): "the value at a path, or a default when it is None",
    frozenset({"not_eq", "value"}): "whether the value at a path differs from a value",
    frozenset({"inc"}): "the integer at a path plus one",
    frozenset({"append", "value"}): "the tuple at a path with a value appended",
    frozenset({"if_eq", "value", "then", "else"}): "a choice on the value at a path",
}


def parse_value(v: Any, where: str = "value") -> Any:
    """A value of a variant: a literal ("None" is None: TOML has no null), a list, or an
    expression table ({ref = path}, {default = path, value = x}, {not_eq = path, value = x},
    {inc = path}, {append = path, value = x}, {if_eq = path, value = x, then = a, else = b})."""
    if v == "None":
        return None
    if isinstance(v, list):
        return tuple(parse_value(x, f"{where}[{n}]") for n, x in enumerate(v))
    if not isinstance(v, dict):
        return v
    keys = frozenset(v)
    if keys not in EXPRESSION_KEYS:
        raise ConfigError(f"{where}: expected an expression table, one of "
                          + "; ".join("{" + ", ".join(sorted(k)) + "}" for k in EXPRESSION_KEYS)
                          + f"; found keys {sorted(map(str, keys))}")
    for k in ("ref", "default", "not_eq", "inc", "append", "if_eq"):
        if k in v and not isinstance(v[k], str):
            raise ConfigError(f"{where}.{k}: expected a reference path, found {v[k]!r}")
    if "ref" in v:
        return m.Ref(v["ref"])
    if "default" in v:
        return m.Default(v["default"], parse_value(v["value"], f"{where}.value"))
    if "not_eq" in v:
        return m.NotEq(v["not_eq"], parse_value(v["value"], f"{where}.value"))
    if "inc" in v:
        return m.Inc(v["inc"])
    if "append" in v:
        return m.Append(v["append"], parse_value(v["value"], f"{where}.value"))
    return m.IfEq(v["if_eq"], parse_value(v["value"], f"{where}.value"),
                  parse_value(v["then"], f"{where}.then"), parse_value(v["else"], f"{where}.else"))


def parse_effect(d: Any, where: str) -> Any:
    if not isinstance(d, dict) or "type" not in d:
        raise ConfigError(f"{where}: expected a table with a 'type', found {d!r}")
    cls = EFFECTS.get(d["type"])
    if cls is None:
        raise ConfigError(f"{where}.type: expected one of {', '.join(EFFECTS)}, found "
                          f"{d['type']!r}")
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for k, v in d.items():
        if k == "type":
            continue
        if k not in names:
            raise ConfigError(f"{where}.{_esc(k)}: unknown field of {cls.__name__} (expected "
                              f"{', '.join(sorted(names)) or 'none'})")
        if cls is m.SaveInstance and k == "guard":
            kwargs[k] = None if v in ("none", None) else tuple(None if x in ("None", None)
                                                               else x for x in v)
        else:
            kwargs[k] = parse_value(v, f"{where}.{k}")
    missing = [f.name for f in dataclasses.fields(cls) if f.name not in kwargs
               and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{where}: {cls.__name__} needs {', '.join(missing)} (its fields: "
                          f"{', '.join(sorted(names))})")
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None


def parse_conds(v: Any, where: str) -> tuple[m.Cond, ...]:
    if not isinstance(v, list):
        raise ConfigError(f"{where}: expected an array of condition strings, found {v!r}")
    out = []
    for n, c in enumerate(v):
        if not isinstance(c, str):
            raise ConfigError(f"{where}[{n}]: expected a condition string, found {c!r}")
        try:
            out.append(parse_cond(c))
        except ValueError as e:
            raise ConfigError(f"{where}[{n}]: {e}") from None
    return tuple(out)


__all__ = ["EFFECTS", "EXPRESSION_KEYS", "OPS", "REF_HEADS", "parse_cond", "parse_conds",
           "parse_effect", "parse_value"]
