"""Rendering DOT with pygraphviz's bundled Graphviz, and writing a set of diagrams."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from nova_resize.files import write_atomic


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Keep Graphviz's and fontconfig's warnings out of the user's terminal."""
    fd = 2
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)


def render_bytes(dot: str, fmt: str) -> bytes:
    """The diagram rendered by Graphviz's ``dot`` layout in ``fmt`` (svg, png...)."""
    import pygraphviz as pgv  # imported here: only rendering needs it

    with _quiet_stderr():
        g = pgv.AGraph(string=dot)
        data = g.draw(format=fmt, prog="dot")
    return bytes(data)


def render(dot: str, path: Path, fmt: str) -> None:
    """Write ``dot`` to ``path`` as ``fmt`` (``dot`` writes the source itself)."""
    write_atomic(path, dot if fmt == "dot" else render_bytes(dot, fmt))


def write_diagrams(diagrams: dict[str, str], out: Path, formats: list[str]) -> list[Path]:
    """Write each diagram in each format into ``out`` (created if needed)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, dot in sorted(diagrams.items()):
        for fmt in formats:
            p = out / f"{name}.{fmt}"
            render(dot, p, fmt)
            written.append(p)
    return written


__all__ = ["render", "render_bytes", "write_diagrams"]
