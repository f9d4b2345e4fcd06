"""Two bureau users deciding on the same demand at once: exactly one wins (PostgreSQL row locks)."""
import os
import threading

import pytest
import sqlalchemy as sa

from matchmaker.demands import services
from models import Demand, DemandHistory, User, db_session
from tests import factories

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
                       reason="row locks need PostgreSQL"),
]


def test_publish_and_return_at_once_only_one_wins(app, world):
    demand = factories.make_demand(world.enterprise.org, status="submitted")
    actors = [world.district_bureau.id, world.city_bureau.id]
    db_session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(user_id, action):
        with app.app_context():
            user = db_session.get(User, user_id)
            d = db_session.scalar(sa.select(Demand).where(Demand.ref == demand.ref))
            assert d.status == "submitted"
            barrier.wait()
            try:
                services.act(user, d, action, "理由")
                outcomes.append(action)
            except services.DemandError:
                db_session.rollback()
                outcomes.append("refused")
            finally:
                db_session.remove()

    threads = [threading.Thread(target=decide, args=(actors[0], "publish")),
               threading.Thread(target=decide, args=(actors[1], "return"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(outcomes) == 2 and outcomes.count("refused") == 1, outcomes
    with app.app_context():
        steps = db_session.scalars(sa.select(DemandHistory.action)).all()
        assert len(steps) == 1
        final = db_session.scalar(sa.select(Demand.status).where(Demand.ref == demand.ref))
        assert final == {"publish": "published", "return": "returned"}[steps[0]]
