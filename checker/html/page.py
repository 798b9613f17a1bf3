"""One self-contained HTML page from a JSON report: the page's frame, the trace viewers, and the
parts every kind of report shares. The kinds themselves are in :mod:`.sections`.

The page needs no network: its CSS and script (``report.css``, ``report.js`` beside this
module) are inlined, each diagram is inline SVG, and each trace's steps are inline JSON the
script reads when the viewer is first shown.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from nova_resize.files import bundled_text

from .swimlane import lane_order, swimlane_svg

PACKAGE = "nova_resize.checker.html"


def esc(v: Any) -> str:
    """Text for HTML (None as an em dash)."""
    return "—" if v is None else escape(str(v))


def data_script(ident: str, data: Any) -> str:
    """Inline JSON the script reads (``</`` escaped so that no string ends the element)."""
    text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    text = text.replace("</", "<\\/").replace("<!--", "<\\!--")
    return f'<script type="application/json" id="{ident}">{text}</script>'


def page(title: str, body: list[str], rows: dict[str, Any] | None = None) -> str:
    """The whole page: ``body`` with the CSS, the script and the spec rows' citations."""
    css = bundled_text(PACKAGE, "report.css")
    js = bundled_text(PACKAGE, "report.js")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        # everything is inline: forbid the page any network access
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">",
        f"<title>{esc(title)}</title>",
        f"<style>{css}</style></head><body>",
        *body,
        data_script("spec-rows", rows or {}),
        f"<script>{js}</script>",
        "</body></html>",
    ]) + "\n"


class Ids:
    """Fresh element ids for one page."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}{self.n}"


def controls(label: str = "") -> str:
    return ('<div class="controls" role="toolbar" aria-label="step through the trace">'
            '<button type="button" data-act="first" title="first (Home)">« first</button>'
            '<button type="button" data-act="prev" title="back (←)">◀ back</button>'
            '<span class="pos" aria-live="polite"></span>'
            '<button type="button" data-act="next" title="forward (→)">forward ▶</button>'
            '<button type="button" data-act="last" title="last (End)">last »</button>'
            '<input type="range" class="scrub" min="0" value="0" aria-label="step">'
            + (f'<span class="side-label">{esc(label)}</span>' if label else "")
            + "</div>")


def viewer(ids: Ids, steps: list[dict[str, Any]], initial: dict[str, Any] | None,
           title: str, group: str | None = None, label: str = "",
           marks: dict[int, str] | None = None, differs: set[int] | None = None,
           lanes: list[str] | None = None, note: str = "") -> str:
    """A trace viewer: controls, the swimlane diagram, and the step and world panels the
    script fills in. Viewers sharing a ``group`` step together (a diff's two sides)."""
    ident = ids("trace")
    svg = swimlane_svg(steps, initial, lanes, marks, differs, title, ident)
    grp = f' data-group="{esc(group)}"' if group else ""
    return (f'<div class="viewer" data-trace="{ident}"{grp}>'
            + controls(label)
            + (f'<p class="note">{esc(note)}</p>' if note else "")
            + '<div class="cols"><div class="diagram">' + svg + "</div>"
            '<div class="panel"><div class="stepinfo"></div><div class="world"></div></div>'
            "</div>"
            + data_script(ident, {"initial": initial, "steps": steps})
            + "</div>")


def shared_lanes(*traces: list[dict[str, Any]]) -> list[str]:
    """The lanes of several traces together (a diff's sides use the same lanes)."""
    return lane_order([str(s.get("actor") or "") for t in traces for s in t if s.get("actor")])


def stat(label: str, value: str) -> str:
    return f'<div class="stat"><span class="k">{esc(label)}</span><span class="v">{value}</span>' \
           f"</div>"


def num(v: Any, unit: str = "", digits: int = 0) -> str:
    """A number with thousands separators and its unit."""
    if v is None:
        return "—"
    if isinstance(v, float):
        text = f"{v:,.{digits}f}"
    elif isinstance(v, int):
        text = f"{v:,}"
    else:
        text = str(v)
    return esc(text + (f" {unit}" if unit else ""))


def finding_head(f: dict[str, Any], tag: str, tag_class: str) -> str:
    where = f.get("where")
    at = f' <span class="at">@ {esc(where)}</span>' if where else ""
    return (f'<summary><span class="tag {tag_class}">{esc(tag)}</span> '
            f'<b>{esc(f.get("property"))}</b>: <code>{esc(f.get("key"))}</code>{at}</summary>')


def place_and_cause(f: dict[str, Any]) -> str:
    """Where the finding's instance stood, and the row that last wrote it on the trace."""
    parts = []
    if f.get("where"):
        parts.append(f"Where: {esc(f['where'])}.")
    if f.get("cause"):
        parts.append(f"Caused by <code>{esc(f['cause'])}</code> (the last row on this trace "
                     "that wrote its instance or migration).")
    return f'<p class="place">{" ".join(parts)}</p>' if parts else ""


def replay_hint(f: dict[str, Any]) -> str:
    key = f"{f.get('property')}: {f.get('key')}"
    if f.get("where"):
        key += f" @ {f['where']}"
    return ('<p class="replay">Replay on the engine: <code>nova-resize replay REPORT.json '
            f"--finding {esc(json.dumps(key))}</code> (add <code>--pytest</code> for a test)</p>")


__all__ = ["Ids", "controls", "data_script", "esc", "finding_head", "num", "page",
           "place_and_cause", "replay_hint", "shared_lanes", "stat", "viewer"]
