"""The integration API: tokens act as their institution, scopes, revocation, idempotency, errors, ETags."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from matchmaker.api import tokens
from matchmaker.demands.services import disclose
from models import AuditEntry, Offer, db_session
from tests.factories import make_demand


def token_for(user, scopes=("read", "offers", "deals")) -> str:
    return tokens.create_token(user, "对接系统", list(scopes))[1]


def auth(secret: str, **headers) -> dict:
    return {"Authorization": f"Bearer {secret}", **headers}


def terms(**kw) -> dict:
    return {"amount": 1500, "rate": 4.1, "term_months": 36, "valid_until": (date.today() + timedelta(days=30))
            .isoformat(), **kw}


def test_pool_is_anonymised_and_contact_comes_with_disclosure(world, client):
    d = make_demand(world.enterprise.org, status="published")
    secret = token_for(world.bank)
    r = client.get("/api/v1/demands", headers=auth(secret))
    assert r.status_code == 200
    body = r.get_json()
    assert body["total"] == 1 and body["page"] == 1 and body["per_page"] == 20
    card = body["items"][0]["enterprise"]
    assert card["revealed"] is False and card["name"] is None and card["contact_phone"] is None
    assert body["facets"]["district"] == [{"value": "滕州市", "count": 1}]
    assert world.enterprise.org.name not in r.get_data(as_text=True)

    disclose(d, world.bank.org, "applied")
    card = client.get(f"/api/v1/demands/{d.ref}", headers=auth(secret)).get_json()["enterprise"]
    assert card["revealed"] is True and card["name"] == world.enterprise.org.name


def test_filters_are_the_pools(world, client):
    make_demand(world.enterprise.org, status="published", amount=500)
    make_demand(world.enterprise.org, status="published", amount=3000)
    make_demand(world.enterprise.org, status="draft")
    r = client.get("/api/v1/demands?amount_min=1000", headers=auth(token_for(world.bank)))
    assert [i["amount"] for i in r.get_json()["items"]] == [3000]


def test_drafts_and_other_institutions_offers_are_404(world, client):
    draft = make_demand(world.enterprise.org, status="draft")
    d = make_demand(world.enterprise.org, status="published")
    mine, other = token_for(world.bank), token_for(world.other_bank)
    assert client.get(f"/api/v1/demands/{draft.ref}", headers=auth(mine)).status_code == 404
    r = client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(), headers=auth(other))
    assert r.status_code == 201, r.get_json()
    ref = r.get_json()["ref"]
    assert client.get(f"/api/v1/offers/{ref}", headers=auth(other)).status_code == 200
    assert client.get(f"/api/v1/offers/{ref}", headers=auth(mine)).status_code == 404
    assert client.post(f"/api/v1/offers/{ref}/withdraw", json={}, headers=auth(mine)).status_code == 404
    assert client.get("/api/v1/offers", headers=auth(mine)).get_json()["total"] == 0


def test_scopes_limit_writes(world, client):
    d = make_demand(world.enterprise.org, status="published")
    read_only = token_for(world.bank, scopes=("read",))
    r = client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(), headers=auth(read_only))
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "insufficient_scope"
    # The scope is checked before the body: a bad body from a read-only token is still 403.
    r = client.post(f"/api/v1/demands/{d.ref}/offers", json={"colour": 1}, headers=auth(read_only))
    assert r.status_code == 403
    assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == 0


def test_revoked_token_stops_at_once_and_a_session_cookie_is_no_token(world, client, login_as):
    secret = token_for(world.bank)
    assert client.get("/api/v1/demands", headers=auth(secret)).status_code == 200
    token = tokens.resolve(secret)
    tokens.revoke_token(world.bank, token)
    assert client.get("/api/v1/demands", headers=auth(secret)).status_code == 401
    assert login_as(world.bank).get("/api/v1/demands").status_code == 401
    assert client.get("/api/v1/demands", headers=auth("mm_guess")).status_code == 401


def test_calls_are_audited_with_token_and_org(world, client):
    secret = token_for(world.bank)
    client.get("/api/v1/demands", headers=auth(secret))
    entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "api.call"))
    assert entry.org_id == world.bank.org_id and entry.object_ref == tokens.resolve(secret).ref
    assert entry.details["path"] == "/api/v1/demands" and entry.details["status"] == 200


def test_retried_post_with_the_same_key_creates_one_offer(world, client):
    d = make_demand(world.enterprise.org, status="published")
    secret = token_for(world.bank)
    headers = auth(secret, **{"Idempotency-Key": "bid-1"})
    first = client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(), headers=headers)
    again = client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == 1
    other = client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(amount=900), headers=headers)
    assert other.status_code == 422
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"


def test_a_failed_call_frees_its_key(world, client):
    d = make_demand(world.enterprise.org, status="published")
    headers = auth(token_for(world.bank), **{"Idempotency-Key": "k"})
    assert client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(amount=-1), headers=headers).status_code == 422
    assert client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(), headers=headers).status_code == 201


@pytest.mark.parametrize("body, field, status", [
    ({**terms(), "colour": "red"}, "colour", 422),
    (terms(amount="abc"), "amount", 422),
    ({"rate": 4}, "amount", 422),
    (terms(amount=999999), "amount", 422),   # above the demand's amount: the service's rule
])
def test_errors_have_one_shape_naming_the_field(world, client, body, field, status):
    d = make_demand(world.enterprise.org, status="published")
    r = client.post(f"/api/v1/demands/{d.ref}/offers", json=body, headers=auth(token_for(world.bank)))
    assert r.status_code == status
    err = r.get_json()["error"]
    assert set(err) == {"code", "message", "fields"} and field in err["fields"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"] + err["fields"][field])


def test_state_conflict_is_409(world, client):
    d = make_demand(world.enterprise.org, status="published")
    secret = token_for(world.bank)
    ref = client.post(f"/api/v1/demands/{d.ref}/offers", json=terms(), headers=auth(secret)).get_json()["ref"]
    assert client.post(f"/api/v1/offers/{ref}/withdraw", json={}, headers=auth(secret)).status_code == 200
    r = client.post(f"/api/v1/offers/{ref}/withdraw", json={}, headers=auth(secret))
    assert r.status_code == 409 and r.get_json()["error"]["fields"] == {}


def test_etag_answers_304(world, client):
    make_demand(world.enterprise.org, status="published")
    secret = token_for(world.bank)
    r = client.get("/api/v1/demands", headers=auth(secret))
    etag = r.headers["ETag"]
    again = client.get("/api/v1/demands", headers=auth(secret, **{"If-None-Match": etag}))
    assert again.status_code == 304 and again.get_data() == b""


def test_token_page_shows_the_secret_once(world, login_as, client):
    c = login_as(world.bank)
    r = c.post("/account/api-tokens/", data={"name": "核心系统", "scopes": ["read", "offers"]})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "只显示这一次" in page
    secret = page.split('id="new-token">')[1].split("<")[0]
    assert client.get("/api/v1/demands", headers=auth(secret)).status_code == 200
    assert secret not in c.get("/account/api-tokens/").get_data(as_text=True)
    # Members and enterprises hold no tokens.
    assert login_as(world.enterprise).get("/account/api-tokens/").status_code == 403


def test_openapi_document_validates(client):
    from openapi_spec_validator import validate

    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    assert "/api/v1/demands/{ref}/offers" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200


@pytest.fixture
def limited_app(database_url):
    """An app that counts, in memory; the limiter is one global object, so it is switched back off after."""
    from matchmaker import create_app
    from matchmaker.extensions import limiter

    before = limiter.enabled
    yield lambda **config: create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                                       "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://", **config})
    limiter.enabled = before


def test_rate_limit_per_token_answers_429_with_retry_after(world, limited_app):
    app = limited_app(API_RATE_LIMIT="2 per minute")
    client = app.test_client()
    first, second = token_for(world.bank), token_for(world.other_bank)
    assert [client.get("/api/v1/products", headers=auth(first)).status_code for _ in range(3)] == [200, 200, 429]
    r = client.get("/api/v1/products", headers=auth(first))
    assert r.get_json()["error"]["code"] == "rate_limited" and 1 <= int(r.headers["Retry-After"]) <= 61
    # Another token has its own count.
    assert client.get("/api/v1/products", headers=auth(second)).status_code == 200
