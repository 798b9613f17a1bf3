"""The baseline the project's explorer is measured against: a plain Python breadth-first search
of the two-phase commit model (``examples/twophase.py`` defines it), with nothing generic in it.

The state is one flat tuple of small ints, laid out as in the example::

    (tm, nfail, nlost, rm[0..N), tmp[0..N), mp[0..N), md[0..N))

The reached states are a ``set`` of tuples, the frontier a ``list`` per level; a successor is
built by copying the tuple into a list, changing it and freezing it again. ``generated`` counts
the initial state and every successor computed, as TLC's "states generated" does.

    python bench/anchors/plain_bfs.py 5
"""

from __future__ import annotations

import sys
import time

INIT, T_COMMITTED, T_ABORTED = 0, 1, 2
WORKING, PREPARED, COMMITTED, ABORTED, CRASHED = 0, 1, 2, 3, 4
NONE, COMMIT, ABORT = 0, 1, 2


def successors(s: tuple[int, ...], n: int, max_fail: int, max_lost: int) -> list[tuple[int, ...]]:
    """Every state one action of the model reaches from ``s``, one entry per action taken."""
    out = []
    tm, nfail, nlost = s[0], s[1], s[2]
    TMP, MP, MD = 3 + n, 3 + 2 * n, 3 + 3 * n
    for i in range(n):
        rm = s[3 + i]
        mp = s[MP + i]
        md = s[MD + i]
        if rm == WORKING:
            x = list(s)  # RMPrepare(i)
            x[3 + i] = PREPARED
            x[MP + i] = 1
            out.append(tuple(x))
            x = list(s)  # RMChooseAbort(i)
            x[3 + i] = ABORTED
            out.append(tuple(x))
        if tm == INIT and mp:
            x = list(s)  # TMRcvPrepared(i)
            x[TMP + i] = 1
            x[MP + i] = 0
            out.append(tuple(x))
        if md == COMMIT and rm != CRASHED:
            x = list(s)  # RMRcvCommit(i)
            x[3 + i] = COMMITTED
            x[MD + i] = NONE
            out.append(tuple(x))
        if md == ABORT and rm != CRASHED:
            x = list(s)  # RMRcvAbort(i)
            x[3 + i] = ABORTED
            x[MD + i] = NONE
            out.append(tuple(x))
        if (rm == WORKING or rm == PREPARED) and nfail < max_fail:
            x = list(s)  # RMCrash(i)
            x[3 + i] = CRASHED
            x[1] = nfail + 1
            out.append(tuple(x))
        if mp and nlost < max_lost:
            x = list(s)  # LosePrepared(i)
            x[MP + i] = 0
            x[2] = nlost + 1
            out.append(tuple(x))
        if md != NONE and nlost < max_lost:
            x = list(s)  # LoseDecision(i)
            x[MD + i] = NONE
            x[2] = nlost + 1
            out.append(tuple(x))
    if tm == INIT:
        if all(s[TMP:MP]):
            x = list(s)  # TMCommit
            x[0] = T_COMMITTED
            x[MD:MD + n] = [COMMIT] * n
            out.append(tuple(x))
        x = list(s)  # TMAbort
        x[0] = T_ABORTED
        x[MD:MD + n] = [ABORT] * n
        out.append(tuple(x))
    return out


def consistent(s: tuple[int, ...], n: int) -> bool:
    """TCConsistent: no participant committed while another aborted."""
    rms = s[3:3 + n]
    return not (COMMITTED in rms and ABORTED in rms)


def bfs(n: int, max_fail: int = 1, max_lost: int = 1) -> tuple[int, int]:
    """Explore every reachable state; (distinct states, generated states). Raises
    AssertionError on a state that breaks the invariant."""
    init = (INIT, 0, 0) + (WORKING,) * n + (0,) * (3 * n)
    seen = {init}
    frontier = [init]
    generated = 1
    while frontier:
        nxt = []
        for s in frontier:
            for t in successors(s, n, max_fail, max_lost):
                generated += 1
                if t not in seen:
                    seen.add(t)
                    if not consistent(t, n):
                        raise AssertionError(f"TCConsistent violated in {t}")
                    nxt.append(t)
        frontier = nxt
    return len(seen), generated


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 3
    t0 = time.perf_counter()
    distinct, generated = bfs(n)
    dt = time.perf_counter() - t0
    print(f"N={n}: {distinct:,} distinct states, {generated:,} generated, {dt:.2f} s, "
          f"{distinct / dt:,.0f} states/s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
