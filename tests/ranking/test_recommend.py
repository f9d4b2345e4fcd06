"""Recommendations in both directions: ordering, hard constraints, and reasons that match the score."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from matchmaker.ranking import (
    FEATURE_NAMES,
    RULE_WEIGHTS,
    FeatureSet,
    Ranker,
    products_for_demand,
    reason_text,
    recommend_for_demand,
    recommend_for_institution,
)
from matchmaker.ranking.recommend import BASIC_REASONS

from .conftest import make_demand, make_product


def _features(fs: FeatureSet, ranker: Ranker, demand, product, now):
    d, p = fs.encode_demands([demand]), fs.encode_products([product])
    return fs.matrix(fs.pairs(d, [0], p, [0], now, ranker.history(fs)))[0]


def _check_reasons(item, x, contributions, demand, product):
    """The reasons are, in order, the reasons of the features with the largest positive contributions."""
    expected = []
    for f in np.argsort(-contributions, kind="stable"):
        if contributions[f] <= 1e-9 or len(expected) == 3:
            break
        text = reason_text(FEATURE_NAMES[f], demand, product, float(x[f]))
        if text:
            expected.append((FEATURE_NAMES[f], text))
    assert item.drivers == [name for name, _ in expected]
    assert item.reasons[: len(expected)] == [text for _, text in expected]
    assert 2 <= len(item.reasons) <= 3
    assert item.reasons[len(expected):] == list(BASIC_REASONS[: max(0, 2 - len(expected))])


def test_rule_reasons_are_the_largest_weight_times_value(world):
    ranker = Ranker(None, world.outcomes, world.demands)
    demand = world.demands[-1]
    now = demand.created_at
    recs = ranker.for_demand(demand, world.products, 10, now=now)
    assert recs.scorer == "rule" and recs.items
    fs = ranker.scorer().featureset
    by_ref = {p.ref: p for p in world.products}
    weights = np.array([RULE_WEIGHTS.get(n, 0.0) for n in FEATURE_NAMES])
    for item in recs.items:
        x = _features(fs, ranker, demand, by_ref[item.ref], now)
        assert item.score == pytest.approx(float(x @ weights), abs=1e-4)
        _check_reasons(item, x, x * weights, demand, by_ref[item.ref])
    assert [i.score for i in recs.items] == sorted((i.score for i in recs.items), reverse=True)


def test_model_reasons_are_the_features_whose_removal_costs_most(world, trained, tmp_path):
    trained.save(tmp_path)
    ranker = Ranker(tmp_path, world.outcomes, world.demands)
    fs = trained.featureset
    by_ref = {p.ref: p for p in world.products}
    checked = 0
    for demand in world.demands[-40::8]:
        now = demand.created_at
        for item in ranker.for_demand(demand, world.products, 5, now=now).items:
            x = _features(fs, ranker, demand, by_ref[item.ref], now)
            assert item.score == pytest.approx(float(trained.score(x[None])[0]), abs=1e-4)
            # Recompute each feature's effect by hand: the score lost when it is set to its training mean.
            occluded = np.repeat(x[None], len(x), axis=0)
            occluded[np.arange(len(x)), np.arange(len(x))] = trained.baseline
            drops = trained.score(x[None])[0] - trained.score(occluded)
            _check_reasons(item, x, drops, demand, by_ref[item.ref])
            checked += 1
    assert checked >= 10


def test_a_fund_is_told_about_the_innovation_it_likes(world, trained, tmp_path):
    """Funds in the world prefer 专精特新 with high R&D: the reasons say so for their top demands."""
    trained.save(tmp_path)
    ranker = Ranker(tmp_path, world.outcomes, world.demands)
    fund_products = [p for p in world.products if p.org_ref == "fund-01"]
    recs = ranker.for_institution("fund-01", world.demands, fund_products, 10, now=world.demands[-1].created_at)
    drivers = [set(item.drivers) for item in recs.items]
    assert sum(bool(d & {"tag_specialised", "rd_ratio"}) for d in drivers) >= 5


def test_recommend_for_demand_only_returns_candidates(world):
    demand = world.demands[-3]
    recs = recommend_for_demand(demand, world.products, top_n=50)
    fs = FeatureSet().fit_text(["x"])
    allowed = {world.products[j].ref for j in products_for_demand(fs.encode_demands([demand]), 0,
                                                                   fs.encode_products(world.products))}
    assert {i.ref for i in recs.items} == allowed
    assert all(i.org == next(p.org_ref for p in world.products if p.ref == i.ref) for i in recs.items)
    assert recs.to_json()[0].keys() == {"ref", "org", "score", "reasons"}


def test_recommend_for_institution_ranks_pool_demands_by_best_product():
    products = [make_product(ref="pd-a", purposes=["green"]), make_product(ref="pd-b", purposes=["smart_upgrade"]),
                make_product(ref="pd-other", org_ref="bank-02")]
    demands = [
        make_demand(ref="dm-1", purpose="smart_upgrade"),
        make_demand(ref="dm-2", purpose="green", amount=Decimal("5")),   # fits no product: below the minimum
        make_demand(ref="dm-3", purpose="rnd"),
        make_demand(ref="dm-4", purpose="smart_upgrade", status="draft"),  # not in the pool
    ]
    recs = recommend_for_institution("bank-01", demands, products, top_n=10)
    assert [i.ref for i in recs.items] == ["dm-1", "dm-3"]
    assert recs.items[0].product == "pd-b" and recs.items[0].org == "ent-0001"
    assert "产品支持智能化改造用途" in recs.items[0].reasons
    assert recs.to_json()[0].keys() == {"ref", "org", "score", "reasons", "product"}


def test_ties_are_broken_by_ref_and_top_n_is_respected():
    products = [make_product(ref=f"pd-{k:02d}") for k in range(30)]
    recs = recommend_for_demand(make_demand(), products, top_n=7)
    assert [i.ref for i in recs.items] == [f"pd-{k:02d}" for k in range(7)]


def test_no_candidates_gives_an_empty_list():
    recs = recommend_for_demand(make_demand(amount=Decimal("1")), [make_product()], top_n=5)
    assert recs.items == [] and recs.scorer == "rule"


def test_refreshing_the_history_changes_the_history_features(world):
    ranker = Ranker(None)
    demand = world.demands[-1]
    before = ranker.for_demand(demand, world.products, 30, now=demand.created_at)
    assert not any({"history_offers", "history_deals"} & set(i.drivers) for i in before.items)
    ranker.refresh_history(world.outcomes, world.demands)
    fs = ranker.scorer().featureset
    d, p = fs.encode_demands([demand]), fs.encode_products(world.products)
    pairs = fs.pairs(d, np.zeros(len(p), dtype=np.int64), p, np.arange(len(p)), demand.created_at, ranker.history(fs))
    assert fs.matrix(pairs)[:, FEATURE_NAMES.index("history_offers")].max() > 0
