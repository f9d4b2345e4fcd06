"""Rate limits on sign-in, registration, search pages and the API; with REDIS_URL they count across processes."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matchmaker import create_app
from models import OrgKind
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def _limited_app(database_url, **config):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x",
                       "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                       "SEARCH_SYNC_AFTER_REQUEST": False, **config})


def _signed_in(app, user):
    c = app.test_client()
    assert c.post("/login", data={"username": user.username, "password": factories.PASSWORD}).status_code == 302
    return c


def test_search_pages_share_one_budget_per_user(database_url, ctx, tmp_path):
    bank = factories.make_user(factories.make_org(OrgKind.BANK))
    other = factories.make_user(factories.make_org(OrgKind.BANK))
    app = _limited_app(database_url, SEARCH_RATE_LIMIT="3 per minute", SEARCH_INDEX_DIR=str(tmp_path / "s"))
    c = _signed_in(app, bank)
    codes = [c.get("/demands/pool?q=锂电").status_code, c.get("/products/?q=技改").status_code,
             c.get("/demands/pool").status_code]
    assert codes == [200, 200, 200]
    blocked = c.get("/products/")
    assert blocked.status_code == 429 and "过于频繁" in blocked.text
    # Per user, not per address: a colleague in the same office still searches.
    assert _signed_in(app, other).get("/demands/pool").status_code == 200
    # Pages that are not searches are not counted.
    assert c.get("/account/").status_code == 200


def test_visitors_searching_the_supermarket_are_limited_by_address(database_url, ctx, tmp_path):
    app = _limited_app(database_url, SEARCH_RATE_LIMIT="2 per minute", SEARCH_INDEX_DIR=str(tmp_path / "s"))
    c = app.test_client()
    assert [c.get("/products/").status_code for _ in range(3)] == [200, 200, 429]


def test_registration_is_limited(database_url, ctx):
    app = _limited_app(database_url)
    c = app.test_client()
    codes = [c.post("/register", data={"kind": "enterprise"}).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_the_api_is_limited_per_token_and_per_address_without_one(database_url, ctx):
    from matchmaker.api import tokens

    admin = factories.make_user(factories.make_org(OrgKind.BANK))
    _token, secret = tokens.create_token(admin, "核心系统", ["read"])
    app = _limited_app(database_url, API_RATE_LIMIT="3 per minute", API_AUTH_FAILURE_LIMIT="3 per minute")
    c = app.test_client()
    auth = {"Authorization": f"Bearer {secret}"}
    codes = [c.get("/api/v1/demands?q=锂电", headers=auth).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    over = c.get("/api/v1/products", headers=auth)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert over.json["error"]["code"] == "rate_limited"
    # Guessing tokens from one address is limited as well.
    guesses = [c.get("/api/v1/demands", headers={"Authorization": f"Bearer mm_guess{i}"}).status_code
               for i in range(4)]
    assert guesses[:3] == [401, 401, 401] and guesses[3] == 429


@pytest.fixture
def redis_db():
    redis = pytest.importorskip("redis")
    conn = redis.Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    conn.flushdb()
    yield conn
    conn.flushdb()


SIGN_IN_ATTEMPTS = """
import json, sys
from matchmaker import create_app
app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "x", "RATELIMIT_ENABLED": True})
assert app.config["RATELIMIT_STORAGE_URI"].startswith("redis://")
c = app.test_client()
print(json.dumps([c.post("/login", data={"username": "nobody", "password": "x"}).status_code
                  for _ in range(int(sys.argv[1]))]))
"""


def _attempts_in_a_process(n, database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL}
    out = subprocess.run([sys.executable, "-c", SIGN_IN_ATTEMPTS, str(n)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_with_redis_the_limit_counts_across_processes(database_url, ctx, redis_db):
    # Two app instances in two processes (as two gunicorn workers, or two hosts) share one budget of 30 a minute.
    assert _attempts_in_a_process(20, database_url) == [200] * 20
    second = _attempts_in_a_process(11, database_url)
    assert second == [200] * 10 + [429]
    assert any(b"login" in key for key in redis_db.keys("LIMITS*"))
