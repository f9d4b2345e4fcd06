"""Notices and policy pages of the information exchange (信息对接交流): bureau notices, their audience and files."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base
from models.organizations import Organization, User
from models.types import CodeEnum, utcnow


class NoticeKind(StrEnum):
    EVENT = "event_notice"
    POLICY = "policy"
    PRODUCT = "product_promotion"


NOTICE_KIND_LABELS = {"event_notice": "活动通知", "policy": "政策发布", "product_promotion": "产品推介"}


class Notice(Base):
    """A notice a bureau publishes. An empty audience list means everyone (and visitors, when both are empty)."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[NoticeKind] = mapped_column(CodeEnum(NoticeKind))
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    # Organisation kinds (DESIGN §9 codes) and districts the notice is for; [] = all.
    audience_kinds: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    audience_districts: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    bureau_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)

    bureau: Mapped[Organization] = relationship()
    created_by: Mapped[User | None] = relationship()
    attachments: Mapped[list[NoticeAttachment]] = relationship(
        back_populates="notice", order_by="NoticeAttachment.id", cascade="all, delete-orphan"
    )

    @property
    def is_public(self) -> bool:
        return not self.audience_kinds and not self.audience_districts

    def __repr__(self) -> str:
        return f"<Notice {self.ref} {self.title}>"


class NoticeAttachment(Base):
    """A file attached to a notice, kept under instance/ (never in the web root) by a random name."""

    __tablename__ = "notice_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(sa.ForeignKey("notices.id"), index=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    notice: Mapped[Notice] = relationship(back_populates="attachments")
