"""König edge colouring of a bipartite multigraph with max-degree colours by alternating paths."""

from __future__ import annotations

from collections.abc import Sequence


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


def list_edge_colouring(n_left: int, n_right: int, edges: Sequence[tuple[int, int]],
                        allowed: Sequence[Sequence[int]], n_colours: int) -> list[int]:
    """Colour edges from their own allowed colour lists (slot windows); -1 where it fails.

    Heuristic extension of the König alternating-path step: an edge whose
    list has no colour free at both ends recolours an alternating a/b path,
    accepted only if every recoloured edge keeps a colour from its list.
    Edges with short lists go first because they have the fewest options.
    """
    n = n_left + n_right
    at = [[-1] * n_colours for _ in range(n)]
    colour = [-1] * len(edges)
    ends = [(u, n_left + v) for u, v in edges]
    allowed_sets = [frozenset(a) for a in allowed]

    def path_from(start: int, a: int, b: int) -> list[int] | None:
        path: list[int] = []
        node, c = start, a
        while at[node][c] >= 0:
            e = at[node][c]
            if (b if c == a else a) not in allowed_sets[e]:
                return None
            path.append(e)
            x, y = ends[e]
            node = y if x == node else x
            c = b if c == a else a
        return path

    def swap(path: list[int], a: int, b: int) -> None:
        for e in path:
            x, y = ends[e]
            at[x][colour[e]] = -1
            at[y][colour[e]] = -1
        for e in path:
            x, y = ends[e]
            colour[e] = b if colour[e] == a else a
            at[x][colour[e]] = e
            at[y][colour[e]] = e

    def spread(node: int, a: int) -> int:
        # Distance from colour a to the node's nearest coloured edge: small
        # values keep a participant's meetings back to back (fewer gaps).
        row = at[node]
        best = n_colours
        for c in range(n_colours):
            if row[c] >= 0 and abs(c - a) < best:
                best = abs(c - a)
        return 0 if best == n_colours else best

    order = sorted(range(len(edges)), key=lambda k: (len(allowed_sets[k]), edges[k]))
    for k in order:
        u, v = ends[k]
        opts = sorted(allowed_sets[k])
        free_both = [a for a in opts if at[u][a] < 0 and at[v][a] < 0]
        chosen = min(free_both, key=lambda a: (spread(u, a) + spread(v, a), a)) if free_both else -1
        if chosen < 0:
            # Free a at the busy end: the a/b path starting there cannot
            # reach the other end, which misses a (König's argument).
            for a in opts:
                for p, q in ((u, v), (v, u)):
                    if at[p][a] >= 0 or at[q][a] < 0:
                        continue
                    for b in range(n_colours):
                        if b == a or at[q][b] >= 0:
                            continue
                        path = path_from(q, a, b)
                        if path is not None:
                            swap(path, a, b)
                            chosen = a
                            break
                    if chosen >= 0:
                        break
                if chosen >= 0:
                    break
        if chosen >= 0:
            colour[k] = chosen
            at[u][chosen] = k
            at[v][chosen] = k
    return colour
