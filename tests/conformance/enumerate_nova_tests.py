"""List the nova 12.0.0 tests the conformance suite was built from (issue 17, part 1).

Reads the test files straight out of a git directory holding nova's history (no work tree is
needed) and prints one line per test function whose name matches ``resize|migrat|confirm|revert``
(or, for soft delete, ``soft_delete|delete_soft|restore|reclaim|deferred_delete``),
as ``path::Class::test_name``. A test defined in a mix-in is listed once, under the first concrete
class of its module that runs it; a definition every such class overrides is not listed.
``nova/tests/unit/conductor/tasks/test_migrate.py`` and ``nova/tests/unit/test_notifications.py``
are listed whole (their names do not say resize, but the first is the cold-migration task and the
second the state-change notifications), and files under ``nova/tests/functional/`` are included
when a test name matches.

    python tests/conformance/enumerate_nova_tests.py [--git-dir DIR] [--tag 12.0.0] [--counts]

Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import warnings
from collections import Counter
from collections.abc import Callable

DEFAULT_GIT_DIR = "/work/.mirror/openstack+nova/repo"
NAME_PATTERN = re.compile(
    r"resize|migrat|confirm|revert"
    # soft delete, restore and the reclaim (issue 12)
    r"|soft_delete|delete_soft|restore|reclaim|deferred_delete",
    re.IGNORECASE,
)
FILES_BY_NAME: tuple[str, ...] = (
    "nova/tests/unit/compute/test_compute.py",
    "nova/tests/unit/compute/test_compute_mgr.py",
    "nova/tests/unit/compute/test_compute_api.py",
    "nova/tests/unit/compute/test_tracker.py",
    "nova/tests/unit/compute/test_resource_tracker.py",
    "nova/tests/unit/conductor/test_conductor.py",
)
FILES_WHOLE: tuple[str, ...] = (
    "nova/tests/unit/conductor/tasks/test_migrate.py",
    "nova/tests/unit/test_notifications.py",
)
FUNCTIONAL_DIR = "nova/tests/functional/"


def git(git_dir: str, *args: str) -> str:
    """Run git against ``git_dir`` and return its standard output."""
    out = subprocess.run(["git", "-C", git_dir, *args], check=True, capture_output=True,
                         text=True)
    return out.stdout


def _base_names(cls: ast.ClassDef) -> list[str]:
    names = []
    for b in cls.bases:
        if isinstance(b, ast.Name):
            names.append(b.id)
        elif isinstance(b, ast.Attribute):
            names.append(b.attr)
    return names


def tests_in(source: str, match_all: bool) -> list[tuple[str, str, list[str]]]:
    """(class that runs it, test name, other classes that run it too) for every matching test
    function defined in one module: one entry per definition. A definition in a mix-in (a class
    whose name starts with an underscore, or with no base but object) is attributed to the first
    concrete class of the module that inherits it."""
    with warnings.catch_warnings():  # nova's Python 2 sources have invalid escapes
        warnings.simplefilter("ignore")
        tree = ast.parse(source)
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    by_name = {c.name: c for c in classes}

    def ancestors(name: str) -> list[str]:
        out: list[str] = []
        for base in _base_names(by_name[name]):
            if base in by_name and base not in out:
                out += [base, *(a for a in ancestors(base) if a not in out)]
        return out

    def concrete(c: ast.ClassDef) -> bool:
        return not c.name.startswith("_") and _base_names(c) not in ([], ["object"])

    out = []
    for cls in classes:
        for f in cls.body:
            if not isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if not f.name.startswith("test") or not (match_all or NAME_PATTERN.search(f.name)):
                continue
            runners = [c.name for c in classes if concrete(c)
                       and (c.name == cls.name or cls.name in ancestors(c.name))
                       and not _overridden(c.name, cls.name, f.name, by_name, ancestors)]
            if not runners:
                continue
            out.append((runners[0], f.name, runners[1:]))
    return out


def _overridden(runner: str, definer: str, test: str, by_name: dict[str, ast.ClassDef],
                ancestors: Callable[[str], list[str]]) -> bool:
    """Whether ``runner`` gets ``test`` from a class nearer than ``definer`` (approximate MRO)."""
    for name in [runner, *ancestors(runner)]:
        if name == definer:
            return False
        if any(isinstance(f, ast.FunctionDef) and f.name == test for f in by_name[name].body):
            return True
    return False


def enumerate_tests(git_dir: str, tag: str) -> list[str]:
    files = [(f, False) for f in FILES_BY_NAME] + [(f, True) for f in FILES_WHOLE]
    listing = git(git_dir, "ls-tree", "-r", "--name-only", tag, FUNCTIONAL_DIR).split()
    files += [(f, False) for f in listing
              if f.endswith(".py") and f.rsplit("/", 1)[-1].startswith("test_")]
    ids = []
    for path, whole in files:
        source = git(git_dir, "show", f"{tag}:{path}")
        for cls, test, _also in tests_in(source, whole):
            ids.append(f"{path}::{cls}::{test}")
    return ids


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--git-dir", default=DEFAULT_GIT_DIR)
    p.add_argument("--tag", default="12.0.0")
    p.add_argument("--counts", action="store_true", help="print per-file counts instead")
    a = p.parse_args(argv)
    ids = enumerate_tests(a.git_dir, a.tag)
    if a.counts:
        for path, n in Counter(i.split("::")[0] for i in ids).items():
            print(f"{n:4d} {path}")
        print(f"{len(ids):4d} total")
    else:
        print("\n".join(ids))
    return 0


if __name__ == "__main__":
    sys.exit(main())
