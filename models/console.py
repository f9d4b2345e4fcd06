"""The bureau console's monthly summary: the demand and offer figures pre-aggregated per month and breakdown."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base


class ConsoleSummary(Base):
    """One line of figures: a source's rows of one month (city calendar), of one district, under one breakdown.

    `dim` '' is the line of the district's totals; otherwise the line counts the rows whose breakdown
    `dim` (cluster, purpose, financing_type, size, institution) has `value`. '' stands for "none"
    in `district` and `value` so that the key stays unique. Sums are wider than one amount.
    Maintained in the writing transaction by `matchmaker.console.summary`, and rebuilt from the raw
    rows by `flask report rebuild-summary`.
    """

    __tablename__ = "console_summary"
    __table_args__ = (sa.UniqueConstraint("source", "dim", "month", "district", "value", name="uq_console_summary"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(32))
    dim: Mapped[str] = mapped_column(sa.String(32))
    month: Mapped[str] = mapped_column(sa.String(7))      # YYYY-MM
    district: Mapped[str] = mapped_column(sa.String(50))
    value: Mapped[str] = mapped_column(sa.String(64))
    records: Mapped[int] = mapped_column(default=0)       # the rows counted (a line with none is removed)
    # The source's metrics in the order of `matchmaker.console.services.METRICS` (counts and sums).
    m1: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4), default=Decimal(0))
    m2: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4), default=Decimal(0))
    m3: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4), default=Decimal(0))
    m4: Mapped[Decimal] = mapped_column(sa.Numeric(18, 4), default=Decimal(0))
