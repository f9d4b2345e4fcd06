"""E-mail for notifications: queued in the database with the change, sent after commit, retried by a job."""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import get_engine
from models.jobs import MailStatus, OutgoingMail
from models.types import utcnow

log = logging.getLogger(__name__)

_PENDING = "pending_mail"
MAX_ATTEMPTS = 8
# First retry after 60 s, then doubling: the last of the 8 attempts is about two hours after the first.
BACKOFF_SECONDS = 60


@dataclass(frozen=True)
class Mail:
    host: str
    port: int
    sender: str
    to: str
    subject: str
    body: str


def queue(session: Session, mail: Mail) -> None:
    """Record `mail` in the current transaction and send it when `session` commits.

    A rollback drops the row and the message (the change it told of never happened); a send that
    fails after the commit leaves the row pending for the `mail-deliver` job.
    """
    if not session.info.get("mail_hooked"):
        sa.event.listen(session, "after_commit", _send_pending)
        sa.event.listen(session, "after_soft_rollback", _drop_pending)
        session.info["mail_hooked"] = True
    row = OutgoingMail(sender=mail.sender, recipient=mail.to, subject=mail.subject[:300], body=mail.body,
                       status=MailStatus.PENDING, attempts=0, next_attempt_at=utcnow())
    session.add(row)
    session.info.setdefault(_PENDING, []).append((row, mail))


def _drop_pending(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint leaves the outer transaction (and its mail) alive.
    if getattr(previous_transaction, "nested", False):
        return
    session.info.pop(_PENDING, None)


def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    # The committing session cannot run SQL inside its after_commit hook: the outcome goes through its own.
    with Session(bind=get_engine()) as s:
        for row, mail in pending:
            fresh = s.get(OutgoingMail, row.id)
            if fresh is not None and fresh.status == MailStatus.PENDING:
                _attempt(fresh, mail, utcnow())
        s.commit()


def _attempt(row: OutgoingMail, mail: Mail, now: datetime) -> bool:
    ok, error = _deliver(mail)
    row.attempts += 1
    if ok:
        row.status, row.sent_at, row.next_attempt_at, row.last_error = MailStatus.SENT, now, None, None
    elif row.attempts >= MAX_ATTEMPTS:
        row.status, row.next_attempt_at, row.last_error = MailStatus.FAILED, None, error
    else:
        row.next_attempt_at = now + timedelta(seconds=BACKOFF_SECONDS * 2 ** (row.attempts - 1))
        row.last_error = error
    return ok


def _deliver(mail: Mail) -> tuple[bool, str | None]:
    msg = EmailMessage()
    msg["From"] = mail.sender
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg.set_content(mail.body)
    try:
        with smtplib.SMTP(mail.host, mail.port, timeout=10) as smtp:
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as e:
        log.warning("notification mail to %s failed: %s", mail.to, e)
        return False, str(e)[:500]
    return True, None


def send(mail: Mail) -> bool:
    """Deliver one message; a failure is logged and never raised (the change is already committed)."""
    return _deliver(mail)[0]


def deliver_due(host: str | None, port: int, *, now: datetime | None = None, limit: int = 200) -> dict[str, int]:
    """Retry the pending mail whose pause is over (the `mail-deliver` job); returns counts by outcome.

    Without a mail server configured nothing is attempted and the queue waits.
    """
    counts = {"sent": 0, "retry": 0, "failed": 0}
    if not host:
        return counts
    now = now or utcnow()
    due = (OutgoingMail.status == MailStatus.PENDING, OutgoingMail.next_attempt_at <= now)
    with Session(bind=get_engine()) as s:
        ids = s.scalars(sa.select(OutgoingMail.id).where(*due)
                        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id).limit(limit)).all()
        for mail_id in ids:
            # One row at a time, locked and re-checked: a concurrent drain skips it, a crash resends at most one.
            q = sa.select(OutgoingMail).where(OutgoingMail.id == mail_id, *due)
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = s.scalar(q)
            if row is None:
                s.rollback()
                continue
            mail = Mail(host, port, row.sender, row.recipient, row.subject, row.body)
            if _attempt(row, mail, now):
                counts["sent"] += 1
            elif row.status == MailStatus.FAILED:
                counts["failed"] += 1
            else:
                counts["retry"] += 1
            s.commit()
    return counts
