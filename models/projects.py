"""Technical-transformation projects (技改项目), their progress updates and the bureau's follow-ups."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.codes import Purpose
from models.db import Base
from models.organizations import Organization, User
from models.types import CodeEnum, Money, utcnow


class TechProject(Base):
    __tablename__ = "tech_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    category: Mapped[Purpose] = mapped_column(CodeEnum(Purpose))
    total_investment: Mapped[Decimal] = mapped_column(Money)       # 万元
    equipment_investment: Mapped[Decimal] = mapped_column(Money)   # 万元, part of the total
    start_on: Mapped[date | None]
    end_on: Mapped[date | None]
    # Where the project is built; usually, not always, the enterprise's own district.
    district: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    # The latest reported percentage, kept here so the ledger can filter without a subquery.
    progress: Mapped[int] = mapped_column(default=0)
    is_major: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    org: Mapped[Organization] = relationship()
    updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="project", order_by="ProgressUpdate.id", cascade="all, delete-orphan"
    )

    @property
    def open_problems(self) -> list[ProgressUpdate]:
        return [u for u in self.updates if u.has_open_problem]

    def __repr__(self) -> str:
        return f"<TechProject {self.ref} {self.name}>"


class ProgressUpdate(Base):
    """One report of progress: how far, what was done, and the problems met (遇到的问题)."""

    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("tech_projects.id"), index=True)
    percent: Mapped[int]
    done: Mapped[str] = mapped_column(sa.Text)
    problems: Mapped[str | None] = mapped_column(sa.Text)
    is_resolved: Mapped[bool] = mapped_column(default=False)
    resolved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    project: Mapped[TechProject] = relationship(back_populates="updates")
    created_by: Mapped[User | None] = relationship()
    follow_ups: Mapped[list[ProblemFollowUp]] = relationship(
        back_populates="update", order_by="ProblemFollowUp.id", cascade="all, delete-orphan"
    )

    @property
    def has_open_problem(self) -> bool:
        return bool(self.problems) and not self.is_resolved


class ProblemFollowUp(Base):
    """The bureau's note on a reported problem (跟踪服务); one may close the problem."""

    __tablename__ = "problem_follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    update_id: Mapped[int] = mapped_column(sa.ForeignKey("progress_updates.id"), index=True)
    note: Mapped[str] = mapped_column(sa.Text)
    resolves: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    update: Mapped[ProgressUpdate] = relationship(back_populates="follow_ups")
    created_by: Mapped[User | None] = relationship()
