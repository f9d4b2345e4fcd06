"""Factories for event tests: an event in a given state with confirmed participants and requests."""
from __future__ import annotations

from datetime import date, time

from models import (
    Event,
    EventKind,
    EventRegistration,
    EventStatus,
    MeetingRequest,
    RegistrationStatus,
    RequestStatus,
    db_session,
)
from tests import factories

_n = iter(range(1, 10**6))


def make_event(*, status: EventStatus = EventStatus.OPEN, district: str | None = None, slots: int = 4,
               tables: int = 3, **kw) -> Event:
    n = next(_n)
    event = Event(ref=kw.pop("ref", f"ev-t{n:04d}"), kind=kw.pop("kind", EventKind.BANK_ENTERPRISE_MEETING),
                  title=kw.pop("title", f"测试对接会{n}"), date=kw.pop("date", date(2026, 12, 10)),
                  start_time=time(9, 0), status=status, district=district, slots=slots, slot_minutes=15,
                  tables=tables, **kw)
    db_session.add(event)
    db_session.commit()
    return event


def register(event: Event, org, *, status=RegistrationStatus.ACCEPTED, **kw) -> EventRegistration:
    reg = EventRegistration(event=event, org=org, status=status, attendees=kw.pop("attendees", ["张三"]), **kw)
    db_session.add(reg)
    db_session.commit()
    return reg


def request(event: Event, src, dst, *, status=RequestStatus.ACCEPTED, **kw) -> MeetingRequest:
    req = MeetingRequest(event=event, from_org=src, to_org=dst, status=status, **kw)
    db_session.add(req)
    db_session.commit()
    return req


def orgs(kind: str, n: int, district: str = "滕州市"):
    return [factories.make_org(kind, district=district, commit=False) for _ in range(n)]
