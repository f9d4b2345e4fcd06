"""The history feature never sees outcomes at or after the moment it is asked for."""
from __future__ import annotations

from datetime import timedelta

import numpy as np

from matchmaker.ranking import FEATURE_NAMES, FeatureSet
from matchmaker.ranking.model import build_dataset
from matchmaker.ranking.records import to_timestamp

from .conftest import T0, make_demand, make_outcome, make_product, pair_features

HIST = [FEATURE_NAMES.index("history_offers"), FEATURE_NAMES.index("history_deals")]


def test_outcomes_at_or_after_the_query_do_not_count():
    old = make_demand(ref="dm-old", created_at=T0 - timedelta(days=60))
    query = make_demand(ref="dm-q")

    def offers(at):
        f = pair_features(query, make_product(), outcomes=[make_outcome("dm-old", at=at, outcome="funded")],
                          history_demands=[old, query])
        return f["history_offers"], f["history_deals"]

    assert offers(T0 - timedelta(seconds=1)) == (np.log1p(1), np.log1p(1))
    assert offers(T0) == (0, 0)
    assert offers(T0 + timedelta(days=1)) == (0, 0)


def test_training_features_are_the_same_without_the_future(world):
    """Deleting every outcome after the split leaves every training feature unchanged."""
    cut = to_timestamp(world.split_at)
    past = [o for o in world.outcomes if to_timestamp(o.at) < cut]
    assert len(past) < len(world.outcomes)
    matrices = []
    for outcomes in (world.outcomes, past):
        fs = FeatureSet().fit_text([d.text for d in world.demands] + [p.text for p in world.products])
        d, p = fs.encode_demands(world.demands), fs.encode_products(world.products)
        rows = np.flatnonzero(d.created_at < cut)
        ds = build_dataset(fs, d, p, fs.history(outcomes, world.demands), outcomes, rows, cut)
        matrices.append(ds)
    full, trimmed = matrices
    assert np.array_equal(full.X, trimmed.X) and np.array_equal(full.target, trimmed.target)
    assert full.X[:, HIST].max() > 0  # the history feature is actually in use


def test_each_pair_only_sees_its_own_past(world):
    """For training pairs, history equals a recount from outcomes strictly before each demand's creation."""
    fs = FeatureSet().fit_text(["x"])
    d, p = fs.encode_demands(world.demands), fs.encode_products(world.products)
    history = fs.history(world.outcomes, world.demands)
    rows = np.arange(0, len(world.demands), 97)
    ds = build_dataset(fs, d, p, history, world.outcomes, rows, None)
    where = {x.ref: (x.cluster, x.purpose) for x in world.demands}
    for k in range(0, len(ds.di), 5):
        demand, product = world.demands[ds.di[k]], world.products[ds.pi[k]]
        seen = {o.demand_ref for o in world.outcomes
                if o.org_ref == product.org_ref and o.grade >= 1 and o.at < demand.created_at
                and where[o.demand_ref] == (demand.cluster, demand.purpose)}
        assert ds.X[k, HIST[0]] == np.log1p(len(seen))
