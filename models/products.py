"""Financial products of the product supermarket (金融产品超市): loans, equity, guarantees, leasing."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.codes import Collateral, OrgKind, Purpose, Size
from models.db import Base
from models.organizations import Organization
from models.types import CodeEnum, Money, utcnow


class ProductKind(StrEnum):
    LOAN = "loan"
    EQUITY = "equity"
    GUARANTEE = "guarantee"
    LEASING = "leasing"


class ProductStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    RETIRED = "retired"


class EquityStage(StrEnum):
    """The investment stage a fund prefers (equity products only)."""
    SEED = "seed"
    EARLY = "early"
    GROWTH = "growth"
    MATURE = "mature"
    PRE_IPO = "pre_ipo"


# The codes of DESIGN §9 a product refers to (collateral accepted, purposes served, sizes served).
COLLATERAL_CODES = tuple(c.value for c in Collateral)
PURPOSE_CODES = tuple(p.value for p in Purpose)
SIZE_CODES = tuple(s.value for s in Size)

# Which kinds of product each kind of institution publishes: leasing comes from banks' and
# guarantors' leasing arms; a fund's investment preference is an equity product.
KINDS_BY_ORG: dict[OrgKind, tuple[ProductKind, ...]] = {
    OrgKind.BANK: (ProductKind.LOAN, ProductKind.LEASING),
    OrgKind.FUND: (ProductKind.EQUITY,),
    OrgKind.GUARANTOR: (ProductKind.GUARANTEE, ProductKind.LEASING),
}

# Limits every product respects (the form, the import and the service check the same numbers).
TERM_RANGE = (1, 360)           # months
RATE_RANGE = (Decimal(0), Decimal(36))  # % per year
AMOUNT_MAX = Decimal(10_000_000)        # 万元
NAME_MAX = 100
DESCRIPTION_MAX = 2000


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    kind: Mapped[ProductKind] = mapped_column(CodeEnum(ProductKind), index=True)
    name: Mapped[str] = mapped_column(sa.String(NAME_MAX))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    amount_min: Mapped[Decimal] = mapped_column(Money)  # 万元
    amount_max: Mapped[Decimal] = mapped_column(Money)
    term_min: Mapped[int]  # months
    term_max: Mapped[int]
    rate_min: Mapped[Decimal] = mapped_column(sa.Numeric(6, 3))  # % per year; equity carries 0
    rate_max: Mapped[Decimal] = mapped_column(sa.Numeric(6, 3))
    # Lists of codes or city names; an empty list of industries, districts, sizes or purposes means "all".
    collateral: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    industries: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    districts: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    sizes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    purposes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    approval_days: Mapped[int | None]  # typical days from application to approval
    stage: Mapped[EquityStage | None] = mapped_column(CodeEnum(EquityStage))
    status: Mapped[ProductStatus] = mapped_column(CodeEnum(ProductStatus), default=ProductStatus.ACTIVE, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    org: Mapped[Organization] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status == ProductStatus.ACTIVE

    def __repr__(self) -> str:
        return f"<Product {self.ref} {self.kind} {self.name}>"
