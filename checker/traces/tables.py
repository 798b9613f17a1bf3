"""The tables python-novaclient prints (``utils.print_list`` / ``print_dict``, prettytable), as
pasted by operators: with shell prompts, command echoes and prose around them, no-break spaces,
borders run into the prompt line or into each other, and cells wrapped onto continuation rows.

:func:`parse_tables` finds every table; :func:`nova_list_rows`, :func:`nova_show` and
:func:`migration_rows` read the three kinds the traces use (``nova list``, ``nova show``,
``nova migration-list``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nova_resize.errors import ObservationError

_BORDER = re.compile(r"\+(?:[-=]+\+)+")
NOVA_LIST_COLUMNS = frozenset({"ID", "Name", "Status", "Task State", "Power State", "Networks"})
MIGRATION_COLUMNS = frozenset({"Source Compute", "Dest Compute", "Status", "Instance UUID"})


@dataclass
class Table:
    """One printed table: its header cells, the line of the header, and its rows (line, cells
    by column) with wrapped cells already joined."""

    header: list[str]
    line: int
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """``nova-list``, ``nova-show``, ``migration-list`` or ``other``."""
        cols = set(self.header)
        if cols >= MIGRATION_COLUMNS:
            return "migration-list"
        if len(cols & NOVA_LIST_COLUMNS) >= 2:
            return "nova-list"
        if self.header[:2] == ["Property", "Value"]:
            return "nova-show"
        return "other"


def _join(prev: str, more: str) -> str:
    glue = "" if prev.endswith(("_", "-")) or not prev else " "
    return (prev + glue + more).strip()


def parse_tables(text: str, name: str) -> list[Table]:
    """Every table of a paste, in order. A line that is not part of a table ends the table
    before it; a row whose first cell is empty continues the row before it (prettytable wraps
    long cells that way)."""
    tables: list[Table] = []
    cur: Table | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = _BORDER.sub("\n", raw.replace("\xa0", " "))
        for part in line.split("\n"):
            part = part.strip()
            if not part.startswith("|"):
                if part:
                    cur = None  # prose, a prompt, a command echo: the table ended
                continue
            cells = [c.strip() for c in part.strip().strip("|").split("|")]
            if cur is None or cells == cur.header:
                cur = Table(cells, lineno)
                tables.append(cur)
                continue
            if len(cells) != len(cur.header):
                raise ObservationError(f"{name}:{lineno}: {len(cells)} cells, the header on line "
                                       f"{cur.line} has {len(cur.header)}")
            row = dict(zip(cur.header, cells, strict=True))
            if not cells[0] and cur.rows and not (cur.kind == "nova-list" and (
                    row.get("ID") or row.get("Name"))):
                prev = cur.rows[-1][1]
                for k, v in row.items():
                    if v:
                        prev[k] = _join(prev.get(k, ""), v)
                continue
            cur.rows.append((lineno, row))
    return tables


def nova_list_rows(table: Table, name: str) -> list[tuple[int, dict[str, str]]]:
    """The rows of a ``nova list`` table (checked for the columns the traces need)."""
    missing = [c for c in ("Status", "Task State") if c not in table.header]
    if "Name" not in table.header and "ID" not in table.header:
        missing.append("Name or ID")
    if missing:
        raise ObservationError(f"{name}:{table.line}: nova list table without a "
                               f"{' / '.join(missing)} column")
    return table.rows


def nova_show(table: Table) -> dict[str, str]:
    """A ``nova show`` table as property -> value."""
    return {row["Property"]: row["Value"] for _, row in table.rows}


def migration_rows(table: Table) -> list[dict[str, str]]:
    """The rows of a ``nova migration-list`` table, keyed as the os-migrations API keys them
    (``source_compute``, ``status``, ``instance_uuid``, ``created_at``...)."""
    out = []
    for _, row in table.rows:
        out.append({k.lower().replace(" ", "_"): v for k, v in row.items()})
    return out


__all__ = ["Table", "migration_rows", "nova_list_rows", "nova_show", "parse_tables"]
