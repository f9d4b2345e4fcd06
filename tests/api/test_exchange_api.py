"""Bulk exchange over the API: the bureau exports its scope; an institution posts its own outcomes, all or nothing."""
from __future__ import annotations

import io
import json
from datetime import timedelta

import sqlalchemy as sa

from matchmaker.demands.services import local_today
from models import Deal, Demand, Offer, db_session
from tests import factories
from tests.api.test_api import auth, token_for
from tests.exchange.helpers import build, outcome_workbook, rows


def _period(**kw):
    today = local_today()
    return {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat(), **kw}


def test_a_bureau_token_exports_its_districts_outcomes(world, client):
    hist = build(world)
    secret = token_for(world.district_bureau, scopes=("read",))
    r = client.get("/api/v1/exchange/export", query_string=_period(format="xlsx"), headers=auth(secret))
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert [x[0] for x in rows(r.data, "融资需求")[1:]] == [hist.funded.ref]
    r = client.get("/api/v1/exchange/export", query_string=_period(), headers=auth(secret))
    assert r.status_code == 200 and r.mimetype == "application/x-ndjson"
    types = [json.loads(x)["type"] for x in r.data.decode().splitlines()]
    assert types.count("demand") == 1 and types.count("deal") == 1
    assert client.get("/api/v1/exchange/export", query_string=_period(district="薛城区"),
                      headers=auth(secret)).status_code == 404
    r = client.get("/api/v1/exchange/export", query_string=_period(format="pdf"), headers=auth(secret))
    assert r.status_code == 422 and "format" in r.get_json()["error"]["fields"]
    bank = client.get("/api/v1/exchange/export", query_string=_period(), headers=auth(token_for(world.bank)))
    assert bank.status_code == 403


def _post(client, secret, data: bytes, name: str):
    return client.post("/api/v1/exchange/import", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", headers=auth(secret))


def test_an_institution_posts_a_workbook_and_a_bad_row_stops_everything(world, client):
    a, b = (factories.make_demand(world.enterprise.org, status="published") for _ in range(2))
    secret = token_for(world.bank)
    good = {"需求编号": a.ref, "金融机构": world.bank.org.name, "授信/投资金额（万元）": 300, "利率（%）": 4.0,
            "期限（月）": 12, "签约金额（万元）": 300, "签约日期": local_today()}
    r = _post(client, secret, outcome_workbook(good, {**good, "需求编号": b.ref, "利率（%）": 99}), "结果.xlsx")
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "invalid_file"
    assert err["lines"] == [{"sheet": "对接结果", "line": 3, "field": "利率（%）", "message": "不能大于36"}]
    assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == 0
    r = _post(client, secret, outcome_workbook(good, {**good, "需求编号": b.ref}), "结果.xlsx")
    assert r.status_code == 201, r.get_json()
    assert r.get_json() == {"imported": {"offer": 2, "deal": 2}}
    assert db_session.scalar(sa.select(Demand.status).where(Demand.id == a.id)) == "signed"


def test_a_token_cannot_import_for_another_institution_nor_deals_without_the_scope(world, client):
    d = factories.make_demand(world.enterprise.org, status="published")
    today = local_today().isoformat()
    theirs = json.dumps({"type": "offer", "ref": "of-z1", "demand": d.ref, "org": world.other_bank.org.ref,
                         "amount": 100, "rate": 4, "term_months": 12, "status": "accepted"})
    r = _post(client, token_for(world.bank), theirs.encode(), "x.jsonl")
    assert r.status_code == 422 and r.get_json()["error"]["lines"][0]["field"] == "org"
    ours = json.dumps({"type": "offer", "ref": "of-z2", "demand": d.ref, "org": world.bank.org.ref,
                       "amount": 100, "rate": 4, "term_months": 12, "status": "accepted"})
    deal = json.dumps({"type": "deal", "ref": "dl-z2", "offer": "of-z2", "signed_amount": 100, "signed_on": today})
    offers_only = token_for(world.bank, scopes=("read", "offers"))
    r = _post(client, offers_only, f"{ours}\n{deal}\n".encode(), "x.jsonl")
    assert r.status_code == 422
    assert [(x["line"], x["field"]) for x in r.get_json()["error"]["lines"]] == [(2, "type")]
    assert db_session.scalar(sa.select(Deal).where(Deal.ref == "dl-z2")) is None
    assert _post(client, token_for(world.bank, scopes=("read",)), ours.encode(), "x.jsonl").status_code == 403
    assert _post(client, token_for(world.district_bureau, scopes=("read",)), ours.encode(),
                 "x.jsonl").status_code == 403
    r = _post(client, token_for(world.bank), f"{ours}\n{deal}\n".encode(), "x.jsonl")
    assert r.status_code == 201 and r.get_json()["imported"] == {"offer": 1, "deal": 1}


def test_a_retried_import_with_the_same_key_imports_once(world, client):
    d = factories.make_demand(world.enterprise.org, status="published")
    line = json.dumps({"type": "offer", "ref": "of-k1", "demand": d.ref, "org": world.bank.org.ref,
                       "amount": 100, "rate": 4, "term_months": 12, "status": "accepted"}).encode()
    secret = token_for(world.bank)
    answers = [client.post("/api/v1/exchange/import", data={"file": (io.BytesIO(line), "x.jsonl")},
                           content_type="multipart/form-data", headers=auth(secret, **{"Idempotency-Key": "imp-1"}))
               for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[1].headers.get("Idempotent-Replayed") == "true"
    assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == 1
