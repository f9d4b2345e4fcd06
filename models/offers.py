"""Offers on demands (applications, bids, equity interest), their deals (signing) and disbursements."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base
from models.demands import Demand
from models.organizations import Organization, User
from models.products import Product, ProductKind
from models.types import CodeEnum, Money, utcnow


class OfferStatus(StrEnum):
    REQUESTED = "requested"   # the enterprise applied; the institution has not answered
    SUBMITTED = "submitted"   # the institution's offer waits for the enterprise
    ACCEPTED = "accepted"
    DECLINED = "declined"     # by the institution (an application) or by the enterprise (an offer)
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


# The offers that hold one of a demand's places (active_offer_limit).
ACTIVE_STATUSES = (OfferStatus.REQUESTED, OfferStatus.SUBMITTED, OfferStatus.ACCEPTED)


class OfferOrigin(StrEnum):
    APPLICATION = "application"  # the enterprise applied to the institution (a deadline runs)
    BID = "bid"                  # the institution offered from the pool


class Offer(Base):
    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("demands.id"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"), index=True)
    origin: Mapped[OfferOrigin] = mapped_column(CodeEnum(OfferOrigin))
    # loan, equity, guarantee or leasing: from the product, else from the institution's kind.
    kind: Mapped[ProductKind] = mapped_column(CodeEnum(ProductKind))
    status: Mapped[OfferStatus] = mapped_column(CodeEnum(OfferStatus), index=True)
    # The terms: empty while an application waits for its answer.
    amount: Mapped[Decimal | None] = mapped_column(Money)            # 万元
    rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 3))   # % per year; equity 0
    term_months: Mapped[int | None]
    collateral: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    conditions: Mapped[str | None] = mapped_column(sa.Text)
    valid_until: Mapped[date | None]
    rate_reason: Mapped[str | None] = mapped_column(sa.String(500))  # why the rate leaves the product's range
    stake_percent: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 3))  # equity only
    valuation_min: Mapped[Decimal | None] = mapped_column(Money)
    valuation_max: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(sa.String(500))         # the enterprise's words when applying
    decline_reason: Mapped[str | None] = mapped_column(sa.String(500))
    declined_by: Mapped[str | None] = mapped_column(sa.String(16))   # "institution" or "enterprise"
    # The clock of an application: asked when applied, answered at the offer or the decline.
    asked_at: Mapped[datetime | None]
    deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # Markers that keep each deadline reminder to one sending.
    reminder_sent_at: Mapped[datetime | None]
    overdue_sent_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    demand: Mapped[Demand] = relationship()
    org: Mapped[Organization] = relationship()
    product: Mapped[Product | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    deal: Mapped[Deal | None] = relationship(back_populates="offer", uselist=False)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def is_funding(self) -> bool:
        """Money reaches the enterprise (a guarantee backs a loan and adds none)."""
        return self.kind != ProductKind.GUARANTEE

    def __repr__(self) -> str:
        return f"<Offer {self.ref} {self.status}>"


class Deal(Base):
    """The signed contract of an accepted offer; its money arrives in one or more disbursements."""

    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("offers.id"), unique=True)
    signed_amount: Mapped[Decimal] = mapped_column(Money)
    signed_on: Mapped[date]
    rate: Mapped[Decimal] = mapped_column(sa.Numeric(6, 3))
    term_months: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    offer: Mapped[Offer] = relationship(back_populates="deal")
    disbursements: Mapped[list[Disbursement]] = relationship(
        back_populates="deal", order_by="Disbursement.disbursed_on, Disbursement.id", cascade="all, delete-orphan"
    )

    @property
    def disbursed_amount(self) -> Decimal:
        return sum((d.amount for d in self.disbursements), Decimal(0))


class Disbursement(Base):
    __tablename__ = "disbursements"

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(sa.ForeignKey("deals.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    disbursed_on: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deal: Mapped[Deal] = relationship(back_populates="disbursements")
