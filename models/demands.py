"""Financing demands (融资需求), their history, disclosures to institutions and curated push lists."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.codes import DemandStatus, Purpose
from models.db import Base
from models.organizations import Organization, User
from models.projects import TechProject
from models.types import CodeEnum, Money, utcnow


class Demand(Base):
    __tablename__ = "demands"
    # The bureau console's monthly figures read these narrow indexes instead of the wide rows.
    __table_args__ = (
        # Led by the enterprise: the submission time is read through coalesce() (no range to seek),
        # and the per-enterprise grouping then needs no sort.
        sa.Index("ix_demands_console_submitted", "org_id", "submitted_at", "created_at", "status", "purpose",
                 "amount"),
        sa.Index("ix_demands_console_published", "published_at", "status", "org_id", "purpose", "amount",
                 "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    project_id: Mapped[int | None] = mapped_column(sa.ForeignKey("tech_projects.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    description: Mapped[str] = mapped_column(sa.Text)
    amount: Mapped[Decimal] = mapped_column(Money)                  # 万元
    term_months: Mapped[int]
    purpose: Mapped[Purpose] = mapped_column(CodeEnum(Purpose))
    # Several codes at once, stored as JSON lists of DESIGN §9 codes.
    financing_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    collateral: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    max_rate: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 3))  # % per year
    valid_until: Mapped[date]
    # Private: shown to an institution only when matchmaker.demands.reveal allows it.
    contact_name: Mapped[str | None] = mapped_column(sa.String(50))
    contact_phone: Mapped[str | None] = mapped_column(sa.String(30))
    status: Mapped[DemandStatus] = mapped_column(CodeEnum(DemandStatus), default=DemandStatus.DRAFT, index=True)
    return_reason: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Indexed: the ranking's pool fingerprint reads max(updated_at) on every institution request.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    # First submission for review; null for imported history (its creation time stands in).
    submitted_at: Mapped[datetime | None]

    org: Mapped[Organization] = relationship()
    project: Mapped[TechProject | None] = relationship()
    history: Mapped[list[DemandHistory]] = relationship(
        back_populates="demand", order_by="DemandHistory.id", cascade="all, delete-orphan"
    )
    intended_banks: Mapped[list[DemandIntendedBank]] = relationship(
        back_populates="demand", order_by="DemandIntendedBank.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Demand {self.ref} {self.status}>"


class DemandHistory(Base):
    """One step of a demand's life cycle: who moved it from which state to which, and why."""

    __tablename__ = "demand_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("demands.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(32))
    to_status: Mapped[str] = mapped_column(sa.String(32))
    note: Mapped[str | None] = mapped_column(sa.String(500))

    demand: Mapped[Demand] = relationship(back_populates="history")
    user: Mapped[User | None] = relationship()


class DemandDisclosure(Base):
    """An institution may see who is behind a demand: the enterprise applied to it or accepted its offer.

    The offers domain writes these rows (through `matchmaker.demands.services.disclose`).
    """

    __tablename__ = "demand_disclosures"
    __table_args__ = (sa.UniqueConstraint("demand_id", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("demands.id"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    demand: Mapped[Demand] = relationship()
    org: Mapped[Organization] = relationship()


class DemandIntendedBank(Base):
    """A bank the enterprise or the bureau wants a pushed demand to reach (at most a few per demand)."""

    __tablename__ = "demand_intended_banks"
    __table_args__ = (sa.UniqueConstraint("demand_id", "org_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("demands.id"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    # "enterprise" or "bureau": who chose the bank.
    chosen_by: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    demand: Mapped[Demand] = relationship(back_populates="intended_banks")
    org: Mapped[Organization] = relationship()


class PushBatch(Base):
    """A curated list of published demands of major projects that a bureau pushes to banks (推送清单)."""

    __tablename__ = "push_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    bureau_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    pushed_at: Mapped[datetime | None]

    bureau: Mapped[Organization] = relationship()
    items: Mapped[list[PushBatchItem]] = relationship(
        back_populates="batch", order_by="PushBatchItem.id", cascade="all, delete-orphan"
    )

    @property
    def is_pushed(self) -> bool:
        return self.pushed_at is not None


class PushBatchItem(Base):
    __tablename__ = "push_batch_items"
    __table_args__ = (sa.UniqueConstraint("batch_id", "demand_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(sa.ForeignKey("push_batches.id"), index=True)
    demand_id: Mapped[int] = mapped_column(sa.ForeignKey("demands.id"), index=True)

    batch: Mapped[PushBatch] = relationship(back_populates="items")
    demand: Mapped[Demand] = relationship()
