"""Reading users' files and writing ours: one TOML reader, one text reader, atomic writes.

Every reader turns what can go wrong (a missing file, a directory, binary or non-UTF-8 content,
malformed TOML) into an :class:`~nova_resize.errors.InputError` subclass with one line naming
the file. Every writer writes a temporary file beside the target and renames it, so a failed or
interrupted write never leaves a truncated report where a valid one was.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError, InputError, UsageError

MAX_INPUT_BYTES = 256 * 1024 * 1024
"""Files larger than this are refused rather than read into memory."""


def read_text(path: str | Path, error: type[InputError] = ConfigError) -> str:
    """The UTF-8 text of a user's file; ``error`` (an InputError subclass) on any problem."""
    p = Path(path)
    try:
        if p.is_dir():
            raise error(f"{p}: is a directory, expected a file")
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):
            # a pipe would block the read (and a signal with it), a device never end
            raise error(f"{p}: {_kind(st.st_mode)}, expected a regular file")
        size = st.st_size
        if size > MAX_INPUT_BYTES:
            raise error(f"{p}: {size:,} bytes, larger than the {MAX_INPUT_BYTES:,} accepted")
        data = p.read_bytes()
    except OSError as e:
        raise error(f"{p}: cannot read: {e.strerror or e}") from None
    if b"\x00" in data[:8192]:
        raise error(f"{p}: a binary file, expected text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise error(f"{p}: not UTF-8 text (byte {e.start})") from None


def _kind(mode: int) -> str:
    """What a file that is not a regular one is, for an error message."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """Parsed TOML; :class:`ConfigError` naming ``source`` and the position on a syntax error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from None
    except RecursionError:
        raise ConfigError(f"{source}: not valid TOML: nested too deeply") from None


def read_toml(path: str | Path) -> dict[str, Any]:
    """A user's TOML file, parsed."""
    return parse_toml(read_text(path), str(path))


def bundled_text(package: str, name: str) -> str:
    """A data file shipped inside one of the project's packages."""
    return resources.files(package).joinpath(name).read_text(encoding="utf-8")


def check_writable(path: str | Path, what: str = "output") -> None:
    """Fail now, before a long run, if ``path`` cannot be written later: its directory must
    exist and be writable, and the path must not be a directory."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise UsageError(f"{p}: is a directory, expected a file path for the {what}")
    if not parent.is_dir():
        raise UsageError(f"{p}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"{p}: directory {parent} is not writable")


def check_output_dir(path: str | Path) -> None:
    """Fail now if ``path`` cannot be used as an output directory (it may not exist yet)."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise UsageError(f"{p}: exists and is not a directory")
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK):
        raise UsageError(f"{p}: cannot create or write in {probe}")


def write_atomic(path: str | Path, data: str | bytes, sync: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename; with ``sync``, the
    file and the rename are flushed to the disk (a checkpoint that must survive a crash)."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    except OSError as e:
        raise UsageError(f"{p}: cannot write: {e.strerror or e}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        # mkstemp makes the file private (0600): give it the mode a plain write would have
        try:
            mode = p.stat().st_mode & 0o777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, p)
        if sync:
            _sync_dir(parent)
    except OSError as e:
        _unlink(tmp)
        raise UsageError(f"{p}: cannot write: {e.strerror or e}") from None
    except BaseException:
        _unlink(tmp)
        raise


def _sync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def json_text(doc: Any, levels: int = 2) -> str:
    """``doc`` as JSON text whose first ``levels`` levels of objects and arrays are laid out one
    member per line, and everything deeper on the member's line: json's C encoder writes those
    lines, while an indented dump runs its pure-Python encoder over every value (seconds for a
    report with hundreds of traces). The same JSON value as ``json.dumps(doc, indent=2)``."""
    return _layout(doc, levels, 0)


def _layout(v: Any, levels: int, level: int) -> str:
    if level < levels and v and isinstance(v, (dict, list)):
        pad = "  " * (level + 1)
        if isinstance(v, dict):
            items = [f"{pad}{json.dumps(str(k))}: {_layout(x, levels, level + 1)}"
                     for k, x in v.items()]
            return "{\n" + ",\n".join(items) + "\n" + "  " * level + "}"
        items = [pad + _layout(x, levels, level + 1) for x in v]
        return "[\n" + ",\n".join(items) + "\n" + "  " * level + "]"
    return json.dumps(v)


__all__ = [
    "MAX_INPUT_BYTES",
    "bundled_text",
    "check_output_dir",
    "check_writable",
    "json_text",
    "parse_toml",
    "read_text",
    "read_toml",
    "write_atomic",
]
