"""König edge colouring of a bipartite multigraph with max-degree colours by alternating paths."""

from __future__ import annotations

from typing import Sequence


def konig_edge_colouring(n_left: int, n_right: int, edges: Sequence[tuple[int, int]],
                         n_colours: int | None = None) -> list[int]:
    """Colour ``edges`` (left, right) so that edges sharing a node get distinct colours.

    Uses at most ``n_colours`` colours (default: the maximum degree), which
    König's theorem guarantees to suffice for bipartite multigraphs whenever
    ``n_colours`` >= the maximum degree. Raises ValueError otherwise.
    Runs in O(|E| * |V|) time.
    """
    n = n_left + n_right
    degree = [0] * n
    for u, v in edges:
        degree[u] += 1
        degree[n_left + v] += 1
    delta = max(degree, default=0)
    colours = delta if n_colours is None else n_colours
    if delta > colours:
        raise ValueError(f"max degree {delta} exceeds {colours} colours")
    # at[node][c] = index of the edge of colour c at node, or -1
    at = [[-1] * colours for _ in range(n)]
    colour = [-1] * len(edges)
    ends = [(u, n_left + v) for u, v in edges]

    def free(node: int) -> int:
        row = at[node]
        for c in range(colours):
            if row[c] < 0:
                return c
        raise AssertionError("no free colour despite degree bound")

    for k, (u, v) in enumerate(ends):
        a = free(u)
        if at[v][a] >= 0:
            b = free(v)
            # Walk the path from v whose edges alternate a, b, a, ...; in a
            # bipartite graph it cannot reach u (u misses a), so swapping a and
            # b along it frees a at v while keeping the colouring proper.
            path: list[int] = []
            node, c = v, a
            while at[node][c] >= 0:
                e = at[node][c]
                path.append(e)
                x, y = ends[e]
                node = y if x == node else x
                c = b if c == a else a
            for e in path:
                x, y = ends[e]
                old = colour[e]
                if at[x][old] == e:
                    at[x][old] = -1
                if at[y][old] == e:
                    at[y][old] = -1
            for e in path:
                x, y = ends[e]
                new = b if colour[e] == a else a
                colour[e] = new
                at[x][new] = e
                at[y][new] = e
        colour[k] = a
        at[u][a] = k
        at[v][a] = k
    return colour
