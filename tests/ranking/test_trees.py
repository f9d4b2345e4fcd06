"""The compiled tree walk gives the scikit-learn model's scores exactly, and the institution ranking uses it on every pair."""
from __future__ import annotations

import numpy as np
import pytest

from matchmaker.ranking import Ranker, candidate_pairs, train
from matchmaker.ranking import trees as trees_module
from matchmaker.ranking.trees import CompiledEnsemble


@pytest.fixture(scope="module")
def hgb(world):
    """A gradient-boosted model (the algorithm the compiled walk serves), trained on the small world."""
    return train(world.demands, world.products, world.outcomes, world.split_at, algorithm="hgb", evaluate_after=False)


@pytest.fixture(scope="module")
def pool_matrix(world, hgb):
    """Every candidate pair of the world's demands and products, as the institution direction builds them."""
    fs = hgb.featureset
    d, p = fs.encode_demands(world.demands), fs.encode_products(world.products)
    di, pi = candidate_pairs(d, p, ordered=False)
    return fs.matrix(fs.pairs(d, di, p, pi, world.demands[-1].created_at, fs.history(world.outcomes, world.demands)))


def test_the_compiled_walk_equals_scikit_learn_bit_for_bit(hgb, pool_matrix):
    assert hgb.compiled is not None
    expected = hgb.estimator.predict(pool_matrix)
    assert len(pool_matrix) > 5_000 and np.ptp(expected) > 0.5  # many pairs, scores that differ
    assert np.array_equal(hgb.compiled.predict(pool_matrix), expected)  # column-major, as FeatureSet.matrix builds it
    assert np.array_equal(hgb.compiled.predict(np.ascontiguousarray(pool_matrix)), expected)
    rows = np.array([5, 0, len(pool_matrix) - 1, 5])
    assert np.array_equal(hgb.compiled.predict(pool_matrix, rows), expected[rows])
    assert np.array_equal(hgb.score(pool_matrix, rows), expected[rows])


def test_missing_values_go_where_the_trees_learnt_to_send_them(hgb, pool_matrix):
    X = np.array(pool_matrix[:2000])
    X[::3, 0] = np.nan
    X[1::7, :] = np.nan
    assert np.array_equal(hgb.compiled.predict(X), hgb.estimator.predict(X))


def test_two_threads_give_the_same_scores(hgb, pool_matrix, monkeypatch):
    monkeypatch.setattr(trees_module, "PARALLEL_MIN", 100)
    monkeypatch.setattr(trees_module, "THREADS", 2)
    monkeypatch.setattr(trees_module, "_spare_cores", lambda: True)
    calls = []
    real = trees_module._walk_compiled
    monkeypatch.setattr(trees_module, "_walk_compiled", lambda X, rows, *a: calls.append(len(rows)) or real(X, rows, *a))
    assert np.array_equal(hgb.compiled.predict(pool_matrix), hgb.estimator.predict(pool_matrix))
    assert len(calls) == 2 and sum(calls) == len(pool_matrix)  # two halves, every row once


def test_a_matrix_of_the_wrong_width_is_refused(hgb, pool_matrix):
    with pytest.raises(ValueError, match="feature columns"):
        hgb.compiled.predict(pool_matrix[:, :-1])


def test_a_linear_model_is_not_compiled(world):
    pairwise = train(world.demands, world.products, world.outcomes, world.split_at, algorithm="pairwise",
                     evaluate_after=False)
    assert pairwise.compiled is None and CompiledEnsemble.of(pairwise.estimator) is None


def test_an_institution_gets_the_exact_top_of_every_pair(world, hgb, tmp_path, monkeypatch):
    """The institution direction scores all pairs with the compiled trees: the same list as scikit-learn on every pair."""
    from matchmaker.ranking import model as model_module

    hgb.save(tmp_path)
    ranker = Ranker(tmp_path, world.outcomes, world.demands)
    demands, products = ranker.encode_demands(world.demands), ranker.encode_products(world.products)
    org = "bank-01"
    own = products.take(np.flatnonzero(products.org_refs == org))
    now = world.demands[-1].created_at
    monkeypatch.setattr(model_module, "SHORTLIST_MIN", 100)  # would shortlist if scikit-learn walked the trees
    fast = ranker.for_institution(org, demands, own, 20, now=now)
    model = ranker.scorer()
    monkeypatch.setattr(model, "compiled", None)
    monkeypatch.setattr(model_module, "SHORTLIST_MIN", 10**9)  # scikit-learn on every pair
    exact = ranker.for_institution(org, demands, own, 20, now=now)
    assert [i.ref for i in fast.items] == [i.ref for i in exact.items]
    assert [i.score for i in fast.items] == [i.score for i in exact.items]
    assert [i.reasons for i in fast.items] == [i.reasons for i in exact.items]
