"""The engine's hot modules compiled with mypyc, used when a current build exists.

``make native`` (``python -m nova_resize.native_build``) compiles :data:`COMPILED` (the
engine's step function and the checker's property predicates) into C extensions under
``.native/`` beside the package (or the directory ``NOVA_RESIZE_NATIVE_DIR`` names) and records
a digest of their sources. When the engine package is imported, :func:`activate` puts the build
in front of the package's own path, so that those modules load compiled (and the properties
package does the same through :func:`activate_part` once the engine's is active), only if

- the process asked for it: the ``nova-resize`` command line does (it sets :data:`WANTED`
  before it imports the engine), a library user sets ``NOVA_RESIZE_NATIVE=1``. An import of
  the engine as a library runs the sources by default, because compiled classes cannot be
  subclassed or patched and carry no docstrings;
- ``NOVA_RESIZE_PURE`` is not set (the test suite sets it: its tests patch engine functions,
  which a compiled module binds early),
- the recorded digest equals the sources' digest now (a build older than an edit is never
  used: the edited Python runs), and the build is for this interpreter,
- its shared library loads.

Otherwise everything is the pure Python it always was. Nothing needs a compiler: the build is
optional, and a compiled module behaves as its source does (``tests/test_native.py`` compares
the two searches). :data:`STATUS` says which one runs and why.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from pathlib import Path

MODULES: tuple[str, ...] = ("tx", "handlers", "effects", "refs", "core", "resources", "quota",
                            "notify", "tables", "compiled", "symmetry")
"""The engine modules compiled: the step function and what it calls on every step."""

PROPERTIES = "checker/explicit/properties"
COMPILED: dict[str, tuple[str, ...]] = {
    "engine": MODULES,
    # the predicates, not the package's __init__ or the Context the Nova model subclasses
    PROPERTIES: ("answers", "claims", "deletion", "errors", "guest", "instance", "liveness",
                 "migration", "notifications", "quota", "scheduling", "tracker", "updates",
                 "verify", "where"),
}
"""Every compiled module, by its folder relative to the package root (one build, one digest:
compiled modules of one build call each other directly, so they are used all or none)."""

ACTIVE: Path | None = None
"""The build in use once :func:`activate` accepted it."""

WANTED = False
"""Set by the command line before it imports the engine: use a current build."""

STAMP = "stamp.json"
STATUS = "pure Python (not activated)"
"""Which engine runs: ``compiled (mypyc)`` or ``pure Python (<why>)``."""


def native_dir() -> Path:
    """Where the build lives: ``NOVA_RESIZE_NATIVE_DIR``, else ``.native`` beside the package
    directory (the repository's root in a development install)."""
    given = os.environ.get("NOVA_RESIZE_NATIVE_DIR")
    if given:
        return Path(given)
    return Path(__file__).resolve().parent.parent / ".native"


def interpreter() -> str:
    """The interpreter a build is for (its extensions load in no other)."""
    return f"{sys.implementation.cache_tag}-{sys.platform}-{sys.maxsize.bit_length() + 1}"


def sources_digest(engine_dir: Path) -> str:
    """The digest of the compiled modules' sources as they are now (``engine_dir``: the
    engine's folder; the others are found beside it, as both a development install and a
    wheel lay them out)."""
    root = engine_dir.parent
    h = hashlib.sha256()
    for rel, names in COMPILED.items():
        for name in names:
            h.update(f"{rel}/{name}".encode())
            h.update((root / rel / f"{name}.py").read_bytes())
    return h.hexdigest()


def check(engine_dir: Path, where: Path) -> str | None:
    """Why the build in ``where`` cannot serve the sources in ``engine_dir`` (None: it can)."""
    if os.environ.get("NOVA_RESIZE_PURE"):
        return "NOVA_RESIZE_PURE is set"
    if not (WANTED or os.environ.get("NOVA_RESIZE_NATIVE")):
        return "imported as a library: NOVA_RESIZE_NATIVE=1 uses a compiled build"
    try:
        stamp = json.loads((where / STAMP).read_text())
    except FileNotFoundError:
        return "no compiled build: make native"
    except (OSError, ValueError):
        return f"{where / STAMP} is unreadable: make native"
    if not isinstance(stamp, dict):
        return f"{where / STAMP} is not a build stamp: make native"
    if stamp.get("interpreter") != interpreter():
        return f"the compiled build is for {stamp.get('interpreter')}: make native"
    try:
        digest = sources_digest(engine_dir)
    except OSError:
        return "the engine's sources are not readable beside it"
    if stamp.get("digest") != digest:
        return "the compiled build is older than the sources: make native"
    return None


def activate(package_path: list[str]) -> str:
    """Put a current build in front of the engine package's ``__path__`` (called by the
    package before it imports any of its modules); the status, also kept in :data:`STATUS`."""
    global STATUS, ACTIVE
    if not package_path:
        STATUS = "pure Python (the engine package has no path)"
        return STATUS
    engine_dir = Path(package_path[0])
    where = native_dir()
    why = check(engine_dir, where)
    if why is None:
        lib = str(where / "lib")
        try:
            stamp = json.loads((where / STAMP).read_text())
            if lib not in sys.path:
                sys.path.append(lib)
            importlib.import_module(str(stamp["shared"]))
        except Exception as e:
            why = f"the compiled build does not load ({type(e).__name__}): make native"
    if why is not None:
        STATUS = f"pure Python ({why})"
        return STATUS
    package_path.insert(0, str(where / "engine"))
    ACTIVE = where
    STATUS = "compiled (mypyc)"
    return STATUS


def activate_part(package_path: list[str], rel: str) -> bool:
    """Put the active build's modules of the package at ``rel`` (a key of :data:`COMPILED`)
    in front of its ``__path__``: only when the engine's build was accepted (the package
    imports the engine first)."""
    if ACTIVE is None:
        return False
    package_path.insert(0, str(ACTIVE / rel))
    return True


__all__ = ["ACTIVE", "COMPILED", "MODULES", "PROPERTIES", "STATUS", "WANTED", "activate",
           "activate_part", "check", "interpreter", "native_dir",
           "sources_digest"]
