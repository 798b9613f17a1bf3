"""A trace as an SVG swimlane (message sequence) diagram: one lane per actor, one row per step,
each RPC message an arrow from the step that sent it to the step that delivered (or lost) it.

The input is a report's trace: a list of step dicts (``n``, ``actor``, ``action``, ``rows``,
``outcome``, ``state``, ``action_data``) as ``check --json`` writes them, and the state before
the first step. Every step is a ``<g class="step" data-step="n">`` the page's script selects;
the full text of a step is in its ``<title>``. Nothing here measures fonts: labels are cut to
the lane's width and the whole text is one hover (or one click, in the step panel) away.
"""

from __future__ import annotations

import re
from collections import Counter
from html import escape
from typing import Any

LANE_W = 168
ROW_H = 26
HEAD_H = 44
GUTTER = 34
CHARS = 25  # characters that fit in a step box at 11px

FAULT_KINDS = frozenset({"fail", "lose", "crash", "timeout"})


def lane_order(actors: list[str]) -> list[str]:
    """User, nova-api, the conductor, the computes by host name, then anyone else."""
    rank = {"user": 0, "nova-api": 1, "nova-conductor": 2}

    def key(a: str) -> tuple[int, str]:
        if a in rank:
            return (rank[a], a)
        if a.startswith("nova-compute@"):
            return (3, a)
        return (4, a)

    return sorted(dict.fromkeys(actors), key=key)


def actor_from_text(text: str) -> str:
    """The actor of a step known only by its description (validate's witness)."""
    if text.startswith("user:"):
        return "user"
    if text.startswith("api:"):
        return "nova-api"
    if text.startswith("conductor:"):
        return "nova-conductor"
    m = re.match(r"(?:deliver|LOSE) \w+ \S+ -> (\S+)", text)
    if m:
        target = m.group(1)
        if text.startswith("LOSE"):
            return "rabbitmq"
        return "nova-conductor" if target == "conductor" else f"nova-compute@{target}"
    m = re.match(r"(?:FAIL |TIMEOUT )?(\S+): ", text)
    if m:
        svc = m.group(1)
        return {"api": "nova-api", "conductor": "nova-conductor"}.get(
            svc, f"nova-compute@{svc}")
    m = re.search(r" on (\S+)$", text)
    if m:
        return f"nova-compute@{m.group(1)}"
    return "nova"


def step_kind(step: dict[str, Any]) -> str:
    """The action's kind (api, run, deliver, fail, lose, timeout, crash, restart, periodic)."""
    data = step.get("action_data")
    if isinstance(data, dict) and isinstance(data.get("kind"), str):
        return str(data["kind"])
    text = str(step.get("action", ""))
    for prefix, kind in (("user:", "api"), ("deliver", "deliver"), ("LOSE", "lose"),
                         ("FAIL", "fail"), ("TIMEOUT", "timeout"), ("CRASH", "crash"),
                         ("restart", "restart"), ("periodic", "periodic")):
        if text.startswith(prefix):
            return kind
    return "run"


def short_label(step: dict[str, Any]) -> str:
    """A few words for the step's box."""
    text = str(step.get("action", ""))
    kind = step_kind(step)
    if kind == "api":
        out = text.removeprefix("user: ")
    elif kind in ("deliver", "lose"):
        m = re.match(r"\S+ (\w+) (\S+)", text)
        out = (f"{m.group(2)}" if kind == "deliver" else f"✗ lost {m.group(2)}") if m else text
    elif kind == "fail":
        m = re.search(r"\(([^()]*)\)$", text)
        out = "✗ " + (m.group(1).split(".")[-1] if m else text)
    elif kind == "timeout":
        out = "⏱ " + text.removeprefix("TIMEOUT ")
    elif kind == "crash":
        out = "✗ crash"
    elif kind == "restart":
        out = "restart (init_host)"
    elif kind == "periodic":
        out = text.removeprefix("periodic ").split(" on ")[0]
    else:
        m = re.search(r"\[([^\]]*)\]", text)
        out = m.group(1) if m else text
    if step.get("outcome") and str(step["outcome"]).startswith("refused"):
        out += " (refused)"
    return out


def _cut(text: str, n: int = CHARS) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _messages(state: dict[str, Any] | None) -> list[str]:
    """Identities of the messages in flight (the full record where the report has it)."""
    if not state:
        return []
    if "messages" in state:
        return [repr(sorted(m.items())) for m in state["messages"]]
    return list(state.get("in_flight", []))


def _method(state: dict[str, Any], i: int) -> tuple[str, str]:
    """The method and kind of message ``i`` in ``state``."""
    if "messages" in state and i < len(state["messages"]):
        m = state["messages"][i]
        return str(m.get("method", "?")), str(m.get("kind", "cast"))
    flights = state.get("in_flight", [])
    if i < len(flights):
        parts = str(flights[i]).split()
        if len(parts) >= 2:
            return parts[1], parts[0]
    return "?", "cast"


def arrows(initial: dict[str, Any] | None, steps: list[dict[str, Any]]
           ) -> list[tuple[int | None, int | None, str, str, str]]:
    """The message arrows: (sending step index or None for the initial state, receiving step
    index or None when still in flight at the end, method, kind, fate) with fate ``delivered``,
    ``lost`` or ``in flight``."""
    pending: list[tuple[str, int | None, str, str]] = []  # identity, sender, method, kind
    prev = initial
    for ident in _messages(initial):
        m, k = _method(initial or {}, len(pending))
        pending.append((ident, None, m, k))
    out: list[tuple[int | None, int | None, str, str, str]] = []
    for idx, st in enumerate(steps):
        kind = step_kind(st)
        data = st.get("action_data") or {}
        state = st.get("state") or {}
        before = Counter(_messages(prev))
        if kind in ("deliver", "lose") and prev is not None:
            i = data.get("message") if isinstance(data.get("message"), int) else None
            idents = _messages(prev)
            if i is not None and i < len(idents):
                ident = idents[i]
                for p, (pid, sender, method, mk) in enumerate(pending):
                    if pid == ident:
                        out.append((sender, idx, method, mk,
                                    "delivered" if kind == "deliver" else "lost"))
                        del pending[p]
                        before[ident] -= 1
                        break
        now = _messages(state)
        after = Counter(now)
        # what the step sent: in flight after it, beyond what was in flight before it
        for ident, cnt in after.items():
            for _ in range(cnt - max(before.get(ident, 0), 0)):
                method, mk = _method(state, now.index(ident))
                pending.append((ident, idx, method, mk))
        # messages gone without a delivery step (a crash): drop them from the pending list
        for ident, cnt in list(before.items()):
            gone = cnt - after.get(ident, 0)
            for _ in range(max(gone, 0)):
                for p, (pid, sender, method, mk) in enumerate(pending):
                    if pid == ident:
                        out.append((sender, idx, method, mk, "lost"))
                        del pending[p]
                        break
        prev = state
    for _, sender, method, mk in pending:
        out.append((sender, None, method, mk, "in flight"))
    return out


def swimlane_svg(steps: list[dict[str, Any]], initial: dict[str, Any] | None = None,
                 lanes: list[str] | None = None, marks: dict[int, str] | None = None,
                 differs: set[int] | None = None, title: str = "", uid: str = "t") -> str:
    """The SVG of a trace (see the module docstring). ``marks``: a note drawn above a step
    (validate's observations); ``differs``: steps drawn as differing from the other side of a
    diff; ``uid``: unique on the page (the arrowhead's id)."""
    for st in steps:
        if not st.get("actor"):
            st["actor"] = actor_from_text(str(st.get("action", "")))
    lanes = lanes or lane_order([str(s["actor"]) for s in steps])
    x_of = {lane: GUTTER + i * LANE_W + LANE_W // 2 for i, lane in enumerate(lanes)}
    width = GUTTER + LANE_W * max(len(lanes), 1) + 8
    marks = marks or {}
    differs = differs or set()
    y = HEAD_H
    ys: list[int] = []
    for i in range(len(steps)):
        if i in marks:
            y += 18
        ys.append(y + ROW_H // 2)
        y += ROW_H
    if len(steps) in marks:
        y += 18
    height = y + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="swimlane" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{escape(title or "trace")}">',
           f'<defs><marker id="ah-{uid}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
           'fill="context-stroke"/></marker></defs>']
    for lane in lanes:
        x = x_of[lane]
        out.append(f'<line class="lifeline" x1="{x}" y1="{HEAD_H - 6}" x2="{x}" '
                   f'y2="{height - 8}"/>')
        out.append(f'<g class="lane-head"><rect x="{x - LANE_W // 2 + 6}" y="6" '
                   f'width="{LANE_W - 12}" height="26" rx="4"/><text x="{x}" y="23" '
                   f'text-anchor="middle">{escape(_cut(lane, 24))}</text>'
                   f'<title>{escape(lane)}</title></g>')
    for i in sorted(marks):
        # a mark sits in the 18 px gap above step i (below the last step when i is its count)
        my = ys[i] - ROW_H // 2 - 9 if i < len(steps) else y - 9
        out.append(f'<g class="mark"><line x1="{GUTTER - 30}" y1="{my}" x2="{width}" '
                   f'y2="{my}"/><text x="{GUTTER}" y="{my - 3}">'
                   f'{escape(_cut(marks[i], 110))}</text><title>{escape(marks[i])}</title>'
                   f'</g>')
    for i, st in enumerate(steps):
        kind = step_kind(st)
        cls = ["step", f"k-{kind}"]
        if kind in FAULT_KINDS:
            cls.append("fault")
        if str(st.get("outcome") or "").startswith("refused"):
            cls.append("refused")
        if i in differs:
            cls.append("differs")
        x = x_of.get(str(st["actor"]), GUTTER + LANE_W // 2)
        yy = ys[i]
        n = st.get("n", i + 1)
        full = f"{n}. {st.get('actor')}: {st.get('action')}"
        if st.get("rows"):
            full += "\n" + "\n".join(st["rows"])
        out.append(f'<g class="{" ".join(cls)}" data-step="{i + 1}" tabindex="-1">'
                   f'<rect class="band" x="0" y="{yy - ROW_H // 2}" width="{width}" '
                   f'height="{ROW_H}"/>'
                   f'<text class="num" x="{GUTTER - 6}" y="{yy + 4}" text-anchor="end">{n}</text>'
                   f'<rect class="box" x="{x - LANE_W // 2 + 8}" y="{yy - 10}" '
                   f'width="{LANE_W - 16}" height="20" rx="3"/>'
                   f'<text class="label" x="{x}" y="{yy + 4}" text-anchor="middle">'
                   f'{escape(_cut(short_label(st)))}</text><title>{escape(full)}</title></g>')
    for sender, receiver, method, mk, fate in arrows(initial, steps):
        if sender is None and receiver is None:
            continue
        sx = x_of.get(str(steps[sender]["actor"]), GUTTER) if sender is not None else GUTTER
        sy = ys[sender] + 6 if sender is not None else HEAD_H
        if receiver is None:
            # still in flight at the end: a stub pointing down
            out.append(f'<g class="msg inflight"><line x1="{sx}" y1="{sy}" x2="{sx + 30}" '
                       f'y2="{height - 12}" marker-end="url(#ah-{uid})"/><text x="{sx + 34}" '
                       f'y="{height - 14}">{escape(method)} (in flight)</text></g>')
            continue
        target = str(steps[receiver]["actor"])
        rx = x_of.get(target, sx)
        ry = ys[receiver] - 4
        half = LANE_W // 2 - 8
        if abs(rx - sx) < 4:
            rx = sx + 1  # a message to oneself still shows as a line
        elif sender is not None:
            # from the side of the sender's box to the side of the receiver's
            d = 1 if rx > sx else -1
            sx, rx = sx + d * half, rx - d * half
            sy = ys[sender] + 2
        lost = fate == "lost"
        mcls = f"msg {mk}{' lost' if lost else ''}"
        anchor = "start" if rx >= sx else "end"
        lx = sx + (6 if rx >= sx else -6)
        out.append(f'<g class="{mcls}" data-from="{(sender if sender is not None else -1) + 1}" '
                   f'data-to="{receiver + 1}">'
                   f'<line x1="{sx}" y1="{sy}" x2="{rx}" y2="{ry}" marker-end="url(#ah-{uid})"/>'
                   f'<text x="{lx}" y="{sy + 11}" text-anchor="{anchor}">'
                   f'{escape(_cut(method, 22))}{" ✗" if lost else ""}</text>'
                   f'<title>{escape(f"{mk} {method}: {fate}")}</title></g>')
    out.append("</svg>")
    return "".join(out)


__all__ = ["actor_from_text", "arrows", "lane_order", "short_label", "step_kind",
           "swimlane_svg"]
