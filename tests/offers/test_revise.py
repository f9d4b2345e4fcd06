"""Revising an offer's terms while the enterprise has not decided: service, page, audit and notice."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.offers import services
from models import AuditEntry, Notification, db_session
from tests.offers.helpers import accepted, bid, published


def test_revise_changes_only_the_given_terms_audits_and_tells_the_enterprise(world):
    offer = bid(world.bank, published(world), amount=Decimal(1000), rate=Decimal("4.2"))
    services.revise(world.bank, offer, {"amount": Decimal(1200), "rate": Decimal("3.9")})
    db_session.refresh(offer)
    assert (offer.amount, offer.rate, offer.term_months, offer.conditions) == (
        Decimal(1200), Decimal("3.9"), 36, "设备抵押")
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "offer.revised"))
    assert entry is not None and sorted(entry.details["changed"]) == ["amount", "rate"]
    assert Decimal(entry.details["before"]["amount"]) == 1000
    note = db_session.scalar(sa.select(Notification).where(Notification.kind == "offer.revised"))
    assert note.user.org_id == world.enterprise.org_id and "1200" in note.body


def test_revise_checks_the_same_rules_as_a_new_offer(world):
    demand = published(world, amount=Decimal(2000))
    offer = bid(world.bank, demand)
    with pytest.raises(services.OfferError) as e:
        services.revise(world.bank, offer, {"amount": Decimal(2500)})
    assert "amount" in e.value.problems
    db_session.refresh(offer)
    assert offer.amount == Decimal(1000)


@pytest.mark.parametrize("end", ["accept", "reject", "withdraw"])
def test_no_revision_once_the_offer_is_decided(world, end):
    demand = published(world)
    if end == "accept":
        offer = accepted(world, demand)
    else:
        offer = bid(world.bank, demand)
        if end == "reject":
            services.reject(world.enterprise, offer, "利率偏高")
        else:
            services.withdraw(world.bank, offer)
    with pytest.raises(services.OfferError, match="不能修改"):
        services.revise(world.bank, offer, {"rate": Decimal("3.0")})


def test_only_the_offering_institution_revises(world):
    offer = bid(world.bank, published(world))
    with pytest.raises(services.OfferError, match="只能修改本机构"):
        services.revise(world.other_bank, offer, {"rate": Decimal("3.0")})


def test_the_institution_revises_on_its_page(world, login_as):
    offer = bid(world.bank, published(world))
    bank = login_as(world.bank)
    assert "修改方案条款" in bank.get(f"/offers/{offer.ref}").text
    page = bank.get(f"/offers/{offer.ref}/revise").text
    assert 'value="1000"' in page and "保存修改" in page
    data = {"amount": "1100", "rate": "4.0", "term_months": "24", "valid_until": offer.valid_until.isoformat(),
            "conditions": "设备抵押", "collateral": "equipment"}
    # A bad figure is shown at its field and nothing is changed.
    bad = bank.post(f"/offers/{offer.ref}/revise", data={**data, "amount": "99999"})
    assert bad.status_code == 200 and "不能超过需求金额" in bad.text and 'value="99999"' in bad.text
    assert bank.post(f"/offers/{offer.ref}/revise", data=data).status_code == 302
    db_session.refresh(offer)
    assert (offer.amount, offer.term_months) == (Decimal(1100), 24)
    # Another bank's user and the enterprise cannot open the form.
    assert login_as(world.other_bank).get(f"/offers/{offer.ref}/revise").status_code == 404
    assert login_as(world.enterprise).get(f"/offers/{offer.ref}/revise").status_code == 403


def test_the_revise_page_sends_back_an_accepted_offer(world, login_as):
    offer = accepted(world)
    resp = login_as(world.bank).get(f"/offers/{offer.ref}/revise")
    assert resp.status_code == 302
