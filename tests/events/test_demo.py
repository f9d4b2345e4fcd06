"""seed-demo adds a past event with outcomes and an upcoming one open for registration."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from matchmaker.events import services
from models import Event, EventStatus, Meeting, db_session


def test_seed_demo_adds_events(app, login_as):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--enterprises", "60"], catch_exceptions=False).exit_code == 0
    past = db_session.scalar(sa.select(Event).where(Event.ref == "ev-demo-past"))
    upcoming = db_session.scalar(sa.select(Event).where(Event.ref == "ev-demo-upcoming"))
    assert past.status == EventStatus.CLOSED and past.date < date.today()
    assert upcoming.status == EventStatus.OPEN and services.registration_is_open(upcoming)
    report = services.event_report(past)
    assert report.total.meetings > 20 and report.total.intent > 0 and report.total.signed > 0
    assert report.total.disbursed <= report.total.signed <= report.total.intent
    before = db_session.scalar(sa.select(sa.func.count(Meeting.id)))
    runner.invoke(args=["seed-demo", "--enterprises", "60"], catch_exceptions=False)
    assert db_session.scalar(sa.select(sa.func.count(Meeting.id))) == before
    # The demo enterprise login sees the upcoming event open for registration.
    from models import User

    user = db_session.scalar(sa.select(User).where(User.username == "enterprise"))
    page = login_as(user).get(f"/events/{upcoming.ref}").text
    assert "报名参加" in page
