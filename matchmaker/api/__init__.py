"""The integration API (/api/v1): institution tokens, JSON endpoints and their OpenAPI document."""
from __future__ import annotations

from flask import Blueprint, Flask, request
from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException

VERSION = "1.0"


class Api(SmorestApi):
    """flask-smorest without its app-wide error handler: the site's pages keep theirs, /api/ gets ours."""

    def _register_error_handlers(self):
        pass


def init_app(app: Flask) -> None:
    from matchmaker.api import errors, schemas
    from matchmaker.api.token_views import bp as tokens_bp
    from matchmaker.api.views import bp, docs_page
    from matchmaker.extensions import csrf

    app.config.setdefault("API_TITLE", "政银企基金对接平台 API")
    app.config.setdefault("API_VERSION", VERSION)
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    Api.ERROR_SCHEMA = schemas.ErrorSchema
    api = Api(spec_kwargs={
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "info": {"description": "机构以API令牌（账户 → API 令牌）调用；令牌看到的内容与本机构用户相同。"
                                "错误一律为 {\"error\": {\"code\", \"message\", \"fields\"}}。"},
    })
    api.init_app(app)
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    # Token only, never the session cookie: CSRF protection has nothing to protect here.
    csrf.exempt(bp)
    api.register_blueprint(bp, url_prefix="/api/v1")
    app.register_blueprint(tokens_bp)
    from matchmaker.api.cli import api_cli

    app.cli.add_command(api_cli)
    app.extensions["api"] = api

    docs = Blueprint("api", __name__)
    docs.add_url_rule("/api/v1/docs", "docs", docs_page)
    app.register_blueprint(docs)

    @app.errorhandler(errors.ApiError)
    def _api_error(e):
        from models import db_session

        db_session.rollback()
        return errors.error_response(e)


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def http_error(e: HTTPException | None, code: int):
    """The /api/ answer to an HTTP error (the app's error handlers call this)."""
    from matchmaker.api import errors

    if e is None or not isinstance(e, HTTPException):
        return errors.error_response(errors.ApiError(code))
    return errors.error_response(errors.from_http_exception(e))
