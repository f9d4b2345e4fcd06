"""PATCH /api/v1/offers/<ref>: the offering institution changes open terms; others, and decided offers, are refused."""
from __future__ import annotations

import sqlalchemy as sa

from matchmaker.offers import services
from models import AuditEntry, Offer, db_session
from tests.api.test_api import auth, terms, token_for
from tests.factories import make_demand


def _offer(world, client, secret):
    d = make_demand(world.enterprise.org, status="published")
    r = client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(), headers=auth(secret))
    assert r.status_code == 201, r.get_json()
    return r.get_json()["ref"]


def test_patch_changes_the_given_terms_and_is_audited(world, client):
    secret = token_for(world.bank)
    ref = _offer(world, client, secret)
    r = client.patch(f"/api/v1/offers/{ref}", json={"rate": 3.85, "conditions": "需追加设备抵押"},
                     headers=auth(secret))
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["amount"], body["rate"], body["term_months"], body["conditions"]) == (1500, 3.85, 36, "需追加设备抵押")
    assert r.headers.get("ETag")
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "offer.revised"))
    assert entry is not None and sorted(entry.details["changed"]) == ["conditions", "rate"]


def test_a_token_of_bank_a_cannot_patch_bank_bs_offer(world, client):
    ref = _offer(world, client, token_for(world.other_bank))
    r = client.patch(f"/api/v1/offers/{ref}", json={"rate": 1.0}, headers=auth(token_for(world.bank)))
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"
    assert float(db_session.scalar(sa.select(Offer.rate).where(Offer.ref == ref))) == 4.1


def test_patch_after_acceptance_is_refused_with_the_reason(world, client):
    secret = token_for(world.bank)
    ref = _offer(world, client, secret)
    services.accept(world.enterprise, db_session.scalar(sa.select(Offer).where(Offer.ref == ref)))
    r = client.patch(f"/api/v1/offers/{ref}", json={"amount": 1000}, headers=auth(secret))
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "conflict" and "已接受" in err["message"] and "不能修改" in err["message"]
    assert float(db_session.scalar(sa.select(Offer.amount).where(Offer.ref == ref))) == 1500


def test_patch_needs_the_offers_scope_and_names_bad_fields(world, client):
    secret = token_for(world.bank)
    ref = _offer(world, client, secret)
    assert client.patch(f"/api/v1/offers/{ref}", json={"rate": 3.0},
                        headers=auth(token_for(world.bank, scopes=("read",)))).status_code == 403
    r = client.patch(f"/api/v1/offers/{ref}", json={"amount": 999999}, headers=auth(secret))
    assert r.status_code == 422 and "amount" in r.get_json()["error"]["fields"]
    r = client.patch(f"/api/v1/offers/{ref}", json={"product": "pd-x"}, headers=auth(secret))
    assert r.status_code == 422 and r.get_json()["error"]["fields"] == {"product": "不允许的字段"}
    r = client.patch(f"/api/v1/offers/{ref}", json={}, headers=auth(secret))
    assert r.status_code == 422


def test_if_match_guards_against_a_lost_update(world, client):
    secret = token_for(world.bank)
    ref = _offer(world, client, secret)
    etag = client.get(f"/api/v1/offers/{ref}", headers=auth(secret)).headers["ETag"]
    first = client.patch(f"/api/v1/offers/{ref}", json={"rate": 3.9}, headers=auth(secret, **{"If-Match": etag}))
    assert first.status_code == 200
    stale = client.patch(f"/api/v1/offers/{ref}", json={"rate": 3.5}, headers=auth(secret, **{"If-Match": etag}))
    assert stale.status_code == 412
    assert stale.get_json()["error"]["code"] == "precondition_failed"
    fresh = client.patch(f"/api/v1/offers/{ref}", json={"rate": 3.5},
                         headers=auth(secret, **{"If-Match": first.headers["ETag"]}))
    assert fresh.status_code == 200 and fresh.get_json()["rate"] == 3.5
