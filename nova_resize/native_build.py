"""Compile the engine's hot modules with mypyc (``make native``).

    python -m nova_resize.native_build [--out DIR] [--auto] [--quiet]

Copies the package's sources into a temporary tree under their import names, runs mypyc on
:data:`nova_resize.native.MODULES`, and installs the extensions into ``DIR`` (default:
:func:`nova_resize.native.native_dir`): one small module per compiled engine module in
``DIR/engine``, the shared library they load in ``DIR/lib``, and ``DIR/stamp.json`` with the
sources' digest. The engine uses the build from then on, and ignores it as soon as a source
changes (:mod:`nova_resize.native`).

Exit status: 0 built; 2 no C compiler or no mypyc (one line saying which; the engine stays pure
Python, which is not an error anywhere else); 3 the build failed (mypyc's or the compiler's
output follows). With ``--auto`` (``make check``) a build that is current is kept, and a build
that cannot be made is one line on stderr and exit 0: the Python sources run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from nova_resize import native

SOURCES = ("spec", "engine", "checker")
"""Source folders the compiled modules import (mypy reads them to type the code)."""


def _package_dirs() -> dict[str, Path]:
    """Where each part of the package lives (a development install maps them to spec/,
    engine/ beside nova_resize/)."""
    import nova_resize.checker
    import nova_resize.engine
    import nova_resize.spec

    return {"nova_resize": Path(native.__file__).resolve().parent,
            "spec": Path(nova_resize.spec.__path__[-1]),
            "engine": Path(nova_resize.engine.__path__[-1]),
            "checker": Path(nova_resize.checker.__path__[-1])}


def missing() -> str | None:
    """What the build needs and this machine lacks (None: nothing)."""
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    if not shutil.which(str(cc).split()[0]):
        return f"no C compiler ({cc})"
    try:
        import mypyc  # noqa: F401
        import setuptools  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed (pip install mypy setuptools)"
    include = sysconfig.get_paths().get("include")
    if not include or not (Path(include) / "Python.h").exists():
        return f"no Python headers ({include}/Python.h)"
    return None


def _tree(tmp: Path, dirs: dict[str, Path]) -> Path:
    """The sources under their import names: tmp/nova_resize/{*.py, spec/, engine/}."""
    pkg = tmp / "nova_resize"
    pkg.mkdir()
    for f in dirs["nova_resize"].glob("*.py"):
        shutil.copy(f, pkg / f.name)
    shutil.copy(dirs["nova_resize"] / "py.typed", pkg / "py.typed")
    for part in SOURCES:
        shutil.copytree(dirs[part], pkg / part,
                        ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.pyc"))
    return pkg


def build(out: Path, quiet: bool = False) -> int:
    why = missing()
    if why is not None:
        print(f"native_build: {why}: the engine stays pure Python", file=sys.stderr)
        return 2
    dirs = _package_dirs()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="nova-resize-native-") as t:
        tmp = Path(t)
        pkg = _tree(tmp, dirs)
        files = [f"nova_resize/{rel}/{m}.py" for rel, names in native.COMPILED.items()
                 for m in names]
        if not quiet:
            print(f"compiling {len(files)} modules with mypyc (about half a minute) ...",
                  flush=True)
        env = {**os.environ, "MYPYC_OPT_LEVEL": os.environ.get("MYPYC_OPT_LEVEL", "3")}
        proc = subprocess.run([sys.executable, "-m", "mypyc", *files], cwd=tmp, env=env,
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            print(f"native_build: mypyc failed (exit {proc.returncode}); the engine stays "
                  f"pure Python", file=sys.stderr)
            return 3
        suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
        shared = [p for p in tmp.glob(f"*__mypyc{suffix}")]
        shims = [(rel, pkg / rel / f"{m}{suffix}") for rel, names in native.COMPILED.items()
                 for m in names]
        if len(shared) != 1 or not all(p.exists() for _, p in shims):
            print(f"native_build: mypyc left no shared library or module extensions in {tmp}",
                  file=sys.stderr)
            return 3
        staged = out.with_name(out.name + ".new")
        shutil.rmtree(staged, ignore_errors=True)
        (staged / "lib").mkdir(parents=True)
        for rel, p in shims:
            (staged / rel).mkdir(parents=True, exist_ok=True)
            shutil.copy(p, staged / rel / p.name)
        shutil.copy(shared[0], staged / "lib" / shared[0].name)
        stamp = {"digest": native.sources_digest(pkg / "engine"),
                 "interpreter": native.interpreter(),
                 "shared": shared[0].name[:-len(suffix)],
                 "modules": [f"{rel}/{m}" for rel, names in native.COMPILED.items()
                             for m in names]}
        (staged / native.STAMP).write_text(json.dumps(stamp, indent=1) + "\n")
        shutil.rmtree(out, ignore_errors=True)
        staged.rename(out)
    if not quiet:
        print(f"built {len(shims)} compiled modules into {out} in "
              f"{time.monotonic() - t0:.0f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m nova_resize.native_build",
                                 description="Compile the engine's hot modules with mypyc.")
    ap.add_argument("--out", type=Path, default=None,
                    help="where to put the build (default: .native beside the package)")
    ap.add_argument("--auto", action="store_true",
                    help="keep a current build; when none can be made, say so and exit 0")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)
    out = args.out or native.native_dir()
    if args.auto and native.check(_package_dirs()["engine"], out) is None:
        return 0
    try:
        code = build(out, args.quiet)
    except OSError as e:
        print(f"native_build: {e}", file=sys.stderr)
        code = 2
    return 0 if args.auto else code


if __name__ == "__main__":
    sys.exit(main())
