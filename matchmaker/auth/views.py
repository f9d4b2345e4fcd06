"""Sign-in, sign-out, registration and password pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, logout_user

from matchmaker.auth import services, sessions
from matchmaker.auth.forms import LoginForm, PasswordChangeForm, ReauthForm, RegistrationForm
from matchmaker.auth.sessions import fresh_login_required
from matchmaker.extensions import limiter, login_manager
from models import User, db_session

bp = Blueprint("auth", __name__)
# Idle and absolute session expiry on every request of the app (matchmaker/auth/sessions.py).
sessions.init_app(bp)

login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(identity: str):
    user_id, _, version = identity.partition(":")
    if not user_id.isdigit():
        return None
    user = db_session.get(User, int(user_id))
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    return user


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths: an open redirect after login is a phishing tool."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read a backslash as a slash ("/\\evil.example" is "//evil.example") and drop tabs and newlines.
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"], error_message="登录尝试过于频繁，请稍后再试。")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        sec = current_app.extensions["city"].security
        result = services.authenticate(
            form.username.data,
            form.password.data,
            max_failures=sec.get("login_max_failures", 5),
            lock_minutes=sec.get("login_lock_minutes", 15),
        )
        if result.user:
            sessions.start(result.user)
            flash(f"欢迎，{result.user.name}。", "success")
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
        error = result.error
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash("您已退出登录。", "info")
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"], error_message="注册过于频繁，请稍后再试。")
def register():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        user = services.register_organization(form.to_data())
        sessions.start(user)
        flash("注册申请已提交，请等待工信局审核。审核通过前您可以查看审核状态。", "success")
        return redirect(url_for("home.index"))
    return render_template("auth/register.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
@fresh_login_required
def password():
    form = PasswordChangeForm()
    if form.validate_on_submit():
        error = services.change_password(current_user, form.old.data, form.new.data)
        if error is None:
            # This session continues with the new version; all others are now invalid.
            sessions.start(current_user)
            flash("密码已修改，其他设备上的登录已失效。", "success")
            return redirect(url_for("home.index"))
        (form.old if "原密码" in error else form.new).errors.append(error)
    return render_template("auth/password.html", form=form)


@bp.route("/reauth", methods=["GET", "POST"])
@login_required
@limiter.limit("30 per minute", methods=["POST"], error_message="尝试过于频繁，请稍后再试。")
def reauth():
    """请再次输入密码确认身份: then back to the sensitive page the user came from."""
    target = _safe_next(request.args.get("next")) or url_for("home.index")
    form = ReauthForm()
    if form.validate_on_submit():
        sec = current_app.extensions["city"].security
        result = services.reauthenticate(current_user, form.password.data,
                                         max_failures=sec.get("login_max_failures", 5),
                                         lock_minutes=sec.get("login_lock_minutes", 15))
        if result.ok:
            sessions.reauthenticated()
            return redirect(target)
        if result.locked:
            logout_user()
            flash(result.error, "danger")
            return redirect(url_for("auth.login"))
        form.password.errors.append(result.error)
    return render_template("auth/reauth.html", form=form)
