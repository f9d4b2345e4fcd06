"""Requests for the security tests: one role's client, each request in a transaction rolled back after it.

Every request of the matrix and the fuzzing runs on a connection of its own inside a transaction;
the application's commits become savepoints, and the transaction is rolled back when the response is
in. So a POST that really changes something (accepting an offer, revoking a token) leaves the world as
it was for the next request, and one world serves the whole walk.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from urllib.parse import urlsplit

import sqlalchemy as sa

from models import db_session, get_engine
from models.db import _sqlite_pragmas

# Outcome classes of a response.
OK = "ok"              # got past authorisation: 2xx/3xx, or 400/409/422 to a write with a body it refused
LOGIN = "login"        # 401, or a redirect to the login page
DENY = "403"           # wrong role
HIDE = "404"           # outside the user's scope (or absent)
REFUSED = "refused"    # a redirect carrying an error message: the rules refused the action, nothing changed
PENDING = "pending"    # sent home to see its review state (an organisation not yet approved)
REAUTH = "reauth"      # sent to /reauth to enter the password again (a sensitive page, a stale sign-in)
CLOSED = "closed"      # expectation only: anything but getting through (login, 403, 404, pending)


class Isolation:
    """An engine of its own whose connections run each request in a transaction rolled back afterwards."""

    def __init__(self):
        url = get_engine().url
        if url.get_backend_name() == "sqlite":
            self.engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})

            @sa.event.listens_for(self.engine, "connect")
            def _connect(dbapi_conn, record):
                _sqlite_pragmas(dbapi_conn, record)
                # pysqlite's own transaction handling breaks SAVEPOINT: SQLAlchemy emits BEGIN itself.
                dbapi_conn.isolation_level = None

            @sa.event.listens_for(self.engine, "begin")
            def _begin(conn):
                conn.exec_driver_sql("BEGIN")
        else:
            self.engine = sa.create_engine(url)

    @contextmanager
    def rolled_back(self):
        db_session.remove()
        conn = self.engine.connect()
        outer = conn.begin()
        kw = db_session.session_factory.kw
        saved = dict(kw)
        kw.update(bind=conn, join_transaction_mode="create_savepoint")
        try:
            yield
        finally:
            db_session.remove()
            outer.rollback()
            conn.close()
            kw.clear()
            kw.update(saved)
            assert kw["bind"] is get_engine()

    def dispose(self):
        self.engine.dispose()


def client_for(app, user_id: str | None, *, fresh: bool = True):
    """A test client logged in as the user with flask-login id `user_id` (None: a visitor).

    The session is signed in as tests/conftest.py `login_as` does: the password counts as just entered,
    so pages behind `fresh_login_required` answer with what they are for, not with the /reauth redirect
    (which would look like OK to `classify` and test nothing). `fresh=False`: signed in long enough ago
    that sensitive pages ask for the password again, while the session itself is still valid.
    """
    from matchmaker.auth.sessions import AUTH_AT, LOGIN_AT, SEEN_AT
    from matchmaker.extensions import login_manager

    client = app.test_client()
    if user_id is not None:
        now = time.time()
        stale = now - (app.config.get("SENSITIVE_REAUTH_MINUTES", 15) * 60 + 60)
        with client.session_transaction() as sess:
            sess["_user_id"] = user_id
            sess["_fresh"] = True
            sess[LOGIN_AT] = now if fresh else stale
            sess[SEEN_AT] = now
            sess[AUTH_AT] = now if fresh else stale
            with app.test_request_context(environ_base=client.environ_base):
                sess["_id"] = login_manager._session_identifier_generator()
    return client


def matches(want: str, got: str) -> bool:
    """Whether outcome `got` is what `want` expects (OK also accepts a refusal: it got past authorisation)."""
    if want == CLOSED:
        return got in (LOGIN, DENY, HIDE, PENDING)
    return got == want or (want == OK and got == REFUSED)


def classify(client, method: str, resp) -> str:
    """The outcome class of `resp` (or the bare status code when it fits none)."""
    code = resp.status_code
    if code == 401:
        return LOGIN
    if 300 <= code < 400 and code != 304:
        path = urlsplit(resp.headers.get("Location", "")).path
        if path == "/login":
            return LOGIN
        if path == "/reauth":
            # Never OK: the page was not reached (the matrix signs in fresh, so it should not happen there).
            return REAUTH
        with client.session_transaction() as sess:
            categories = {category for category, _ in sess.get("_flashes", [])}
        if "danger" in categories:
            return REFUSED
        if "warning" in categories and urlsplit(resp.headers.get("Location", "")).path == "/":
            return PENDING
        return OK
    if code == 403:
        return DENY
    if code == 404:
        return HIDE
    if 200 <= code < 300 or code == 304:
        return OK
    if method != "GET" and code in (400, 409, 422):
        return OK
    return str(code)


@contextmanager
def shared_world(app, tmp_path_factory):
    """The two-of-everything world of a whole module, with its own file folders; cleared at the end."""
    from matchmaker.search_cli import sync_now
    from tests.conftest import _clear_index, _clear_tables
    from tests.security import world as W

    saved = app.config.get("NOTICE_FILES_DIR"), app.config.get("ATTACHMENT_DIR")
    app.config["NOTICE_FILES_DIR"] = str(tmp_path_factory.mktemp("notice-files"))
    app.config["ATTACHMENT_DIR"] = str(tmp_path_factory.mktemp("attachments"))
    isolation = None
    try:
        with app.app_context():
            world = W.build()
            sync_now(app)  # the index holds the world before the first page searches it
        isolation = Isolation()
        yield world, isolation
    finally:
        if isolation is not None:
            isolation.dispose()
        app.config["NOTICE_FILES_DIR"], app.config["ATTACHMENT_DIR"] = saved
        _clear_tables()
        _clear_index(app)
