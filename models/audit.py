"""The append-only audit log: who changed what, when."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.db import Base, db_session
from models.types import utcnow


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when application code tries to change or remove an audit entry."""


class AuditEntry(Base):
    """One entry of the log. Entries are only ever added: the guards below refuse updates and deletes."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Indexed for the bureau's log page: filtered by user, and a district bureau also reads its own staff's entries.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str] = mapped_column(sa.String(32))
    object_ref: Mapped[str] = mapped_column(sa.String(64), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


@sa.event.listens_for(AuditEntry, "before_update")
@sa.event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper, _connection, entry: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"audit entry {entry.id} cannot be changed or deleted")


@sa.event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state) -> None:
    # update(AuditEntry)/delete(AuditEntry) run through a session bypass the per-object events above.
    # ORM statements carry an annotated copy of the table: compare by name.
    table = getattr(state.statement, "table", None)
    if (state.is_update or state.is_delete) and getattr(table, "name", None) == AuditEntry.__tablename__:
        raise AuditLogIsAppendOnly("the audit log cannot be updated or deleted from")


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
