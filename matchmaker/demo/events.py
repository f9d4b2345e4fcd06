"""Demo step for matching events: a past 银企对接会 with outcomes and an upcoming 融资洽谈会 open for registration."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from matchmaker import scheduling
from models import (
    Event,
    EventKind,
    EventRegistration,
    EventStatus,
    Meeting,
    MeetingRequest,
    Organization,
    OrgKind,
    OrgStatus,
    RegistrationStatus,
    RequestStatus,
    db_session,
)

PAST_REF, UPCOMING_REF = "ev-demo-past", "ev-demo-upcoming"


def seed_events(rng, city, *, today: date | None = None) -> int:
    """Add the two demo events (skipped when they exist); returns how many were created."""
    today = today or date.today()
    if db_session.scalar(sa.select(Event.id).where(Event.ref == PAST_REF)) is not None:
        return 0
    orgs = list(db_session.scalars(sa.select(Organization).where(
        Organization.status == OrgStatus.APPROVED,
        Organization.kind.in_((OrgKind.ENTERPRISE, OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR)),
    ).order_by(Organization.id)))
    bureau = db_session.scalar(sa.select(Organization).where(Organization.ref == "demo-bureau-city"))
    enterprises = [o for o in orgs if o.kind == OrgKind.ENTERPRISE]
    institutions = [o for o in orgs if o.is_institution]
    # The demo logins (demo-ent-0001, demo-bank-01) take part, so their pages show the event.
    ents = enterprises[:1] + rng.sample(enterprises[1:], min(39, len(enterprises) - 1))
    insts = institutions[:1] + rng.sample(institutions[1:], min(11, len(institutions) - 1))
    _past_event(rng, bureau, ents, insts, today)
    _upcoming_event(rng, bureau, enterprises, institutions, today)
    return 2


def _past_event(rng, bureau, ents, insts, today) -> Event:
    event = Event(
        ref=PAST_REF, kind=EventKind.BANK_ENTERPRISE_MEETING, title="技改项目银企对接会（第一期）",
        status=EventStatus.CLOSED, district=None, organizer=bureau, date=today - timedelta(days=45),
        venue="枣庄市民中心三楼多功能厅", start_time=time(9, 0), slots=8, slot_minutes=20, breaks=[3],
        break_minutes=15, tables=len(insts), description="围绕“双千”工程技改项目融资需求，组织银行、基金、担保机构与企业一对一洽谈。",
        registration_deadline=datetime.combine(today - timedelta(days=52), time(9, 0)),
    )
    db_session.add(event)
    for o in ents + insts:
        db_session.add(EventRegistration(event=event, org=o, status=RegistrationStatus.ACCEPTED,
                                         attendees=[f"{o.name[:2]}代表"], is_present=rng.random() < 0.9,
                                         demand_refs=[]))
    pairs: list[tuple[Organization, Organization]] = [(ents[0], insts[0])]
    for e in ents[1:]:
        for i in rng.sample(insts, rng.randint(1, 3)):
            pairs.append((e, i))
    for e, i in pairs:
        db_session.add(MeetingRequest(event=event, from_org=e, to_org=i, status=RequestStatus.ACCEPTED,
                                      created_at=datetime.combine(event.date - timedelta(days=10), time(2, 0))))
    # The greedy first-come timetable is deterministic and instant; good enough for history.
    tt = scheduling.greedy_schedule(scheduling.Event(
        slots=event.slots, tables=event.tables, enterprises=[e.ref for e in ents], institutions=[i.ref for i in insts],
        requests=[scheduling.Request(e.ref, i.ref, accepted=True) for e, i in pairs]))
    by_ref = {o.ref: o for o in ents + insts}
    for m in tt.meetings:
        meeting = Meeting(event=event, slot=m.slot, table_no=m.table, enterprise=by_ref[m.enterprise],
                          institution=by_ref[m.institution], is_requested=m.requested, score=Decimal(0))
        roll = rng.random()
        meeting.is_held = roll < 0.92
        if meeting.is_held and roll < 0.6:
            meeting.intent_amount = Decimal(rng.choice([200, 300, 500, 800, 1000, 1500, 2000, 3000]))
            if roll < 0.35:
                meeting.signed_amount = meeting.intent_amount * Decimal(rng.choice(["0.5", "0.8", "1"]))
                if roll < 0.25:
                    meeting.disbursed_amount = meeting.signed_amount
            meeting.recorded_at = datetime.combine(event.date, time(10, 0))
        db_session.add(meeting)
    event.schedule_info = {"status": tt.status, "requested_total": tt.requested_total,
                           "requested_scheduled": tt.requested_scheduled, "meetings": len(tt.meetings)}
    return event


def _upcoming_event(rng, bureau, enterprises, institutions, today) -> Event:
    event = Event(
        ref=UPCOMING_REF, kind=EventKind.FINANCING_NEGOTIATION, title="智能化技改融资洽谈会",
        status=EventStatus.OPEN, district=None, organizer=bureau, date=today + timedelta(days=21),
        venue="枣庄国际会展中心B馆", start_time=time(9, 0), slots=12, slot_minutes=15, breaks=[5],
        break_minutes=60, tables=20, max_participants=200, request_expiry_hours=72,
        registration_deadline=datetime.combine(today + timedelta(days=14), time(9, 0)),
        description="银行、基金、担保机构现场受理技改项目融资需求，欢迎企业报名并预约洽谈。",
    )
    db_session.add(event)
    # Some institutions and enterprises are already in; the demo enterprise login is left to register.
    for o in institutions[:8] + rng.sample(enterprises[1:], min(15, len(enterprises) - 1)):
        db_session.add(EventRegistration(event=event, org=o, status=RegistrationStatus.ACCEPTED,
                                         attendees=[f"{o.name[:2]}代表"], demand_refs=[]))
    return event
