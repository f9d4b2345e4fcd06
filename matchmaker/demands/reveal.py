"""The one rule for who may see the enterprise behind a demand, and the card every page shows.

An institution sees the enterprise's name, credit code and contact only once the enterprise
applied to it or accepted its offer (a DemandDisclosure row, written by the offers domain).
Everyone else who may see the demand gets the anonymised profile.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.permissions import bureau_covers
from models import Demand, DemandDisclosure, OrgKind, db_session

# 万元 bounds of the revenue bands shown instead of the exact revenue.
REVENUE_BANDS = (
    (Decimal(500), "500万以下"),
    (Decimal(2000), "500万–2000万"),
    (Decimal(5000), "2000万–5000万"),
    (Decimal(10000), "5000万–1亿"),
    (Decimal(100000), "1亿–10亿"),
)


def revenue_band(revenue: Decimal | None) -> str:
    if revenue is None:
        return "未填报"
    for upper, text in REVENUE_BANDS:
        if revenue < upper:
            return text
    return "10亿以上"


def can_see_identity(user, demand: Demand) -> bool:
    """Whether `user` may see who is behind `demand` (name, credit code, contact)."""
    if not getattr(user, "is_authenticated", False):
        return False
    org = user.org
    if org.id == demand.org_id:
        return True
    if org.kind == OrgKind.BUREAU:
        return bureau_covers(user, demand.org.district)
    if org.is_institution and org.is_approved:
        return db_session.scalar(
            sa.select(DemandDisclosure.id).where(
                DemandDisclosure.demand_id == demand.id, DemandDisclosure.org_id == org.id
            )
        ) is not None
    return False


@dataclass(frozen=True)
class EnterpriseCard:
    """What a page may show about the enterprise behind a demand; identity fields are None when hidden."""

    district: str | None
    cluster: str | None
    size: str | None
    revenue_band: str
    tags: tuple[str, ...]
    revealed: bool
    name: str | None = None
    uscc: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None


def enterprise_cards(user, demands: list[Demand]) -> dict[int, EnterpriseCard]:
    """enterprise_card of each demand by id, with one disclosure query for a whole list page (not one per row)."""
    org = getattr(user, "org", None) if getattr(user, "is_authenticated", False) else None
    if org is None or not (org.is_institution and org.is_approved) or not demands:
        return {d.id: enterprise_card(user, d) for d in demands}
    disclosed = set(db_session.scalars(sa.select(DemandDisclosure.demand_id).where(
        DemandDisclosure.org_id == org.id, DemandDisclosure.demand_id.in_([d.id for d in demands]))))
    return {d.id: enterprise_card(user, d, revealed=d.id in disclosed or d.org_id == org.id) for d in demands}


def enterprise_card(user, demand: Demand, revealed: bool | None = None) -> EnterpriseCard:
    """The enterprise as `user` may see it: templates get this, never the organisation itself.

    `revealed` is for enterprise_cards, which has already asked can_see_identity's question for a list.
    """
    org = demand.org
    card = dict(
        district=org.district, cluster=org.industry, size=org.size if org.size else None,
        revenue_band=revenue_band(org.revenue), tags=tuple(org.tags or ()), revealed=False,
    )
    if can_see_identity(user, demand) if revealed is None else revealed:
        card.update(revealed=True, name=org.name, uscc=org.uscc,
                    contact_name=demand.contact_name or org.contact_name,
                    contact_phone=demand.contact_phone or org.contact_phone)
    return EnterpriseCard(**card)
