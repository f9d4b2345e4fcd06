"""Session lifetime and re-authentication: idle and absolute expiry, fresh login for sensitive actions.

Sessions are signed cookies (nothing server-side), so the times live in the cookie itself:
`login_at` (the password was entered at sign-in: absolute limit SESSION_HOURS), `seen_at` (the last
request: idle limit SESSION_IDLE_MINUTES) and `auth_at` (the last time the password was entered, at
sign-in or on the 再次确认身份 page: sensitive actions need it within SENSITIVE_REAUTH_MINUTES).
"""
from __future__ import annotations

import time
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_login import confirm_login, current_user, login_fresh, login_user, logout_user

LOGIN_AT, SEEN_AT, AUTH_AT = "login_at", "seen_at", "auth_at"
# Seconds between two updates of the last-seen time.
SEEN_RESOLUTION = 60


def start(user) -> None:
    """Sign `user` in: a permanent (expiring) cookie with fresh timestamps."""
    login_user(user, fresh=True)
    session.permanent = True
    now = time.time()
    session[LOGIN_AT] = session[SEEN_AT] = session[AUTH_AT] = now


def reauthenticated() -> None:
    """The password was entered again: sensitive actions are allowed for the next minutes."""
    confirm_login()
    session[AUTH_AT] = time.time()


def is_fresh() -> bool:
    limit = current_app.config.get("SENSITIVE_REAUTH_MINUTES", 15) * 60
    auth_at = session.get(AUTH_AT)
    return bool(login_fresh() and auth_at is not None and time.time() - float(auth_at) <= limit)


def _expired() -> str | None:
    """Why the signed-in session is over, or None."""
    now = time.time()
    cfg = current_app.config
    if LOGIN_AT not in session:
        # A cookie signed before these times existed: its clocks start now (its signature's age is
        # still bounded by PERMANENT_SESSION_LIFETIME), and it is not fresh for sensitive actions.
        session[LOGIN_AT] = session[SEEN_AT] = now
    login_at, seen_at = float(session[LOGIN_AT]), float(session.get(SEEN_AT) or now)
    if now - login_at > cfg["SESSION_HOURS"] * 3600:
        return "登录已超过有效时长，请重新登录。"
    if now - seen_at > cfg["SESSION_IDLE_MINUTES"] * 60:
        return "长时间未操作，登录已超时，请重新登录。"
    return None


def init_app(bp: Blueprint) -> None:
    """Check the session's clocks before every request of the app (the auth blueprint installs it)."""

    @bp.before_app_request
    def _session_clock():
        # The API authenticates by token, never by this cookie; static files need no session.
        if "_user_id" not in session or request.endpoint == "static" or request.path.startswith("/api/"):
            return None
        reason = _expired()
        if reason is None:
            # Minutes are enough for an idle limit of hours; rewriting the cookie on every request would
            # also let a late response (a favicon) overwrite a cookie another response just replaced.
            now = time.time()
            if now - float(session.get(SEEN_AT) or 0) >= SEEN_RESOLUTION:
                session[SEEN_AT] = now
            return None
        logout_user()
        for key in (LOGIN_AT, SEEN_AT, AUTH_AT):
            session.pop(key, None)
        flash(reason, "warning")
        target = _here() if request.method == "GET" else None
        return redirect(url_for("auth.login", next=target))


def _here() -> str:
    path = request.full_path
    return path[:-1] if path.endswith("?") else path


def _same_site_referrer() -> str | None:
    ref = request.referrer
    if not ref:
        return None
    parts = urlsplit(ref)
    if parts.netloc and parts.netloc != request.host:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def fresh_login_required(view):
    """For sensitive actions: the password must have been entered in the last SENSITIVE_REAUTH_MINUTES.

    Otherwise the user confirms it on /reauth and comes back: to the page itself for a GET, to the
    page the form was on for a POST (the form is shown again; nothing was done).
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from matchmaker.extensions import login_manager

            return login_manager.unauthorized()
        if not is_fresh():
            target = _here() if request.method == "GET" else _same_site_referrer() or url_for("home.index")
            flash("此操作涉及账户安全，请再次输入密码确认身份。", "info")
            return redirect(url_for("auth.reauth", next=target))
        return view(*args, **kwargs)

    return wrapped
