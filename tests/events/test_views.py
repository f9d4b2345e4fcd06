"""Event pages through the test client: the whole journey, scoping (404) and roles (403)."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from models import AuditEntry, Event, EventStatus, Meeting, MeetingRequest, RegistrationStatus, db_session
from tests import factories
from tests.events.helpers import make_event, register


def test_the_whole_journey(app, world, login_as):
    bureau = login_as(world.city_bureau)
    # The bureau creates an event and opens registration.
    resp = bureau.post("/events/new", data={
        "kind": "bank_enterprise_meeting", "title": "2026年冬季银企对接会", "date": "2026-12-10", "venue": "市民中心",
        "start_time": "09:00", "slots": "3", "slot_minutes": "20", "tables": "2", "breaks": "2",
        "break_minutes": "10", "registration_deadline": "2030-12-01T17:00"}, follow_redirects=True)
    assert resp.status_code == 200 and "2026年冬季银企对接会" in resp.text
    event = db_session.scalar(sa.select(Event))
    assert event.breaks == [1] and event.status == EventStatus.DRAFT
    bureau.post(f"/events/{event.ref}/transition", data={"to": "open"})
    assert db_session.scalar(sa.select(Event.status)) == EventStatus.OPEN

    # Enterprises and banks register; the bureau confirms them.
    ent, ent_b, bank = login_as(world.enterprise), login_as(world.enterprise_b), login_as(world.bank)
    assert "报名参加" in ent.get(f"/events/{event.ref}").text
    factories.make_demand(world.enterprise.org, status="published", ref="dm-0001")
    assert "dm-0001" in ent.get(f"/events/{event.ref}").text  # offered as a checkbox
    ent.post(f"/events/{event.ref}/register", data={"attendees": "王强，李四", "demand_refs": ["dm-0001"]})
    ent_b.post(f"/events/{event.ref}/register", data={"attendees": "赵六", "available_slots": ["0", "2"]})
    bank.post(f"/events/{event.ref}/register", data={"attendees": "李行长"})
    for u in (world.enterprise, world.enterprise_b, world.bank):
        bureau.post(f"/events/{event.ref}/registrations/{u.org.ref}/decide", data={"decision": "accept"})
    db_session.expire_all()
    regs = {r.org_id: r for r in db_session.scalar(sa.select(Event)).registrations}
    assert regs[world.enterprise.org_id].attendees == ["王强", "李四"]
    assert regs[world.enterprise.org_id].demand_refs == ["dm-0001"]
    assert regs[world.enterprise_b.org_id].available_slots == [0, 2]
    assert all(r.status == RegistrationStatus.ACCEPTED for r in regs.values())

    # Meeting requests both ways; the other side accepts.
    ent.post(f"/events/{event.ref}/requests", data={"to_org": world.bank.org.ref, "message": "技改贷款"})
    bank.post(f"/events/{event.ref}/requests", data={"to_org": world.enterprise_b.org.ref})
    req = db_session.scalar(sa.select(MeetingRequest).where(MeetingRequest.to_org_id == world.bank.org_id))
    assert "接受" in bank.get(f"/events/{event.ref}").text
    bank.post(f"/events/{event.ref}/requests/{req.id}/answer", data={"decision": "accept"})

    # The bureau closes registration, schedules, locks one meeting, re-runs and publishes.
    bureau.post(f"/events/{event.ref}/transition", data={"to": "scheduling"})
    resp = bureau.post(f"/events/{event.ref}/schedule", follow_redirects=True)
    assert "排期完成" in resp.text and "1号桌" in resp.text
    meetings = db_session.scalars(sa.select(Meeting)).all()
    assert {(m.enterprise_id, m.institution_id) for m in meetings} >= {
        (world.enterprise.org_id, world.bank.org_id), (world.enterprise_b.org_id, world.bank.org_id)}
    first = meetings[0]
    bureau.post(f"/events/{event.ref}/meetings/{first.id}/lock", data={"locked": "1"})
    bureau.post(f"/events/{event.ref}/schedule")
    db_session.expire_all()
    assert db_session.get(Meeting, first.id).is_locked
    xlsx = bureau.get(f"/events/{event.ref}/agenda.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data))["洽谈清单"]
    assert sheet.max_row == 1 + len(db_session.scalars(sa.select(Meeting)).all())
    bureau.post(f"/events/{event.ref}/transition", data={"to": "published"})
    assert db_session.scalar(sa.select(Event.status)) == EventStatus.PUBLISHED

    # A participant opens its printable agenda.
    page = ent.get(f"/events/{event.ref}/agenda")
    assert page.status_code == 200 and "正式议程" in page.text and world.bank.org.name in page.text
    assert "agenda.css" in page.text and "09:00-09:20" in page.text and "休息 10 分钟" in page.text
    # The site's CSP forbids inline script: the print button is wired by a static file.
    assert "onclick" not in page.text and "app/agenda.js" in page.text

    # Check-in on the day, then the bank records the outcome.
    bureau.post(f"/events/{event.ref}/checkin", data={"org": world.enterprise.org.ref, "present": "1"})
    meeting = db_session.scalar(sa.select(Meeting).where(Meeting.enterprise_id == world.enterprise.org_id))
    resp = bank.post(f"/events/{event.ref}/meetings/{meeting.id}/outcome", data={
        "held": "y", "intent_amount": "800", "signed_amount": "", "demand_ref": "dm-0001"}, follow_redirects=True)
    assert "洽谈结果已登记" in resp.text
    report = bureau.get(f"/events/{event.ref}/report").text
    assert re.search(r'data-figure="意向金额（万元）">800<', report)
    assert re.search(r'data-figure="现场签到">1<', report)
    actions = set(db_session.scalars(sa.select(AuditEntry.action)))
    assert {"event.created", "event.status_changed", "registration.created", "registration.accepted",
            "meeting_request.created", "meeting_request.accepted", "event.scheduled", "meeting.locked",
            "registration.checked_in", "meeting.outcome_recorded"} <= actions


def test_other_district_bureau_gets_404(app, world, login_as):
    event = make_event(district="滕州市", status=EventStatus.SCHEDULING)
    other = login_as(world.other_district_bureau)
    for url in (f"/events/{event.ref}", f"/events/{event.ref}/agenda", f"/events/{event.ref}/report",
                f"/events/{event.ref}/checkin"):
        assert other.get(url).status_code == 404, url
    assert other.post(f"/events/{event.ref}/schedule").status_code == 404
    assert login_as(world.district_bureau).get(f"/events/{event.ref}").status_code == 200
    assert login_as(world.city_bureau).get(f"/events/{event.ref}").status_code == 200
    assert event.title not in other.get("/events/").text


def test_enterprise_cannot_schedule_or_manage(app, world, login_as):
    event = make_event(status=EventStatus.SCHEDULING)
    ent = login_as(world.enterprise)
    assert ent.post(f"/events/{event.ref}/schedule").status_code == 403
    assert ent.post(f"/events/{event.ref}/transition", data={"to": "published"}).status_code == 403
    assert ent.get(f"/events/{event.ref}/agenda.xlsx").status_code == 403
    assert ent.get(f"/events/{event.ref}/report").status_code == 403
    assert ent.get("/events/new").status_code == 403
    assert db_session.scalar(sa.select(sa.func.count(Meeting.id))) == 0


def test_draft_events_are_hidden_from_participants(app, world, login_as):
    draft = make_event(status=EventStatus.DRAFT)
    assert login_as(world.enterprise).get(f"/events/{draft.ref}").status_code == 404
    # A district event is not shown to enterprises of other districts.
    local = make_event(status=EventStatus.OPEN, district="滕州市")
    assert login_as(world.enterprise_b).get(f"/events/{local.ref}").status_code == 404
    assert login_as(world.enterprise).get(f"/events/{local.ref}").status_code == 200


def test_illegal_transition_shows_a_chinese_message(app, world, login_as):
    event = make_event(status=EventStatus.DRAFT)
    resp = login_as(world.city_bureau).post(f"/events/{event.ref}/transition", data={"to": "held"},
                                            follow_redirects=True)
    assert "不能变更为“已举办”" in resp.text


def test_only_the_meeting_institution_records_outcomes(app, world, login_as):
    event = make_event(status=EventStatus.PUBLISHED)
    for u in (world.enterprise, world.bank):
        register(event, u.org)
    m = Meeting(event=event, slot=0, table_no=0, enterprise=world.enterprise.org, institution=world.bank.org)
    db_session.add(m)
    db_session.commit()
    url = f"/events/{event.ref}/meetings/{m.id}/outcome"
    assert login_as(world.enterprise).get(url).status_code == 403
    assert login_as(world.other_bank).get(url).status_code == 404
    assert login_as(world.bank).get(url).status_code == 200


def test_the_outcome_page_links_an_offer_and_the_demand_page_shows_it(app, world, login_as):
    from datetime import datetime
    from decimal import Decimal

    from models import Offer, OfferOrigin, ProductKind

    event = make_event(status=EventStatus.PUBLISHED)
    for u in (world.enterprise, world.bank):
        register(event, u.org)
    demand = factories.make_demand(world.enterprise.org, status="matched")
    m = Meeting(event=event, slot=0, table_no=0, enterprise=world.enterprise.org, institution=world.bank.org)
    offer = Offer(ref="of-met", demand=demand, org=world.bank.org, origin=OfferOrigin.BID, kind=ProductKind.LOAN,
                  status="accepted", amount=Decimal(800), rate=Decimal("4.2"), term_months=36, collateral=[],
                  asked_at=datetime(2026, 11, 2, 2), deadline_at=datetime(2099, 1, 1))
    db_session.add_all([m, offer])
    db_session.commit()
    bank = login_as(world.bank)
    url = f"/events/{event.ref}/meetings/{m.id}/outcome"
    assert "of-met" in bank.get(url).text  # the bank's offer on this enterprise's demand is offered
    bank.post(url, data={"held": "y", "intent_amount": "1000", "signed_amount": "800", "offer_ref": "of-met"})
    page = login_as(world.enterprise).get(f"/demands/{demand.ref}").text
    assert "of-met" in page and "对接活动中的洽谈结果" in page


@pytest.mark.parametrize("who", ["enterprise", "bank", "fund", "guarantor", "district_bureau", "city_bureau"])
def test_navigation_shows_events_for_every_role(app, world, login_as, who):
    page = login_as(getattr(world, who)).get("/")
    assert 'href="/events/"' in page.text and "对接活动" in page.text


def test_home_lists_upcoming_events(app, world, login_as):
    from datetime import date, timedelta

    make_event(status=EventStatus.OPEN, title="下周的银企对接会", date=date.today() + timedelta(days=7))
    make_event(status=EventStatus.CLOSED, title="去年的对接会", date=date.today() - timedelta(days=300))
    for who in (world.enterprise, world.bank, world.city_bureau):
        page = login_as(who).get("/").text
        assert "即将举办的对接活动" in page and "下周的银企对接会" in page and "去年的对接会" not in page


def test_enterprise_sees_proposals_and_preliminary_agenda(app, world, login_as, city):
    from matchmaker.events import services

    event = make_event(status=EventStatus.SCHEDULING, slots=2, tables=2)
    for u in (world.enterprise, world.bank, world.fund):
        register(event, u.org)
    ent = login_as(world.enterprise)
    page = ent.get(f"/events/{event.ref}").text
    assert "平台推荐的洽谈对象" in page and world.fund.org.name in page and "匹配度" in page
    assert ent.get(f"/events/{event.ref}/agenda").status_code == 302
    services.schedule_event(world.city_bureau, event, city=city, time_limit=2)
    agenda = ent.get(f"/events/{event.ref}/agenda").text
    assert "初步议程" in agenda and "平台推荐" in agenda


@pytest.mark.parametrize("status", list(EventStatus))
def test_pages_render_in_every_state(app, world, login_as, status):
    event = make_event(status=status)
    for u in (world.enterprise, world.bank):
        register(event, u.org)
    if status != EventStatus.DRAFT:
        db_session.add(Meeting(event=event, slot=0, table_no=0, enterprise=world.enterprise.org,
                               institution=world.bank.org))
        db_session.commit()
    bureau, ent, bank = login_as(world.city_bureau), login_as(world.enterprise), login_as(world.bank)
    assert bureau.get(f"/events/{event.ref}").status_code == 200
    assert bureau.get(f"/events/{event.ref}/edit").status_code == 200
    assert bureau.get(f"/events/{event.ref}/agenda").status_code == 200
    assert bureau.get(f"/events/{event.ref}/checkin").status_code == 200
    assert bureau.get(f"/events/{event.ref}/report").status_code == 200
    assert bureau.get("/events/").status_code == 200
    # Registered participants see the event in every state (even an invitation to a draft).
    assert ent.get(f"/events/{event.ref}").status_code == 200
    assert bank.get(f"/events/{event.ref}").status_code == 200
    if event.agenda_is_final:
        assert ent.get(f"/events/{event.ref}/agenda").status_code == 200
        assert bank.get(f"/events/{event.ref}/agenda").status_code == 200


def test_registration_closes_at_the_deadline(app, world, login_as):
    from datetime import datetime

    event = make_event(status=EventStatus.OPEN, registration_deadline=datetime(2020, 1, 1, 9, 0))
    ent = login_as(world.enterprise)
    page = ent.get(f"/events/{event.ref}").text
    assert "报名已于" in page and "提交报名" not in page
    resp = ent.post(f"/events/{event.ref}/register", data={"attendees": "王强"}, follow_redirects=True)
    assert "不在报名期内" in resp.text
