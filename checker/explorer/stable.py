"""A fingerprint that is the same in every process: for workers that are not forked from the
coordinator (Ray's actors, possibly on other machines).

Python's ``hash`` is not: the hash of a str is salted per process (PYTHONHASHSEED), and on
Python 3.11 the hash of None is its address, which differs between processes (it is constant
from 3.12). :func:`stable_hash` hashes the same structure -- tuples (named or not), frozensets,
str, bytes, int, float, bool, None -- with fixed leaf hashes (a str by BLAKE2b of its UTF-8,
cached), so equal states hash equally in any process. It is a few times slower than ``hash``
in pure Python; the direct children of a state are cached, since successive states share
most of them.
"""

from __future__ import annotations

import hashlib
from typing import Any

_NONE = 0x5A17_E1F0_0D15_EA5E
_CACHE_LIMIT = 1 << 18

_strs: dict[Any, int] = {}
_children: dict[Any, int] = {}


def _leaf(x: Any) -> int:
    h = _strs.get(x)
    if h is None:
        data = x.encode("utf-8", "surrogatepass") if type(x) is str else bytes(x)
        h = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big", signed=True)
        if len(_strs) > _CACHE_LIMIT:
            _strs.clear()
        _strs[x] = h
    return h


def _hash(x: Any) -> int:
    t = type(x)
    if t is str or t is bytes:
        return _leaf(x)
    if x is None:
        return _NONE
    if t is int or t is bool or t is float:
        return hash(x)
    if isinstance(x, tuple):
        return hash(tuple([_hash(y) for y in x]))
    if t is frozenset:
        return hash(frozenset([_hash(y) for y in x]))
    raise TypeError(f"no stable hash for a {t.__name__}")


def stable_hash(x: Any) -> int:
    """A hash of ``x`` equal in every process (see the module docstring)."""
    if not isinstance(x, tuple):
        return _hash(x)
    out = []
    for y in x:
        if isinstance(y, tuple | frozenset):
            h = _children.get(y)
            if h is None:
                h = _hash(y)
                if len(_children) > _CACHE_LIMIT:
                    _children.clear()
                _children[y] = h
            out.append(h)
        else:
            out.append(_hash(y))
    return hash(tuple(out))


__all__ = ["stable_hash"]
