"""Saved searches: an institution names a set of demand-pool filters; new demands are matched against them."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import sqlalchemy as sa

from matchmaker.permissions import policy
from models import OrgKind, SavedSearch, User, db_session, record
from models.products import COLLATERAL_CODES, PURPOSE_CODES

FINANCING_TYPES = ("loan", "equity", "guarantee", "leasing")
# The filter keys a saved search may hold; each is optional and an absent key does not restrict.
FILTER_KEYS = ("district", "cluster", "purpose", "financing_type", "collateral", "amount_min", "amount_max",
               "term_min", "term_max")
SAVED_SEARCHES_MAX = 20


class SavedSearchError(Exception):
    """A saved search the rules do not allow; the message is shown to the user."""


class DemandLike(Protocol):
    """What matching needs of a demand (the demands domain's model has these attributes)."""

    district: str
    industry: str | None
    purpose: str
    financing_types: list[str]
    collateral: list[str]
    amount: Decimal
    term_months: int


policy(SavedSearch, view=lambda user, s: s.org_id == user.org_id, edit=lambda user, s: s.org_id == user.org_id)


def clean_filters(raw: Mapping[str, Any], city) -> dict[str, Any]:
    """Keep the known, non-empty filters in their stored form (codes checked, numbers as strings)."""
    allowed = {"district": city.districts, "cluster": city.clusters, "purpose": PURPOSE_CODES,
               "financing_type": FINANCING_TYPES, "collateral": COLLATERAL_CODES}
    out: dict[str, Any] = {}
    for key, codes in allowed.items():
        v = raw.get(key)
        if v:
            if v not in codes:
                raise SavedSearchError(f"筛选条件“{v}”无效")
            out[key] = v
    for key in ("amount_min", "amount_max", "term_min", "term_max"):
        v = raw.get(key)
        if v in (None, ""):
            continue
        try:
            number = Decimal(str(v))
        except InvalidOperation:
            raise SavedSearchError("金额和期限应为数字") from None
        if not number.is_finite() or number < 0:
            raise SavedSearchError("金额和期限不能为负")
        out[key] = str(int(number)) if key.startswith("term") else str(number)
    for lo, hi, what in (("amount_min", "amount_max", "金额"), ("term_min", "term_max", "期限")):
        if lo in out and hi in out and Decimal(out[lo]) > Decimal(out[hi]):
            raise SavedSearchError(f"{what}下限不能大于上限")
    return out


def save_search(user: User, name: str, filters: Mapping[str, Any], *, city) -> SavedSearch:
    """Keep a named set of pool filters for the user's institution."""
    if user.org.kind not in (OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR):
        raise SavedSearchError("只有金融机构可以保存需求筛选条件")
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise SavedSearchError("请填写名称（不超过100字）")
    clean = clean_filters(filters, city)
    if not clean:
        raise SavedSearchError("请至少设置一个筛选条件")
    count = db_session.scalar(sa.select(sa.func.count(SavedSearch.id)).where(SavedSearch.org_id == user.org_id))
    if count >= SAVED_SEARCHES_MAX:
        raise SavedSearchError(f"每个机构最多保存{SAVED_SEARCHES_MAX}个筛选条件")
    search = SavedSearch(org_id=user.org_id, user_id=user.id, name=name, filters=clean)
    db_session.add(search)
    db_session.flush()
    record(user, "saved_search.created", search, name=name, filters=clean)
    db_session.commit()
    return search


def delete_search(user: User, search: SavedSearch) -> None:
    if search.org_id != user.org_id:
        raise SavedSearchError("您无权删除该筛选条件")
    record(user, "saved_search.deleted", search, name=search.name)
    db_session.delete(search)
    db_session.commit()


def searches_of(org_id: int) -> list[SavedSearch]:
    return list(db_session.scalars(
        sa.select(SavedSearch).where(SavedSearch.org_id == org_id).order_by(SavedSearch.created_at.desc(),
                                                                             SavedSearch.id.desc())))


def search_matches(filters: Mapping[str, Any], demand: DemandLike) -> bool:
    """Whether `demand` passes every filter of one saved search (an absent filter passes everything)."""
    checks = {
        "district": lambda v: demand.district == v,
        "cluster": lambda v: demand.industry == v,
        "purpose": lambda v: demand.purpose == v,
        "financing_type": lambda v: v in (demand.financing_types or ()),
        "collateral": lambda v: v in (demand.collateral or ()),
        "amount_min": lambda v: Decimal(demand.amount) >= Decimal(v),
        "amount_max": lambda v: Decimal(demand.amount) <= Decimal(v),
        "term_min": lambda v: demand.term_months >= int(v),
        "term_max": lambda v: demand.term_months <= int(v),
    }
    return all(checks[key](value) for key, value in filters.items() if key in checks and value not in (None, ""))


def matching_saved_searches(demand_like: DemandLike) -> list[SavedSearch]:
    """The saved searches a newly published demand matches, for notifying their institutions."""
    # Saved searches are few (at most SAVED_SEARCHES_MAX per institution): checking them in Python
    # keeps the rules in one readable place and the same on SQLite and PostgreSQL.
    searches = db_session.scalars(sa.select(SavedSearch).order_by(SavedSearch.id))
    return [s for s in searches if search_matches(s.filters or {}, demand_like)]


def notify_saved_search_matches(demand_like: DemandLike, *, title: str, link: str | None = None) -> list[int]:
    """Tell each institution whose saved searches match `demand_like`, once, naming the searches.

    Called by the demands work when a demand is published, inside that transaction; returns the
    ids of the organisations notified.
    """
    from matchmaker.notifications.services import notify

    by_org: dict[int, list[SavedSearch]] = {}
    for search in matching_saved_searches(demand_like):
        by_org.setdefault(search.org_id, []).append(search)
    for searches in by_org.values():
        names = "、".join(f"“{s.name}”" for s in searches)
        notify(searches[0].org, "saved_search.match", title, f"符合您保存的筛选条件：{names}", link)
    return list(by_org)
