"""The inbox: notify users or a whole organisation in the current transaction, read and count messages."""
from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app, has_app_context

from matchmaker.notifications import mail
from models import Notification, Organization, User, db_session
from models.types import utcnow


def recipients(target: User | Organization | Iterable) -> list[User]:
    """The active users a notification reaches: a user, every user of an organisation, or a mix of both."""
    if isinstance(target, User):
        users = [target]
    elif isinstance(target, Organization):
        users = list(target.users)
    else:
        users = [u for t in target for u in recipients(t)]
    seen: set[int] = set()
    out = []
    for u in users:
        if u.is_active and id(u) not in seen:
            seen.add(id(u))
            out.append(u)
    return out


def notify(target: User | Organization | Iterable, kind: str, title: str, body: str = "",
           link: str | None = None) -> list[Notification]:
    """Write a notification for each recipient in the current transaction (nothing is committed here).

    It commits with the change that caused it, or disappears with it; the e-mail copy, when an SMTP
    server is configured and the user has an address, is sent only after that commit.
    """
    config = current_app.config if has_app_context() else {}
    host = config.get("SMTP_HOST")
    out = []
    for user in recipients(target):
        n = Notification(user=user, kind=kind, title=title[:200], body=body, link=link)
        db_session.add(n)
        out.append(n)
        if host and user.email:
            text = body + (f"\n\n{link}" if link else "")
            mail.queue(db_session(), mail.Mail(host=host, port=int(config.get("SMTP_PORT") or 25),
                                               sender=config.get("SMTP_FROM") or "noreply@localhost",
                                               to=user.email, subject=title, body=text))
    # An institution's systems hear it too, through its webhooks (queued in this same transaction).
    from matchmaker.api.webhooks import enqueue

    enqueue(target, kind, title, body, link)
    return out


def unread_count(user) -> int:
    """One COUNT query: the navigation bar shows it on every page."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return db_session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.user_id == user.id,
                                                        Notification.read_at.is_(None))
    ) or 0


def inbox(user: User, *, page: int = 1, per_page: int = 30, unread_only: bool = False):
    q = sa.select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        q = q.where(Notification.read_at.is_(None))
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    rows = db_session.scalars(
        q.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(per_page).offset((page - 1) * per_page)
    )
    return list(rows), total


def own_notification(user: User, notification_id: int) -> Notification | None:
    """The user's own notification, or None (another user's is never found)."""
    return db_session.scalar(
        sa.select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    )


def mark_read(user: User, notification: Notification) -> None:
    if notification.user_id != user.id:
        raise PermissionError("not the user's notification")
    if notification.read_at is None:
        notification.read_at = utcnow()
    db_session.commit()


def mark_all_read(user: User) -> int:
    result = db_session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db_session.commit()
    return result.rowcount


def set_email(user: User, email: str | None) -> None:
    """Set (or clear, with None) the address that receives copies of the user's notifications."""
    before = user.email
    user.email = email or None
    if before != user.email:
        from models import record

        record(user, "user.email_changed", user)
    db_session.commit()
