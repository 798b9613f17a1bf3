"""The spec as data for machines (JSON) and as a readable document (Markdown)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from nova_resize.engine.footprint import row_footprint
from nova_resize.spec import Spec
from nova_resize.spec import model as m

from .explicit.properties import PROPERTIES


def _plain(v: Any) -> Any:
    if isinstance(v, m.Ref):
        return {"ref": v.path}
    if dataclasses.is_dataclass(v) and not isinstance(v, type):
        out: dict[str, Any] = {"type": type(v).__name__}
        for f in dataclasses.fields(v):
            if f.name.startswith("_"):
                continue
            out[f.name] = _plain(getattr(v, f.name))
        return out
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    return v


def show_value(v: Any) -> str:
    if isinstance(v, m.Ref):
        return v.path
    if isinstance(v, m.Default):
        return f"{v.path} or {v.value}"
    if isinstance(v, m.NotEq):
        return f"{v.path} != {v.value}"
    if isinstance(v, m.Inc):
        return f"{v.path} + 1"
    if isinstance(v, m.Append):
        return f"{v.path} + [{show_value(v.value)}]"
    if isinstance(v, m.IfEq):
        return f"{show_value(v.then)} if {v.path} == {v.value} else {show_value(v.orelse)}"
    if v is None:
        return "None"
    if isinstance(v, tuple):
        return "[" + ", ".join(show_value(x) for x in v) + "]"
    return str(v)


def show_effect(e: Any) -> str:
    """One effect as a short line, in Nova's vocabulary."""
    t = type(e)
    if t is m.Set:
        return f"{e.target}.{e.name} = {show_value(e.value)}"
    if t is m.SaveInstance:
        if e.guard is None:
            return "instance.save()"
        return f"instance.save(expected_task_state={show_value(e.guard)})"
    if t is m.FreshSave:
        fields = ", ".join(f"{k}={show_value(v)}" for k, v in e.fields)
        return f"Instance({fields}).save()"
    if t is m.SaveMigration:
        return "migration.save()"
    if t is m.CreateMigration:
        return f"migration.create(status=pre-migrating, new flavor {e.new_flavor})"
    if t is m.Reread:
        return f"re-read {e.target}"
    if t is m.LookupMigration:
        return f"Migration.get_by_instance_and_status({show_value(e.statuses)})"
    if t is m.Quota:
        var = "" if e.var == "reservations" else f" [{e.var}]"
        return f"quota {e.op}" + (f" {e.delta}" if e.delta else "") + var
    if t is m.Claim:
        extra = []
        if e.flavor:
            extra.append(e.flavor)
        if e.prefix:
            extra.append(f"prefix {e.prefix}")
        return f"rt({e.host}).{e.op}" + (f"({', '.join(extra)})" if extra else "")
    if t is m.Driver:
        s = f"driver.{e.op} on {e.host}"
        if e.to:
            s += f" -> {e.to}"
        return s
    if t is m.Send:
        return f"{e.kind} {e.method} -> {e.target}" + (" (wait)" if e.wait else "")
    if t is m.Raise:
        return f"raise {show_value(e.exc)}"
    if t is m.Refuse:
        return f"refuse {e.exc} (HTTP {e.http})"
    if t is m.Lock:
        return f"lock {e.op} instance.uuid"
    if t is m.Destroy:
        return "instance.destroy()"
    if t is m.DestroyFlavor:
        return f"flavor {show_value(e.flavor)}.destroy()"
    if t is m.SelectDestination:
        return "scheduler select_destinations"
    if t is m.Spawn:
        return f"{e.handler} for each instance on this host"
    if t is m.Goto:
        return f"continue in {e.handler}:{e.label}"
    if t is m.Service:
        return f"service {e.op}"
    return repr(e)


def guard_of(row: m.Row) -> str:
    """The row's expected_task_state guard, 'none' for an unguarded save, '' without a save."""
    for e in row.effects:
        if isinstance(e, m.SaveInstance):
            return "none" if e.guard is None else show_value(e.guard)
        if isinstance(e, m.FreshSave):
            return "none"
    return ""


def to_json(spec: Spec) -> dict[str, Any]:
    rows = []
    for r in spec.rows:
        d = _plain(r)
        d.pop("type", None)
        d["guard"] = guard_of(r)
        d["effects_text"] = [show_effect(e) for e in r.effects]
        d["when_text"] = [str(c) for c in r.when]
        fp = row_footprint(r)
        d["reads"] = sorted(fp.reads)
        d["writes"] = sorted(fp.writes)
        rows.append(d)
    return {
        "spec": spec.name,
        "vm_states": list(spec.vm_states),
        "task_states": list(spec.task_states),
        "power_states": dict(spec.power_states),
        "migration_statuses": list(spec.migration_statuses),
        "state_pairs": [_plain(p) for p in spec.state_pairs],
        "operations": [_plain(o) for o in spec.operations],
        "handlers": [_plain(h) for h in spec.handlers],
        "rows": rows,
        "migration_edges": [_plain(e) for e in spec.migration_edges],
        "scheduler_filters": [
            {"name": n, "cite": c, "summary": s} for n, c, s in spec.scheduler_filters
        ],
        "quota_deltas": [_plain(q) for q in spec.quota_deltas],
        "resize_states": [
            {"vm_state": vm, "task_states": None if t is None else list(t)}
            for vm, t in spec.resize_states
        ],
        "usage_rules": [_plain(u) for u in spec.usage_rules],
        "options": [_plain(o) for o in spec.options],
        "faults": [{"name": n, "summary": s} for n, s in spec.faults],
        "properties": [
            {"type": "PropertyInfo", "name": p.name, "statement": p.statement,
             "bugs": list(p.bugs), "kind": p.kind, "checks": list(p.checks)}
            for p in PROPERTIES
        ],
    }


def to_json_text(spec: Spec) -> str:
    return json.dumps(to_json(spec), indent=2, sort_keys=False)


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(spec: Spec) -> str:
    out = [f"# {spec.name}: the resize family as tables", ""]
    out += ["## States and the `nova list` Status", "", "| vm_state | task_state | Status |",
            "|---|---|---|"]
    for p in spec.state_pairs:
        out.append(f"| {p.vm_state} | {p.task_state or '-'} | {p.status} |")
    out += ["", "Migration statuses: " + ", ".join(spec.migration_statuses), ""]
    out += ["## API operations", "",
            "| operation | lock check | vm_state | task_state | quota | sends | cite |",
            "|---|---|---|---|---|---|---|"]
    for o in spec.operations:
        vms = "any" if o.vm_states is None else ", ".join(o.vm_states)
        tasks = "any" if o.task_states is None else ", ".join(t or "None" for t in o.task_states)
        out.append(
            f"| {o.name} | {'yes' if o.lock_check else 'no'} | {vms} | {tasks} | "
            f"{o.quota or '-'} | {_cell(o.sends)} | `{o.cite}` |"
        )
        for v in o.validations:
            out.append(f"|  ↳ {v.id} | | | | | {_cell(v.exc)} (HTTP {v.http}): "
                       f"{_cell(v.summary)} | `{v.cite}` |")
    out.append("")
    for h in spec.handlers:
        rows = spec.rows_of(h.name)
        if not rows:
            continue
        out += [f"## {h.name} ({h.service})", "", f"`{h.cite}` — {h.summary}", ""]
        chains = [f"{name}: {' → '.join(c) or '(propagates)'}" for name, c in h.scopes]
        out += ["Error scopes: " + "; ".join(chains), ""]
        out += ["| id | at | when | guard | effects | then | cite |"]
        out += ["|---|---|---|---|---|---|---|"]
        for r in rows:
            when = " and ".join(str(c) for c in r.when)
            if r.otherwise:
                when = "otherwise"
            if r.fault:
                when = f"FAULT {r.fault}" + (f" and {when}" if when else "")
            effs = "; ".join(show_effect(e) for e in r.effects)
            out.append(
                f"| `{r.id}` | {r.at} | {_cell(when)} | {_cell(guard_of(r))} | {_cell(effs)} | "
                f"{_cell(r.then)} | `{r.cite}` |"
            )
        out.append("")
    out += ["## Migration status edges", "", "| row | from | to |", "|---|---|---|"]
    for e in spec.migration_edges:
        src = "any" if e.source is None else (", ".join(e.source) or "(new)")
        out.append(f"| `{e.row}` | {src} | {e.dest} |")
    out += ["", "## Properties", ""]
    for prop in PROPERTIES:
        bugs = f" (bugs: {', '.join(prop.bugs)})" if prop.bugs else ""
        out.append(f"- **{prop.name}** ({prop.kind}): {prop.statement}{bugs}")
    out.append("")
    return "\n".join(out)
