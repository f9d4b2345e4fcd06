"""Plain typed records the ranking library works on; the integrator fills them from the database."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

# Graded relevance of what happened after a demand met an institution (DESIGN §6).
# `declined` (the institution turned the demand down, with a reason) is a negative: it trains the
# model with target -1, but NDCG gains cannot be negative, so in evaluation it counts as 0, like
# "nothing happened".
GRADES: dict[str, int] = {"funded": 4, "signed": 3, "accepted": 2, "offered": 1, "declined": -1}
OFFERED = GRADES["offered"]
SIGNED = GRADES["signed"]


@dataclass(frozen=True)
class DemandRecord:
    """A financing demand together with the enterprise profile the ranking needs."""

    ref: str
    org_ref: str
    created_at: datetime
    amount: Decimal  # 万元
    term_months: int | None
    purpose: str
    financing_types: tuple[str, ...] | list[str]
    collateral: tuple[str, ...] | list[str]
    max_rate: Decimal | None
    text: str  # title + description + project name
    district: str
    cluster: str
    size: str
    revenue: Decimal | float | None = None  # 万元 per year
    rd_ratio: float | None = None
    tags: tuple[str, ...] | list[str] = ()
    status: str = "published"


@dataclass(frozen=True)
class ProductRecord:
    """A financial product; empty `industries`/`districts`/`sizes`/`purposes` mean "all"."""

    ref: str
    org_ref: str
    org_kind: str  # bank / fund / guarantor
    kind: str  # loan / equity / guarantee / leasing
    amount_min: Decimal | None
    amount_max: Decimal | None
    term_min: int | None
    term_max: int | None
    rate_min: Decimal | None
    rate_max: Decimal | None
    collateral: tuple[str, ...] | list[str]  # accepted; empty = no collateral asked (equity)
    industries: tuple[str, ...] | list[str] = ()
    districts: tuple[str, ...] | list[str] = ()
    sizes: tuple[str, ...] | list[str] = ()
    purposes: tuple[str, ...] | list[str] = ()
    tags: tuple[str, ...] | list[str] = field(default_factory=tuple)
    text: str = ""  # name + description
    status: str = "active"


@dataclass(frozen=True)
class OutcomeRecord:
    """One recorded step of the history: an institution's offer on a demand and how far it went.

    `product_ref` is None when the institution answered without a product (a fund's equity
    interest); the grade then applies to each of that institution's candidate products.
    """

    demand_ref: str
    product_ref: str | None
    org_ref: str
    at: datetime
    outcome: str  # funded / signed / accepted / offered / declined

    @property
    def grade(self) -> int:
        """The graded label of this outcome (see GRADES)."""
        return GRADES[self.outcome]


def to_timestamp(moment: datetime) -> int:
    """Seconds since the epoch; naive datetimes are taken as UTC (store UTC in the database)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
