"""Tests of the exact building blocks: flow b-matching and König edge colouring."""

from __future__ import annotations

import itertools
import random

import pytest

from matchmaker.scheduling import (
    konig_edge_colouring,
    max_b_matching,
    max_weight_b_matching,
)
from matchmaker.scheduling.colouring import list_edge_colouring


def _brute_force(left_cap, right_cap, edges, weights):
    best = 0
    for r in range(len(edges), -1, -1):
        for subset in itertools.combinations(range(len(edges)), r):
            dl = [0] * len(left_cap)
            dr = [0] * len(right_cap)
            for k in subset:
                dl[edges[k][0]] += 1
                dr[edges[k][1]] += 1
            if all(a <= b for a, b in zip(dl, left_cap, strict=False)) and all(a <= b for a, b in zip(dr, right_cap, strict=False)):
                best = max(best, sum(weights[k] for k in subset))
    return best


@pytest.mark.parametrize("seed", range(15))
def test_b_matchings_match_brute_force(seed):
    rng = random.Random(seed)
    nl, nr = rng.randint(1, 4), rng.randint(1, 4)
    edges = rng.sample([(u, v) for u in range(nl) for v in range(nr)], k=min(nl * nr, 7))
    lc = [rng.randint(0, 3) for _ in range(nl)]
    rc = [rng.randint(0, 3) for _ in range(nr)]
    card = max_b_matching(lc, rc, edges)
    assert len(card) == _brute_force(lc, rc, edges, [1] * len(edges))
    w = [rng.randint(0, 9) for _ in edges]
    sel = max_weight_b_matching(lc, rc, edges, w)
    assert sum(w[k] for k in sel) == _brute_force(lc, rc, edges, w)
    for chosen in (card, sel):
        for u in range(nl):
            assert sum(1 for k in chosen if edges[k][0] == u) <= lc[u]
        for v in range(nr):
            assert sum(1 for k in chosen if edges[k][1] == v) <= rc[v]


def _proper(edges, colours, n_left):
    seen = set()
    for (u, v), c in zip(edges, colours, strict=False):
        for node in (u, n_left + v):
            assert (node, c) not in seen
            seen.add((node, c))


@pytest.mark.parametrize("seed", range(20))
def test_konig_uses_max_degree_colours_on_multigraphs(seed):
    rng = random.Random(seed)
    nl, nr = rng.randint(1, 7), rng.randint(1, 7)
    edges = [(rng.randrange(nl), rng.randrange(nr)) for _ in range(rng.randint(1, 40))]
    colours = konig_edge_colouring(nl, nr, edges)
    delta = max(max(sum(1 for e in edges if e[0] == u) for u in range(nl)),
                max(sum(1 for e in edges if e[1] == v) for v in range(nr)))
    assert set(colours) <= set(range(delta))
    _proper(edges, colours, nl)


def test_konig_rejects_too_few_colours():
    with pytest.raises(ValueError):
        konig_edge_colouring(1, 3, [(0, 0), (0, 1), (0, 2)], 2)


def test_list_colouring_respects_lists_and_stays_proper():
    rng = random.Random(7)
    edges = [(rng.randrange(6), rng.randrange(4)) for _ in range(30)]
    allowed = [sorted(rng.sample(range(12), 9)) for _ in edges]
    colours = list_edge_colouring(6, 4, edges, allowed, 12)
    coloured = [(e, c) for e, c in zip(edges, colours, strict=False) if c >= 0]
    for k, c in enumerate(colours):
        assert c == -1 or c in allowed[k]
    _proper([e for e, _ in coloured], [c for _, c in coloured], 6)
    assert len(coloured) >= 25
