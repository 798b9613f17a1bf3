"""Baselines: the known findings (real Liberty behaviour), each with a reason.

A baseline is TOML::

    [[finding]]
    property = "legal-state"
    key = "error/resize_migrating left at quiescence"   # exact, or a glob with * and ?
    where = "error/resize_migrating, migration error, on the source"   # optional glob
    reason = "error save carries the failed save's dirty task_state"
    bug = "..."                                         # optional Launchpad bug
    presets = ["ci", "full"]                            # optional: the runs that found it

A finding is "in the baseline" when an entry's property is its property and the entry's key and
where globs match its key and where (an absent where matches any). ``--update-baseline`` writes
exact identities, with the presets (configurations) whose runs found them, so that a test can
pin a preset's findings exactly; a reasons file (``baseline_reasons.toml``) holds the globs that
explain them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from dataclasses import dataclass
from pathlib import Path

from nova_resize.engine.config import escape_key as _esc

from nova_resize.errors import ConfigError
from nova_resize.files import bundled_text, parse_toml, read_text

from .properties import PROPERTY_NAMES

FIELDS = ("property", "key", "where", "reason", "bug", "presets")


@dataclass(frozen=True)
class Known:
    prop: str
    key: str
    reason: str
    bug: str | None = None
    where: str = "*"
    presets: tuple[str, ...] = ()

    def matches(self, prop: str, key: str, where: str = "") -> bool:
        return prop == self.prop and _glob(key, self.key) and _glob(where, self.where)


def _glob(text: str, pattern: str) -> bool:
    """fnmatchcase, without compiling a pattern that has no wildcard (most baseline entries are
    a finding's exact key)."""
    if "*" in pattern or "?" in pattern or "[" in pattern:
        return fnmatch.fnmatchcase(text, pattern)
    return text == pattern


def parse_baseline(text: str, source: str) -> list[Known]:
    data = parse_toml(text, source)
    for k in data:
        if k != "finding":
            raise ConfigError(f"{source}: {_esc(k)}: unknown key (expected [[finding]] tables)")
    items = data.get("finding", [])
    if not isinstance(items, list):
        raise ConfigError(f"{source}: finding: expected an array of tables [[finding]]")
    out = []
    for n, item in enumerate(items):
        where = f"{source}: finding[{n}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{where}: expected a table, found {item!r}")
        for k in item:
            if k not in FIELDS:
                raise ConfigError(f"{where}.{_esc(k)}: unknown key (expected "
                                  f"{', '.join(FIELDS)})")
        for k in ("property", "key", "reason"):
            if not isinstance(item.get(k), str) or not item[k]:
                raise ConfigError(f"{where}.{k}: expected a non-empty string, found "
                                  f"{item.get(k)!r}")
        if item["property"] not in PROPERTY_NAMES:
            raise ConfigError(f"{where}.property: expected one of {', '.join(PROPERTY_NAMES)}, "
                              f"found {item['property']!r}")
        for k in ("bug", "where"):
            v = item.get(k)
            if v is not None and not isinstance(v, str):
                raise ConfigError(f"{where}.{k}: expected a string, found {v!r}")
        presets = item.get("presets", [])
        if not isinstance(presets, list) or not all(isinstance(x, str) for x in presets):
            raise ConfigError(f"{where}.presets: expected an array of preset names, found "
                              f"{presets!r}")
        out.append(Known(item["property"], item["key"], item["reason"], item.get("bug"),
                         item.get("where", "*"), tuple(presets)))
    return out


def load_baseline(path: str | Path | None) -> list[Known]:
    """A baseline file, or the bundled Liberty baseline when ``path`` is None."""
    if path is None:
        return parse_baseline(bundled_text("nova_resize.checker", "baseline.toml"),
                              "<bundled baseline>")
    return parse_baseline(read_text(path), str(path))


def load_baseline_reasons(path: str | Path | None = None) -> list[Known]:
    """Reason patterns (globs), bundled unless ``path`` is given."""
    if path is None:
        return parse_baseline(bundled_text("nova_resize.checker", "baseline_reasons.toml"),
                              "<bundled baseline reasons>")
    return parse_baseline(read_text(path), str(path))


def glob_escape(text: str) -> str:
    """``text`` as a glob that matches exactly itself (``*``, ``?`` and ``[`` bracketed)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def lookup(known: list[Known], prop: str, key: str, where: str = "") -> Known | None:
    """The first entry that explains a finding, or None."""
    for k in known:
        if k.prop == prop and k.matches(prop, key, where):
            return k
    return None


BASELINE_HEADER = ("# Known findings of nova 12.0.0 (Liberty) on the built-in configurations, "
                   "written by\n# nova-resize check --config PRESET --update-baseline FILE; "
                   "reasons from\n# checker/baseline_reasons.toml.")


def update_entries(existing: list[Known], reasons: list[Known], preset: str,
                   findings: list[tuple[str, str, str, str]]) -> tuple[list[Known], list[str]]:
    """The baseline after a run of ``preset`` found ``findings`` ((property, key, where,
    message) each): every finding as its exact identity with ``preset`` among its presets and
    the reason of the first pattern in ``reasons`` that explains it; entries the preset found
    before and no longer finds lose it (and go when no preset is left); hand-written entries
    (no presets) stay. Also the findings no pattern explains (written as UNEXPLAINED)."""
    entries: dict[tuple[str, str, str], Known] = {}
    for k in existing:
        if preset in k.presets:
            k = dataclasses.replace(k, presets=tuple(p for p in k.presets if p != preset))
            if not k.presets:
                continue
        entries[(k.prop, k.key, k.where)] = k
    unexplained = []
    for prop, key, where, message in findings:
        ident = (prop, glob_escape(key), glob_escape(where) if where else "*")
        old = entries.get(ident)
        presets = tuple(sorted(set(old.presets if old else ()) | {preset}))
        if old is not None and not old.reason.startswith("UNEXPLAINED"):
            entries[ident] = dataclasses.replace(old, presets=presets)
            continue
        r = lookup(reasons, prop, key, where)
        if r is None:
            unexplained.append(f"{prop}: {key} (in: {where})")
        entries[ident] = Known(prop, ident[1], r.reason if r else f"UNEXPLAINED: {message}",
                               r.bug if r else None, ident[2], presets)
    return list(entries.values()), unexplained


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_baseline(entries: list[Known], header: str) -> str:
    """A baseline file listing ``entries`` (exact identities), grouped by property."""
    out = [header.rstrip(), ""]
    last = None
    for k in sorted(entries, key=lambda k: (k.prop, k.key, k.where)):
        if k.prop != last:
            out.append(f"# ---- {k.prop}")
            last = k.prop
        out.append("[[finding]]")
        out.append(f"property = {_q(k.prop)}")
        out.append(f"key = {_q(k.key)}")
        if k.where != "*":
            out.append(f"where = {_q(k.where)}")
        out.append(f"reason = {_q(k.reason)}")
        if k.bug:
            out.append(f"bug = {_q(k.bug)}")
        if k.presets:
            out.append("presets = [" + ", ".join(_q(x) for x in k.presets) + "]")
        out.append("")
    return "\n".join(out)


__all__ = [
    "BASELINE_HEADER",
    "FIELDS",
    "Known",
    "glob_escape",
    "load_baseline",
    "load_baseline_reasons",
    "lookup",
    "parse_baseline",
    "render_baseline",
    "update_entries",
]
