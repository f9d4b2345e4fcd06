"""Security headers on every response (no inline script, no framing, no sniffing), the proxy, Secure cookies."""
from __future__ import annotations

from flask import Flask, has_request_context, render_template, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

# Styles may be inline (Bootstrap's components set style attributes); scripts never.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


class _SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (directly or through the proxy)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or (has_request_context() and request.is_secure))


NUL_MESSAGE = "提交的内容含有无效的控制字符（NUL），请删除后重试。"


def _has_nul() -> bool:
    """A NUL anywhere in the query, the form fields or a JSON body (PostgreSQL text cannot hold one)."""
    if any("\x00" in v for values in (request.args, request.form) for _, v in values.items(multi=True)):
        return True
    if request.is_json:
        body = request.get_data(cache=True)
        return b"\x00" in body or b"\\u0000" in body
    return False


def init_app(app: Flask) -> None:
    # Behind nginx (TRUSTED_PROXIES=1) the client's address, scheme and host come from the proxy's
    # X-Forwarded-* headers. Without a proxy those headers are whatever the client says, so they are
    # ignored: otherwise anyone could pick the address the rate limits count.
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.session_interface = _SessionInterface()

    @app.before_request
    def _refuse_nul():
        # Refused at the door with a message, rather than as a database error deep in a service.
        if _has_nul():
            if request.path.startswith("/api/"):
                from matchmaker.api.errors import ApiError

                raise ApiError(400, NUL_MESSAGE)
            return render_template("errors/error.html", code=400, title="请求有误", text=NUL_MESSAGE), 400
        return None

    @app.after_request
    def _headers(response):
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        # Pages carry private data: no shared cache may keep them.
        if response.mimetype == "text/html":
            h.setdefault("Cache-Control", "no-store")
        return response
