"""The database away: pages fail with the clean 503 page, and the site recovers by itself when it is back."""
from __future__ import annotations

import socket
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

from models import db_session, get_engine, init_engine


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def database_away():
    """The app's engine points at a PostgreSQL address where nothing answers, as while the server restarts."""
    original = get_engine().url.render_as_string(hide_password=False)
    db_session.remove()
    init_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/matchmaker")
    try:
        yield
    finally:
        db_session.remove()
        init_engine(original)


@pytest.mark.parametrize("path", ["/", "/demands/pool", "/demands/pool?q=设备", "/offers/"])
def test_a_signed_in_user_gets_the_chinese_503_page_without_a_traceback(world, login_as, path):
    client = login_as(world.bank)
    with database_away():
        resp = client.get(path)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 503
    assert "服务暂不可用" in body and "数据库暂时无法连接" in body
    assert "Traceback" not in body and "psycopg" not in body and "OperationalError" not in body
    # Once the database answers again, the same session works without restarting anything.
    assert client.get(path).status_code == 200


def test_a_visitor_and_the_api_get_a_503_too(client):
    with database_away():
        page = client.get("/login")
        api = client.get("/api/v1/demands", headers={"Authorization": "Bearer mm_whatever"})
    assert page.status_code in (200, 503)  # the login page needs no database
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "unavailable"


@pytest.mark.postgres_only
def test_connections_the_server_dropped_are_replaced_before_use(world, login_as, database_url):
    """A PostgreSQL restart kills every pooled connection; pool_pre_ping replaces them on the next request."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    client = login_as(world.bank)
    assert client.get("/demands/pool").status_code == 200
    # Under the test's app context a request does not end the session; in gunicorn every request does.
    db_session.remove()
    killer = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    others = ("FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
              "AND usename = current_user")
    with killer.connect() as conn:
        killed = conn.execute(sa.text(f"SELECT count(pg_terminate_backend(pid)) {others}")).scalar()
        # pg_terminate_backend only signals: wait until the backends are really gone.
        for _ in range(100):
            if not conn.execute(sa.text(f"SELECT count(*) {others}")).scalar():
                break
            time.sleep(0.05)
    killer.dispose()
    assert killed >= 1
    assert client.get("/demands/pool").status_code == 200


def _connection_lost(*_args, **_kwargs):
    raise sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))


@pytest.mark.parametrize("who, path", [("enterprise", "/demands/{ref}"), ("bank", "/recommended")])
def test_recommendations_do_not_hide_a_lost_database(world, login_as, monkeypatch, who, path):
    """Ranking failures are logged and the page goes on; a lost database is not such a failure."""
    from matchmaker.ranking import data
    from tests import factories

    demand = factories.make_demand(world.enterprise.org, status="published")
    monkeypatch.setattr(data, "serving", _connection_lost)
    resp = login_as(getattr(world, who)).get(path.format(ref=demand.ref))
    assert resp.status_code == 503
    assert "服务暂不可用" in resp.get_data(as_text=True)
