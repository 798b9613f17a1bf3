"""Checkpoints of a breadth-first run, and resuming from one (TLC's checkpoints and ``-recover``).

A checkpoint is one file, ``DIR/checkpoint``, written every ``every`` seconds (at the first
boundary between two states after that) and once more when a bound or a signal stops the run.
It holds what the search needs to go on as if it had never stopped: the exploration's typed
arrays (parent, via, depth, own_src, own_dst) and action table, every state's
fingerprint in index order (the fingerprint table), the states of the level being expanded that
are still to expand and those of the next level reached so far, the findings, evaluation
counters and liveness data, the visitors' state, the transition count and the elapsed time.

The file is written to a temporary name beside it, synced and renamed, so a run killed while
writing leaves the previous checkpoint in place; a checksum of the payload in the header
rejects a file torn or altered anyway. The header (two text lines, ``head -2`` shows it) says
which run the checkpoint belongs to: the caller's identity of the run (configuration, variants,
the code's version) and the explorer's own options (model, strategy, liveness, fingerprint,
properties, visitors). A resume of another run is refused naming the first
item that differs.

Fingerprints are Python's hash of a state (or the model's fingerprint built on it), which is
not the same in two processes: Python salts the hash of every string per process (unless
``PYTHONHASHSEED`` fixes it), and before Python 3.12 the hash of None is its address, which
address-space randomisation moves. The header records a probe, this process's hash of a fixed
value holding a string and None, and the seed the process ran with. A process with the same
probe, whose fingerprints of the saved states to expand agree with the stored table, takes the
table as it is (the command line re-executes itself to hash alike: see
:mod:`nova_resize.checker.cli.resume`); any other rebuilds it: every state is regenerated from
its parent and the action that first reached it (one step per state, in index order, keeping
two levels of states at a time) and fingerprinted anew, and the saved states to expand are
checked against the rebuilt table.

The payload is a pickle read back by an unpickler that builds only plain data, arrays and the
classes of the model's own packages: a checkpoint is data, not code to run.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import time
from array import array
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nova_resize.errors import InputError
from nova_resize.files import write_atomic

if TYPE_CHECKING:
    from .search import Search

FILE_NAME = "checkpoint"
MAGIC = b"nova-resize checkpoint\n"
FORMAT = 2
PROBE = ("nova-resize checkpoint probe", 1, None, (None, "a"))
MAX_HEADER = 1 << 20
SAVED = ("transitions", "diameter", "findings", "evaluations", "parent", "via", "depth",
         "actions", "own_src", "own_dst", "liveness")
"""The exploration's fields a checkpoint carries (the rest are measured or derived at the end)."""

Entry = tuple[Any, int]
Position = tuple[int, list[Entry], list[Entry]]
"""Where a breadth-first run stands: the depth it is reaching (``level``), the states one level
up still to expand, and the states of depth ``level`` reached so far."""


class CheckpointError(InputError):
    """A checkpoint that cannot be used: missing, torn, alien, or another run's."""


def hash_probe() -> int:
    """This process's hash of a fixed value: equal in two processes that hash alike."""
    return hash(PROBE)


def read_header(directory: str | Path) -> tuple[dict[str, Any], bytes]:
    """The header and payload of ``directory``'s checkpoint, checked against torn and alien
    files (:class:`CheckpointError` naming the file otherwise)."""
    path = Path(directory) / FILE_NAME
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no checkpoint to resume (expected one written by "
                              f"check --checkpoint {directory})") from None
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read: {e.strerror or e}") from None
    if not blob.startswith(MAGIC):
        raise CheckpointError(f"{path}: not a nova-resize checkpoint (expected the first line "
                              f"{MAGIC.decode().strip()!r})")
    end = blob.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    try:
        header = json.loads(blob[len(MAGIC):end]) if end > 0 else None
    except ValueError:
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("run"), dict):
        raise CheckpointError(f"{path}: corrupt checkpoint header (expected one line of JSON "
                              f"with the run it belongs to)")
    if header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {header.get('format')!r}, expected "
                              f"{FORMAT} (written by another version of nova-resize)")
    payload = blob[end + 1:]
    if len(payload) != header.get("payload_bytes") or \
            hashlib.sha256(payload).hexdigest() != header.get("payload_sha256"):
        raise CheckpointError(f"{path}: corrupt checkpoint (the payload is {len(payload):,} bytes "
                              f"and does not match the checksum of the "
                              f"{header.get('payload_bytes')} bytes written: torn or altered)")
    return header, payload


class Checkpointer:
    """Writes checkpoints of one breadth-first run into ``directory`` every ``every`` seconds,
    and (with ``resume``, a directory) starts the run from the checkpoint there. ``identity``
    is what the caller says makes a run this run (a resume of a checkpoint whose identity
    differs is refused)."""

    def __init__(self, directory: str | Path, every: float = 300.0,
                 identity: dict[str, Any] | None = None,
                 resume: str | Path | None = None) -> None:
        self.dir = Path(directory)
        self.path = self.dir / FILE_NAME
        self.every = every
        self.identity = dict(identity or {})
        self.resume = Path(resume) if resume is not None else None
        self.run: dict[str, Any] = {}
        self.due = 0.0
        self.written = 0
        self.failed = ""  # why the last write failed, if it did (the run goes on)
        self.write_seconds = 0.0
        self.bytes = 0
        self.resumed_states = 0
        self.rebuilt = False  # whether a resume rebuilt the fingerprint table
        self.load_seconds = 0.0

    def start(self, s: Search) -> None:
        """Before the search: fix the run's identity and the first due time."""
        if s.ex.strategy != "bfs":
            raise CheckpointError(f"{self.dir}: checkpoints are written by the bfs strategy "
                                  f"only, not {s.ex.strategy}")
        fp = getattr(s.model, "fingerprint", None)
        self.run = {**self.identity, "model": s.model.name, "strategy": s.ex.strategy,
                    "liveness": s.liveness,
                    "fingerprint": getattr(fp, "__qualname__", "hash") if fp else "hash",
                    "properties": [p.name for p in s.model.properties()],
                    "visitors": [type(v).__qualname__ for v in s.visitors]}
        self.run = json.loads(json.dumps(self.run))  # as the header will read back
        try:  # a visitor that cannot be saved fails now, not at the first checkpoint
            pickle.dumps([v.snapshot() for v in s.visitors], protocol=5)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            raise CheckpointError(f"{self.dir}: a visitor of this run cannot be checkpointed "
                                  f"({e})") from None
        self.due = time.monotonic() + self.every
        if self.dir.is_dir():
            for stale in self.dir.glob(f".{FILE_NAME}.*.tmp"):  # a write killed midway
                stale.unlink(missing_ok=True)

    def save(self, s: Search, level: int, current: list[Entry], frontier: list[Entry],
             final: bool = False) -> None:
        """Write a checkpoint of ``s`` standing at this position (see :data:`Position`)."""
        t = time.monotonic()
        self.due = t + self.every
        if final and s.torn:
            if s.progress is not None:
                s.progress(f"no final checkpoint: the run stopped inside a state's actions; "
                           f"{self.path} is the last one" if self.written else
                           "no checkpoint: the run stopped inside a state's actions")
            return
        s.ev.flush()
        ex = s.ex
        try:
            fps: Any = array("q", s.index)
        except OverflowError:  # a model's fingerprints wider than 64 bits
            fps = list(s.index)
        payload = {
            "level": level, "current": current, "frontier": frontier, "fingerprints": fps,
            "exploration": {name: getattr(ex, name) for name in SAVED},
            "visitors": [v.snapshot() for v in s.visitors],
        }
        try:
            data = pickle.dumps(payload, protocol=5)
        except (pickle.PicklingError, TypeError, AttributeError) as e:
            raise CheckpointError(f"{self.path}: cannot save this run's state ({e}); a "
                                  f"visitor or model whose state is not plain data cannot be "
                                  f"checkpointed") from None
        header = {"format": FORMAT, "run": self.run, "hash_probe": hash_probe(),
                  "hash_seed": os.environ.get("PYTHONHASHSEED"),
                  "states": len(ex.parent), "transitions": ex.transitions, "level": level,
                  "seconds": round(t - s.t0, 3), "final": final,
                  "stop_reason": ex.stop_reason, "payload_bytes": len(data),
                  "payload_sha256": hashlib.sha256(data).hexdigest()}
        blob = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + data
        s.checkpoint_due = False
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, blob, sync=True)
        except (OSError, InputError) as e:  # a full disk: the run matters more than its saving
            self.failed = str(e)
            if s.progress is not None:
                s.progress(f"checkpoint not written: {e}")
            return
        self.failed = ""
        took = time.monotonic() - t
        self.written += 1
        self.write_seconds += took
        self.bytes = len(blob)
        if s.progress is not None:
            s.progress(f"checkpoint written: {self.path} ({len(ex.parent):,} states, "
                       f"{len(blob) / 2**20:,.1f} MiB, {took:.2f} s)")

    def check_identity(self) -> None:
        """Refuse now, before any work, a checkpoint to resume whose caller's identity differs
        (:meth:`restore` checks the explorer's own options too)."""
        if self.resume is not None:
            header, _ = read_header(self.resume)
            _same(self.resume / FILE_NAME, {k: header["run"].get(k) for k in self.identity},
                  json.loads(json.dumps(self.identity)))

    def restore(self, s: Search) -> Position:
        """Load the checkpoint in the resume directory into ``s``; where to go on from."""
        assert self.resume is not None
        t = time.monotonic()
        header, payload = read_header(self.resume)
        path = self.resume / FILE_NAME
        _same(path, header["run"], self.run)
        roots = {"nova_resize", type(s.model).__module__.partition(".")[0]}
        try:
            data = _Unpickler(io.BytesIO(payload), roots).load()
            level, current, frontier = data["level"], data["current"], data["frontier"]
            fields, fps, visitors = data["exploration"], data["fingerprints"], data["visitors"]
            if not (isinstance(level, int) and isinstance(current, list)
                    and isinstance(frontier, list) and set(fields) == set(SAVED)
                    and len(fps) == len(fields["parent"]) and len(visitors) == len(s.visitors)):
                raise ValueError("its parts do not fit together")
        except Exception as e:
            raise CheckpointError(f"{path}: corrupt checkpoint payload ({type(e).__name__}: "
                                  f"{e}), expected the data of a breadth-first run") from None
        ex = s.ex
        s.t0 = t - float(header["seconds"])  # the run's time goes on, this restore included
        for name in SAVED:
            setattr(ex, name, fields[name])
        index: dict[int, int] | None = None
        if header.get("hash_probe") == hash_probe():
            index = dict(zip(fps, range(len(fps)), strict=True))
            fingerprint = s.fingerprint
            if any(index.get(fingerprint(w)) != idx for w, idx in current + frontier):
                index = None  # hashes alike on the probe, not on the states: rebuild
        self.rebuilt = index is None
        s.index = index if index is not None else _rebuild_index(s, path, current + frontier)
        s.action_ids = {a: i for i, a in enumerate(ex.actions)}
        for v, snap in zip(s.visitors, visitors, strict=True):
            v.restore(snap)
        self.resumed_states = len(ex.parent)
        self.load_seconds = time.monotonic() - t
        if s.progress is not None:
            s.progress(f"resumed from {path}: {len(ex.parent):,} states, "
                       f"{ex.transitions:,} transitions, depth {level}, "
                       f"{header['seconds']:,.0f} s before, {self.load_seconds:.1f} s to load"
                       + (", fingerprints rebuilt" if self.rebuilt else
                          ", fingerprint table as saved"))
        return level, current, frontier


def _rebuild_index(s: Search, path: Path, saved: list[Entry]) -> dict[int, int]:
    """The fingerprint table in this process's hashing: every state regenerated from its
    parent and the action that reached it first, in index order (under BFS a state's parent is
    one level up, so two levels of states are kept at a time)."""
    ex, model, fingerprint = s.ex, s.model, s.fingerprint
    n = len(ex.parent)
    index: dict[int, int] = {}
    prev: dict[int, Any] = {}
    cur: dict[int, Any] = {}
    level = 0
    inits = iter(model.init_states())
    last = time.monotonic()
    for idx in range(n):
        p, d = ex.parent[idx], ex.depth[idx]
        if p < 0:
            h, w = -1, None
            for w in inits:  # the initial states, deduplicated as Search.initial does
                h = fingerprint(w)
                if h not in index:
                    break
        else:
            if d != level:
                prev, cur, level = cur, {}, d
            st = model.step(prev[p], ex.actions[ex.via[idx]]) if p in prev else None
            if st is None:
                raise CheckpointError(f"{path}: state {idx} does not replay from its parent "
                                      f"(expected the engine that wrote the checkpoint)")
            w = st.state
            h = fingerprint(w)
        if h in index or w is None:
            raise CheckpointError(f"{path}: state {idx} replays to a state seen before "
                                  f"(expected the engine that wrote the checkpoint)")
        index[h] = idx
        cur[idx] = w
        if s.progress is not None and idx & 4095 == 0 and time.monotonic() - last > 5:
            last = time.monotonic()
            s.progress(f"rebuilding the fingerprint table: {idx:,} of {n:,} states")
    for w, idx in saved:
        if index.get(fingerprint(w)) != idx:
            raise CheckpointError(f"{path}: a saved state to expand is not state {idx} of "
                                  f"the rebuilt table (expected the engine that wrote it)")
    return index


_ORDER = ("config", "config_sha256", "variants", "variants_sha256", "model", "strategy",
          "liveness", "fingerprint", "properties", "visitors", "code_sha256")


def _rank(key: str) -> tuple[int, str]:
    """The order a mismatch is looked for in: what the user chose before what the code is."""
    return (_ORDER.index(key) if key in _ORDER else len(_ORDER), key)


def _same(path: Path, there: dict[str, Any], here: dict[str, Any]) -> None:
    for key in sorted(set(there) | set(here), key=_rank):
        if there.get(key) != here.get(key):
            raise CheckpointError(f"{path}: a checkpoint of another run ({key}: "
                                  f"{_short(there.get(key))} there, {_short(here.get(key))} in "
                                  f"this run)")


def _short(v: Any) -> str:
    text = json.dumps(v)
    return text if len(text) <= 60 else text[:57] + "..."


_BUILTINS = frozenset({"set", "frozenset", "dict", "list", "tuple", "int", "float", "complex",
                       "str", "bytes", "bytearray", "bool", "range", "slice", "object"})
_ALLOWED = frozenset({("collections", "Counter"), ("collections", "OrderedDict"),
                      ("collections", "deque"), ("array", "array"),
                      ("array", "_array_reconstructor"), ("copyreg", "_reconstructor")})


class _Unpickler(pickle.Unpickler):
    """Builds plain data, arrays and the classes of the ``roots`` packages only."""

    def __init__(self, f: io.BytesIO, roots: set[str]) -> None:
        super().__init__(f)
        self.roots = roots

    def find_class(self, module: str, name: str) -> Any:
        if (module == "builtins" and name in _BUILTINS) or (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module.partition(".")[0] in self.roots and "." not in name:
            obj = super().find_class(module, name)
            if isinstance(obj, type) and obj.__module__.partition(".")[0] in self.roots:
                return obj
        raise pickle.UnpicklingError(f"{module}.{name} is not checkpoint data")


__all__ = ["FILE_NAME", "CheckpointError", "Checkpointer", "Position", "hash_probe",
           "read_header"]
