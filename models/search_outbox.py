"""The search outbox: index changes recorded in the same transaction as the data they follow (DESIGN §3)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from models.db import Base, db_session
from models.types import CodeEnum, utcnow

# Set on a session that queued index work, so the web app knows a drain after commit is worth it.
DIRTY_KEY = "search_outbox_dirty"


class OutboxOp(StrEnum):
    UPSERT = "upsert"
    DELETE = "delete"


class SearchOutbox(Base):
    """One pending index change: a document of `doc_type` with `ref` must be re-read (upsert) or removed."""

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_type: Mapped[str] = mapped_column(sa.String(32))
    ref: Mapped[str] = mapped_column(sa.String(64))
    op: Mapped[OutboxOp] = mapped_column(CodeEnum(OutboxOp), default=OutboxOp.UPSERT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    # Due rows are those with next_attempt_at <= now; a failed row waits out its back-off.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    def __repr__(self) -> str:
        return f"<SearchOutbox {self.op} {self.doc_type} {self.ref} attempts={self.attempts}>"


def enqueue(doc_type: str, ref: str, op: OutboxOp | str = OutboxOp.UPSERT,
            session: Session | None = None) -> SearchOutbox:
    """Queue an index change in the current transaction: it commits, or rolls back, with the change itself."""
    session = session or db_session()
    now = utcnow()
    row = SearchOutbox(doc_type=doc_type, ref=str(ref), op=OutboxOp(op), created_at=now, next_attempt_at=now,
                       attempts=0)
    session.add(row)
    session.info[DIRTY_KEY] = True
    return row
