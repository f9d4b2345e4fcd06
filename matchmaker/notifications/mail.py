"""E-mail for notifications: queued on the database session, sent only after it commits."""
from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_PENDING = "pending_mail"


@dataclass(frozen=True)
class Mail:
    host: str
    port: int
    sender: str
    to: str
    subject: str
    body: str


def queue(session: Session, mail: Mail) -> None:
    """Send `mail` when `session` commits; a rollback drops it (the change it told of never happened)."""
    if not session.info.get("mail_hooked"):
        sa.event.listen(session, "after_commit", _send_pending)
        sa.event.listen(session, "after_soft_rollback", _drop_pending)
        session.info["mail_hooked"] = True
    session.info.setdefault(_PENDING, []).append(mail)


def _drop_pending(session: Session, previous_transaction) -> None:
    # A rolled-back savepoint leaves the outer transaction (and its mail) alive.
    if getattr(previous_transaction, "nested", False):
        return
    session.info.pop(_PENDING, None)


def _send_pending(session: Session) -> None:
    for mail in session.info.pop(_PENDING, []):
        send(mail)


def send(mail: Mail) -> bool:
    """Deliver one message; a failure is logged and never raised (the change is already committed)."""
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
        return False
    return True
