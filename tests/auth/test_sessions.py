"""Sessions end when idle or too old, and sensitive actions ask for the password again."""
import time

import pytest
import sqlalchemy as sa

from matchmaker import create_app
from models import ApiToken, AuditEntry, OrgKind, User, db_session
from tests import factories


def _signed_in(app, user):
    c = app.test_client()
    resp = c.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert resp.status_code == 302
    return c


def _shift(c, **seconds_ago):
    with c.session_transaction() as s:
        for key, ago in seconds_ago.items():
            s[key] = time.time() - ago


@pytest.fixture
def user(ctx):
    return factories.make_user(factories.make_enterprise())


def test_the_session_cookie_expires_and_is_refreshed_by_use(app, user):
    c = app.test_client()
    resp = c.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    cookie = resp.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert c.get("/account/").status_code == 200
    with c.session_transaction() as s:
        assert time.time() - s["seen_at"] < 5


def test_an_idle_session_ends(app, user):
    c = _signed_in(app, user)
    idle = app.config["SESSION_IDLE_MINUTES"] * 60
    _shift(c, seen_at=idle - 60)
    assert c.get("/account/").status_code == 200  # still within the idle limit, and now seen again
    _shift(c, seen_at=idle + 60)
    resp = c.get("/account/")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login?next=/account/")
    page = c.get(resp.headers["Location"])
    assert "长时间未操作，登录已超时" in page.text
    # The user is signed out for good, not just redirected once.
    assert c.get("/account/").status_code == 302


def test_a_session_older_than_session_hours_ends_even_when_busy(app, user):
    c = _signed_in(app, user)
    _shift(c, login_at=app.config["SESSION_HOURS"] * 3600 + 60, seen_at=10)
    resp = c.get("/demands/mine", follow_redirects=True)
    assert "登录已超过有效时长" in resp.text
    assert c.get("/demands/mine").status_code == 302


def test_the_cookie_signature_itself_expires(app, user, monkeypatch):
    # Even a cookie whose times were never checked (a stolen copy) is void after PERMANENT_SESSION_LIFETIME.
    from itsdangerous.timed import TimestampSigner

    c = _signed_in(app, user)
    real = TimestampSigner.get_timestamp
    later = app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(real(self) + later))
    assert c.get("/account/").status_code == 302


@pytest.mark.parametrize("url", ["/password"])
def test_a_sensitive_page_asks_for_the_password_and_comes_back(app, user, url):
    c = _signed_in(app, user)
    assert c.get(url).status_code == 200  # just signed in: fresh
    _shift(c, auth_at=app.config["SENSITIVE_REAUTH_MINUTES"] * 60 + 30)
    resp = c.get(url)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/reauth?next={url}"
    page = c.get(resp.headers["Location"])
    assert "请再次输入密码确认身份" in page.text
    wrong = c.post(resp.headers["Location"], data={"password": "wrong-one1"})
    assert wrong.status_code == 200 and "密码不正确" in wrong.text
    ok = c.post(resp.headers["Location"], data={"password": factories.PASSWORD})
    assert ok.status_code == 302 and ok.headers["Location"] == url
    assert c.get(url).status_code == 200
    assert db_session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(
        AuditEntry.action == "user.reauthenticated")) == 1


def test_a_stale_post_does_nothing_and_returns_to_its_form_after_reauth(app, ctx):
    bank = factories.make_org(OrgKind.BANK)
    admin = factories.make_user(bank)
    c = _signed_in(app, admin)
    from matchmaker.api import tokens

    token, _secret = tokens.create_token(admin, "核心系统", ["read"])
    _shift(c, auth_at=3600)
    resp = c.post(f"/account/api-tokens/{token.ref}/revoke", data={},
                  headers={"Referer": "http://localhost/account/api-tokens/"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/reauth?next=/account/api-tokens/"
    db_session.expire_all()
    assert db_session.get(ApiToken, token.id).revoked_at is None
    back = c.post(resp.headers["Location"], data={"password": factories.PASSWORD})
    assert back.headers["Location"] == "/account/api-tokens/"
    assert c.post(f"/account/api-tokens/{token.ref}/revoke", data={}).status_code == 302
    db_session.expire_all()
    assert db_session.get(ApiToken, token.id).revoked_at is not None


SENSITIVE = [
    ("enterprise", "GET", "/password"),
    ("enterprise", "GET", "/account/members/new"),
    ("enterprise", "POST", "/account/members/u-any"),
    ("bank", "GET", "/account/api-tokens/"),
    ("bank", "POST", "/account/api-tokens/t-any/revoke"),
    ("bank", "GET", "/account/api-tokens/webhooks"),
    ("bank", "POST", "/account/api-tokens/webhooks/w-any/disable"),
    ("bank", "POST", "/account/api-tokens/webhooks/deliveries/d-any/replay"),
    ("city_bureau", "GET", "/bureau/institutions/new"),
    ("city_bureau", "GET", "/projects/ledger.xlsx"),
    ("city_bureau", "GET", "/console/report.xlsx"),
]


@pytest.mark.parametrize("role,method,url", SENSITIVE)
def test_every_sensitive_action_needs_a_recent_password(app, world, login_as, role, method, url):
    c = login_as(getattr(world, role))
    _shift(c, auth_at=app.config["SENSITIVE_REAUTH_MINUTES"] * 60 + 1)
    resp = c.open(url, method=method)
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/reauth?next="), (url, resp.status_code)


def test_reauth_failures_lock_the_account_and_end_the_session(app, user, city):
    c = _signed_in(app, user)
    _shift(c, auth_at=3600)
    limit = city.security.get("login_max_failures", 5)
    for _ in range(limit - 1):
        assert "密码不正确" in c.post("/reauth?next=/password", data={"password": "nope-123"}).text
    last = c.post("/reauth?next=/password", data={"password": "nope-123"})
    assert last.headers["Location"] == "/login"
    assert c.get("/account/").status_code == 302
    db_session.expire_all()
    assert db_session.get(User, user.id).locked_until is not None


def test_reauth_never_redirects_off_site(app, user):
    c = _signed_in(app, user)
    resp = c.post("/reauth?next=https://evil.example/x", data={"password": factories.PASSWORD})
    assert resp.headers["Location"] == "/"


def test_behind_a_trusted_proxy_https_gives_secure_cookies_and_hsts(database_url, ctx):
    user = factories.make_user(factories.make_enterprise())
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "TRUSTED_PROXIES": 1})
    c = app.test_client()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.1.2.3", "X-Forwarded-Host": "rz.example.gov.cn"}
    resp = c.post("/login", data={"username": user.username, "password": factories.PASSWORD}, headers=proxied)
    assert "Secure" in resp.headers["Set-Cookie"]
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = app.test_client().post("/login", data={"username": user.username, "password": factories.PASSWORD})
    assert "Secure" not in plain.headers["Set-Cookie"] and "Strict-Transport-Security" not in plain.headers


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(database_url, ctx):
    user = factories.make_user(factories.make_enterprise())
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                      "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False, "TRUSTED_PROXIES": 0})
    resp = app.test_client().post("/login", data={"username": user.username, "password": factories.PASSWORD},
                                  headers={"X-Forwarded-Proto": "https"})
    assert "Secure" not in resp.headers["Set-Cookie"] and "Strict-Transport-Security" not in resp.headers
