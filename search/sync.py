"""Drain the search outbox into a backend: bulk, idempotent, retried with back-off, nothing lost.

A row is deleted only after its change reached the index; when the backend fails, the rows stay with
attempts + 1 and wait out an exponential back-off. Applying is state-based: the loader reads the
current documents, so whatever order rows arrive in, the index ends up matching the database, and
applying a row twice (a crash between the index write and the row delete) does no harm.

Two drainers must not let an older read overwrite a newer one: on PostgreSQL only one drains at a
time (an advisory lock), and the embedded backend loads the documents inside its write lock, so the
process that writes last has also read last. A row enqueued while a drain runs is picked up by the
next drain (after the next write, or `flask search sync` from cron).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import SearchOutbox, db_session
from models.types import utcnow
from search.backend import Loader, SearchBackend

log = logging.getLogger(__name__)
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
# Serialises drainers on PostgreSQL (several web workers and hosts): any fixed 64-bit number.
ADVISORY_LOCK = 0x5EA7C0
DEFAULT_BATCH = 500


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failure: 30 s, 1 min, 2 min, ... at most an hour."""
    return min(BACKOFF_BASE * (2 ** max(0, attempts - 1)), BACKOFF_CAP)


@dataclass
class DrainReport:
    """What one drain did: rows applied and failed, documents upserted and deleted, errors by type."""

    applied: int = 0
    failed: int = 0
    upserted: int = 0
    deleted: int = 0
    skipped: bool = False
    errors: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict:
        """For `search sync --json`."""
        return {"applied": self.applied, "failed": self.failed, "upserted": self.upserted, "deleted": self.deleted,
                "skipped": self.skipped, "errors": self.errors}


def pending_count(session: Session | None = None) -> int:
    """How many outbox rows are waiting (due or backing off)."""
    session = session or db_session()
    return session.scalar(sa.select(sa.func.count(SearchOutbox.id))) or 0


def _try_lock(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite deployments are one machine; the embedded backend's write lock orders writers
    return bool(session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(ADVISORY_LOCK))))


def drain(backend: SearchBackend, loader: Loader, now: datetime | None = None, *,
          session: Session | None = None, batch: int = DEFAULT_BATCH, max_batches: int = 100) -> DrainReport:
    """Apply due outbox rows to `backend` in bulk, per document type; returns a DrainReport.

    `now` decides which rows are due (tests pass it; the default is the current UTC time). On
    PostgreSQL only one drainer runs at a time (an advisory lock); the others return `skipped`.
    """
    session = session or db_session()
    report = DrainReport()
    for _ in range(max_batches):
        at = now or utcnow()
        if not _try_lock(session):
            session.rollback()
            report.skipped = True
            return report
        rows = session.scalars(
            sa.select(SearchOutbox).where(SearchOutbox.next_attempt_at <= at).order_by(SearchOutbox.id).limit(batch)
        ).all()
        if not rows:
            session.commit()
            return report
        by_type: dict[str, list[SearchOutbox]] = {}
        for row in rows:
            by_type.setdefault(row.doc_type, []).append(row)
        for doc_type, group in by_type.items():
            refs = list(dict.fromkeys(r.ref for r in group))
            try:
                upserted, deleted = backend.apply(doc_type, refs, loader)
            except Exception as e:  # any failure keeps the rows: the index is never allowed to lose a write
                log.warning("search sync of %d %s documents failed: %s", len(refs), doc_type, e)
                message = f"{type(e).__name__}: {e}"[:500]
                for row in group:
                    row.attempts += 1
                    row.next_attempt_at = at + backoff(row.attempts)
                    row.last_error = message
                report.failed += len(group)
                report.errors[doc_type] = message
                continue
            session.execute(sa.delete(SearchOutbox).where(SearchOutbox.id.in_([r.id for r in group])))
            report.applied += len(group)
            report.upserted += upserted
            report.deleted += deleted
        # Go round again: rows other writers queued meanwhile (their own drain was skipped) are due too.
        session.commit()
    return report
