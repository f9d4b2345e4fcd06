"""The offer life cycle: every transition of the table, every illegal one refused, reasons, audit and expiry."""
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.demands.services import local_today
from matchmaker.offers import services
from matchmaker.offers.services import TRANSITIONS, OfferError
from models import AuditEntry, Offer, OfferOrigin, OfferStatus, ProductKind, db_session
from tests.offers.helpers import bid, published, terms

ALL = list(OfferStatus)
LEGAL = [(t.action, s) for t in TRANSITIONS for s in sorted(t.sources)]
ILLEGAL = [(t.action, s) for t in TRANSITIONS for s in ALL if s not in t.sources]


def make_offer(world, status, **kw):
    """An offer in `status` on a published demand, written directly (as an import would)."""
    demand = published(world)
    values = dict(ref=f"of-{status}-{id(kw)}", demand=demand, org=world.bank.org, origin=OfferOrigin.APPLICATION,
                  kind=ProductKind.LOAN, status=status, asked_at=datetime(2026, 11, 2, 2),
                  deadline_at=datetime(2099, 1, 1), collateral=[])
    if status != "requested":
        values.update(amount=Decimal(1000), rate=Decimal("4.2"), term_months=36,
                      valid_until=local_today() + timedelta(days=10))
    values.update(kw)
    offer = Offer(**values)
    db_session.add(offer)
    db_session.commit()
    return offer


def run(world, offer, action):
    """Do `action` as whoever the table allows, so only the state decides."""
    if action == "answer":
        return services.answer(world.bank, offer, terms())
    if action == "expire":
        # The demand leaves the pool: its open offers lapse (settled ones are left alone, tested below).
        offer.demand.status = "withdrawn"
        db_session.commit()
        services.expire_offers()
        db_session.refresh(offer)
        return offer
    fn = {"decline": services.decline, "withdraw": services.withdraw, "cancel": services.cancel,
          "accept": services.accept, "reject": services.reject}[action]
    actor = world.enterprise if action in ("cancel", "accept", "reject") else world.bank
    if action in ("cancel", "accept"):
        return fn(actor, offer)
    return fn(actor, offer, "理由")


@pytest.mark.parametrize(("action", "status"), LEGAL)
def test_every_transition_of_the_table_works_and_is_audited(world, action, status):
    offer = make_offer(world, status)
    run(world, offer, action)
    t = services.TRANSITION_BY_ACTION[action]
    db_session.refresh(offer)
    assert offer.status == t.target
    audit = db_session.scalars(sa.select(AuditEntry).where(AuditEntry.object_ref == offer.ref,
                                                           AuditEntry.action == f"offer.{action}")).one()
    assert audit.details["to"] == t.target


@pytest.mark.parametrize(("action", "status"), [(a, s) for a, s in ILLEGAL if a != "expire"])
def test_every_illegal_transition_is_refused_with_a_message(world, action, status):
    offer = make_offer(world, status)
    with pytest.raises(OfferError) as e:
        run(world, offer, action)
    assert "不能" in str(e.value)
    db_session.rollback()
    db_session.refresh(offer)
    assert offer.status == status


@pytest.mark.parametrize("status", [s for s in ALL if s not in ("requested", "submitted")])
def test_expiry_leaves_settled_offers_alone(world, status):
    offer = make_offer(world, status)
    offer.demand.status = "withdrawn"
    db_session.commit()
    services.expire_offers()
    db_session.refresh(offer)
    assert offer.status == status


def test_decline_and_reject_need_a_written_reason(world):
    offer = make_offer(world, "requested")
    with pytest.raises(OfferError) as e:
        services.decline(world.bank, offer, "  ")
    assert e.value.problems == {"reason": "拒绝申请须填写理由，告诉企业原因"}
    services.decline(world.bank, offer, "企业负债率过高")
    assert (offer.status, offer.decline_reason, offer.declined_by) == ("declined", "企业负债率过高", "institution")
    assert offer.answered_at is not None
    other = make_offer(world, "submitted")
    with pytest.raises(OfferError):
        services.reject(world.enterprise, other, "")
    services.reject(world.enterprise, other, "利率偏高")
    assert other.declined_by == "enterprise"


def test_only_the_parties_may_act(world):
    offer = make_offer(world, "requested")
    with pytest.raises(OfferError):
        services.answer(world.other_bank, offer, terms())
    with pytest.raises(OfferError):
        services.decline(world.enterprise, offer, "x")
    with pytest.raises(OfferError):
        services.cancel(world.enterprise_b, offer)
    submitted = make_offer(world, "submitted")
    with pytest.raises(OfferError):
        services.accept(world.enterprise_b, submitted)
    with pytest.raises(OfferError):
        services.withdraw(world.other_bank, submitted)


def test_offers_expire_at_valid_until_lazily_and_by_command(world, app):
    demand = published(world)
    offer = bid(world.bank, demand)
    offer.valid_until = local_today() - timedelta(days=1)
    db_session.commit()
    result = app.test_cli_runner().invoke(args=["offers", "expire", "--json"])
    assert result.exit_code == 0 and '"expired": 1' in result.output
    db_session.refresh(offer)
    assert offer.status == "expired" and offer.closed_at is not None
    assert services.places_left(demand) == 3


def test_an_expired_offer_cannot_be_accepted_even_before_the_sweep(world):
    offer = bid(world.bank, published(world))
    offer.valid_until = local_today() - timedelta(days=1)
    db_session.commit()
    with pytest.raises(OfferError, match="有效期"):
        services.accept(world.enterprise, offer)


def test_a_fund_expresses_equity_interest_at_rate_zero(world):
    offer = bid(world.fund, published(world), rate=None, term_months=None, stake_percent=Decimal("8.5"),
                valuation_min=Decimal(20000), valuation_max=Decimal(30000))
    assert (offer.kind, offer.rate, offer.stake_percent) == ("equity", 0, Decimal("8.5"))
