"""The Flask application factory of the matchmaking platform."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, g, render_template, request

from matchmaker import config as config_module
from matchmaker import security
from matchmaker.city import load_city
from matchmaker.extensions import csrf, limiter, login_manager
from models import init_engine
from models.db import discard_session

log = logging.getLogger(__name__)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app; `test_config` overrides anything read from the environment."""
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=str(root / "instance"),
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    app.config.update(config_module.from_environment(Path(app.instance_path)))
    if test_config:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    app.extensions["city"] = load_city(app.config["CITY_CONFIG"])
    init_engine(app.config["SQLALCHEMY_DATABASE_URI"], **config_module.engine_options(app.config))

    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    security.init_app(app)

    _register_blueprints(app)
    from matchmaker import api

    api.init_app(app)
    _register_templates(app)
    _register_errors(app)
    _register_commands(app)
    from matchmaker.ranking.data import install_pair_scorer

    install_pair_scorer()

    @app.teardown_appcontext
    def _remove_session(_exc=None):
        discard_session()

    @app.before_request
    def _load_user_per_request():
        # An app context pushed around several requests (a test, a command) keeps `g`;
        # flask-login caches the user there, so each request must load its own.
        g.pop("_login_user", None)

    return app


def _register_blueprints(app: Flask) -> None:
    from matchmaker.accounts.views import bp as accounts_bp
    from matchmaker.attachments.views import bp as attachments_bp
    from matchmaker.audit.views import bp as audit_bp
    from matchmaker.auth.views import bp as auth_bp
    from matchmaker.bureau.views import bp as bureau_bp
    from matchmaker.catalog.views import bp as catalog_bp
    from matchmaker.console.views import bp as console_bp
    from matchmaker.console.views import public_bp as scorecard_bp
    from matchmaker.demands.views import bp as demands_bp
    from matchmaker.events.views import bp as events_bp
    from matchmaker.exchange.views import bp as exchange_bp
    from matchmaker.home.views import bp as home_bp
    from matchmaker.notices.views import bp as notices_bp
    from matchmaker.notifications.views import bp as notifications_bp
    from matchmaker.offers.views import bp as offers_bp
    from matchmaker.projects.views import bp as projects_bp
    from matchmaker.ranking.views import bp as ranking_bp

    for bp in (home_bp, auth_bp, accounts_bp, bureau_bp, projects_bp, demands_bp, catalog_bp, events_bp,
               notifications_bp, offers_bp, console_bp, notices_bp, ranking_bp, scorecard_bp, exchange_bp,
               attachments_bp, audit_bp):
        app.register_blueprint(bp)


def _register_templates(app: Flask) -> None:
    from matchmaker import formatting
    from matchmaker.navigation import nav_items
    from models import label

    app.jinja_env.globals.update(city=app.extensions["city"], label=label, nav_items=nav_items)
    app.jinja_env.filters.update(
        wan=formatting.wan, local_dt=formatting.local_dt, local_date=formatting.local_date
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


def _register_errors(app: Flask) -> None:
    messages = {
        400: ("请求有误", "提交的内容无法处理，请返回上一页检查后重试。"),
        401: ("需要登录", "请先登录后再访问此页面。"),
        403: ("无权访问", "您的账户没有访问此页面的权限。"),
        404: ("页面不存在", "您要找的页面不存在，或不在您的查看范围内。"),
        405: ("请求方式不被允许", "请通过页面上的按钮或链接操作。"),
        409: ("操作冲突", "当前状态不允许此操作，请刷新页面后重试。"),
        413: ("文件过大", "上传的文件超过了允许的大小。"),
        415: ("请求有误", "提交的内容格式不被支持。"),
        422: ("请求有误", "提交的内容无法处理，请返回上一页检查后重试。"),
        429: ("操作过于频繁", "请求次数过多，请稍后再试。"),
        500: ("系统错误", "服务器处理请求时出错，我们已记录此问题，请稍后再试。"),
        503: ("服务暂不可用", "系统正在维护或数据库暂时无法连接，请稍后再试。"),
    }

    def render_error(code: int, e=None):
        title, text = messages[code]
        if request.path.startswith("/api/"):
            from matchmaker.api import http_error

            # One shape for every API error: {"error": {"code", "message", "fields"}}.
            return http_error(e, code)
        return render_template("errors/error.html", code=code, title=title, text=text), code

    for code in messages:
        app.register_error_handler(code, lambda e, code=code: render_error(code, e))

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf(_e):
        title, text = "表单已失效", "页面停留时间过长或缺少安全校验，请刷新页面后重新提交。"
        return render_template("errors/error.html", code=400, title=title, text=text), 400

    from sqlalchemy.exc import InterfaceError, OperationalError

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _db_down(e):
        log.error("database unavailable: %s", e)
        discard_session()
        # The page is drawn as for a visitor: the signed-in user's rows (name, organisation, menu
        # counts) cannot be read while the database is away, and trying would turn the 503 into a 500.
        g._login_user = login_manager.anonymous_user()
        return render_error(503)

    from werkzeug.exceptions import HTTPException

    @app.errorhandler(HTTPException)
    def _other_http(e):
        # Codes without a page of their own (e.g. 406, 416) keep werkzeug's answer, except under /api/.
        if request.path.startswith("/api/"):
            from matchmaker.api import http_error

            return http_error(e, e.code or 500)
        return e


def _register_commands(app: Flask) -> None:
    from matchmaker import search_cli, search_index, search_pages
    from matchmaker.cli import register

    register(app)
    search_cli.init_app(app)
    search_index.init_app(app)
    from matchmaker.console import summary

    summary.init_app(app)
    search_pages.init_app(app)
