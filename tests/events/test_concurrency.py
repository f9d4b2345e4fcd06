"""Two organisations taking the last seat at once: the cap holds (PostgreSQL, where it matters)."""
from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from matchmaker.events import services
from models import EventRegistration, EventStatus, User, db_session, get_engine
from tests.events.helpers import make_event


@pytest.mark.postgres_only
def test_last_seat_goes_to_one_registrant(ctx, world):
    if get_engine().dialect.name != "postgresql":
        pytest.skip("row locks are a PostgreSQL matter; SQLite serialises writers")
    event = make_event(status=EventStatus.OPEN, max_participants=1)
    users = [world.enterprise.id, world.bank.id]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def attempt(user_id: int) -> None:
        try:
            user = db_session.get(User, user_id)
            ev = db_session.get(type(event), event.id)
            barrier.wait()
            services.register(user, ev, attendees=["甲"])
            results.append("ok")
        except services.EventError as e:
            db_session.rollback()
            results.append(str(e))
        finally:
            db_session.remove()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["ok", "报名人数已满"]
    assert db_session.scalar(sa.select(sa.func.count(EventRegistration.id))) == 1
