"""What ``nova list`` would show for a world."""

from __future__ import annotations

from nova_resize.spec.states import POWER_STATE_NAMES, api_status

from .world import World

COLUMNS = ("Name", "Status", "Task State", "Power State", "Host")


def list_rows(w: World) -> list[tuple[str, str, str, str, str]]:
    """One row per instance not yet destroyed: Name, Status, Task State, Power State, Host."""
    out = []
    for inst in w.instances:
        if inst.deleted:
            continue
        out.append(
            (
                inst.name,
                api_status(inst.vm_state, inst.task_state),
                inst.task_state or "-",
                POWER_STATE_NAMES.get(inst.power_state, str(inst.power_state)),
                inst.host or "-",
            )
        )
    return out


def nova_list(w: World) -> str:
    """A ``nova list`` table."""
    rows = [COLUMNS, *list_rows(w)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    sep = "+" + "+".join("-" * (n + 2) for n in widths) + "+"
    lines = [sep]
    for j, r in enumerate(rows):
        lines.append("| " + " | ".join(c.ljust(widths[i]) for i, c in enumerate(r)) + " |")
        if j == 0:
            lines.append(sep)
    lines.append(sep)
    return "\n".join(lines)
