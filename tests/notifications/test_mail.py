"""E-mail copies of notifications go through a real SMTP server, and only after the commit."""
import socket
import time

import pytest
from aiosmtpd.controller import Controller

from matchmaker.notifications import mail
from matchmaker.notifications.services import notify
from models import db_session
from tests import factories


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    handler = Collector()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config.get(k) for k in ("SMTP_HOST", "SMTP_PORT", "SMTP_FROM")}
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="platform@zaozhuang.example")
    yield handler
    app.config.update(saved)
    controller.stop()


def wait_for(handler, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while len(handler.messages) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    return handler.messages


def test_mail_is_sent_after_commit(ctx, smtp_server):
    user = factories.make_user(factories.make_enterprise(), email="ent@example.com")
    factories.make_user(user.org, role="member")  # no address: inbox only
    notify(user.org, "test", "您的需求已发布", "工信局已审核通过。", "/products/")
    # Nothing leaves before the transaction commits.
    time.sleep(0.2)
    assert smtp_server.messages == []
    db_session.commit()
    messages = wait_for(smtp_server, 1)
    assert len(messages) == 1
    envelope = messages[0]
    assert envelope.rcpt_tos == ["ent@example.com"] and envelope.mail_from == "platform@zaozhuang.example"
    text = envelope.content.decode()
    assert "Subject:" in text and "/products/" in text


def test_no_mail_when_the_transaction_rolls_back(ctx, smtp_server):
    user = factories.make_user(factories.make_enterprise(), email="ent@example.com")
    notify(user, "test", "不会发出")
    db_session.rollback()
    # A later, unrelated commit does not send the dropped mail either.
    factories.make_enterprise()
    time.sleep(0.3)
    assert smtp_server.messages == []


def test_a_failing_server_is_logged_never_raised(ctx, app, caplog):
    user = factories.make_user(factories.make_enterprise(), email="ent@example.com")
    saved = app.config.get("SMTP_HOST"), app.config.get("SMTP_PORT")
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port())  # nobody listens there
    try:
        notify(user, "test", "发不出去")
        db_session.commit()  # must not raise
    finally:
        app.config.update(SMTP_HOST=saved[0], SMTP_PORT=saved[1])
    assert any("failed" in r.message for r in caplog.records)
    assert mail.send(mail.Mail("127.0.0.1", _free_port(), "a@b", "c@d", "s", "b")) is False


def test_no_smtp_configured_means_inbox_only(ctx, app):
    assert not app.config.get("SMTP_HOST")
    user = factories.make_user(factories.make_enterprise(), email="ent@example.com")
    notify(user, "test", "只进收件箱")
    db_session.commit()
    assert not db_session().info.get("pending_mail")
