"""Two POSTs with one Idempotency-Key at the same moment on PostgreSQL: one offer, never two."""
from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from matchmaker.api import tokens
from models import Offer, db_session
from tests.api.test_api import terms
from tests.factories import make_demand

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="true concurrency needs PostgreSQL"),
]


def test_same_key_at_once_creates_one_offer(app, world):
    d = make_demand(world.enterprise.org, status="published")
    headers = {"Authorization": "Bearer " + tokens.create_token(world.bank, "并发", ["read", "offers"])[1],
               "Idempotency-Key": "race-1"}
    url = f"/api/v1/demands/{d.ref}/offers"
    db_session.remove()
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict]] = []

    def post():
        client = app.test_client()
        barrier.wait()
        r = client.post(url, json=terms(), headers=headers)
        answers.append((r.status_code, r.get_json()))
        db_session.remove()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    codes = sorted(code for code, _ in answers)
    # The loser either waited for the winner's key row and replays its answer, or hears it is still running.
    assert codes in ([201, 201], [201, 409]), answers
    with app.app_context():
        assert db_session.scalar(sa.select(sa.func.count(Offer.id))) == 1
