"""Saved searches: institutions keep named pool filters; a demand-like object finds the ones it matches."""
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.notifications.saved_searches import (
    SavedSearchError,
    matching_saved_searches,
    notify_saved_search_matches,
    save_search,
    search_matches,
)
from models import AuditEntry, SavedSearch, db_session


@dataclass
class DemandStandIn:
    """Just the attributes matching reads; the real Demand model arrives with the demands work."""

    district: str = "滕州市"
    industry: str | None = "锂电"
    purpose: str = "equipment"
    financing_types: list[str] = field(default_factory=lambda: ["loan"])
    collateral: list[str] = field(default_factory=lambda: ["equipment"])
    amount: Decimal = Decimal(2000)
    term_months: int = 36


@pytest.mark.parametrize("filters, matches", [
    ({}, True),
    ({"district": "滕州市"}, True),
    ({"district": "山亭区"}, False),
    ({"cluster": "锂电"}, True),
    ({"cluster": "高端装备"}, False),
    ({"purpose": "equipment"}, True),
    ({"purpose": "green"}, False),
    ({"financing_type": "loan"}, True),
    ({"financing_type": "equity"}, False),
    ({"collateral": "equipment"}, True),
    ({"collateral": "none"}, False),
    ({"amount_min": "2000"}, True),
    ({"amount_min": "2000.01"}, False),
    ({"amount_max": "2000"}, True),
    ({"amount_max": "1999"}, False),
    ({"term_min": "36", "term_max": "36"}, True),
    ({"term_max": "24"}, False),
    ({"district": "滕州市", "cluster": "锂电", "amount_min": "500", "amount_max": "5000", "financing_type": "loan"}, True),
    ({"district": "滕州市", "cluster": "锂电", "amount_max": "1000"}, False),
])
def test_search_matches(filters, matches):
    assert search_matches(filters, DemandStandIn()) is matches


def test_matching_saved_searches_over_the_database(world, city):
    tengzhou = save_search(world.bank, "滕州锂电", {"district": "滕州市", "cluster": "锂电"}, city=city)
    big = save_search(world.other_bank, "大额设备", {"amount_min": "5000", "purpose": "equipment"}, city=city)
    equity = save_search(world.fund, "股权", {"financing_type": "equity"}, city=city)
    assert matching_saved_searches(DemandStandIn()) == [tengzhou]
    hits = matching_saved_searches(DemandStandIn(amount=Decimal(8000), financing_types=["loan", "equity"]))
    assert hits == [tengzhou, big, equity]
    assert matching_saved_searches(DemandStandIn(district="薛城区", industry="高端装备")) == []


@pytest.mark.parametrize("filters, message", [
    ({}, "至少设置一个筛选条件"),
    ({"district": "北京市"}, "无效"),
    ({"amount_min": "abc"}, "应为数字"),
    ({"amount_min": "500", "amount_max": "100"}, "金额下限不能大于上限"),
    ({"term_min": "-1"}, "不能为负"),
])
def test_bad_saved_searches_are_refused(world, city, filters, message):
    with pytest.raises(SavedSearchError, match=message):
        save_search(world.bank, "名称", filters, city=city)


def test_enterprises_cannot_save_pool_searches(world, city, login_as):
    with pytest.raises(SavedSearchError):
        save_search(world.enterprise, "x", {"district": "滕州市"}, city=city)
    assert login_as(world.enterprise).get("/saved-searches").status_code == 403


def test_institution_manages_its_saved_searches_in_the_browser(world, login_as):
    client = login_as(world.bank)
    resp = client.post("/saved-searches", data={"name": "滕州设备更新", "district": "滕州市", "purpose": "equipment",
                                                 "amount_max": "3000"})
    assert resp.status_code == 302
    search = db_session.scalar(sa.select(SavedSearch))
    assert search.filters == {"district": "滕州市", "purpose": "equipment", "amount_max": "3000"}
    assert search.org_id == world.bank.org_id and search.user_id == world.bank.id
    assert "滕州设备更新" in client.get("/saved-searches").text
    # Bad input: the message at the field, the typed values kept.
    resp = client.post("/saved-searches", data={"name": "反了", "amount_min": "900", "amount_max": "100"})
    assert "金额下限不能大于上限" in resp.text and 'value="900"' in resp.text
    # Another institution neither sees nor deletes it.
    other = login_as(world.other_bank)
    assert "滕州设备更新" not in other.get("/saved-searches").text
    assert other.post(f"/saved-searches/{search.id}/delete").status_code == 404
    # A colleague of the same institution may delete it.
    assert client.post(f"/saved-searches/{search.id}/delete").status_code == 302
    assert db_session.scalar(sa.select(sa.func.count(SavedSearch.id))) == 0
    actions = db_session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["saved_search.created", "saved_search.deleted"]


def test_matching_institutions_are_notified_once(world, city):
    save_search(world.bank, "滕州", {"district": "滕州市"}, city=city)
    save_search(world.bank, "锂电", {"cluster": "锂电"}, city=city)
    save_search(world.fund, "山亭", {"district": "山亭区"}, city=city)
    from models import Notification

    notified = notify_saved_search_matches(DemandStandIn(), title="新的融资需求：锂电池生产线设备更新", link="/products/")
    db_session.commit()
    assert notified == [world.bank.org_id]
    note = db_session.scalar(sa.select(Notification))
    assert note.user_id == world.bank.id and "“滕州”、“锂电”" in note.body
    assert db_session.scalar(sa.select(sa.func.count(Notification.id))) == 1
