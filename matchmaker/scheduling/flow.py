"""Bipartite b-matching by network flow: maximum cardinality (SciPy) and maximum weight (OR-Tools)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow


def max_b_matching(left_cap: Sequence[int], right_cap: Sequence[int],
                   edges: Sequence[tuple[int, int]]) -> list[int]:
    """Indices of a maximum-cardinality subset of ``edges`` with node degrees within the caps.

    ``edges`` are distinct (left, right) pairs. Solved as a maximum flow
    source -> left (cap) -> right (1 per edge) -> sink (cap), which is exact.
    """
    nl, nr = len(left_cap), len(right_cap)
    if not edges:
        return []
    src, sink = nl + nr, nl + nr + 1
    n = nl + nr + 2
    rows: list[int] = []
    cols: list[int] = []
    caps: list[int] = []
    for u in range(nl):
        if left_cap[u] > 0:
            rows.append(src)
            cols.append(u)
            caps.append(int(left_cap[u]))
    for v in range(nr):
        if right_cap[v] > 0:
            rows.append(nl + v)
            cols.append(sink)
            caps.append(int(right_cap[v]))
    for u, v in edges:
        rows.append(u)
        cols.append(nl + v)
        caps.append(1)
    graph = csr_matrix((np.asarray(caps, dtype=np.int32), (rows, cols)), shape=(n, n))
    flow = maximum_flow(graph, src, sink).flow.tocsr()
    us = np.fromiter((u for u, _ in edges), dtype=np.int64, count=len(edges))
    vs = np.fromiter((nl + v for _, v in edges), dtype=np.int64, count=len(edges))
    used = np.asarray(flow[us, vs]).ravel()
    return [int(k) for k in np.flatnonzero(used > 0)]


def max_weight_b_matching(left_cap: Sequence[int], right_cap: Sequence[int],
                          edges: Sequence[tuple[int, int]],
                          weights: Sequence[int]) -> list[int]:
    """Indices of a maximum-total-weight subset of ``edges`` with degrees within the caps.

    Weights must be non-negative integers. Solved exactly as a min-cost flow
    with a zero-cost bypass arc so that the amount of flow is free.
    """
    from ortools.graph.python import min_cost_flow

    nl, nr = len(left_cap), len(right_cap)
    if not edges:
        return []
    src, sink = nl + nr, nl + nr + 1
    total = int(sum(max(0, c) for c in left_cap))
    mcf = min_cost_flow.SimpleMinCostFlow()
    for u in range(nl):
        if left_cap[u] > 0:
            mcf.add_arc_with_capacity_and_unit_cost(src, u, int(left_cap[u]), 0)
    for v in range(nr):
        if right_cap[v] > 0:
            mcf.add_arc_with_capacity_and_unit_cost(nl + v, sink, int(right_cap[v]), 0)
    first = mcf.num_arcs()
    for (u, v), w in zip(edges, weights, strict=False):
        mcf.add_arc_with_capacity_and_unit_cost(u, nl + v, 1, -int(w))
    mcf.add_arc_with_capacity_and_unit_cost(src, sink, total, 0)
    mcf.set_node_supply(src, total)
    mcf.set_node_supply(sink, -total)
    if mcf.solve() != mcf.OPTIMAL:
        raise RuntimeError("min-cost flow failed")
    return [k for k in range(len(edges)) if mcf.flow(first + k) > 0]
