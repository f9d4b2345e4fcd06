"""`offer` and `deal` lines in the DESIGN §9 shape: history imported as given, bad lines, export never reveals, round trip."""
import io
import json
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.interchange.services import export_lines, import_lines
from matchmaker.offers import services
from models import AuditEntry, Deal, DemandHistory, Notification, Offer, db_session
from tests import factories
from tests.demands.test_interchange import WORLD
from tests.offers.helpers import bid, published

PRODUCT = {"type": "product", "ref": "pd-0001", "org": "bank-03", "kind": "loan", "name": "技改贷",
           "description": "", "amount_min": 100, "amount_max": 5000, "term_min": 6, "term_max": 60, "rate_min": 3.2,
           "rate_max": 5.5, "collateral": ["none"], "industries": [], "districts": [], "sizes": [], "purposes": [],
           "tags": [], "status": "active"}
GUARANTOR = {"type": "organization", "ref": "gua-01", "kind": "guarantor", "name": "枣庄市融资担保有限公司"}
# The example lines of DESIGN §9, as written there.
OFFER_LINE = ('{"type":"offer","ref":"of-0001","demand":"dm-0001","org":"bank-03","product":"pd-0001","amount":1500,'
              '"rate":4.1,"term_months":36,"status":"accepted","created":"2026-03-05T10:00:00"}')
DEAL_LINE = ('{"type":"deal","ref":"dl-0001","offer":"of-0001","signed_amount":1500,"signed_on":"2026-04-10",'
             '"disbursed_amount":1500,"disbursed_on":"2026-04-20"}')
GUARANTEE = {"type": "offer", "ref": "of-0002", "demand": "dm-0001", "org": "gua-01", "kind": "guarantee",
             "amount": 1500, "rate": 1.5, "term_months": 36, "status": "accepted", "created": "2026-03-06T10:00:00"}


def lines(objs):
    return [o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objs]


BASE = [*WORLD, GUARANTOR, PRODUCT]


def test_design_lines_import_as_history_without_side_effects(ctx, city):
    report = import_lines(lines([*BASE, OFFER_LINE, DEAL_LINE, GUARANTEE]), city=city)
    assert report.ok, report.errors
    offer = db_session.scalar(sa.select(Offer).where(Offer.ref == "of-0001"))
    assert (offer.status, offer.amount, offer.rate, offer.product.ref) == ("accepted", 1500, Decimal("4.1"), "pd-0001")
    deal = db_session.scalar(sa.select(Deal))
    assert deal.signed_amount == 1500 and deal.disbursed_amount == 1500 and deal.rate == Decimal("4.1")
    assert deal.term_months == 36
    # Statuses are history: the demand did not move, nobody was notified or disclosed to.
    assert offer.demand.status == "published"
    assert db_session.scalar(sa.select(sa.func.count(DemandHistory.id))) == 0
    assert db_session.scalar(sa.select(sa.func.count(Notification.id))) == 0
    assert db_session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action.in_(["offer.imported", "deal.imported"]))) == 3


def test_a_deal_with_several_disbursements(ctx, city):
    deal = {"type": "deal", "ref": "dl-0002", "offer": "of-0001", "signed_amount": 1500, "signed_on": "2026-04-10",
            "disbursements": [{"amount": 1000, "on": "2026-04-20"}, {"amount": 500, "on": "2026-05-20"}]}
    assert import_lines(lines([*BASE, OFFER_LINE, deal]), city=city).ok
    assert [d.amount for d in db_session.scalar(sa.select(Deal)).disbursements] == [1000, 500]


@pytest.mark.parametrize(("line", "field", "message"), [
    ({**json.loads(OFFER_LINE), "colour": "red"}, "colour", "未知字段"),
    ({**json.loads(OFFER_LINE), "amount": 2500}, "amount", "不能超过需求金额"),
    ({**json.loads(OFFER_LINE), "status": "won"}, "status", "无效"),
    ({**json.loads(OFFER_LINE), "org": "ent-0001"}, "org", "须来自银行"),
    ({**json.loads(OFFER_LINE), "product": "pd-404"}, "product", "不存在"),
    ({**json.loads(OFFER_LINE), "rate": 40}, "rate", "不能大于36"),
    ({**json.loads(DEAL_LINE), "signed_amount": 1600}, "signed_amount", "不能超过已接受的方案金额"),
    ({**json.loads(DEAL_LINE), "disbursed_amount": 1600}, "disbursed_amount", "不能超过签约金额"),
    ({**json.loads(DEAL_LINE), "disbursed_on": "2026-04-01"}, "disbursed_on", "不能早于签约日期"),
    ({**json.loads(DEAL_LINE), "disbursements": [{"amount": 1, "on": "2026-05-01", "x": 1}]}, "disbursements",
     "只能用一种"),
])
def test_bad_lines_are_named_and_nothing_is_imported(ctx, city, line, field, message):
    tail = [OFFER_LINE, line] if line.get("type") == "deal" else [line]
    report = import_lines(lines([*BASE, *tail]), city=city)
    assert [(e.line, e.field) for e in report.errors] == [(len(BASE) + len(tail), field)], report.errors
    assert message in report.errors[0].message
    assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == 0


def test_accepted_money_over_the_amount_is_refused(ctx, city):
    second = {**json.loads(OFFER_LINE), "ref": "of-0003", "org": "bank-03", "amount": 600}
    other_bank = {"type": "organization", "ref": "bank-04", "kind": "bank", "name": "农业银行滕州支行",
                  "district": "滕州市"}
    report = import_lines(lines([*BASE, other_bank, OFFER_LINE, {**second, "org": "bank-04", "product": None}]),
                          city=city)
    assert not report.ok and "超过需求金额" in report.errors[0].message


def test_export_then_import_round_trips_and_never_reveals(ctx, city, world):
    demand = published(world)
    product = factories.make_product(world.bank.org)
    bid(world.fund, demand, amount=Decimal(500), rate=None, term_months=None, stake_percent=Decimal(5))
    applied = services.apply(world.enterprise, demand, product)
    services.answer(world.bank, applied, {"amount": Decimal(800), "rate": Decimal("4.35"), "term_months": 24,
                                          "collateral": ["equipment"], "conditions": "按季付息",
                                          "valid_until": demand.valid_until, "rate_reason": None,
                                          "stake_percent": None, "valuation_min": None, "valuation_max": None})
    services.accept(world.enterprise, applied)
    deal = services.sign(world.bank, applied, signed_amount=Decimal(800), signed_on=factories_date(),
                         rate=Decimal("4.35"), term_months=24)
    services.disburse(world.bank, deal, amount=Decimal(300), disbursed_on=factories_date())
    services.disburse(world.bank, deal, amount=Decimal(500), disbursed_on=factories_date())
    declined = services.apply(world.enterprise, published(world), factories.make_product(world.other_bank.org))
    services.decline(world.other_bank, declined, "不在授信范围")
    first = io.StringIO()
    export_lines(first, city=city)
    text = first.getvalue()
    assert '"type":"offer"' in text and '"disbursements":[{"amount":300' in text
    # The offer lines name demands and organisations by ref only; no enterprise contact travels on them.
    offer_lines = [x for x in text.splitlines() if '"type":"offer"' in x or '"type":"deal"' in x]
    assert not any("李会计" in x or world.enterprise.org.name in x for x in offer_lines)

    from tests.conftest import _clear_tables

    _clear_tables()
    report = import_lines(text.splitlines(), city=city)
    assert report.ok, report.errors
    again = io.StringIO()
    export_lines(again, city=city)
    assert again.getvalue() == text


def factories_date():
    from matchmaker.demands.services import local_today

    return local_today()
