"""Symmetry over interchangeable compute hosts.

Two hosts are interchangeable when the configuration cannot tell them apart: the same capacity
and service state, no instance placed on either at the start, and neither named anywhere else in
the configuration (an operation's target host, an option). Renaming such hosts maps every
reachable world to a reachable world with the same behaviour (the engine enumerates every
scheduler choice, and orders nothing by host name but the canonical storage orders this module
re-applies), and every property of the checker names hosts by their role (the migration's
source, the instance's host), never by name. So a search may keep one world per orbit: the
fingerprint of a world is the smallest hash over its renamings, and the explorer stores a world
only when no renaming of it was stored before (the usual symmetry reduction of explicit-state
checkers: TLC's SYMMETRY, Murphi's scalarsets).

Instances are not made interchangeable: the engine orders some things by instance name (restart
recovery runs init_instance in instance order; the audit walks migrations in id order, and the
Python 2.7 TypeError it models stops at the first conflict), so renaming instances would not map
behaviours onto behaviours.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from .config import Config
from .tx import _message_key
from .world import INSTANCE_INDEX, MIGRATION_INDEX, Frame, Host, Message, World

_new = tuple.__new__
"""A record from its fields' list, without the NamedTuple constructor or ``_replace``."""
_I_HOST = INSTANCE_INDEX["host"]
_M_SRC, _M_DST = MIGRATION_INDEX["source_compute"], MIGRATION_INDEX["dest_compute"]
_H_NAME = Host._fields.index("name")
_MSG = {f: Message._fields.index(f) for f in ("target", "instance", "migration", "args",
                                               "reply_to")}
_FR = {f: Frame._fields.index(f) for f in ("id", "service", "instance", "migration", "locals",
                                           "reply_to")}


def _with(rec: Any, index: dict[str, int], **values: Any) -> Any:
    """``rec`` with the named fields (at ``index``'s positions) replaced."""
    y = list(rec)
    for k, v in values.items():
        y[index[k]] = v
    return _new(type(rec), y)

PART_MEMO = 100_000
"""Renamed handlers and messages remembered per renaming before the memo starts afresh."""

MAX_GROUP = 120
"""Renamings tried per state at most. Fewer than the whole group is still sound (only worlds
that are renamings of each other ever share a fingerprint); it only keeps some duplicates."""


def _map(x: Any, m: dict[str, str]) -> Any:
    t = type(x)
    if t is str:
        got = m.get(x)
        if got is not None:
            return got
        head, dot, tail = x.partition(".")
        if dot and tail.isdigit() and head in m:  # a host-wide frame id "<host>.<n>"
            return f"{m[head]}.{tail}"
        return x
    if x is None or t is int or t is bool:
        return x
    if t is tuple:
        return tuple(_map(y, m) for y in x)
    if t is frozenset:
        return frozenset(_map(y, m) for y in x)
    if isinstance(x, tuple):  # a NamedTuple record
        return t(*(_map(y, m) for y in x))
    if t is list:
        return [_map(y, m) for y in x]
    if t is dict:
        return {_map(k, m): _map(v, m) for k, v in x.items()}
    return x


FINGERPRINT_MASK = (1 << 60) - 1
"""Fingerprints are 60 bits wide: Python stores an int below 2**60 in 32 bytes and a wider one
in 36, and a search's fingerprint table holds one per distinct state."""


def world_fingerprint(w: World) -> int:
    """A world's fingerprint: 60 bits of Python's hash."""
    return hash(w) & FINGERPRINT_MASK


class HostSymmetry:
    """The renamings of interchangeable hosts of one configuration, and the canonical
    fingerprint they give a world."""

    def __init__(self, config: Config, initial: World, fifo: bool = False) -> None:
        self._args = (config, initial, fifo)
        self.order = [h.name for h in config.hosts]
        self.pos = {name: i for i, name in enumerate(self.order)}
        self.fifo = fifo
        self.classes = interchangeable_hosts(config)
        self.renamings: list[dict[str, str]] = []
        combos = itertools.product(*(itertools.permutations(c) for c in self.classes))
        for combo in itertools.islice(combos, MAX_GROUP):
            m = {a: b for cls, perm in zip(self.classes, combo, strict=True)
                 for a, b in zip(cls, perm, strict=True) if a != b}
            if m:
                self.renamings.append(m)
        # every renaming must fix the initial world, or the classes were wrong
        self.renamings = [m for m in self.renamings if self.rename(initial, m) == initial]
        self._memos: list[dict[Any, Any]] = [{} for _ in self.renamings]

    def __reduce__(self) -> tuple[Any, ...]:
        """It pickles as what it was built from (a compiled class pickles no other way)."""
        return (HostSymmetry, self._args)

    @property
    def active(self) -> bool:
        return bool(self.renamings)

    def rename(self, w: World, m: dict[str, str]) -> World:
        """``w`` with host names mapped by ``m``, in the engine's canonical storage order.
        Host names live in instances' and migrations' host fields, hosts, messages (target,
        the objects they carry, arguments) and frames (service, host-wide ids, objects,
        locals, reply ids); nothing else holds one."""
        return World(self._instances(w.instances, m), self._migrations(w.migrations, m),
                     w.reservations, w.quota, self._hosts(w.hosts, m),
                     self._messages(w.messages, m), self._frames(w.frames, m), w.budgets,
                     w.requests, w.deleted_flavors)

    # ---- one part of a world renamed (each a function of that part and the renaming) ---------
    @staticmethod
    def _inst(i: Any, m: dict[str, str]) -> Any:
        h = i[_I_HOST]
        if h not in m:
            return i
        x = list(i)
        x[_I_HOST] = m[h]
        return _new(type(i), x)

    @staticmethod
    def _mig(g: Any, m: dict[str, str]) -> Any:
        if g is None:
            return None
        s, d = g[_M_SRC], g[_M_DST]
        if s in m or d in m:
            x = list(g)
            x[_M_SRC] = m.get(s, s)
            x[_M_DST] = m.get(d, d)
            return _new(type(g), x)
        return g

    def _instances(self, part: tuple[Any, ...], m: dict[str, str]) -> tuple[Any, ...]:
        return tuple(self._inst(i, m) for i in part)

    def _migrations(self, part: tuple[Any, ...], m: dict[str, str]) -> tuple[Any, ...]:
        return tuple(self._mig(g, m) for g in part)

    def _hosts(self, part: tuple[Any, ...], m: dict[str, str]) -> tuple[Any, ...]:
        pos = self.pos
        out = []
        for h in part:
            name = h[_H_NAME]
            if name in m:
                x = list(h)
                x[_H_NAME] = m[name]
                h = _new(type(h), x)
            out.append(h)
        return tuple(sorted(out, key=lambda h: pos[h[_H_NAME]]))

    def _messages(self, part: tuple[Any, ...], m: dict[str, str],
                  memo: dict[Any, Any] | None = None) -> tuple[Any, ...]:
        msgs = tuple(self._message(x, m, memo) for x in part)
        if not self.fifo and len(msgs) > 1:
            msgs = tuple(sorted(msgs, key=_message_key))
        return msgs

    def _frames(self, part: tuple[Any, ...], m: dict[str, str],
                memo: dict[Any, Any] | None = None) -> tuple[Any, ...]:
        return tuple(sorted((self._frame(f, m, memo) for f in part), key=lambda f: f.id))

    def _message(self, x: Any, m: dict[str, str], memo: dict[Any, Any] | None) -> Any:
        got = memo.get(x) if memo is not None else None
        if got is None:
            got = _with(x, _MSG, target=m.get(x.target, x.target),
                        instance=self._inst(x.instance, m), migration=self._mig(x.migration, m),
                        args=_map(x.args, m), reply_to=_map(x.reply_to, m))
            if memo is not None:
                memo[x] = got
        return got

    def _frame(self, f: Any, m: dict[str, str], memo: dict[Any, Any] | None) -> Any:
        got = memo.get(f) if memo is not None else None
        if got is None:
            got = _with(f, _FR, id=_map(f.id, m), service=m.get(f.service, f.service),
                        instance=self._inst(f.instance, m), migration=self._mig(f.migration, m),
                        locals=_map(f.locals, m), reply_to=_map(f.reply_to, m))
            if memo is not None:
                memo[f] = got
        return got

    def _renamed_hash(self, w: World, k: int) -> int:
        """The hash of ``w`` renamed by renaming ``k`` (:meth:`rename`). Each handler and
        message is renamed through a memo: worlds share most of them (a world differs from
        its predecessor in one handler or message), so each is renamed once, not once per
        world. Equal records give equal renamed records, so the hash is the one of
        :meth:`rename`."""
        m = self.renamings[k]
        memo = self._memos[k]
        if len(memo) > PART_MEMO:
            memo.clear()
        return hash(World(self._instances(w.instances, m), self._migrations(w.migrations, m),
                          w.reservations, w.quota, self._hosts(w.hosts, m),
                          self._messages(w.messages, m, memo), self._frames(w.frames, m, memo),
                          w.budgets, w.requests, w.deleted_flavors))

    def fingerprint(self, w: World, hasher: Callable[[Any], int] = hash) -> int:
        """The smallest hash over ``w`` and its renamings: equal for worlds in one orbit
        (``hasher``: Python's hash, through the renaming memo, or one equal in every
        process)."""
        if hasher is not hash:
            h = hasher(w)
            for m in self.renamings:
                h2 = hasher(self.rename(w, m))
                if h2 < h:
                    h = h2
            return h
        h = hash(w)
        for k in range(len(self.renamings)):
            h2 = self._renamed_hash(w, k)
            if h2 < h:
                h = h2
        return h

    def orbit_fingerprint(self, w: World) -> int:
        """The fingerprint of ``w``'s orbit: 60 bits of :meth:`fingerprint`."""
        return self.fingerprint(w) & FINGERPRINT_MASK


def interchangeable_hosts(config: Config) -> list[tuple[str, ...]]:
    """Classes (of two or more) of hosts the configuration cannot tell apart."""
    placed = {i.host for i in config.instances}
    # everything but the hosts list, where a host could be named
    rest = repr((config.options, config.actions, config.targets, config.resize_flavors,
                 config.faults, config.periodic, config.check, config.instances))
    classes: dict[tuple[Any, ...], list[str]] = {}
    for h in config.hosts:
        if h.name in placed or f"'{h.name}'" in rest or f'"{h.name}"' in rest:
            continue
        classes.setdefault((h.vcpus, h.memory_mb, h.disk_gb, h.up), []).append(h.name)
    out = []
    for names in classes.values():
        while len(names) > 1:
            out.append(tuple(names[:5]))  # at most 5! renamings per class
            names = names[5:]
    return out


__all__ = ["FINGERPRINT_MASK", "MAX_GROUP", "HostSymmetry", "interchangeable_hosts",
           "world_fingerprint"]
