"""Webhooks against a real local HTTP server: signed deliveries, retries with backoff, replay, the page."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import sqlalchemy as sa

from matchmaker.api import webhooks
from matchmaker.offers import services as offers
from models import DeliveryStatus, WebhookDelivery, db_session
from models.types import utcnow
from tests.factories import make_demand, make_product


class Receiver:
    """An HTTP server on a free local port that records what it gets and answers `status`."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((dict(self.headers), body))
                self.send_response(outer.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(app, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_LOCAL_HTTP", True)
    r = Receiver()
    yield r
    r.close()


def _apply(world):
    d = make_demand(world.enterprise.org, status="published")
    return offers.apply(world.enterprise, d, make_product(world.bank.org))


def test_signed_delivery_reaches_the_endpoint(world, receiver):
    ep, secret = webhooks.register(world.bank, receiver.url, ["offer.applied"])
    _apply(world)
    assert webhooks.deliver_due() == {"delivered": 1, "retry": 0, "failed": 0}
    headers, body = receiver.requests[0]
    expected = hmac.new(secret.encode(), headers["X-Matchmaker-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Matchmaker-Signature"] == f"sha256={expected}"
    assert json.loads(body)["event"] == "offer.applied" and headers["X-Matchmaker-Event"] == "offer.applied"
    # Another institution's endpoint hears nothing; nothing is sent twice.
    assert webhooks.deliver_due()["delivered"] == 0 and len(receiver.requests) == 1


def test_failures_back_off_then_fail_and_can_be_replayed(world, receiver):
    webhooks.register(world.bank, receiver.url, ["offer.applied"])
    _apply(world)
    receiver.status = 500
    assert webhooks.deliver_due()["retry"] == 1
    d = db_session.scalar(sa.select(WebhookDelivery))
    assert d.attempts == 1 and d.last_status_code == 500 and d.next_attempt_at > utcnow() + timedelta(seconds=20)
    # Not due yet: nothing is sent.
    assert webhooks.deliver_due() == {"delivered": 0, "retry": 0, "failed": 0}
    later = utcnow()
    for _ in range(webhooks.MAX_ATTEMPTS - 1):
        later += timedelta(hours=1)
        webhooks.deliver_due(now=later)
    db_session.refresh(d)
    assert d.status == DeliveryStatus.FAILED and d.attempts == webhooks.MAX_ATTEMPTS
    receiver.status = 204
    webhooks.replay(world.bank, d)
    assert webhooks.deliver_due()["delivered"] == 1


def test_only_https_unless_local_http_is_allowed(world, app):
    with pytest.raises(webhooks.WebhookError):
        webhooks.register(world.bank, "http://example.com/hook", ["offer.applied"])
    with pytest.raises(webhooks.WebhookError):
        webhooks.register(world.bank, "http://127.0.0.1:9/hook", ["offer.applied"])
    assert webhooks.register(world.bank, "https://bank.example/hook", ["offer.accepted"])[0].is_active


def test_the_page_registers_and_lists(world, login_as, receiver):
    c = login_as(world.bank)
    r = c.post("/account/api-tokens/webhooks", data={"url": receiver.url, "events": ["offer.applied"]})
    assert r.status_code == 200 and "只显示这一次" in r.text and "whsec_" in r.text
    _apply(world)
    webhooks.deliver_due()
    page = c.get("/account/api-tokens/webhooks").text
    assert "已送达" in page and receiver.url in page
