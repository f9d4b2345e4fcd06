"""The append-only audit log: who changed what, when."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base, db_session
from models.types import utcnow


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(32))
    object_ref: Mapped[str] = mapped_column(sa.String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


def object_type(obj) -> str:
    """The audit name of a model instance: TechProject -> "tech_project"."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(obj).__name__).lower()


def record(actor, action: str, obj, **details) -> AuditEntry:
    """Add an audit entry for `obj` in the current transaction; `actor` is a User or None (system)."""
    # A proxy of the logged-in user (flask-login's current_user) stands for the user itself.
    obj = obj._get_current_object() if hasattr(obj, "_get_current_object") else obj
    entry = AuditEntry(
        user_id=getattr(actor, "id", None),
        org_id=getattr(actor, "org_id", None),
        action=action,
        object_type=object_type(obj),
        # Composite keys (event/org pairs) can be long; the column keeps the first 64 characters.
        object_ref=str(getattr(obj, "ref", obj))[:64],
        details=details,
    )
    db_session.add(entry)
    return entry
