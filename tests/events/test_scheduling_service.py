"""The scheduling service: stored timetables are feasible, optimal on known cases, locks survive a re-run."""
from __future__ import annotations

import pytest

from matchmaker.events import services
from models import EventStatus, Meeting, RegistrationStatus, db_session
from tests.events.helpers import make_event, orgs, register, request


def assert_feasible(event) -> list[Meeting]:
    """Independent check of a stored timetable: no double booking, one table per institution, windows."""
    meetings = services.meetings_of(event)
    regs = {r.org_id: r for r in services.registrations(event, live_only=True)}
    busy, table_of, owner, pairs = set(), {}, {}, set()
    for m in meetings:
        assert 0 <= m.slot < event.slots and 0 <= m.table_no < event.tables
        for org_id in (m.enterprise_id, m.institution_id):
            assert org_id in regs, "meeting with an unconfirmed participant"
            assert (org_id, m.slot) not in busy, "double booking"
            busy.add((org_id, m.slot))
            window = regs[org_id].available_slots
            assert window is None or m.slot in window, "outside availability window"
        assert table_of.setdefault(m.institution_id, m.table_no) == m.table_no, "institution moved table"
        assert owner.setdefault((m.slot, m.table_no), m.institution_id) == m.institution_id
        assert (m.enterprise_id, m.institution_id) not in pairs
        pairs.add((m.enterprise_id, m.institution_id))
    return meetings


def _world(n_ent, n_inst, *, slots, tables, status=EventStatus.SCHEDULING):
    event = make_event(status=status, slots=slots, tables=tables)
    ents, insts = orgs("enterprise", n_ent), orgs("bank", n_inst)
    db_session.commit()
    for o in ents + insts:
        register(event, o)
    return event, ents, insts


def test_all_requests_met_when_possible(ctx, city):
    # 4 enterprises each want all 3 banks in 3 slots: each bank meets at most 3, so the optimum is 9 of 12.
    event, ents, insts = _world(4, 3, slots=3, tables=3)
    for e in ents:
        for i in insts:
            request(event, e, i)
    tt = services.schedule_event(None, event, city=city, time_limit=5)
    assert tt.requested_total == 12 and tt.requested_scheduled == 9
    assert tt.bound.requested == 9
    assert sum(m.is_requested for m in assert_feasible(event)) == 9


def test_every_request_scheduled_with_room(ctx, city):
    event, ents, insts = _world(5, 3, slots=4, tables=3)
    want = [(0, 0), (0, 1), (0, 2), (1, 0), (2, 0), (3, 0), (4, 1), (4, 2), (3, 2)]
    for e, i in want:
        request(event, ents[e], insts[i])
    tt = services.schedule_event(None, event, city=city, time_limit=5)
    assert tt.requested_scheduled == len(want) == tt.requested_total
    got = {(m.enterprise_id, m.institution_id) for m in assert_feasible(event) if m.is_requested}
    assert got == {(ents[e].id, insts[i].id) for e, i in want}


def test_tables_and_windows_are_respected(ctx, city):
    event, ents, insts = _world(4, 3, slots=3, tables=2)
    regs = services.registrations(event, live_only=True)
    regs[0].available_slots = [0]
    db_session.commit()
    for e in ents:
        for i in insts:
            request(event, e, i)
    tt = services.schedule_event(None, event, city=city, time_limit=5)
    meetings = assert_feasible(event)
    # Two tables: only two institutions can hold meetings.
    assert len({m.institution_id for m in meetings}) <= 2
    assert tt.requested_scheduled == tt.bound.requested


def test_declined_and_expired_requests_do_not_count(ctx, city):
    from models import RequestStatus

    event, ents, insts = _world(2, 2, slots=2, tables=2)
    request(event, ents[0], insts[0], status=RequestStatus.DECLINED)
    request(event, ents[1], insts[1], status=RequestStatus.EXPIRED)
    request(event, ents[1], insts[0], status=RequestStatus.PENDING)
    tt = services.schedule_event(None, event, city=city, time_limit=5)
    assert tt.requested_total == 1


def test_unconfirmed_participants_are_left_out(ctx, city):
    event, ents, insts = _world(2, 1, slots=2, tables=1)
    services.registrations(event)[0].status = RegistrationStatus.PENDING
    db_session.commit()
    request(event, ents[0], insts[0])
    request(event, ents[1], insts[0])
    tt = services.schedule_event(None, event, city=city, time_limit=5)
    assert tt.requested_total == 1
    assert {m.enterprise_id for m in assert_feasible(event)} == {ents[1].id}


def test_locked_meetings_are_kept_on_rerun(ctx, city, world):
    event, ents, insts = _world(3, 2, slots=3, tables=2)
    for e in ents:
        for i in insts:
            request(event, e, i)
    services.schedule_event(None, event, city=city, time_limit=5)
    first = services.meetings_of(event)
    chosen = first[-1]
    where = (chosen.slot, chosen.table_no, chosen.enterprise_id, chosen.institution_id)
    services.set_locked(world.city_bureau, chosen, True)
    tt = services.schedule_event(world.city_bureau, event, city=city, time_limit=5)
    assert any(m.locked for m in tt.meetings)
    after = assert_feasible(event)
    locked = [m for m in after if m.is_locked]
    assert [(m.slot, m.table_no, m.enterprise_id, m.institution_id) for m in locked] == [where]
    assert tt.requested_scheduled == 6


def test_proposals_fill_in_for_enterprises_that_asked_for_few(ctx, city):
    event, ents, insts = _world(2, 3, slots=3, tables=3)
    for i in insts:
        request(event, ents[0], i)
    proposals = services.propose_pairs(event, city=city)
    assert {p.enterprise.id for p in proposals} == {ents[1].id}
    assert len(proposals) == 3 and all(0 <= p.score <= 1 and p.reasons for p in proposals)
    tt = services.schedule_event(None, event, city=city, time_limit=5)
    assert tt.requested_scheduled == 3
    unrequested = [m for m in assert_feasible(event) if not m.is_requested]
    assert unrequested and all(m.enterprise_id == ents[1].id and m.score > 0 for m in unrequested)


def test_pair_scorer_is_pluggable(ctx, city):
    from matchmaker.events import pairing

    event, ents, insts = _world(1, 2, slots=2, tables=2)
    favourite = insts[1]
    pairing.set_pair_scorer(lambda e, i, c: (1.0 if i.id == favourite.id else 0.0, ["测试"]))
    try:
        proposals = services.propose_pairs(event, city=city, few=1)
    finally:
        pairing.set_pair_scorer(None)
    assert [p.institution.id for p in proposals] == [favourite.id]


@pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.OPEN, EventStatus.PUBLISHED])
def test_web_scheduling_only_while_scheduling(ctx, city, world, status):
    event = make_event(status=status)
    with pytest.raises(services.EventError, match="排期中"):
        services.schedule_event(world.city_bureau, event, city=city)


def test_empty_event_schedules_to_nothing(ctx, city):
    event = make_event(status=EventStatus.SCHEDULING)
    tt = services.schedule_event(None, event, city=city, time_limit=1)
    assert tt.meetings == [] and tt.requested_total == 0 and event.schedule_info["meetings"] == 0


def test_more_institutions_than_tables(ctx, city):
    event, ents, insts = _world(3, 4, slots=2, tables=1)
    for e in ents:
        request(event, e, insts[3])
        request(event, e, insts[0])
    tt = services.schedule_event(None, event, city=city, time_limit=3)
    meetings = assert_feasible(event)
    assert len({m.institution_id for m in meetings}) == 1 and tt.requested_scheduled == 2
