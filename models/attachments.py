"""Documents attached to demands, tech projects and offers: metadata here, the bytes under ATTACHMENT_DIR."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base
from models.organizations import Organization, User
from models.types import CodeEnum, utcnow


class AttachmentOwner(StrEnum):
    """The kinds of object a document can belong to (the audit log's names for them)."""

    DEMAND = "demand"
    TECH_PROJECT = "tech_project"
    OFFER = "offer"


class AttachmentKind(StrEnum):
    BUSINESS_LICENCE = "business_licence"
    FEASIBILITY_STUDY = "feasibility_study"
    FINANCIAL_STATEMENTS = "financial_statements"
    CREDIT_PLAN = "credit_plan"
    CONTRACT_TEMPLATE = "contract_template"
    OTHER = "other"


ATTACHMENT_KIND_LABELS = {
    "business_licence": "营业执照",
    "feasibility_study": "可行性研究报告",
    "financial_statements": "财务报表",
    "credit_plan": "授信方案",
    "contract_template": "合同范本",
    "other": "其他",
}

# Which kinds each owner takes: enterprises document themselves and their projects, institutions their offers.
KINDS_BY_OWNER = {
    AttachmentOwner.DEMAND: ("business_licence", "feasibility_study", "financial_statements", "other"),
    AttachmentOwner.TECH_PROJECT: ("business_licence", "feasibility_study", "financial_statements", "other"),
    AttachmentOwner.OFFER: ("credit_plan", "contract_template", "other"),
}


class Attachment(Base):
    """One uploaded document. The owner is (owner_type, owner_id); rows are never removed, only marked deleted."""

    __tablename__ = "attachments"
    __table_args__ = (sa.Index("ix_attachments_owner", "owner_type", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_type: Mapped[AttachmentOwner] = mapped_column(CodeEnum(AttachmentOwner))
    owner_id: Mapped[int]
    kind: Mapped[AttachmentKind] = mapped_column(CodeEnum(AttachmentKind))
    filename: Mapped[str] = mapped_column(sa.String(200))
    # A random name: the uploader's name never reaches the file system.
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # Judged from the bytes, never from the name or the browser's claim.
    content_type: Mapped[str] = mapped_column(sa.String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(sa.String(64))
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    is_deleted: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    org: Mapped[Organization] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    @property
    def kind_label(self) -> str:
        return ATTACHMENT_KIND_LABELS.get(str(self.kind), str(self.kind))

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.owner_type}:{self.owner_id} {self.filename}>"
