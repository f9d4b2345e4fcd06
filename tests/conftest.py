"""Fixtures: the app on a migrated test database, rows cleared after each test, per-role logins.

SQLite by default; PostgreSQL when TEST_DATABASE_URL is set (the CI runs both).
"""
from __future__ import annotations

import os
import shutil
import time

import pytest
import sqlalchemy as sa

from matchmaker import create_app
from matchmaker.migrate import upgrade
from models import Base, db_session, get_engine
from search.backend import SearchBackend, SearchUnavailable
from tests import factories


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _drop_everything(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _database_url(tmp_path_factory)
    _drop_everything(url)
    # The schema comes from the migrations, as in production, so they are tested on every run.
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SEARCH_INDEX_DIR": str(instance / "search"),
        # Rows made by factories reach the index before a page searches, as a web request's would after it.
        "SEARCH_SYNC_BEFORE_SEARCH": True,
        "MODEL_DIR": str(instance / "models"),
        "SERVER_NAME": "localhost",
    })
    return app


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Every test starts from empty tables (only for tests that use the database)."""
    yield
    if "app" not in request.fixturenames and "database_url" not in request.fixturenames:
        return
    _clear_tables()
    if "app" in request.fixturenames:
        _clear_index(request.getfixturevalue("app"))


def _clear_index(app) -> None:
    """The index follows the tables: a test never finds documents an earlier test left behind."""
    app.extensions.pop("search", None)
    shutil.rmtree(app.config["SEARCH_INDEX_DIR"], ignore_errors=True)


def _clear_tables() -> None:
    db_session.remove()
    engine = get_engine()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            # organizations and users refer to each other: no order deletes them with checks on.
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for t in tables:
                conn.execute(sa.text(f'DELETE FROM "{t}"'))
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")


@pytest.fixture
def ctx(app):
    """An application context for calling services directly."""
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def city(app):
    return app.extensions["city"]


@pytest.fixture
def login_as(app):
    """`login_as(user)` returns a test client whose session belongs to `user`."""

    from matchmaker.extensions import login_manager

    def _login(user):
        c = app.test_client()
        with c.session_transaction() as sess:
            sess["_user_id"] = user.get_id()
            sess["_fresh"] = True
            # As if the password had just been entered (matchmaker/auth/sessions.py), from this client.
            sess["login_at"] = sess["seen_at"] = sess["auth_at"] = time.time()
            with app.test_request_context(environ_base=c.environ_base):
                sess["_id"] = login_manager._session_identifier_generator()
        return c

    return _login


@pytest.fixture
def world(ctx):
    """A small world with one of each role, for permission tests."""
    return factories.small_world()


class DownBackend(SearchBackend):
    """A search backend whose every call fails as an unreachable engine does."""

    name = "down"

    def _fail(self, *args, **kwargs):
        raise SearchUnavailable("the search engine does not answer")

    index = delete = apply = search = rebuild = count = _fail

    def ping(self) -> bool:
        return False


@pytest.fixture
def search_down(app):
    """The app's search backend is down for this test (the next test gets a working one again)."""
    app.extensions["search"] = DownBackend()
    return app.extensions["search"]
