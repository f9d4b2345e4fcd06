"""Background job runs and queued e-mail: the database rows that make periodic work happen once."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.db import Base
from models.types import CodeEnum, utcnow


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


class JobRun(Base):
    """One run of a periodic job for one scheduled slot.

    The unique key (job, slot) is the claim: the worker whose insert succeeds runs the slot, any
    other worker's insert fails and it leaves the slot alone. Manual runs use their own time as slot.
    """

    __tablename__ = "job_runs"
    __table_args__ = (sa.UniqueConstraint("job", "slot", name="uq_job_runs_job_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(sa.String(64))
    slot: Mapped[datetime]
    trigger: Mapped[str] = mapped_column(sa.String(16), default="schedule")  # schedule | manual
    status: Mapped[RunStatus] = mapped_column(CodeEnum(RunStatus), default=RunStatus.RUNNING)
    worker: Mapped[str] = mapped_column(sa.String(120), default="")
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[int | None]
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    error: Mapped[str | None] = mapped_column(sa.Text)


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting for its first or next attempt
    SENT = "sent"
    FAILED = "failed"    # attempts used up


class OutgoingMail(Base):
    """An e-mail copy of a notification, written in the same transaction as the notification.

    It is sent right after the commit; when the mail server is down it stays pending and the
    `mail-deliver` job retries it with a growing pause.
    """

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(sa.String(200))
    recipient: Mapped[str] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[MailStatus] = mapped_column(CodeEnum(MailStatus), default=MailStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
