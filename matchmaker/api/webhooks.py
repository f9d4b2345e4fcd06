"""Webhooks: institutions register HTTPS endpoints; events are queued in the change's transaction and sent signed.

The signature is HMAC-SHA256 over "{timestamp}.{body}" with the endpoint's secret, sent as
`X-Matchmaker-Signature: sha256=<hex>` next to `X-Matchmaker-Timestamp`; the receiver recomputes it and
refuses old timestamps. Failed sends are retried with exponential backoff, then marked failed for a replay.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_app_context

from matchmaker.auth.services import new_ref
from models import DeliveryStatus, Organization, WebhookDelivery, WebhookEndpoint, db_session, record
from models.types import utcnow

# The notifications an institution receives, as webhook events.
EVENTS = {
    "offer.applied": "企业申请了本机构的产品",
    "offer.accepted": "企业接受了本机构的方案",
    "offer.declined": "企业婉拒了本机构的方案",
    "offer.cancelled": "企业撤销了申请",
    "offer.due_soon": "申请即将到答复期限",
    "offer.overdue": "申请已超过答复期限",
}
MAX_ATTEMPTS = 6
BACKOFF_SECONDS = 30      # 30 s, 1 min, 2 min, 4 min, 8 min between the six attempts
TIMEOUT_SECONDS = 5
URL_MAX = 500


class WebhookError(Exception):
    """A webhook change the rules do not allow (Chinese message)."""


def _allows_local_http() -> bool:
    return bool(has_app_context() and current_app.config.get("WEBHOOK_ALLOW_LOCAL_HTTP"))


def url_error(url: str) -> str | None:
    parts = urlsplit(url or "")
    if not url or len(url) > URL_MAX or not parts.hostname:
        return "请填写完整的网址"
    if parts.scheme == "https":
        return None
    # Plain http only for a receiver on this machine, and only where the site allows it (the tests).
    if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") and _allows_local_http():
        return None
    return "回调地址必须以 https:// 开头"


def register(actor, url: str, events: list[str]) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint of the actor's institution; returns it with its signing secret (shown once)."""
    from matchmaker.api.tokens import may_manage

    if not may_manage(actor):
        raise WebhookError("只有已审核金融机构的管理员可以设置回调")
    url = (url or "").strip()
    if err := url_error(url):
        raise WebhookError(err)
    events = [e for e in EVENTS if e in set(events or ())]
    if not events:
        raise WebhookError("请至少选择一种事件")
    secret = "whsec_" + secrets.token_urlsafe(24)
    ep = WebhookEndpoint(ref=new_ref("wh"), org_id=actor.org_id, url=url, secret=secret, events=events,
                         created_by_id=actor.id)
    db_session.add(ep)
    db_session.flush()
    record(actor, "webhook.created", ep, url=url, events=events)
    db_session.commit()
    return ep, secret


def disable(actor, ep: WebhookEndpoint) -> None:
    ep.is_active = False
    record(actor, "webhook.disabled", ep, url=ep.url)
    db_session.commit()


def endpoints_of(org: Organization) -> list[WebhookEndpoint]:
    return list(db_session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.org_id == org.id)
                                   .order_by(WebhookEndpoint.is_active.desc(), WebhookEndpoint.id.desc())))


def recent_deliveries(org: Organization, limit: int = 50) -> list[WebhookDelivery]:
    return list(db_session.scalars(sa.select(WebhookDelivery).join(WebhookDelivery.endpoint)
                                   .where(WebhookEndpoint.org_id == org.id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)))


def enqueue(target, kind: str, title: str, body: str = "", link: str | None = None) -> int:
    """Queue `kind` for the subscribed endpoints of `target` (an organisation), in the caller's transaction."""
    if kind not in EVENTS or not isinstance(target, Organization) or target.id is None:
        return 0
    endpoints = db_session.scalars(sa.select(WebhookEndpoint).where(WebhookEndpoint.org_id == target.id,
                                                                   WebhookEndpoint.is_active.is_(True)))
    n = 0
    for ep in endpoints:
        if kind not in (ep.events or ()):
            continue
        ref = new_ref("whd")
        payload = json.dumps({"id": ref, "event": kind, "created_at": utcnow().isoformat() + "Z",
                              "data": {"title": title, "body": body, "link": link}}, ensure_ascii=False)
        db_session.add(WebhookDelivery(ref=ref, endpoint=ep, event=kind, payload=payload, next_attempt_at=utcnow()))
        n += 1
    return n


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _send(d: WebhookDelivery) -> tuple[int | None, str | None]:
    body = d.payload.encode()
    ts = str(int(time.time()))
    req = urllib.request.Request(d.endpoint.url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "matchmaker-webhooks/1",
        "X-Matchmaker-Event": d.event, "X-Matchmaker-Delivery": d.ref, "X-Matchmaker-Timestamp": ts,
        "X-Matchmaker-Signature": sign(d.endpoint.secret, ts, body)})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310 (https, or local in tests)
            return resp.status, None
    except urllib.error.HTTPError as e:
        return e.code, f"HTTP {e.code}"
    except (urllib.error.URLError, OSError) as e:
        return None, str(getattr(e, "reason", e))[:500]


def deliver_due(now: datetime | None = None, limit: int = 100) -> dict[str, int]:
    """Send every delivery whose time has come; returns counts by outcome. Run by `flask api webhooks-deliver`."""
    now = now or utcnow()
    q = (sa.select(WebhookDelivery).where(WebhookDelivery.status == DeliveryStatus.PENDING,
                                          WebhookDelivery.next_attempt_at <= now)
         .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit))
    if db_session.get_bind().dialect.name == "postgresql":
        # Two workers never send the same delivery: each takes rows the other has not locked.
        q = q.with_for_update(skip_locked=True)
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    for d in list(db_session.scalars(q)):
        code, error = _send(d) if d.endpoint.is_active else (None, "回调已停用")
        d.attempts += 1
        d.last_status_code, d.last_error = code, error
        if code is not None and 200 <= code < 300:
            d.status, d.delivered_at, d.next_attempt_at = DeliveryStatus.DELIVERED, utcnow(), None
            counts["delivered"] += 1
        elif d.attempts >= MAX_ATTEMPTS or not d.endpoint.is_active:
            d.status, d.next_attempt_at = DeliveryStatus.FAILED, None
            counts["failed"] += 1
        else:
            d.next_attempt_at = now + timedelta(seconds=BACKOFF_SECONDS * 2 ** (d.attempts - 1))
            counts["retry"] += 1
    db_session.commit()
    return counts


def replay(actor, d: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again (failed or delivered): back in the queue with fresh attempts."""
    if d.endpoint.org_id != actor.org_id:
        raise WebhookError("只能重发本机构的回调")
    d.status, d.attempts, d.next_attempt_at = DeliveryStatus.PENDING, 0, utcnow()
    record(actor, "webhook.replayed", d, event=d.event)
    db_session.commit()
    return d
