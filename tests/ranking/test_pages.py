"""The recommendation pages: the enterprise's demand page, the institution's "为您推荐", fallbacks and reasons."""
from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from decimal import Decimal

import pytest

from matchmaker.ranking import RULE_NOTICE, clear_cache, reason_text
from matchmaker.ranking.data import demand_record, product_record, serving
from models import Deal, Offer, db_session
from models.types import utcnow
from tests.factories import make_demand, make_enterprise, make_org, make_product, make_user


@pytest.fixture
def market(ctx, model_dir):
    """Two banks with a loan each, an enterprise with a published demand, a fund without fitting products."""
    bank = make_org("bank", district=None, name="甲银行")
    other = make_org("bank", district=None, name="乙银行")
    fit = make_product(bank, name="技改贷", purposes=["smart_upgrade"], amount_max=Decimal(5000),
                       collateral=["equipment"], description="智能化改造设备购置贷款")
    make_product(other, name="流动资金贷", amount_max=Decimal(5000), collateral=["equipment"])
    ent = make_enterprise(name="机密精密机械有限公司")
    demand = make_demand(ent, status="published", title="数控车间智能化改造融资")
    return {"bank": bank, "bank_user": make_user(bank), "ent_user": make_user(ent), "demand": demand,
            "product": fit, "ent": ent}


def test_enterprise_sees_products_with_reasons_and_apply(market, login_as):
    page = login_as(market["ent_user"]).get(f"/demands/{market['demand'].ref}")
    assert page.status_code == 200
    text = page.text
    assert "为您推荐的金融产品" in text and "技改贷" in text and "流动资金贷" in text
    assert "/offers/apply?product=" in text and market["product"].ref in text
    assert "规则评分" in text and RULE_NOTICE in text


def test_institution_page_is_anonymised_and_says_the_scorer(market, login_as):
    page = login_as(market["bank_user"]).get("/recommended")
    assert page.status_code == 200
    assert "为您推荐" in page.text and market["demand"].title in page.text
    assert market["ent"].name not in page.text  # the reveal rule: no application, no name
    assert RULE_NOTICE in page.text
    assert "为您推荐" in login_as(market["bank_user"]).get("/").text  # in the navigation


def test_page_reasons_match_the_rule_features(market, login_as, app):
    s = serving(app)
    recs = s.ranker.for_demand(demand_record(market["demand"]), [product_record(market["product"])], 5)
    item = recs.items[0]
    assert item.drivers  # the features behind the reasons
    d, p = demand_record(market["demand"]), product_record(market["product"])
    scorer = s.ranker.scorer()
    X = scorer.featureset.matrix(scorer.featureset.pairs(
        scorer.featureset.encode_demands([d]), [0], scorer.featureset.encode_products([p]), [0], utcnow(),
        s.ranker.history(scorer.featureset)))
    names = scorer.featureset.names
    expected = [reason_text(n, d, p, float(X[0, names.index(n)])) for n in item.drivers]
    page = login_as(market["ent_user"]).get(f"/demands/{market['demand'].ref}").text
    for reason in expected:
        assert reason and reason in page


@pytest.mark.parametrize("damage", ["corrupt", "missing"])
def test_broken_artifact_falls_back_on_the_pages(market, login_as, model_dir, caplog, damage):
    version = model_dir / "v20260101T000000"
    version.mkdir(parents=True)
    (model_dir / "current").write_text(version.name)
    if damage == "corrupt":
        (version / "model.skops").write_bytes(b"\x00garbage")
        (version / "meta.json").write_text("{not json")
    else:
        shutil.rmtree(version)
    clear_cache()
    with caplog.at_level(logging.WARNING, logger="matchmaker.ranking"):
        ent_page = login_as(market["ent_user"]).get(f"/demands/{market['demand'].ref}")
        bank_page = login_as(market["bank_user"]).get("/recommended")
    assert ent_page.status_code == 200 and bank_page.status_code == 200
    assert RULE_NOTICE in ent_page.text and RULE_NOTICE in bank_page.text
    assert any(r.name.startswith("matchmaker.ranking") and r.levelno >= logging.WARNING for r in caplog.records)


def test_history_loader_grades_offers(market):
    from matchmaker.ranking.data import load_history

    demand, product, bank = market["demand"], market["product"], market["bank"]
    now = utcnow()
    offer = Offer(ref="of-1", demand=demand, org=bank, product=product, origin="bid", kind="loan",
                  status="accepted", created_at=now - timedelta(days=9), accepted_at=now - timedelta(days=7))
    db_session.add(offer)
    db_session.add(Deal(ref="dl-1", offer=offer, signed_amount=Decimal(100), signed_on=now.date(),
                        rate=Decimal(4), term_months=12))
    db_session.commit()
    outcomes, demands = load_history()
    assert [o.outcome for o in outcomes] == ["offered", "accepted", "signed"]
    assert {d.ref for d in demands} == {demand.ref}


def test_events_pair_scorer_uses_the_ranking(market, city):
    from matchmaker.events import pairing
    from matchmaker.ranking.data import ranking_pair_scorer

    assert pairing.pair_scorer() is ranking_pair_scorer or pairing.pair_scorer() is pairing.rule_score
    ent, bank = market["ent"], market["bank"]
    score, reasons = ranking_pair_scorer(ent, bank, city)
    assert 0 < score <= 1 and reasons and market["demand"].title in reasons[0]
    fund = make_org("fund", district=None)
    assert ranking_pair_scorer(ent, fund, city) == pairing.rule_score(ent, fund, city)  # no product: the rule
    lonely = make_enterprise()
    assert ranking_pair_scorer(lonely, bank, city) == pairing.rule_score(lonely, bank, city)  # no demand: the rule


def test_loaders_run_a_few_queries_whatever_the_size(market):
    import sqlalchemy as sa

    from matchmaker.ranking.data import load_history, load_training_set
    from models import get_engine

    bank, product = market["bank"], market["product"]
    now = utcnow()
    for k in range(12):
        demand = make_demand(make_enterprise(), status="published", commit=False)
        db_session.add(Offer(ref=f"of-n{k}", demand=demand, org=bank, product=product, origin="bid", kind="loan",
                             status="expired", created_at=now - timedelta(days=k + 1)))
    db_session.commit()
    db_session.expunge_all()
    statements = []

    def spy(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(get_engine(), "before_cursor_execute", spy)
    try:
        demands, products, outcomes = load_training_set()
        history = load_history()
    finally:
        sa.event.remove(get_engine(), "before_cursor_execute", spy)
    assert len(demands) == 13 and len(outcomes) == 12 and len(history[1]) == 12
    assert len(statements) <= 10, statements


def test_institution_recommendations_follow_the_pool(market, login_as):
    client = login_as(market["bank_user"])
    assert "新发布的生产线扩能需求" not in client.get("/recommended").text
    make_demand(make_enterprise(), status="published", title="新发布的生产线扩能需求")
    assert "新发布的生产线扩能需求" in client.get("/recommended").text  # the cache saw the pool change
