"""Variants: TOML overlays that patch the spec by row id, to check a proposed Nova patch or a
historical fix against the baseline.

A variant file::

    name = "bug-1625462"
    description = "finish_revert_resize no longer rewrites migration.dest_compute"

    [[remove]]                      # drop a row; its label's predecessors skip to its `then`
    row = "compute.finish_revert_resize.migration_dest"

    [[guard]]                       # change the expected_task_state of a row's instance save
    row = "compute.finish_revert_resize.active"
    expected_task_state = ["resize_reverting"]   # or "none" for an unguarded save

    [[move_quota]]                  # move a row's quota action to another row
    from = "compute.finish_resize.commit"
    to = "compute.finish_resize.resized"

    [[replace]]                     # override fields of a row
    row = "..."
    then = "..."
    when = ["instance.task_state == resize_prep"]
    effects = [{type = "Set", target = "instance", name = "task_state", value = "resize_prep"}]

    [[add]]                         # a new row (all Row fields)
    id = "..."; handler = "..."; at = "..."; cite = "nova/...py:..."; summary = "..."

    [[validation]]                  # a new API precondition
    operation = "resize"; id = "..."; cite = "..."; exc = "..."; http = 400; summary = "..."
    when = ["local.flavor_id.root_gb < instance.flavor.root_gb"]

Conditions are written ``"<ref> <op> <value>"`` (ops: ==, !=, <, >, <=, in, not in) or
``"<ref> is <truthy|falsy|up|down>"``; a value is a literal (None, true, a number, a quoted or
bare string) or a reference (a path starting with instance., migration., local., db., config.,
self.). Effects are tables with ``type`` naming a class of nova_resize.spec.model; a value
``{ref = "path"}`` is a reference and the string ``"None"`` is None (TOML has no null).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from nova_resize.engine.config import escape_key as _esc
from nova_resize.engine.wellformed import problems
from nova_resize.spec import LIBERTY, Spec
from nova_resize.spec import model as m

from nova_resize.errors import ConfigError, VariantError
from nova_resize.files import parse_toml, read_text

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


def _value(v: Any) -> Any:
    if v == "None":  # TOML has no null
        return None
    if isinstance(v, dict) and set(v) == {"ref"}:
        return m.Ref(str(v["ref"]))
    if isinstance(v, list):
        return tuple(_value(x) for x in v)
    return v


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
            kwargs[k] = _value(v)
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where}: {e}") from None


def _conds(v: Any, where: str) -> tuple[m.Cond, ...]:
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


ROW_FIELDS = {f.name: f for f in dataclasses.fields(m.Row)}


def _row_kwargs(d: dict[str, Any], where: str, required: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if k == "row":
            continue
        if k not in ROW_FIELDS:
            raise ConfigError(f"{where}.{_esc(k)}: unknown row field (expected "
                              f"{', '.join(ROW_FIELDS)})")
        if k == "when":
            out[k] = _conds(v, f"{where}.when")
        elif k == "effects":
            if not isinstance(v, list):
                raise ConfigError(f"{where}.effects: expected an array of tables, found {v!r}")
            out[k] = tuple(parse_effect(e, f"{where}.effects[{n}]") for n, e in enumerate(v))
        elif k == "notify":
            out[k] = tuple(v)
        elif k in ("otherwise",):
            if not isinstance(v, bool):
                raise ConfigError(f"{where}.{k}: expected a boolean, found {v!r}")
            out[k] = v
        else:
            if v is not None and not isinstance(v, str):
                raise ConfigError(f"{where}.{k}: expected a string, found {v!r}")
            out[k] = v
    if required:
        for k in ("id", "handler", "at", "cite", "summary"):
            if k not in out:
                raise ConfigError(f"{where}.{k}: missing (a new row needs id, handler, at, "
                                  f"cite, summary)")
    return out


def build_spec(variant_paths: list[str], base: Spec | None = None) -> tuple[Spec, list[Variant]]:
    """Liberty (or ``base``) patched by each variant file in turn."""
    spec = LIBERTY if base is None else base
    variants = []
    for path in variant_paths:
        v = apply_variant(spec, path)
        variants.append(v)
        spec = v.spec
    return spec, variants


@dataclasses.dataclass(frozen=True)
class Variant:
    name: str
    description: str
    source: str
    changed_rows: tuple[str, ...]
    spec: Spec


def apply_variant(spec: Spec, path: str | Path) -> Variant:
    return apply_variant_text(spec, read_text(path), str(path))


def apply_variant_text(spec: Spec, text: str, source: str) -> Variant:
    return apply_variant_data(spec, parse_toml(text, source), source)


def apply_variant_data(spec: Spec, data: dict[str, Any], source: str) -> Variant:
    """Apply a parsed variant document to ``spec``."""
    allowed = ("name", "description", "remove", "guard", "move_quota", "replace", "add",
               "validation")
    for k in data:
        if k not in allowed:
            raise ConfigError(f"{source}: {_esc(k)}: unknown key (expected one of "
                              f"{', '.join(allowed)})")
    rows = list(spec.rows)
    ops = list(spec.operations)
    changed: list[str] = []

    def find(row_id: Any, where: str) -> int:
        if not isinstance(row_id, str):
            raise ConfigError(f"{where}: expected a row id string, found {row_id!r}")
        for i, r in enumerate(rows):
            if r.id == row_id:
                return i
        raise ConfigError(f"{where}: no spec row {row_id!r}")

    def tables(key: str) -> list[dict[str, Any]]:
        v = data.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
            raise ConfigError(f"{source}: {key}: expected an array of tables [[{key}]]")
        return v

    for n, t in enumerate(tables("remove")):
        where = f"{source}: remove[{n}].row"
        i = find(t.get("row"), where)
        gone = rows.pop(i)
        changed.append(gone.id)
        same = [r for r in rows if r.handler == gone.handler and r.at == gone.at]
        if not same:  # the label disappears: whoever went there goes to the row's `then`
            rows = [
                dataclasses.replace(r, then=gone.then) if r.handler == gone.handler
                and r.then == gone.at else r
                for r in rows
            ]
    for n, t in enumerate(tables("guard")):
        where = f"{source}: guard[{n}]"
        i = find(t.get("row"), where + ".row")
        g = t.get("expected_task_state")
        if g == "none":
            guard = None
        elif isinstance(g, list):
            guard = tuple(None if x in ("None", None) else x for x in g)
        else:
            raise ConfigError(f"{where}.expected_task_state: expected an array of task states "
                              f"or \"none\", found {g!r}")
        r = rows[i]
        if not any(isinstance(e, m.SaveInstance) for e in r.effects):
            raise ConfigError(f"{where}.row: {r.id} has no instance save to guard")
        effs = tuple(m.SaveInstance(guard) if isinstance(e, m.SaveInstance) else e
                     for e in r.effects)
        rows[i] = dataclasses.replace(r, effects=effs)
        changed.append(r.id)
    for n, t in enumerate(tables("move_quota")):
        where = f"{source}: move_quota[{n}]"
        i = find(t.get("from"), where + ".from")
        j = find(t.get("to"), where + ".to")
        q = [e for e in rows[i].effects if isinstance(e, m.Quota)]
        if not q:
            raise ConfigError(f"{where}.from: {rows[i].id} has no quota action")
        rows[i] = dataclasses.replace(rows[i], effects=tuple(e for e in rows[i].effects
                                                             if not isinstance(e, m.Quota)))
        target = rows[j]
        moved = list(target.effects)
        pos = next((k for k, e in enumerate(moved) if isinstance(e, (m.Raise, m.Send, m.Goto))),
                   len(moved))
        moved[pos:pos] = q
        rows[j] = dataclasses.replace(target, effects=tuple(moved))
        changed += [rows[i].id, rows[j].id]
    for n, t in enumerate(tables("replace")):
        where = f"{source}: replace[{n}]"
        i = find(t.get("row"), where + ".row")
        kw = _row_kwargs(t, where, required=False)
        kw.pop("id", None)
        rows[i] = dataclasses.replace(rows[i], **kw)
        changed.append(rows[i].id)
    for n, t in enumerate(tables("add")):
        where = f"{source}: add[{n}]"
        kw = _row_kwargs(t, where, required=True)
        if any(r.id == kw["id"] for r in rows):
            raise ConfigError(f"{where}.id: a row {kw['id']!r} exists already (use [[replace]])")
        if not any(h.name == kw["handler"] for h in spec.handlers):
            raise ConfigError(f"{where}.handler: no handler {kw['handler']!r}")
        rows.append(m.Row(**kw))
        changed.append(kw["id"])
    for n, t in enumerate(tables("validation")):
        where = f"{source}: validation[{n}]"
        opname = t.get("operation")
        idx = next((k for k, o in enumerate(ops) if o.name == opname), None)
        if idx is None:
            raise ConfigError(f"{where}.operation: expected one of "
                              f"{', '.join(o.name for o in ops)}, found {opname!r}")
        for k in ("id", "cite", "exc", "summary"):
            if not isinstance(t.get(k), str):
                raise ConfigError(f"{where}.{k}: expected a string, found {t.get(k)!r}")
        http = t.get("http", 400)
        if not isinstance(http, int) or isinstance(http, bool):
            raise ConfigError(f"{where}.http: expected an integer, found {http!r}")
        v = m.Validation(t["id"], t["cite"], _conds(t.get("when", []), where + ".when"),
                         t["exc"], http, t["summary"])
        ops[idx] = dataclasses.replace(ops[idx], validations=(*ops[idx].validations, v))
        changed.append(t["id"])
    name = data.get("name", Path(source).stem)
    desc = data.get("description", "")
    if not isinstance(name, str) or not isinstance(desc, str):
        raise ConfigError(f"{source}: name/description: expected strings")
    new = dataclasses.replace(spec, name=f"{spec.name} + {name}", rows=tuple(rows),
                              operations=tuple(ops), _index={})
    _validate(new, source)
    return Variant(name, desc, source, tuple(dict.fromkeys(changed)), new)


def _validate(spec: Spec, source: str) -> None:
    """Refuse a variant whose tables the engine could not interpret (engine.wellformed)."""
    found = problems(spec)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise VariantError(f"{source}: {found[0]}{more}")
