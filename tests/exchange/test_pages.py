"""The exchange pages: the bureau's download (its district only) and an institution's upload (all or nothing)."""
from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa

from matchmaker.demands.services import local_today
from models import Offer, db_session
from tests import factories
from tests.exchange.helpers import build, outcome_workbook, rows


def _args(**kw):
    today = local_today()
    return {"download": "1", "start": (today - timedelta(days=7)).isoformat(), "end": today.isoformat(),
            "format": "xlsx", **kw}


def test_the_district_bureau_downloads_its_districts_workbook(world, login_as):
    hist = build(world)
    bureau = login_as(world.district_bureau)
    page = bureau.get("/exchange/export")
    assert page.status_code == 200 and "融资需求" in page.text and "下载" in page.text
    r = bureau.get("/exchange/export", query_string=_args())
    assert r.status_code == 200 and r.mimetype.endswith("spreadsheetml.sheet")
    assert [x[0] for x in rows(r.data, "融资需求")[1:]] == [hist.funded.ref]
    assert bureau.get("/exchange/export", query_string=_args(district="薛城区")).status_code == 404
    city = login_as(world.city_bureau).get("/exchange/export", query_string=_args(format="jsonl"))
    assert city.status_code == 200 and city.data.decode().count('"type":"demand"') == 2
    bad = bureau.get("/exchange/export", query_string=_args(start="2026-13-01"))
    assert bad.status_code == 200 and "日期" in bad.text
    assert login_as(world.bank).get("/exchange/export").status_code == 403


def test_an_institution_uploads_and_sees_every_bad_row(world, login_as):
    a = factories.make_demand(world.enterprise.org, status="published")
    bank = login_as(world.bank)
    good = {"需求编号": a.ref, "金融机构": world.bank.org.name, "授信/投资金额（万元）": 300, "利率（%）": 4.0,
            "期限（月）": 12, "签约金额（万元）": 300, "签约日期": local_today()}
    data = outcome_workbook(good, {**good, "签约日期": "昨天"})
    r = bank.post("/exchange/import", data={"file": (io.BytesIO(data), "报送.xlsx")},
                  content_type="multipart/form-data")
    assert r.status_code == 200 and "未导入任何数据" in r.text
    assert "对接结果第3行" in r.text and "签约日期" in r.text
    assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == 0
    data = outcome_workbook(good)
    r = bank.post("/exchange/import", data={"file": (io.BytesIO(data), "报送.xlsx")},
                  content_type="multipart/form-data")
    assert 'id="import-done"' in r.text
    db_session.refresh(a)
    assert a.status == "signed"
    assert login_as(world.district_bureau).get("/exchange/import").status_code == 403
