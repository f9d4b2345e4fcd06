"""Events in JSON Lines (DESIGN §9 shapes), the export/import round trip, and `events schedule --json`."""
from __future__ import annotations

import io
import json
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.interchange.services import export_lines, import_lines
from models import Event, EventRegistration, EventStatus, Meeting, MeetingRequest, RequestStatus, db_session
from tests import factories

ORGS = [
    {"type": "organization", "ref": "bureau-city", "kind": "bureau", "name": "市工信局", "district": None},
    {"type": "organization", "ref": "bank-01", "kind": "bank", "name": "工商银行枣庄分行", "district": "市中区"},
    {"type": "organization", "ref": "bank-03", "kind": "bank", "name": "工商银行滕州支行", "district": "滕州市",
     "parent": "bank-01"},
    {"type": "organization", "ref": "fund-01", "kind": "fund", "name": "枣庄产业基金", "district": None},
] + [
    {"type": "organization", "ref": f"ent-000{k}", "kind": "enterprise", "name": f"滕州企业{k}",
     "uscc": factories.valid_uscc(910000 + k), "district": "滕州市", "industry": "高端装备", "size": "small"}
    for k in range(1, 5)
]
EVENT = [
    {"type": "event", "ref": "ev-0001", "title": "2026年银企对接会", "kind": "bank_enterprise_meeting",
     "date": "2026-12-10", "district": None, "slots": 3, "slot_minutes": 15, "tables": 3},
    *({"type": "registration", "event": "ev-0001", "org": o} for o in
      ["ent-0001", "ent-0002", "ent-0003", "ent-0004", "bank-01", "bank-03", "fund-01"]),
    {"type": "meeting_request", "event": "ev-0001", "from": "ent-0001", "to": "bank-03"},
    {"type": "meeting_request", "event": "ev-0001", "from": "ent-0001", "to": "bank-01"},
    {"type": "meeting_request", "event": "ev-0001", "from": "ent-0002", "to": "bank-03"},
    {"type": "meeting_request", "event": "ev-0001", "from": "bank-03", "to": "ent-0003"},
    {"type": "meeting_request", "event": "ev-0001", "from": "ent-0004", "to": "bank-03"},
    {"type": "meeting_request", "event": "ev-0001", "from": "ent-0004", "to": "fund-01"},
]


def lines(objs):
    return [json.dumps(o, ensure_ascii=False) for o in objs]


def test_event_lines_import_in_the_design_shape(ctx, city):
    report = import_lines(lines(ORGS + EVENT), city=city)
    assert report.ok, report.errors
    assert report.counts["event"] == 1 and report.counts["registration"] == 7
    assert report.counts["meeting_request"] == 6
    event = db_session.scalar(sa.select(Event).where(Event.ref == "ev-0001"))
    assert event.organizer.ref == "bureau-city" and event.status == EventStatus.OPEN
    assert all(r.is_live for r in event.registrations)
    assert {r.status for r in db_session.scalars(sa.select(MeetingRequest))} == {RequestStatus.ACCEPTED}


def test_bad_event_lines_import_nothing(ctx, city):
    bad = ORGS + EVENT[:2] + [
        {"type": "registration", "event": "ev-0001", "org": "ent-0001"},           # duplicate
        {"type": "registration", "event": "ev-0001", "org": "bureau-city"},        # not a participant
        {"type": "meeting_request", "event": "ev-0001", "from": "ent-0001", "to": "ent-0002"},
        {"type": "meeting_request", "event": "ev-0001", "from": "ent-0001", "to": "fund-01"},  # fund not registered
        {"type": "event", "ref": "ev-0002", "title": "x", "kind": "party", "date": "2026-12-10", "slots": 3,
         "slot_minutes": 15, "tables": 3},
        {"type": "registration", "event": "ev-0002", "org": "ent-0002"},           # its event's line was bad
        {"type": "registration", "event": "ev-0001", "org": "ent-0003", "colour": "red"},
    ]
    report = import_lines(lines(bad), city=city)
    assert not report.ok
    errors = {(e.line, e.field) for e in report.errors}
    n = len(ORGS)
    assert errors == {(n + 3, "org"), (n + 4, "org"), (n + 5, "to"), (n + 6, "to"), (n + 7, "kind"),
                      (n + 8, "event"), (n + 9, "colour")}
    assert "第" in next(e.message for e in report.errors if e.line == n + 8)
    assert db_session.scalar(sa.select(sa.func.count(Event.id))) == 0


def test_export_import_round_trip(app, ctx, city):
    assert import_lines(lines(ORGS + EVENT), city=city).ok
    runner = app.test_cli_runner()
    result = runner.invoke(args=["events", "schedule", "ev-0001", "--json", "--time-limit", "3"])
    assert result.exit_code == 0, result.stderr
    meeting = db_session.scalars(sa.select(Meeting).order_by(Meeting.id)).first()
    meeting.intent_amount, meeting.is_held = Decimal("250.5"), True
    reg = db_session.scalars(sa.select(EventRegistration)).first()
    reg.demand_refs, reg.available_slots, reg.attendees = ["dm-0007"], [0, 2], ["王强", "李四"]
    db_session.commit()
    first = io.StringIO()
    export_lines(first, city=city)
    from tests.conftest import _clear_tables

    _clear_tables()
    report = import_lines(first.getvalue().splitlines(), city=city)
    assert report.ok, report.errors
    assert report.counts["meeting"] == result.stdout.count('"slot"')
    second = io.StringIO()
    export_lines(second, city=city)
    assert second.getvalue() == first.getvalue()


def test_cli_json_on_an_imported_event(app, ctx, city):
    assert import_lines(lines(ORGS + EVENT), city=city).ok
    result = app.test_cli_runner().invoke(args=["events", "schedule", "ev-0001", "--json", "--time-limit", "3"])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)  # the only thing on stdout
    assert set(out) >= {"event", "meetings", "requested_total", "requested_scheduled", "objective", "bound"}
    assert out["event"] == "ev-0001"
    # bank-03 is asked by four enterprises but has three slots.
    assert out["requested_total"] == 6 and out["requested_scheduled"] == 5
    assert out["objective"] == 5 and out["bound"] == 5
    assert out["lexicographic"]["objective"]["requested"] == 5
    seen = set()
    for m in out["meetings"]:
        assert set(m) == {"slot", "table", "enterprise", "institution", "requested", "score"}
        assert isinstance(m["slot"], int) and isinstance(m["table"], int) and isinstance(m["requested"], bool)
        assert isinstance(m["score"], (int, float))
        for who in (m["enterprise"], m["institution"]):
            assert (who, m["slot"]) not in seen
            seen.add((who, m["slot"]))
    assert sum(m["requested"] for m in out["meetings"]) == 5
    # The timetable is stored.
    assert db_session.scalar(sa.select(sa.func.count(Meeting.id))) == len(out["meetings"])


def test_cli_readable_table_and_unknown_event(app, ctx, city):
    assert import_lines(lines(ORGS + EVENT), city=city).ok
    result = app.test_cli_runner().invoke(args=["events", "schedule", "ev-0001", "--time-limit", "2"])
    assert result.exit_code == 0 and "已安排 5 对" in result.stdout and "ent-0001" in result.stdout
    missing = app.test_cli_runner().invoke(args=["events", "schedule", "ev-9999", "--json"])
    assert missing.exit_code == 2 and missing.stdout == ""
