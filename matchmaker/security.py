"""Security headers on every response: a script policy with no inline code, no framing, no sniffing."""
from __future__ import annotations

from flask import Flask, request

# Styles may be inline (Bootstrap's components set style attributes); scripts never.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def init_app(app: Flask) -> None:
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
