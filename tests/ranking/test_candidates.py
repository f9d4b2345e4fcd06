"""The hard constraints of DESIGN §6, one at a time, in both directions."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from matchmaker.ranking import FeatureSet, candidate_pairs, demands_for_product, products_for_demand

from .conftest import make_demand, make_product


def fits(demand, product) -> bool:
    fs = FeatureSet().fit_text([demand.text, product.text])
    d, p = fs.encode_demands([demand]), fs.encode_products([product])
    one_way = len(products_for_demand(d, 0, p)) == 1
    other_way = len(demands_for_product(d, p, 0, published_only=False)) == 1
    assert one_way == other_way  # both directions apply the same constraints
    return one_way


def test_the_base_pair_fits():
    assert fits(make_demand(), make_product())


@pytest.mark.parametrize(("demand", "product"), [
    ({}, {"status": "paused"}),                                      # product not active
    ({"financing_types": ["equity"]}, {}),                           # financing type ≠ product kind
    ({"amount": Decimal("99")}, {}),                                 # below the minimum amount
    ({"amount": Decimal("10001")}, {}),                              # above the maximum amount
    ({"term_months": 3}, {}),                                        # term too short
    ({"term_months": 72}, {}),                                       # term too long
    ({}, {"districts": ["市中区", "薛城区"]}),                          # district not served
    ({}, {"sizes": ["medium", "large"]}),                            # size not served
    ({"collateral": ["receivables"]}, {"collateral": ["property"]}),  # no accepted collateral
    ({"collateral": ["none"]}, {"collateral": ["property"]}),         # credit not accepted
])
def test_each_constraint_excludes(demand, product):
    assert not fits(make_demand(**demand), make_product(**product))


@pytest.mark.parametrize(("demand", "product"), [
    ({"amount": Decimal("100")}, {}),                                 # range bounds are inclusive
    ({"amount": Decimal("10000"), "term_months": 66}, {}),
    ({}, {"districts": ["滕州市"], "sizes": ["small"]}),               # named district and size
    ({"collateral": ["receivables"]}, {"collateral": ["none", "property"]}),  # the product lends on credit
    ({"financing_types": ["loan", "equity"]}, {"kind": "equity", "collateral": [], "term_min": None,
                                                "term_max": None}),   # equity asks no collateral
    ({"term_months": None}, {}),                                      # no term stated
    ({}, {"amount_max": None}),                                       # open-ended amount
    ({}, {"industries": ["锂电"], "purposes": ["green"]}),             # industry and purpose are soft
])
def test_compatible_pairs_pass(demand, product):
    assert fits(make_demand(**demand), make_product(**product))


def test_candidate_pairs_match_the_single_checks_and_keep_the_pool_published():
    demands = [make_demand(ref=f"dm-{k}", amount=Decimal(50 * (k + 1)), status="published" if k % 3 else "draft")
               for k in range(12)]
    products = [make_product(ref=f"pd-{k}", amount_min=Decimal(100 * k), amount_max=Decimal(100 * k + 300))
                for k in range(5)]
    fs = FeatureSet().fit_text(["x"])
    d, p = fs.encode_demands(demands), fs.encode_products(products)
    expected = {(i, j) for i in range(12) for j in range(5) if 100 * j <= 50 * (i + 1) <= 100 * j + 300}
    for published_only in (False, True):
        want = {(i, j) for i, j in expected if not published_only or i % 3}
        di, pi = candidate_pairs(d, p, published_only=published_only)
        assert set(zip(di.tolist(), pi.tolist(), strict=True)) == want
        assert np.all(np.diff(di * 5 + pi) > 0)  # sorted by (demand, product)
    # Looping over products (the institution direction) gives the same pairs as looping over demands.
    di, pi = candidate_pairs(d, p.take(np.array([1, 2])), published_only=True)
    assert set(zip(di.tolist(), (pi + 1).tolist(), strict=True)) == {(i, j) for i, j in expected if i % 3 and j in (1, 2)}
