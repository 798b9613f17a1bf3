"""no-stuck-resize: the states from which Nova, by itself, can no longer reach a quiescent state
without a resize task_state.

"By itself" means Nova's own steps only: deliveries, handler steps, compute restarts, periodic
tasks, and the timeouts of calls nobody will answer. User requests and injected faults are not
counted on (they might rescue an instance -- an admin's reset-state or delete -- but that is the
point: without them it stays stuck). The analysis is a backward search from the good states over
the own-step edges the explorer recorded.
"""

from __future__ import annotations

from array import array

from .explore import Exploration, Finding


def stuck_findings(ex: Exploration) -> list[Finding]:
    n = ex.distinct_states
    # reverse adjacency (CSR) over own edges
    count = array("i", bytes(4 * (n + 1)))
    for d in ex.own_dst:
        count[d + 1] += 1
    for i in range(n):
        count[i + 1] += count[i]
    start = array("i", count)
    preds = array("i", bytes(4 * len(ex.own_dst)))
    fill = array("i", count)
    for s, d in zip(ex.own_src, ex.own_dst, strict=True):
        preds[fill[d]] = s
        fill[d] += 1
    reach = bytearray(ex.good)
    queue = [i for i in range(n) if reach[i]]
    while queue:
        d = queue.pop()
        for k in range(start[d], start[d + 1]):
            s = preds[k]
            if not reach[s]:
                reach[s] = 1
                queue.append(s)
    ex.stuck_states = n - sum(reach)
    out: list[Finding] = []
    seen: set[int] = set()
    for idx in range(n):
        kid = ex.bad_key[idx]
        if kid >= 0 and not reach[idx] and kid not in seen:
            seen.add(kid)
            key = ex.bad_keys[kid]
            out.append(Finding("no-stuck-resize", key,
                               f"quiescent with {key}: nothing Nova does by itself ends the resize",
                               idx, None, ex.depth[idx], "liveness"))
    for key, idx in ex.dead_ends.items():
        if not reach[idx]:
            out.append(Finding("no-stuck-resize", f"blocked: {key}",
                               f"handlers wait forever: {key}", idx, None, ex.depth[idx],
                               "liveness"))
    return out
