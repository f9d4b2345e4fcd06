"""The API through a deal's life, products of the institution, and event agendas."""
from __future__ import annotations

from datetime import date, timedelta

from matchmaker.api import tokens
from matchmaker.offers import services as offers
from models import Meeting, Offer, db_session
from tests.events.helpers import make_event, register
from tests.factories import make_demand, make_product


def _auth(user, scopes=("read", "offers", "deals")) -> dict:
    return {"Authorization": "Bearer " + tokens.create_token(user, "对接系统", list(scopes))[1]}


def test_application_answered_accepted_signed_and_disbursed(world, client):
    d = make_demand(world.enterprise.org, status="published")
    product = make_product(world.bank.org)
    application = offers.apply(world.enterprise, d, product, "请尽快答复")
    h = _auth(world.bank)
    # The enterprise applied: the institution sees who it is.
    card = client.get(f"/api/v1/demands/{d.ref}", headers=h).get_json()["enterprise"]
    assert card["revealed"] and card["contact_phone"] == "13911112222"
    r = client.post(f"/api/v1/offers/{application.ref}/answer", headers=h, json={
        "amount": 800, "rate": 4.0, "term_months": 24, "valid_until": (date.today() + timedelta(days=20)).isoformat()})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "submitted" and r.get_json()["product"] == product.ref
    offers.accept(world.enterprise, db_session.get(Offer, application.id))

    deals_only = _auth(world.bank, scopes=("read",))
    sign = {"signed_amount": 800, "signed_on": date.today().isoformat(), "rate": 4.0, "term_months": 24}
    assert client.post(f"/api/v1/offers/{application.ref}/deal", headers=deals_only, json=sign).status_code == 403
    r = client.post(f"/api/v1/offers/{application.ref}/deal", headers=h, json=sign)
    assert r.status_code == 201, r.get_json()
    deal = r.get_json()["ref"]
    r = client.post(f"/api/v1/deals/{deal}/disbursements", headers=h,
                    json={"amount": 900, "disbursed_on": date.today().isoformat()})
    assert r.status_code == 422 and "amount" in r.get_json()["error"]["fields"]
    r = client.post(f"/api/v1/deals/{deal}/disbursements", headers=h,
                    json={"amount": 800, "disbursed_on": date.today().isoformat()})
    assert r.status_code == 201 and r.get_json()["disbursed_amount"] == 800
    assert client.get(f"/api/v1/demands/{d.ref}", headers=h).get_json()["status"] == "funded"
    # Another bank does not see the deal.
    other = _auth(world.other_bank)
    assert client.post(f"/api/v1/deals/{deal}/disbursements", headers=other,
                       json={"amount": 1, "disbursed_on": date.today().isoformat()}).status_code == 404


def test_decline_needs_a_reason(world, client):
    d = make_demand(world.enterprise.org, status="published")
    application = offers.apply(world.enterprise, d, make_product(world.bank.org))
    h = _auth(world.bank)
    r = client.post(f"/api/v1/offers/{application.ref}/decline", headers=h, json={})
    assert r.status_code == 422 and "reason" in r.get_json()["error"]["fields"]
    r = client.post(f"/api/v1/offers/{application.ref}/decline", headers=h, json={"reason": "抵押物不足"})
    assert r.status_code == 200 and r.get_json()["decline_reason"] == "抵押物不足"


PRODUCT = {"kind": "loan", "name": "技改贷", "amount_min": 100, "amount_max": 3000, "term_min": 6, "term_max": 60,
           "rate_min": 3.5, "rate_max": 5.2, "collateral": ["none"], "purposes": ["smart_upgrade"]}


def test_products_of_the_institution(world, client):
    h = _auth(world.bank)
    r = client.post("/api/v1/products", headers=h, json=PRODUCT)
    assert r.status_code == 201, r.get_json()
    ref = r.get_json()["ref"]
    r = client.put(f"/api/v1/products/{ref}", headers=h, json={**PRODUCT, "name": "技改贷（二期）"})
    assert r.status_code == 200 and r.get_json()["name"] == "技改贷（二期）"
    assert client.post(f"/api/v1/products/{ref}/status", headers=h, json={"action": "pause"}).get_json()[
        "status"] == "paused"
    assert client.get("/api/v1/products?mine=true", headers=h).get_json()["total"] == 1
    # Paused: gone from the supermarket; another bank can neither see nor change it.
    other = _auth(world.other_bank)
    assert client.get("/api/v1/products", headers=other).get_json()["total"] == 0
    assert client.put(f"/api/v1/products/{ref}", headers=other, json=PRODUCT).status_code == 404
    r = client.post("/api/v1/products", headers=h, json={**PRODUCT, "kind": "equity"})
    assert r.status_code == 422 and "kind" in r.get_json()["error"]["fields"]


def test_agenda_of_the_institution(world, client):
    event = make_event()
    register(event, world.bank.org)
    register(event, world.enterprise.org)
    db_session.add(Meeting(event=event, slot=1, table_no=0, enterprise_id=world.enterprise.org_id,
                           institution_id=world.bank.org_id))
    db_session.commit()
    h = _auth(world.bank)
    assert [e["ref"] for e in client.get("/api/v1/events", headers=h).get_json()["items"]] == [event.ref]
    rows = client.get(f"/api/v1/events/{event.ref}/agenda", headers=h).get_json()["rows"]
    assert rows[1]["partner"] == world.enterprise.org.name and rows[1]["table_no"] == 1
    assert client.get(f"/api/v1/events/{event.ref}/agenda", headers=_auth(world.other_bank)).status_code == 404
