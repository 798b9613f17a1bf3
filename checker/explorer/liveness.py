"""Recoverable (AG EF) properties on the reached graph: the states from which no good state is
reachable through the model's own steps.

The analysis is a backward search from the good states over the own-step edges the search
recorded, in a compact reverse adjacency (CSR arrays). The reached graph is kept as typed arrays
rather than a networkx graph: the ``full`` configuration has 1.5 million states and 4 million
edges, which as a networkx DiGraph takes several GiB.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

from .exploration import Exploration, Finding
from .model import Property


def recoverable_findings(ex: Exploration, props: Sequence[Property]) -> list[Finding]:
    """One finding per stuck key of each recoverable property (its shortest witness under
    BFS, with the number of stuck states carrying that key); sets ``ex.stuck_states``."""
    n = ex.distinct_states
    if not ex.liveness:
        return []
    count = array("i", bytes(4 * (n + 1)))
    for d in ex.own_dst:
        count[d + 1] += 1
    for i in range(n):
        count[i + 1] += count[i]
    preds = array("i", bytes(4 * len(ex.own_dst)))
    fill = array("i", count)
    for s, d in zip(ex.own_src, ex.own_dst, strict=True):
        preds[fill[d]] = s
        fill[d] += 1
    out: list[Finding] = []
    stuck_total = 0
    by_name = {p.name: p for p in props if p.recoverable is not None}
    for prop, data in ex.liveness.items():
        rec = by_name[prop].recoverable
        assert rec is not None
        reach = bytearray(data.good[:n])
        queue = [i for i in range(n) if reach[i]]
        while queue:
            d = queue.pop()
            for k in range(count[d], count[d + 1]):
                s = preds[k]
                if not reach[s]:
                    reach[s] = 1
                    queue.append(s)
        stuck_total = max(stuck_total, n - sum(reach))
        first: dict[int, Finding] = {}
        keys = data.key
        for idx in range(min(n, len(keys))):
            kid = keys[idx]
            if kid < 0 or reach[idx]:
                continue
            f = first.get(kid)
            if f is None:
                key = data.keys[kid]
                first[kid] = Finding(prop, key, rec.message(key), idx, None, ex.depth[idx],
                                     "liveness")
            else:
                f.count += 1
        out.extend(first.values())
    ex.stuck_states = stuck_total
    return out


__all__ = ["recoverable_findings"]
