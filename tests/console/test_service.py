"""The service-level page: answer times in working days, timeliness, overdue and decline reasons, by hand."""
from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal

import pytest

from matchmaker.console import service, services
from models import Offer, OrgKind, db_session
from tests import factories

NOW = datetime(2026, 11, 20, 2, 0)  # Friday 10:00 in Zaozhuang
DEADLINE = datetime(2026, 11, 16, 15, 59, 59)  # end of Monday 16 November locally: 10 working days after 2 Nov


def t(text):
    return datetime.fromisoformat(text)


@pytest.fixture
def hist(ctx):
    tz = factories.make_enterprise(name="滕州申请企业", district="滕州市")
    xc = factories.make_enterprise(name="薛城申请企业", district="薛城区")
    a = factories.make_org(OrgKind.BANK, name="甲银行", district=None)
    b = factories.make_org(OrgKind.BANK, name="乙银行", district=None)
    dt, dx = factories.make_demand(tz, status="published"), factories.make_demand(xc, status="published")

    def app(ref, org, demand, asked, answered=None, *, status="requested", amount=None, reason=None,
            deadline=DEADLINE, origin="application"):
        db_session.add(Offer(ref=ref, demand=demand, org=org, origin=origin, kind="loan", status=status,
                             asked_at=t(asked), created_at=t(asked), answered_at=t(answered) if answered else None,
                             deadline_at=deadline, amount=amount, collateral=[], decline_reason=reason,
                             declined_by="institution" if status == "declined" else None))

    # 甲: answers after 0, 2, 5 and 11 working days (the last one late), one open past the deadline.
    app("a1", a, dt, "2026-11-02T02:00", "2026-11-02T06:00", status="submitted", amount=Decimal(100))
    app("a2", a, dt, "2026-11-02T02:00", "2026-11-04T02:00", status="declined", reason="不符合授信条件")
    app("a3", a, dt, "2026-11-02T02:00", "2026-11-09T02:00", status="submitted", amount=Decimal(100))
    app("a4", a, dt, "2026-11-02T02:00", "2026-11-17T02:00", status="declined", reason="不符合授信条件")
    app("a5", a, dt, "2026-11-02T02:00")
    # Asked in October (outside the period), still unanswered: overdue now all the same.
    app("a0", a, dt, "2026-10-15T02:00", deadline=datetime(2026, 10, 29, 15, 59, 59))
    # 乙: one answer after 2 working days (薛城区), one still within its deadline, and a bid that is no application.
    app("b1", b, dx, "2026-11-03T02:00", "2026-11-05T02:00", status="declined", reason="资料不全")
    app("b2", b, dx, "2026-11-03T02:00", deadline=datetime(2099, 12, 31))
    app("b3", b, dt, "2026-11-03T02:00", "2026-11-03T02:00", status="submitted", amount=Decimal(50), origin="bid")
    db_session.commit()
    city = factories.make_user(factories.make_org(OrgKind.BUREAU, district=None), username="s-city")
    xcb = factories.make_user(factories.make_org(OrgKind.BUREAU, district="薛城区"), username="s-xc")
    return city, xcb


def levels(user, district=None):
    return service.service_levels(services.scope_for(user, "2026-11", "2026-11", district), now=NOW)


def test_service_levels_by_hand(hist):
    data = levels(hist[0])
    rows = {r["name"]: r for r in data["institutions"]}
    a, b = rows["甲银行"], rows["乙银行"]
    assert (a["applications"], a["answered"], a["offered"], a["declined"]) == (5, 4, 2, 2)
    # Answer times [0, 2, 5, 11]: median 3.5, nearest-rank 90th percentile 11.
    assert (a["median_days"], a["p90_days"]) == (3.5, 11)
    # Judged: the 4 answered and a5 past its deadline; in time: a1, a2, a3.
    assert (a["due"], a["on_time"], a["on_time_percent"]) == (5, 3, 60.0)
    # a5 is 4 working days overdue (17–20 Nov), a0 16 (30 Oct, 2–6, 9–13, 16–20 Nov).
    assert (a["overdue"], a["overdue_max_days"]) == (2, 16)
    assert [x["offer"].ref for x in a["overdue_list"]] == ["a0", "a5"]
    assert a["overdue_list"][1]["working_days"] == 4 and a["overdue_list"][1]["hours"] == 82
    assert (b["applications"], b["answered"], b["median_days"], b["p90_days"], b["on_time_percent"],
            b["overdue"]) == (2, 1, 2.0, 2, 100.0, 0)
    assert data["reasons"] == [{"reason": "不符合授信条件", "count": 2}, {"reason": "资料不全", "count": 1}]


def test_a_district_bureau_sees_its_districts_applications_only(hist):
    data = levels(hist[1])
    assert [r["name"] for r in data["institutions"]] == ["乙银行"]
    assert data["reasons"] == [{"reason": "资料不全", "count": 1}]


def test_percentiles():
    assert service.percentile([], 90) is None
    assert service.percentile([7], 90) == 7
    assert service.percentile(list(range(1, 11)), 90) == 9
    assert service.median([1, 2, 3]) == 2.0 and service.median([]) is None


def test_the_page(hist, login_as):
    html = login_as(hist[0]).get("/console/service", query_string={"start": "2026-11", "end": "2026-11"}) \
        .get_data(as_text=True)
    assert 'data-org="甲银行"' in html and "3.5" in html and "60.0%" in html
    assert 'data-ref="a0"' in html and 'data-ref="a5"' in html and "不符合授信条件" in html
    c = login_as(hist[1])
    html = c.get("/console/service", query_string={"start": "2026-11", "end": "2026-11"}).get_data(as_text=True)
    assert "甲银行" not in html and "乙银行" in html
    assert c.get("/console/service", query_string={"district": "滕州市"}).status_code == 404
    assert login_as(factories.make_user(factories.make_org(OrgKind.BANK))).get("/console/service").status_code == 403


def test_the_institutions_sheet_has_the_service_levels(hist, login_as):
    import io

    from openpyxl import load_workbook

    r = login_as(hist[0]).get("/console/report.xlsx", query_string={"month": "2026-11"})
    rows = {row[0]: row for row in list(load_workbook(io.BytesIO(r.data))["分机构"].iter_rows(values_only=True))[1:]}
    # The overdue count is as of now (after 20 November 2026 both of 甲's open applications are late).
    assert rows["甲银行"][7:12] == (5, 4, 3.5, 11, 60.0) and rows["甲银行"][12] == 2
    assert rows["乙银行"][7:12] == (2, 1, 2, 2, 100)


def test_the_scorecard_is_public_only_once_the_city_bureau_publishes_it(hist, login_as, client):
    period = {"start": "2026-11", "end": "2026-11"}
    assert client.get("/scorecard").status_code == 404
    # A district bureau may neither publish nor withdraw.
    xc = login_as(hist[1])
    assert xc.post("/console/scorecard", data=period).status_code == 403
    c = login_as(hist[0])
    html = c.get("/console/scorecard", query_string=period).get_data(as_text=True)
    assert "未公开" in html
    # 乙 answered all it had due in time (100%), 甲 60%: 乙 ranks first.
    assert re.findall(r'<tr data-org="([^"]+)"><td>(\d+)</td>', html) == [("乙银行", "1"), ("甲银行", "2")]
    assert c.post("/console/scorecard", data={**period, "action": "publish"}).status_code == 302
    public = client.get("/scorecard")
    assert public.status_code == 200
    html = public.get_data(as_text=True)
    assert re.findall(r'<tr data-org="([^"]+)"><td>(\d+)</td>', html) == [("乙银行", "1"), ("甲银行", "2")]
    assert "滕州申请企业" not in html and "撤回公开" not in html  # no enterprise names, no controls
    assert c.post("/console/scorecard", data={"action": "withdraw"}).status_code == 302
    assert client.get("/scorecard").status_code == 404
