"""Applications, the active-offer limit, packages of accepted offers, deals and disbursements, reopening."""
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.demands import services as demands
from matchmaker.demands.reveal import can_see_identity
from matchmaker.demands.services import local_today
from matchmaker.offers import services
from matchmaker.offers.services import OfferError
from models import DemandHistory, OrgKind, db_session
from tests import factories
from tests.offers.helpers import accepted, bid, published, terms


def test_an_application_discloses_the_enterprise_and_starts_the_clock(world, city):
    demand = published(world)
    product = factories.make_product(world.bank.org)
    assert not can_see_identity(world.bank, demand)
    asked = datetime(2026, 9, 24, 2)  # Thursday 10:00 in 枣庄, before the National Day holidays
    offer = services.apply(world.enterprise, demand, product, "急需设备款", now=asked)
    assert (offer.status, offer.origin, offer.product, offer.asked_at) == ("requested", "application", product, asked)
    # 10 working days from the configured calendar: 25 Sep and 1-7 Oct are holidays, Saturday 10 Oct is
    # a 调休 working day: 28, 29, 30 Sep, 8, 9, 10, 12, 13, 14, 15 Oct; the end of that day in 枣庄.
    assert offer.deadline_at == datetime(2026, 10, 15, 15, 59, 59, 999999)
    assert can_see_identity(world.bank, demand)
    assert not can_see_identity(world.other_bank, demand)


def test_an_application_needs_a_published_demand_of_ones_own(world):
    product = factories.make_product(world.bank.org)
    with pytest.raises(OfferError, match="本企业"):
        services.apply(world.enterprise_b, published(world), product)
    draft = factories.make_demand(world.enterprise.org, status="draft")
    with pytest.raises(OfferError) as e:
        services.apply(world.enterprise, draft, product)
    assert "只有已发布或已对接的需求" in e.value.problems["demand"]


def test_the_active_offer_limit_counts_institutions_and_frees_places(world, city):
    demand = published(world)
    assert services.places_left(demand) == 3
    first = bid(world.bank, demand)
    bid(world.guarantor, demand, kind="guarantee")
    assert services.places_left(demand) == 1
    with pytest.raises(OfferError, match="已有进行中的"):
        bid(world.bank, demand)
    bid(world.fund, demand, rate=None, term_months=None)
    assert services.places_left(demand) == 0
    with pytest.raises(OfferError, match="名额已满"):
        bid(world.other_bank, demand)
    services.withdraw(world.bank, first, "额度调整")
    assert services.places_left(demand) == 1
    assert bid(world.other_bank, demand).status == "submitted"
    assert services.places_left_many([demand.id]) == {demand.id: 0}


def test_the_limit_comes_from_the_city_configuration(world, city, monkeypatch):
    monkeypatch.setitem(city.policy, "active_offer_limit", 1)
    demand = published(world)
    bid(world.bank, demand)
    with pytest.raises(OfferError, match="已有1家机构"):
        services.apply(world.enterprise, demand, factories.make_product(world.other_bank.org))


def test_a_loan_and_a_guarantee_make_one_package_and_money_never_exceeds_the_amount(world):
    demand = published(world, amount=Decimal(2000))
    loan = bid(world.bank, demand, amount=Decimal(1500))
    guarantee = bid(world.guarantor, demand, amount=Decimal(1500), rate=Decimal("1.5"), kind="guarantee")
    second_loan = bid(world.other_bank, demand, amount=Decimal(1000))
    services.accept(world.enterprise, loan)
    assert demand.status == "matched"
    services.accept(world.enterprise, guarantee)  # a guarantee backs the loan; it adds no money
    with pytest.raises(OfferError, match="将超过需求金额"):
        services.accept(world.enterprise, second_loan)
    db_session.rollback()
    db_session.refresh(second_loan)
    assert second_loan.status == "submitted"
    assert services.accepted_totals(demand) == (Decimal(1500), Decimal(1500))
    steps = db_session.scalars(sa.select(DemandHistory.action).where(DemandHistory.demand_id == demand.id)).all()
    assert steps == ["match"]  # the first acceptance moves the demand, later ones do not
    # Acceptance reveals the enterprise to the accepted institutions only.
    assert can_see_identity(world.bank, demand) and can_see_identity(world.guarantor, demand)
    assert not can_see_identity(world.other_bank, demand)
    services.reject(world.enterprise, second_loan, "额度已满足")
    assert second_loan.status == "declined"


def test_no_acceptance_once_the_demand_is_withdrawn(world):
    demand = published(world)
    offer = bid(world.bank, demand)
    demands.act(world.enterprise, demand, "withdraw")
    with pytest.raises(OfferError, match="不能接受方案"):
        services.accept(world.enterprise, offer)
    assert services.expire_offers() == 1
    db_session.refresh(offer)
    assert offer.status == "expired"


def test_signing_and_disbursements_move_the_demand(world):
    demand = published(world, amount=Decimal(2000))
    loan = accepted(world, demand, amount=Decimal(1500))
    guarantee = accepted(world, demand, user=world.guarantor, amount=Decimal(1500), rate=Decimal("1.2"),
                         kind="guarantee")
    with pytest.raises(OfferError) as e:
        services.sign(world.bank, loan, signed_amount=Decimal(1600), signed_on=local_today(), rate=Decimal("4.0"),
                      term_months=36)
    assert "不能超过已接受的方案金额" in e.value.problems["signed_amount"]
    deal = services.sign(world.bank, loan, signed_amount=Decimal(1500), signed_on=local_today() - timedelta(days=20),
                         rate=Decimal("4.0"), term_months=36)
    assert demand.status == "signed"
    with pytest.raises(OfferError, match="已登记签约"):
        services.sign(world.bank, loan, signed_amount=Decimal(1), signed_on=local_today(), rate=Decimal(4),
                      term_months=36)
    g_deal = services.sign(world.guarantor, guarantee, signed_amount=Decimal(1500), signed_on=local_today(),
                           rate=Decimal("1.2"), term_months=36)
    with pytest.raises(OfferError, match="担保不涉及放款"):
        services.disburse(world.guarantor, g_deal, amount=Decimal(1), disbursed_on=local_today())
    services.disburse(world.bank, deal, amount=Decimal(1000), disbursed_on=local_today() - timedelta(days=10))
    assert demand.status == "signed"
    with pytest.raises(OfferError) as e:
        services.disburse(world.bank, deal, amount=Decimal(600), disbursed_on=local_today())
    assert e.value.problems["amount"] == "放款合计不能超过签约金额：尚可放款 500 万元"
    with pytest.raises(OfferError) as e:
        services.disburse(world.bank, deal, amount=Decimal(500), disbursed_on=deal.signed_on - timedelta(days=1))
    assert "disbursed_on" in e.value.problems
    services.disburse(world.bank, deal, amount=Decimal(500), disbursed_on=local_today())
    assert demand.status == "funded"
    assert services.funding_totals(demand) == (Decimal(1500), Decimal(1500))
    assert deal.disbursed_amount == Decimal(1500) and len(deal.disbursements) == 2
    # The interest subsidy at the signed rate: 1500 × 4% × 3 years × 50% = 90.
    assert services.subsidy_at(deal, demand).amount == Decimal(90)


def test_only_the_institution_records_its_deal(world):
    offer = accepted(world)
    with pytest.raises(OfferError):
        services.sign(world.other_bank, offer, signed_amount=Decimal(10), signed_on=local_today(),
                      rate=Decimal(4), term_months=12)
    with pytest.raises(OfferError):
        services.sign(world.enterprise, offer, signed_amount=Decimal(10), signed_on=local_today(),
                      rate=Decimal(4), term_months=12)
    not_accepted = bid(world.other_bank, published(world))
    with pytest.raises(OfferError, match="只有企业已接受"):
        services.sign(world.other_bank, not_accepted, signed_amount=Decimal(10), signed_on=local_today(),
                      rate=Decimal(4), term_months=12)


def test_an_expired_demand_without_active_offers_reopens_to_the_pool(world):
    demand = published(world)
    offer = bid(world.bank, demand)
    demand.valid_until = date(2026, 1, 1)
    db_session.commit()
    demands.expire_demands()
    assert demand.status == "expired"
    services.expire_offers()
    db_session.refresh(offer)
    assert offer.status == "expired"
    demands.act(world.enterprise, demand, "reopen")
    assert demand.status == "published" and demand.valid_until > local_today()
    assert services.places_left(demand) == 3


def test_an_expired_demand_never_published_cannot_reopen(world):
    demand = factories.make_demand(world.enterprise.org, status="expired")
    with pytest.raises(demands.DemandError, match="从未发布"):
        demands.act(world.enterprise, demand, "reopen")


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"amount": Decimal(2001)}, "amount", "金额不能超过需求金额 2000 万元"),
    ({"amount": Decimal(0)}, "amount", "金额应大于0"),
    ({"rate": Decimal("6.5")}, "rate", "超出所选产品的利率区间 3.5%–5.5%"),
    ({"rate": None}, "rate", "请填写年利率"),
    ({"term_months": 0}, "term_months", "期限应为1至360个月"),
    ({"valid_until": date(2020, 1, 1)}, "valid_until", "方案有效期不能早于今天"),
    ({"stake_percent": Decimal(5)}, "stake_percent", "只适用于股权投资"),
])
def test_bad_terms_are_refused_at_the_field(world, change, field, message):
    demand = published(world, amount=Decimal(2000))
    product = factories.make_product(world.bank.org)
    with pytest.raises(OfferError) as e:
        bid(world.bank, demand, product=product, **change)
    assert message in e.value.problems[field]


def test_a_rate_outside_the_product_range_passes_with_a_reason(world):
    product = factories.make_product(world.bank.org)
    offer = bid(world.bank, published(world), product=product, rate=Decimal("6.5"), rate_reason="无抵押，风险溢价")
    assert (offer.rate, offer.rate_reason) == (Decimal("6.5"), "无抵押，风险溢价")


def test_a_product_of_another_institution_is_refused(world):
    product = factories.make_product(world.other_bank.org)
    with pytest.raises(OfferError) as e:
        bid(world.bank, published(world), product=product)
    assert e.value.problems == {"product": "只能选择本机构的产品"}


def test_institutions_only_make_their_kinds_of_offer(world):
    with pytest.raises(OfferError):
        bid(world.bank, published(world), kind="equity")
    assert world.fund.org.kind == OrgKind.FUND
    with pytest.raises(OfferError, match="只有已审核的金融机构"):
        bid(world.enterprise_b, published(world))


def test_answering_an_application_sets_terms_and_answer_time(world):
    demand = published(world)
    product = factories.make_product(world.bank.org)
    offer = services.apply(world.enterprise, demand, product)
    with pytest.raises(OfferError) as e:
        services.answer(world.bank, offer, terms(amount=Decimal(5000)))
    assert "amount" in e.value.problems
    services.answer(world.bank, offer, terms())
    assert offer.status == "submitted" and offer.answered_at is not None and offer.amount == 1000
