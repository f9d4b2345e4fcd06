"""Each feature on pairs whose values are worked out by hand."""
from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal

import pytest

from matchmaker.ranking import FEATURE_NAMES, reason_text

from .conftest import T0, make_demand, make_outcome, make_product, pair_features


def test_every_feature_is_in_the_matrix_once():
    f = pair_features(make_demand(), make_product())
    assert tuple(f) == FEATURE_NAMES


@pytest.mark.parametrize(("amount", "lo", "hi", "position", "fit"), [
    (1000, 100, 10000, 0.5, 1.0),     # log10: (3-2)/(4-2): the geometric middle
    (100, 100, 10000, 0.0, 0.0),      # at the minimum
    (10000, 100, 10000, 1.0, 0.0),    # at the maximum
    (200, 100, 1600, 0.25, 0.5),      # log 2 / log 16 = 1/4, tent 1 - |2*0.25 - 1| = 0.5
])
def test_amount_fit_and_position(amount, lo, hi, position, fit):
    f = pair_features(make_demand(amount=Decimal(amount)),
                      make_product(amount_min=Decimal(lo), amount_max=Decimal(hi)))
    assert f["amount_position"] == pytest.approx(position)
    assert f["amount_fit"] == pytest.approx(fit)


def test_amount_fit_open_ended_range_is_neutral():
    f = pair_features(make_demand(), make_product(amount_max=None))
    assert f["amount_position"] == 0.5 and f["amount_fit"] == 1.0


@pytest.mark.parametrize(("term", "lo", "hi", "fit"), [
    (36, 6, 66, 1.0),    # (36-6)/60 = 0.5
    (21, 6, 66, 0.5),    # 15/60 = 0.25
    (6, 6, 66, 0.0),
    (None, 6, 66, 0.5),  # no term stated
    (36, 6, None, 0.5),  # no upper bound
    (12, 12, 12, 1.0),   # a single-term product
])
def test_term_fit(term, lo, hi, fit):
    f = pair_features(make_demand(term_months=term), make_product(term_min=lo, term_max=hi))
    assert f["term_fit"] == pytest.approx(fit)


@pytest.mark.parametrize(("ceiling", "floor", "kind", "fit"), [
    ("4.5", "3.7", "loan", 0.9),   # 0.8 points of headroom: 0.5 + 0.8/2
    ("3.7", "3.7", "loan", 0.5),   # no headroom
    ("6.0", "3.7", "loan", 1.0),   # more than a point: capped
    ("3.5", "3.7", "loan", 0.0),   # floor above the ceiling
    (None, "3.7", "loan", 0.5),    # no ceiling stated
    ("4.5", "0", "equity", 0.5),   # equity carries no rate
])
def test_rate_fit(ceiling, floor, kind, fit):
    f = pair_features(make_demand(max_rate=None if ceiling is None else Decimal(ceiling), financing_types=[kind]),
                      make_product(rate_min=Decimal(floor), kind=kind))
    assert f["rate_fit"] == pytest.approx(fit)


@pytest.mark.parametrize(("feature", "field", "named", "other"), [
    ("industry_match", "industries", "高端装备", "锂电"),
    ("district_match", "districts", "滕州市", "市中区"),
    ("size_match", "sizes", "small", "large"),
    ("purpose_match", "purposes", "smart_upgrade", "green"),
])
def test_scope_features(feature, field, named, other):
    assert pair_features(make_demand(), make_product(**{field: [named, other]}))[feature] == 1.0
    assert pair_features(make_demand(), make_product(**{field: []}))[feature] == 0.5
    if feature in ("industry_match", "purpose_match"):  # districts and sizes are hard constraints
        assert pair_features(make_demand(), make_product(**{field: [other]}))[feature] == 0.0


@pytest.mark.parametrize(("offered", "accepted", "match", "credit"), [
    (["equipment"], ["equipment", "property"], 1.0, 0.0),
    (["equipment"], ["none", "property"], 0.5, 0.0),
    (["none"], ["none", "property"], 0.5, 1.0),   # a credit loan for an enterprise without collateral
    (["none"], ["property"], 0.0, 0.0),
    (["property"], ["none"], 0.5, 0.0),
])
def test_collateral_and_credit(offered, accepted, match, credit):
    f = pair_features(make_demand(collateral=offered), make_product(collateral=accepted))
    assert f["collateral_match"] == match
    assert f["credit_fit"] == credit


def test_text_similarity_by_hand():
    # Bigrams: 锂电 电设 设备 | 设备 备贷 贷款. Smoothed idf over two documents: shared 设备 → 1,
    # the others ln(3/2) + 1. Cosine = 1 / |demand|² = 1 / (1 + 2 (1 + ln 1.5)²).
    f = pair_features(make_demand(text="锂电设备"), make_product(text="设备贷款"))
    assert f["text_similarity"] == pytest.approx(1 / (1 + 2 * (1 + math.log(1.5)) ** 2))
    assert pair_features(make_demand(text="锂电设备"), make_product(text="锂电设备"))["text_similarity"] == pytest.approx(1)
    assert pair_features(make_demand(text="锂电"), make_product(text="贷款"))["text_similarity"] == 0


def test_enterprise_profile():
    f = pair_features(make_demand(tags=["高新技术企业", "专精特新"], rd_ratio=0.05, revenue=Decimal("999")),
                      make_product())
    assert (f["tag_high_tech"], f["tag_specialised"], f["rd_ratio"]) == (1.0, 1.0, 0.05)
    assert f["revenue_scale"] == pytest.approx(3.0)  # log10(1 + 999)
    f = pair_features(make_demand(tags=[], rd_ratio=None, revenue=None), make_product(kind="equity"))
    assert (f["tag_high_tech"], f["tag_specialised"], f["rd_ratio"], f["revenue_scale"]) == (0, 0, 0, 0)
    assert f["product_is_equity"] == 1.0


def test_history_counts_similar_demands_before_the_query():
    query = make_demand(ref="dm-q", created_at=T0)
    same = [make_demand(ref=f"dm-{k}", created_at=T0 - timedelta(days=30)) for k in range(3)]
    other = make_demand(ref="dm-x", cluster="锂电", created_at=T0 - timedelta(days=30))
    day = timedelta(days=1)
    outcomes = [
        make_outcome("dm-0", at=T0 - 20 * day, outcome="offered"),
        make_outcome("dm-0", at=T0 - 10 * day, outcome="funded"),   # the same demand again: one offer, one deal
        make_outcome("dm-1", at=T0 - 5 * day, outcome="signed"),
        make_outcome("dm-2", at=T0 - 5 * day, outcome="declined"),  # a decline is not an offer
        make_outcome("dm-x", at=T0 - 5 * day, outcome="funded"),    # another cluster
        make_outcome("dm-2", product_ref="pd-9", org_ref="bank-02", at=T0 - 5 * day),  # another institution
    ]
    f = pair_features(query, make_product(), outcomes=outcomes, history_demands=[query, other, *same])
    assert f["history_offers"] == pytest.approx(math.log1p(2))
    assert f["history_deals"] == pytest.approx(math.log1p(2))


def test_reason_templates_read_the_pair():
    d, p = make_demand(), make_product()
    assert reason_text("amount_fit", d, p, 1.0) == "融资金额1000万元处于产品额度100–10000万元的适中区间"
    assert reason_text("rate_fit", d, p, 0.9) == "产品最低利率3.7%不高于企业可接受的4.5%"
    assert reason_text("industry_match", d, p, 1.0) == "产品专门支持高端装备行业"
    assert reason_text("industry_match", d, p, 0.5) == "产品不限行业，高端装备企业可申请"
    assert reason_text("history_offers", d, p, math.log1p(3)) == "该机构此前对高端装备行业智能化改造类需求报价3次"
    assert reason_text("product_is_equity", d, p, 1.0) is None
    assert reason_text("tag_specialised", d, p, 0.0) is None
