"""E-mail that could not be sent after the commit stays queued and the mail-deliver job sends it later."""
from datetime import timedelta

import sqlalchemy as sa

from matchmaker.jobs import runner
from matchmaker.notifications import mail
from matchmaker.notifications.services import notify
from models import MailStatus, OutgoingMail, db_session
from models.types import utcnow
from tests import factories
from tests.notifications.test_mail import Collector, _free_port, wait_for


def _smtp(port):
    from aiosmtpd.controller import Controller

    handler = Collector()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return handler, controller


def test_mail_to_a_server_that_is_down_is_sent_by_the_job_later(ctx, app):
    port = _free_port()
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)  # nobody listens yet
    try:
        user = factories.make_user(factories.make_enterprise(), email="ent@example.com")
        notify(user, "test", "您的需求已发布", "工信局已审核通过。")
        db_session.commit()  # the attempt after commit fails; the commit does not
        row = db_session.scalar(sa.select(OutgoingMail))
        db_session.refresh(row)
        assert row.status == MailStatus.PENDING and row.attempts == 1 and row.last_error
        assert row.next_attempt_at > utcnow()

        handler, controller = _smtp(port)
        try:
            # Before its pause is over the job leaves it alone.
            assert runner.run_now("mail-deliver").result == {"sent": 0, "retry": 0, "failed": 0}
            db_session.execute(sa.update(OutgoingMail).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
            db_session.commit()
            outcome = runner.run_now("mail-deliver")
            assert outcome.result == {"sent": 1, "retry": 0, "failed": 0}
            messages = wait_for(handler, 1)
            assert [m.rcpt_tos for m in messages] == [["ent@example.com"]]
            assert "Subject:" in messages[0].content.decode()
            # Sent once: the next run finds nothing to send.
            assert runner.run_now("mail-deliver").result["sent"] == 0
        finally:
            controller.stop()
        row = db_session.scalar(sa.select(OutgoingMail))
        assert row.status == MailStatus.SENT and row.sent_at is not None and row.attempts == 2
    finally:
        app.config.update(saved)


def test_mail_gives_up_after_its_attempts(ctx, app):
    row = OutgoingMail(sender="a@b", recipient="c@d", subject="s", body="b", attempts=mail.MAX_ATTEMPTS - 1,
                       next_attempt_at=utcnow())
    db_session.add(row)
    db_session.commit()
    counts = mail.deliver_due("127.0.0.1", _free_port())
    assert counts == {"sent": 0, "retry": 0, "failed": 1}
    db_session.refresh(row)
    assert row.status == MailStatus.FAILED and row.next_attempt_at is None


def test_mail_sent_at_once_is_marked_sent(ctx, app):
    port = _free_port()
    handler, controller = _smtp(port)
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    try:
        user = factories.make_user(factories.make_enterprise(), email="ent@example.com")
        notify(user, "test", "标题")
        db_session.commit()
        assert len(wait_for(handler, 1)) == 1
    finally:
        app.config.update(saved)
        controller.stop()
    row = db_session.scalar(sa.select(OutgoingMail))
    db_session.refresh(row)
    assert row.status == MailStatus.SENT and row.attempts == 1
    # Without a server configured the job attempts nothing and the queue waits.
    assert mail.deliver_due(None, 25) == {"sent": 0, "retry": 0, "failed": 0}
