"""Event rules: the transition table, registration, request expiry, outcomes and the report."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from matchmaker.events import services
from models import (
    EVENT_TRANSITIONS,
    AuditEntry,
    EventStatus,
    Meeting,
    RegistrationStatus,
    RequestStatus,
    db_session,
)
from tests import factories
from tests.events.helpers import make_event, register

ALL_PAIRS = [(a, b) for a in EventStatus for b in EventStatus if a != b]


@pytest.mark.parametrize(("before", "after"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_transition_follows_the_table(ctx, world, before, after):
    event = make_event(status=before)
    if after == EventStatus.PUBLISHED:
        # Publishing also needs a timetable; give it one meeting so only the table decides.
        register(event, world.enterprise.org)
        register(event, world.bank.org)
        db_session.add(Meeting(event=event, slot=0, table_no=0, enterprise=world.enterprise.org,
                               institution=world.bank.org))
        db_session.commit()
    allowed = after in EVENT_TRANSITIONS[before]
    if allowed:
        services.transition(world.city_bureau, event, after)
        assert event.status == after
        entry = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "event.status_changed"))
        assert entry.details == {"from": before.value, "to": after.value}
        assert entry.user_id == world.city_bureau.id
    else:
        with pytest.raises(services.EventError, match="不能变更为"):
            services.transition(world.city_bureau, event, after)
        assert event.status == before


def test_publishing_needs_a_timetable(ctx, world):
    event = make_event(status=EventStatus.SCHEDULING)
    with pytest.raises(services.EventError, match="尚未排期"):
        services.transition(world.city_bureau, event, EventStatus.PUBLISHED)


def test_district_bureau_manages_only_its_district(ctx, world):
    mine = make_event(district="滕州市")
    other = make_event(district="薛城区")
    city_wide = make_event(district=None)
    services.transition(world.district_bureau, mine, EventStatus.SCHEDULING)
    for event in (other, city_wide):
        with pytest.raises(services.EventError, match="无权"):
            services.transition(world.district_bureau, event, EventStatus.SCHEDULING)
    assert {e.ref for e in services.events_for(world.district_bureau)} == {mine.ref}
    assert len(services.events_for(world.city_bureau)) == 3


def test_create_event_takes_the_bureau_district(ctx, world):
    from datetime import date

    event = services.create_event(world.district_bureau, {
        "kind": "financing_negotiation", "title": "滕州融资洽谈会", "date": date(2026, 12, 1), "slots": 8,
        "slot_minutes": 20, "tables": 5, "breaks": [3], "break_minutes": 30})
    assert event.district == "滕州市" and event.status == EventStatus.DRAFT and event.ref.startswith("ev-")
    times = services.agenda_times(event)
    assert times[0] == ("09:00", "09:20") and times[4] == ("10:50", "11:10")
    with pytest.raises(services.EventError, match="工信局"):
        services.create_event(world.enterprise, {"kind": "roadshow", "title": "x", "date": date(2026, 12, 1)})


def test_registration_flow_cap_and_deadline(ctx, world):
    event = make_event(status=EventStatus.OPEN, max_participants=2,
                       registration_deadline=datetime(2026, 12, 1, 8, 0))
    early = datetime(2026, 11, 30)
    mine = factories.make_demand(world.enterprise.org, status="published", ref="dm-0001")
    draft = factories.make_demand(world.enterprise.org, status="draft")
    other = factories.make_demand(world.enterprise_b.org, status="published")
    # Only the enterprise's own demands that are in the pool can come along.
    for ref in (draft.ref, other.ref, "dm-none"):
        with pytest.raises(services.EventError, match="已发布的融资需求"):
            services.register(world.enterprise, event, attendees=["王强"], demand_refs=[ref], now=early)
    reg = services.register(world.enterprise, event, attendees=["王强"], demand_refs=[mine.ref], now=early)
    assert reg.status == RegistrationStatus.PENDING and reg.demand_refs == ["dm-0001"]
    with pytest.raises(services.EventError, match="已报名"):
        services.register(world.enterprise, event, attendees=["王强"], now=early)
    with pytest.raises(services.EventError, match="融资需求"):
        services.register(world.bank, event, attendees=["李行长"], demand_refs=["dm-1"], now=early)
    services.register(world.bank, event, attendees=["李行长", "赵经理"], now=early)
    with pytest.raises(services.EventError, match="已满"):
        services.register(world.fund, event, attendees=["孙总"], now=early)
    with pytest.raises(services.EventError, match="截止"):
        services.register(world.guarantor, event, attendees=["周总"], now=datetime(2026, 12, 1, 9, 0))
    services.decide(world.city_bureau, reg, accept=True)
    assert reg.status == RegistrationStatus.ACCEPTED
    with pytest.raises(services.EventError, match="只有企业和金融机构"):
        services.register(world.city_bureau, event, attendees=["x"], now=early)


def test_invitation_is_accepted_by_registering(ctx, world):
    event = make_event(status=EventStatus.OPEN)
    services.invite(world.city_bureau, event, world.fund.org)
    reg = services.register(world.fund, event, attendees=["孙总"], available_slots=[0, 1])
    assert reg.status == RegistrationStatus.ACCEPTED and reg.available_slots == [0, 1]


def test_requests_expire_lazily(ctx, world):
    event = make_event(status=EventStatus.OPEN, request_expiry_hours=24)
    register(event, world.enterprise.org)
    register(event, world.bank.org)
    t0 = datetime(2026, 11, 20, 9, 0)
    req = services.request_meeting(world.enterprise, event, world.bank.org, now=t0)
    assert req.status == RequestStatus.PENDING and req.expires_at == t0 + timedelta(hours=24)
    assert services.expire_requests(t0 + timedelta(hours=23)) == 0
    assert services.expire_requests(t0 + timedelta(hours=24)) == 1
    assert req.status == RequestStatus.EXPIRED
    with pytest.raises(services.EventError, match="已处理或已过期"):
        services.answer_request(world.bank, req, accept=True, now=t0 + timedelta(hours=25))
    # Reading the list applies expiry too (nothing left to expire here, but the call is the lazy path).
    assert services.requests_for(event, world.bank.org)[0].status == RequestStatus.EXPIRED


def test_expiry_defaults_to_the_city_setting(ctx, world, city):
    event = make_event(status=EventStatus.OPEN)
    assert services.expiry_hours(event, city) == city.policy.get("meeting_request_expiry_hours", 72)


def test_request_answer_and_mutual(ctx, world):
    event = make_event(status=EventStatus.OPEN)
    for u in (world.enterprise, world.enterprise_b, world.bank, world.other_bank):
        register(event, u.org)
    req = services.request_meeting(world.enterprise, event, world.bank.org)
    with pytest.raises(services.EventError, match="只能回复"):
        services.answer_request(world.enterprise_b, req, accept=True)
    services.answer_request(world.bank, req, accept=False)
    assert req.status == RequestStatus.DECLINED
    # Both directions asked: both accepted at once.
    first = services.request_meeting(world.other_bank, event, world.enterprise_b.org)
    second = services.request_meeting(world.enterprise_b, event, world.other_bank.org)
    assert first.status == second.status == RequestStatus.ACCEPTED
    with pytest.raises(services.EventError, match="企业与金融机构"):
        services.request_meeting(world.enterprise, event, world.enterprise_b.org)


def test_request_needs_confirmed_registrations(ctx, world):
    event = make_event(status=EventStatus.OPEN)
    register(event, world.enterprise.org, status=RegistrationStatus.PENDING)
    register(event, world.bank.org)
    with pytest.raises(services.EventError, match="确认"):
        services.request_meeting(world.enterprise, event, world.bank.org)


def _held_event(world):
    event = make_event(status=EventStatus.HELD, tables=3)
    for u in (world.enterprise, world.enterprise_b, world.bank, world.fund):
        register(event, u.org)
    m1 = Meeting(event=event, slot=0, table_no=0, enterprise=world.enterprise.org, institution=world.bank.org)
    m2 = Meeting(event=event, slot=1, table_no=0, enterprise=world.enterprise_b.org, institution=world.bank.org)
    m3 = Meeting(event=event, slot=0, table_no=1, enterprise=world.enterprise_b.org, institution=world.fund.org)
    db_session.add_all([m1, m2, m3])
    db_session.commit()
    return event, m1, m2, m3


def test_outcomes_roll_up_into_the_report(ctx, world):
    event, m1, m2, m3 = _held_event(world)
    factories.make_demand(world.enterprise.org, status="published", ref="dm-0001")
    services.record_outcome(world.bank, m1, intent_amount="500", signed_amount="300", disbursed_amount="200",
                            demand_ref="dm-0001")
    services.record_outcome(world.bank, m2, intent_amount=Decimal("120.5"))
    services.record_outcome(world.city_bureau, m3, held=False)
    with pytest.raises(services.EventError, match="只有参会金融机构或主办方"):
        services.record_outcome(world.enterprise, m1, intent_amount=1)
    with pytest.raises(services.EventError, match="不能大于签约"):
        services.record_outcome(world.bank, m1, signed_amount=10, disbursed_amount=20)
    with pytest.raises(services.EventError, match="须先登记签约"):
        services.record_outcome(world.bank, m1, disbursed_amount=20)
    report = services.event_report(event)
    assert (report.total.meetings, report.total.held) == (3, 2)
    assert (report.total.intent, report.total.signed, report.total.disbursed) == (
        Decimal("620.5"), Decimal(300), Decimal(200))
    by_inst = {org.ref: t for org, t in report.by_institution}
    assert by_inst[world.bank.org.ref].intent == Decimal("620.5") and by_inst[world.fund.org.ref].held == 0
    by_district = dict(report.by_district)
    assert by_district["滕州市"].signed == 300 and by_district["薛城区"].intent == Decimal("120.5")
    assert by_district["薛城区"].signed == 0


def test_outcomes_wait_for_the_agenda(ctx, world):
    event, m1, *_ = _held_event(world)
    event.status = EventStatus.SCHEDULING
    db_session.commit()
    with pytest.raises(services.EventError, match="议程发布后"):
        services.record_outcome(world.bank, m1, intent_amount=1)


def test_check_in(ctx, world):
    event, *_ = _held_event(world)
    reg = services.registration_of(event, world.enterprise.org)
    services.check_in(world.city_bureau, reg)
    assert reg.is_present and services.event_report(event).present == 1
    with pytest.raises(services.EventError, match="无权"):
        services.check_in(world.other_district_bureau, reg)


def test_an_outcome_names_only_a_demand_of_the_meeting_enterprise(ctx, world):
    event, m1, *_ = _held_event(world)
    factories.make_demand(world.enterprise_b.org, status="published", ref="dm-other")
    with pytest.raises(services.EventError, match="不是该企业的融资需求"):
        services.record_outcome(world.bank, m1, signed_amount="300", demand_ref="dm-other")
    with pytest.raises(services.EventError, match="不是该企业的融资需求"):
        services.record_outcome(world.bank, m1, signed_amount="300", demand_ref="dm-missing")


def _offer(demand, org, ref):
    from datetime import datetime as dt

    from models import Offer, OfferOrigin, ProductKind

    offer = Offer(ref=ref, demand=demand, org=org, origin=OfferOrigin.BID, kind=ProductKind.LOAN, status="accepted",
                  amount=Decimal(800), rate=Decimal("4.2"), term_months=36, collateral=[],
                  asked_at=dt(2026, 11, 2, 2), deadline_at=dt(2099, 1, 1))
    db_session.add(offer)
    db_session.commit()
    return offer


def test_an_outcome_links_the_offer_that_came_of_the_meeting(ctx, world):
    event, m1, *_ = _held_event(world)
    mine = factories.make_demand(world.enterprise.org, status="matched", ref="dm-link")
    offer = _offer(mine, world.bank.org, "of-link")
    others = _offer(factories.make_demand(world.enterprise_b.org, status="matched"), world.bank.org, "of-b")
    fund_offer = _offer(mine, world.fund.org, "of-fund")
    # Only the meeting institution's offers on the meeting enterprise's demands are offered for linking.
    assert [o.ref for o in services.offers_for_meeting(m1)] == ["of-link"]
    for wrong in (others.ref, fund_offer.ref, "of-none"):
        with pytest.raises(services.EventError, match="不是该机构对该企业需求的方案"):
            services.record_outcome(world.bank, m1, signed_amount="800", offer_ref=wrong)
    services.record_outcome(world.bank, m1, intent_amount="1000", signed_amount="800", offer_ref=offer.ref)
    assert m1.offer_id == offer.id and m1.demand_ref == "dm-link"  # the demand comes with the offer
    with pytest.raises(services.EventError, match="不是针对该融资需求"):
        services.record_outcome(world.bank, m1, signed_amount="800", offer_ref=offer.ref,
                                demand_ref=factories.make_demand(world.enterprise.org, status="published").ref)
