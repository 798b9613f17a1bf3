"""Benchmark: mutation testing of the engine's Python with cosmic-ray.

    python bench/bench_mutation.py [--sample N] [--seed S] [--modules effects refs ...]
                                   [--workers W] [--named] [--json FILE] [--keep] [--quiet]

cosmic-ray enumerates the mutants of each engine module (engine/<name>.py; the modules are
listed in bench/mutation.toml) and applies them one at a time; ``--sample N`` picks N of each
module's mutants at random (``--seed``). Each mutant is judged by the test suite less the tests
mutation.toml deselects (snapshot comparisons with committed files): killed when a test fails,
survived when every test passes, timeout when the tests run past three times their clean time.

The run works on a copy of the checkout under /tmp laid out as a normal package (nova_resize/
with spec, engine and checker linked in, as the project's package-dir maps them), so the
checkout is never touched. One clean run of the suite under coverage, each test in its own
coverage context, tells which tests execute each line: a mutant runs only the tests that
execute its lines (all of them for a line that runs at import), the fastest first, stopping at
the first failure. A mutant on a line no test executes survives without a run.

Prints per module: mutants, killed, survived, timeout and the kill rate (killed and timed out
over all), then each survivor (module:line, operator, the line before and after). ``--named``
runs instead the hand-made mutations of mutation.toml's [[named]] tables against the whole
suite and names every test that kills each. Needs ``pip install -e '.[mutation]'``.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONFIG = Path(__file__).resolve().with_name("mutation.toml")
PACKAGES = ("spec", "engine", "checker")

CONTEXT_PLUGIN = '''\
"""Written by bench/bench_mutation.py: one coverage context per test, and each test's time."""
import json
import os
import time

import coverage
import pytest

_times = {}
_failed = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    cov = coverage.Coverage.current()
    if cov is not None:
        cov.switch_context(item.nodeid)
    t0 = time.monotonic()
    yield
    _times[item.nodeid] = time.monotonic() - t0
    if cov is not None:
        cov.switch_context("")


def pytest_runtest_logreport(report):
    if report.failed:
        _failed.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    with open(os.environ["MUTATION_TIMES"], "w") as f:
        json.dump({"times": _times, "failed": _failed}, f)
'''


@dataclass
class Mutant:
    module: str  # engine/effects.py
    operator: str
    occurrence: int
    line: int
    before: str = ""
    after: str = ""
    outcome: str = ""  # killed | survived | timeout | not run (no test executes the line)
    killer: str = ""
    tests: int = 0
    seconds: float = 0.0


@dataclass
class Named:
    name: str
    file: str
    outcome: str = ""
    killers: list[str] = field(default_factory=list)
    seconds: float = 0.0


# ---- the copy -------------------------------------------------------------------------------


def make_copy(dest: Path) -> Path:
    """The checkout's files (tracked and untracked, not ignored) under ``dest``, with
    nova_resize/{spec,engine,checker} linked to the copied folders."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, check=True, capture_output=True).stdout.decode()
    for rel in filter(None, out.split("\0")):
        src = ROOT / rel
        if not src.is_file():
            continue  # deleted in the work tree
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    for pkg in PACKAGES:
        link = dest / "nova_resize" / pkg
        if not link.exists():
            link.symlink_to(Path("..") / pkg, target_is_directory=True)
    # a repository of its own, for the tests that ask git which files the project has
    subprocess.run(["git", "init", "-q"], cwd=dest, check=True)
    subprocess.run(["git", "add", "-A"], cwd=dest, check=True)
    (dest / "_mutation_context.py").write_text(CONTEXT_PLUGIN)
    return dest


def env_for(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant of the same size and second must not
    env.pop("PYTEST_ADDOPTS", None)       # reuse the original's bytecode
    return env


def check_copy_imports(copy: Path) -> None:
    out = subprocess.run([sys.executable, "-c", "import nova_resize.engine.effects as e; "
                          "print(e.__file__)"], cwd=copy, env=env_for(copy), check=True,
                         capture_output=True, text=True).stdout.strip()
    if not Path(out).resolve().is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy under {copy} does not shadow the installed package: "
                         f"nova_resize.engine imports from {out}")


def pytest_args(cfg: dict[str, Any]) -> list[str]:
    args = ["-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-rfE"]
    for d in cfg.get("deselect", []):
        args += ["--deselect", d]
    return args


# ---- which tests run which lines --------------------------------------------------------------


def digests(copy: Path) -> dict[str, str]:
    """A digest of each of the copy's Python files and configurations (what the clean run
    depends on), by path."""
    out = {}
    for p in sorted(copy.rglob("*")):
        rel = p.relative_to(copy)
        if p.is_file() and not p.is_symlink() and p.suffix in (".py", ".toml") \
                and rel.parts[0] not in (".git", "bench") and not p.name.startswith(".mutation"):
            out[rel.as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def fingerprint(copy: Path) -> str:
    return hashlib.sha256(json.dumps(digests(copy), sort_keys=True).encode()).hexdigest()


def _changed_test_files(old: dict[str, str], new: dict[str, str]) -> list[str] | None:
    """The test modules added or changed since ``old``, when nothing else changed (None
    otherwise: the whole clean run is needed)."""
    changed = {f for f in set(old) | set(new) if old.get(f) != new.get(f)}
    tests = [f for f in changed if f.startswith("tests/test_") and f in new]
    if changed - set(tests):
        return None
    return sorted(tests)


def cached_coverage_map(copy: Path, cfg: dict[str, Any], quiet: bool, cache: Path | None
                        ) -> tuple[dict[str, dict[int, set[str]]], dict[str, float]]:
    """:func:`coverage_map`, kept in ``cache``: reused while no file changes, and completed
    with a run of the changed test modules alone when only test modules changed."""
    files = digests(copy)
    # the tests left out change which tests ran each line: part of the key
    files["--deselect"] = json.dumps(sorted(cfg.get("deselect", [])))
    digest = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    if cache is not None and cache.exists():
        data = json.loads(cache.read_text())
        lines = {f: {int(n): set(c) for n, c in by.items()} for f, by in data["lines"].items()}
        times = data["times"]
        if data.get("fingerprint") == digest:
            if not quiet:
                print(f"coverage of the clean run read from {cache}", flush=True)
            return lines, times
        redo = _changed_test_files(data.get("files", {}), files)
        if redo:
            if not quiet:
                print(f"coverage of the clean run read from {cache}; the changed test modules "
                      f"run again: {', '.join(redo)}", flush=True)
            new_lines, new_times = coverage_map(copy, cfg, quiet, redo)
            gone = {t for t in times if t.split("::")[0] in redo}
            times = {t: v for t, v in times.items() if t not in gone} | new_times
            for f in set(lines) | set(new_lines):
                by = lines.setdefault(f, {})
                for n in set(by) | set(new_lines.get(f, {})):
                    by[n] = (by.get(n, set()) - gone) | new_lines.get(f, {}).get(n, set())
            _save(cache, digest, files, lines, times)
            return lines, times
    lines, times = coverage_map(copy, cfg, quiet)
    if cache is not None:
        _save(cache, digest, files, lines, times)
    return lines, times


def _save(cache: Path, digest: str, files: dict[str, str],
          lines: dict[str, dict[int, set[str]]], times: dict[str, float]) -> None:
    cache.write_text(json.dumps({
        "fingerprint": digest, "files": files, "times": times,
        "lines": {f: {str(n): sorted(c) for n, c in by.items()} for f, by in lines.items()},
    }))


def coverage_map(copy: Path, cfg: dict[str, Any], quiet: bool, tests: list[str] | None = None
                 ) -> tuple[dict[str, dict[int, set[str]]], dict[str, float]]:
    """For each engine file (engine/<name>.py), each line's tests; and each test's seconds.
    Tests that fail without any mutant are left out (said so)."""
    times_file = copy / ".mutation-times.json"
    data_file = copy / ".mutation-coverage"
    env = env_for(copy)
    env["MUTATION_TIMES"] = str(times_file)
    cmd = [sys.executable, "-m", "coverage", "run", f"--data-file={data_file}",
           "--include=*/engine/*", "-m", "pytest", "-p", "_mutation_context",
           *pytest_args(cfg), *(tests or ["tests"])]
    if not quiet:
        print("clean run of the suite under coverage (one context per test) ...", flush=True)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=copy, env=env, capture_output=True, text=True)
    if not times_file.exists():
        raise SystemExit(f"the clean run ended {proc.returncode}:\n{proc.stdout[-3000:]}")
    info = json.loads(times_file.read_text())
    failing = set(info["failed"])
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not failing):
        raise SystemExit(f"the clean run ended {proc.returncode}:\n{proc.stdout[-3000:]}")
    if not quiet:
        print(f"  {len(info['times'])} tests, {time.monotonic() - t0:.0f}s", flush=True)
        for t in sorted(failing):
            print(f"  left out, it fails without any mutant: {t}", flush=True)
    times = {t: v for t, v in info["times"].items() if t not in failing}

    from coverage import CoverageData

    cov = CoverageData(basename=str(data_file))
    cov.read()
    lines: dict[str, dict[int, set[str]]] = {}
    for measured in cov.measured_files():
        real = Path(measured).resolve()
        try:
            rel = real.relative_to(copy.resolve()).as_posix()
        except ValueError:
            continue
        by_line = cov.contexts_by_lineno(measured)
        lines[rel] = {n: set(ctx) - failing for n, ctx in by_line.items()}
    return lines, times


def tests_for(m: Mutant, end_line: int, lines: dict[str, dict[int, set[str]]],
              times: dict[str, float]) -> list[str]:
    """The tests that execute the mutant's lines, the fastest first; every test when one of
    the lines runs at import (outside any test)."""
    by_line = lines.get(m.module, {})
    found: set[str] = set()
    at_import = False
    for n in range(m.line, end_line + 1):
        ctx = by_line.get(n, set())
        if "" in ctx:
            at_import = True
        found |= {c for c in ctx if c}
    if at_import:
        found = set(times)
    found &= set(times)  # not the tests left out (failing, or slower than max_test_seconds)
    return sorted(found, key=lambda t: (times.get(t, 0.0), t))


# ---- the mutants ------------------------------------------------------------------------------


def annotation_spans(path: Path) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The (start, end) positions of the type annotations: with ``from __future__ import
    annotations`` they are never evaluated, so a mutant inside one is equivalent by
    construction."""
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        ann = None
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            ann = node.returns
        elif isinstance(node, ast.arg):
            ann = node.annotation
        elif isinstance(node, ast.AnnAssign):
            ann = node.annotation
        if ann is not None and ann.end_lineno is not None and ann.end_col_offset is not None:
            out.append(((ann.lineno, ann.col_offset), (ann.end_lineno, ann.end_col_offset)))
    return out


def _annotation_operator(spans: list[tuple[tuple[int, int], tuple[int, int]]], spec: Any
                         ) -> bool:
    """Whether a mutant lies inside an annotation (``X | None``)."""
    pos = tuple(spec.start_pos)
    return any(start <= pos < end for start, end in spans)


def enumerate_mutants(copy: Path, modules: list[str], skip: list[str]
                      ) -> tuple[list[tuple[Mutant, int]], Any]:
    from cosmic_ray.commands.init import _all_work_items

    out = []
    for name in modules:
        path = copy / "engine" / f"{name}.py"
        future = "from __future__ import annotations" in path.read_text()
        annotated = annotation_spans(path) if future else []
        for item in _all_work_items([path], {}):
            spec = item.mutations[0]
            op = spec.operator_name
            if any(op.split("/", 1)[1].startswith(s) for s in skip):
                continue
            m = Mutant(f"engine/{name}.py", op, spec.occurrence, spec.start_pos[0])
            if _annotation_operator(annotated, spec):
                m.outcome = "equivalent"
            out.append((m, spec.end_pos[0]))
    return out, None


def describe(copy: Path, m: Mutant) -> None:
    """The mutated line, before and after."""
    import cosmic_ray.plugins
    from cosmic_ray.mutating import mutate_code

    code = (copy / m.module).read_text()
    operator = cosmic_ray.plugins.get_operator(m.operator)()
    mutated = mutate_code(code, operator, m.occurrence)
    if mutated is None:
        return
    a, b = code.splitlines(), mutated.splitlines()
    i = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), m.line - 1)
    m.before = a[i].strip() if i < len(a) else ""
    m.after = b[i].strip() if i < len(b) else ""


def run_tests(copy: Path, cfg: dict[str, Any], tests: list[str], stop_first: bool,
              timeout: float) -> tuple[str, list[str], float]:
    """Run ``tests`` in ``copy``: (outcome, failing tests, seconds)."""
    cmd = [sys.executable, "-m", "pytest", *pytest_args(cfg)]
    if stop_first:
        cmd.append("-x")
    cmd += tests
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=copy, env=env_for(copy), capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", [], time.monotonic() - t0
    seconds = time.monotonic() - t0
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", proc.stdout, re.M)
    if proc.returncode == 0:
        return "survived", [], seconds
    if proc.returncode == 5:
        return "survived", [], seconds  # no test collected
    return "killed", failed or [f"pytest exit {proc.returncode}"], seconds


def run_mutant(copy: Path, cfg: dict[str, Any], m: Mutant, end: int,
               lines: dict[str, dict[int, set[str]]], times: dict[str, float]) -> Mutant:
    import cosmic_ray.plugins
    from cosmic_ray.mutating import use_mutation

    if m.outcome == "equivalent":
        return m
    tests = tests_for(m, end, lines, times)
    m.tests = len(tests)
    if not tests:
        m.outcome = "not run"
        return m
    budget = 3 * sum(times.get(t, 1.0) for t in tests) + 60
    operator = cosmic_ray.plugins.get_operator(m.operator)()
    with use_mutation(copy / m.module, operator, m.occurrence) as (_, mutated):
        if mutated is None:
            m.outcome = "not run"
            return m
        m.outcome, failed, m.seconds = run_tests(copy, cfg, tests, True, budget)
    m.killer = failed[0] if failed else ""
    return m


def run_named(copy: Path, cfg: dict[str, Any], item: dict[str, Any], tests: list[str]
              ) -> Named:
    """One [[named]] mutation against ``tests`` (every test, or the clean run's in order of
    their time, stopping at the first that fails)."""
    n = Named(item["name"], item["file"])
    path = copy / item["file"]
    original = path.read_text()
    if original.count(item["old"]) != 1:
        raise SystemExit(f"{item['name']}: the text to replace occurs "
                         f"{original.count(item['old'])} times in {item['file']}")
    path.write_text(original.replace(item["old"], item["new"]))
    try:
        n.outcome, n.killers, n.seconds = run_tests(copy, cfg, tests, tests != ["tests"], 3600)
    finally:
        path.write_text(original)
    return n


# ---- the report -------------------------------------------------------------------------------


def rate(killed: int, total: int) -> str:
    return f"{100 * killed / total:5.1f}%" if total else "    -"


def report(mutants: list[Mutant]) -> dict[str, Any]:
    by_module: dict[str, list[Mutant]] = defaultdict(list)
    for m in mutants:
        by_module[m.module].append(m)
    print(f"{'module':24s} {'mutants':>7s} {'killed':>6s} {'survived':>8s} {'timeout':>7s} "
          f"{'kill rate':>9s}")
    rows = {}
    for module in sorted(by_module):
        ms = by_module[module]
        k = sum(1 for m in ms if m.outcome == "killed")
        t = sum(1 for m in ms if m.outcome == "timeout")
        s = len(ms) - k - t
        rows[module] = {"mutants": len(ms), "killed": k, "survived": s, "timeout": t}
        print(f"{module:24s} {len(ms):7d} {k:6d} {s:8d} {t:7d} {rate(k + t, len(ms)):>9s}")
    k = sum(1 for m in mutants if m.outcome == "killed")
    t = sum(1 for m in mutants if m.outcome == "timeout")
    print(f"{'all':24s} {len(mutants):7d} {k:6d} {len(mutants) - k - t:8d} {t:7d} "
          f"{rate(k + t, len(mutants)):>9s}")
    survivors = [m for m in mutants if m.outcome in ("survived", "not run")]
    if survivors:
        print("survivors:")
        for m in sorted(survivors, key=lambda m: (m.module, m.line)):
            why = " (no test executes this line)" if m.outcome == "not run" else ""
            print(f"  {m.module}:{m.line} {m.operator.split('/', 1)[1]}{why}\n"
                  f"      - {m.before}\n      + {m.after}")
    return {"modules": rows, "killed": k, "timeout": t, "mutants": len(mutants)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sample", type=int, default=15, metavar="N",
                    help="mutants per module, drawn at random (0: every mutant)")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--modules", nargs="+", metavar="NAME",
                    help="engine modules (default: mutation.toml's list; 'all': every one)")
    ap.add_argument("--workers", type=int, default=1,
                    help="mutants run at once, each in a copy of its own (default 1)")
    ap.add_argument("--named", action="store_true",
                    help="run mutation.toml's [[named]] mutations against the whole suite")
    ap.add_argument("--coverage-cache", metavar="FILE",
                    help="keep the clean run's coverage here, reused while no file changes")
    ap.add_argument("--rerun", metavar="JSON",
                    help="an earlier run's --json: keep its kills, run its survivors again")
    ap.add_argument("--deselect", action="append", default=[], metavar="NODEID",
                    help="also leave these tests (or test files) out of the judging, besides "
                         "mutation.toml's (repeatable): say, tests/test_regression.py to count "
                         "only kills by tests other than the pinned regression manifest")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--keep", action="store_true", help="keep the copies under /tmp")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    cfg = tomllib.loads(CONFIG.read_text())
    cfg["deselect"] = [*cfg.get("deselect", []), *args.deselect]
    modules = args.modules or cfg["modules"]
    if modules == ["all"]:
        modules = sorted(p.stem for p in (ROOT / "engine").glob("*.py") if p.stem != "__init__")
    for name in modules:
        if not (ROOT / "engine" / f"{name}.py").is_file():
            ap.error(f"--modules: no engine/{name}.py")
    work = Path(tempfile.mkdtemp(prefix="nova-mutation-"))
    t0 = time.monotonic()
    try:
        copies = [make_copy(work / f"copy{i}") for i in range(max(1, args.workers))]
        check_copy_imports(copies[0])
        if args.named:
            results = []
            order = ["tests"]
            if args.coverage_cache and Path(args.coverage_cache).exists():
                known = json.loads(Path(args.coverage_cache).read_text())["times"]
                order = sorted(known, key=lambda t: (known[t], t))
            for item in cfg.get("named", []):
                n = run_named(copies[0], cfg, item, order)
                results.append(n)
                if not args.quiet:
                    print(f"{n.outcome:8s} {n.name} ({n.seconds:.0f}s)", flush=True)
                    for k in n.killers:
                        print(f"           {k}")
            if args.json:
                Path(args.json).write_text(json.dumps([asdict(n) for n in results], indent=2))
            return 0
        lines, times = cached_coverage_map(copies[0], cfg, args.quiet,
                                           Path(args.coverage_cache) if args.coverage_cache
                                           else None)
        limit = float(cfg.get("max_test_seconds", 0) or 0)
        if limit:
            slow = sorted(t for t, v in times.items() if v > limit)
            times = {t: v for t, v in times.items() if v <= limit}
            if not args.quiet:
                print(f"{len(slow)} tests slower than {limit:g}s in the clean run are not run "
                      f"per mutant (mutation.toml max_test_seconds): a survivor may still be "
                      f"killed by one of them", flush=True)
                for t in slow:
                    print(f"  slow: {t}")
        everything, _ = enumerate_mutants(copies[0], modules, cfg.get("skip_operators", []))
        rng = random.Random(args.seed)
        chosen: list[tuple[Mutant, int]] = []
        equivalent: dict[str, int] = {}
        for name in modules:
            module = f"engine/{name}.py"
            mine = [x for x in everything if x[0].module == module]
            equivalent[module] = sum(1 for x in mine if x[0].outcome == "equivalent")
            mine = [x for x in mine if x[0].outcome != "equivalent"]
            if args.sample and len(mine) > args.sample:
                mine = sorted(rng.sample(mine, args.sample), key=lambda x: (x[0].line,
                                                                           x[0].operator))
            chosen += mine
        if not args.quiet:
            print(f"{len(everything)} mutants in {len(modules)} modules, "
                  f"{sum(equivalent.values())} of them inside type annotations (never "
                  f"evaluated under `from __future__ import annotations`: equivalent, not "
                  f"sampled); running {len(chosen)}", flush=True)
        kept: list[Mutant] = []
        if args.rerun:
            # the survivors of an earlier run (same modules, sample and seed) run again against
            # today's tests; its other outcomes stand
            before = {(r["module"], r["operator"], r["occurrence"]): r
                      for r in json.loads(Path(args.rerun).read_text())["results"]}
            again = []
            for m, end in chosen:
                r = before.get((m.module, m.operator, m.occurrence))
                if r is not None and r["outcome"] in ("killed", "timeout"):
                    kept.append(Mutant(**r))
                else:
                    again.append((m, end))
            if not args.quiet:
                print(f"{len(kept)} outcomes kept from {args.rerun}; running {len(again)} "
                      f"again", flush=True)
            chosen = again
        for m, _ in chosen:
            describe(copies[0], m)
        done: list[Mutant] = list(kept)
        free = list(copies)

        def job(x: tuple[Mutant, int]) -> Mutant:
            copy = free.pop()
            try:
                return run_mutant(copy, cfg, x[0], x[1], lines, times)
            finally:
                free.append(copy)

        with ThreadPoolExecutor(max_workers=len(copies)) as pool:
            for i, m in enumerate(pool.map(job, chosen), 1):
                done.append(m)
                if not args.quiet:
                    extra = f" by {m.killer}" if m.killer else ""
                    print(f"[{i}/{len(chosen)}] {m.module}:{m.line} "
                          f"{m.operator.split('/', 1)[1]} {m.outcome}{extra} "
                          f"({m.tests} tests, {m.seconds:.1f}s)", flush=True)
        summary = report(done)
        summary["equivalent_in_annotations"] = equivalent
        print(f"{time.monotonic() - t0:.0f}s in all (sample {args.sample} per module, seed "
              f"{args.seed})")
        if args.json:
            summary["survivors"] = [asdict(m) for m in done if m.outcome != "killed"]
            summary["results"] = [asdict(m) for m in done]
            Path(args.json).write_text(json.dumps(summary, indent=2))
        return 0
    finally:
        if args.keep:
            print(f"copies kept under {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
