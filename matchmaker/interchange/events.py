"""Interchange of matching events, registrations, meeting requests and meetings (DESIGN §9)."""
from __future__ import annotations

from datetime import time

import sqlalchemy as sa

from matchmaker.interchange import fields as f
from matchmaker.interchange.registry import ImportContext, InterchangeType, register
from models import (
    Event,
    EventKind,
    EventRegistration,
    EventStatus,
    Meeting,
    MeetingRequest,
    Organization,
    OrgKind,
    RegistrationStatus,
    RequestStatus,
    db_session,
)

EVENT_KEYS = frozenset({
    "ref", "title", "kind", "date", "district", "slots", "slot_minutes", "tables",
    "status", "venue", "start_time", "registration_deadline", "breaks", "break_minutes", "max_participants",
    "request_expiry_hours", "description", "organizer", "created",
})
REGISTRATION_KEYS = frozenset({
    "event", "org", "status", "attendees", "demands", "available_slots", "max_meetings", "present", "note",
})
REQUEST_KEYS = frozenset({"event", "from", "to", "status", "message", "created", "expires"})
MEETING_KEYS = frozenset({
    "event", "slot", "table", "enterprise", "institution", "requested", "score", "locked", "held",
    "intent_amount", "signed_amount", "disbursed_amount", "demand", "offer", "note", "recorded",
})

PARTICIPANT_KINDS = (OrgKind.ENTERPRISE, OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR)


def _int_list(d: dict, key: str, hi: int) -> list[int] | None:
    v = d.get(key)
    if v is None:
        return None
    if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) and 0 <= x < hi for x in v):
        raise f.LineError(key, f"应为 0 至 {hi - 1} 之间的整数数组")
    return sorted(set(v))


# --- event -----------------------------------------------------------------------------------


def load_event(d: dict, ctx: ImportContext) -> Event:
    ref = f.text(d, "ref", max_len=64)
    if ctx.ref_exists(Event, "event", ref):
        raise f.LineError("ref", f"活动“{ref}”已存在")
    district = f.text(d, "district", required=False, max_len=50)
    if district is not None and district not in ctx.city.districts:
        raise f.LineError("district", f"“{district}”不是本市的区（市）")
    slots = f.integer(d, "slots", required=True, lo=1, hi=64)
    organizer = None
    if d.get("organizer") is not None:
        organizer = ctx.lookup(Organization, "organization", d["organizer"], "organizer")
        if organizer.kind != OrgKind.BUREAU or organizer.district != district:
            raise f.LineError("organizer", "主办方须为活动所在区（市）的工信局（全市活动为市工信局）")
    else:
        organizer = db_session.scalar(sa.select(Organization).where(
            Organization.kind == OrgKind.BUREAU,
            Organization.district.is_(None) if district is None else Organization.district == district,
        ).order_by(Organization.id).limit(1))
    start = f.text(d, "start_time", required=False, max_len=5)
    try:
        start_time = time.fromisoformat(start) if start else time(9, 0)
    except ValueError:
        raise f.LineError("start_time", "应为 HH:MM 格式的时间") from None
    event = Event(
        ref=ref, title=f.text(d, "title"), kind=f.code(d, "kind", EventKind), date=f.iso_date(d, "date", required=True),
        district=district, organizer=organizer, slots=slots,
        slot_minutes=f.integer(d, "slot_minutes", required=True, lo=5, hi=240),
        tables=f.integer(d, "tables", required=True, lo=1, hi=500),
        status=f.code(d, "status", EventStatus, required=False) or EventStatus.OPEN,
        venue=f.text(d, "venue", required=False),
        start_time=start_time,
        registration_deadline=ctx.to_utc(f.iso_datetime(d, "registration_deadline")),
        breaks=_int_list(d, "breaks", max(slots - 1, 1)) or [],
        break_minutes=f.integer(d, "break_minutes", lo=0, hi=240) or 0,
        max_participants=f.integer(d, "max_participants", lo=1, hi=100000),
        request_expiry_hours=f.integer(d, "request_expiry_hours", lo=1, hi=24 * 365),
        description=f.text(d, "description", required=False, max_len=5000),
    )
    if d.get("created") is not None:
        event.created_at = ctx.to_utc(f.iso_datetime(d, "created"))
    db_session.add(event)
    return event


def dump_event(e: Event, ctx: ImportContext) -> dict:
    line = {
        "ref": e.ref, "title": e.title, "kind": e.kind.value, "date": e.date.isoformat(), "district": e.district,
        "slots": e.slots, "slot_minutes": e.slot_minutes, "tables": e.tables, "status": e.status.value,
        "start_time": e.start_time.strftime("%H:%M"), "created": ctx.to_local(e.created_at),
    }
    optional = {
        "venue": e.venue, "registration_deadline": ctx.to_local(e.registration_deadline),
        "breaks": e.breaks or None, "break_minutes": e.break_minutes or None,
        "max_participants": e.max_participants, "request_expiry_hours": e.request_expiry_hours,
        "description": e.description, "organizer": e.organizer.ref if e.organizer else None,
    }
    line.update({k: v for k, v in optional.items() if v is not None})
    return line


# --- registration ------------------------------------------------------------------------------


def _registration_key(d: dict) -> str | None:
    if isinstance(d.get("event"), str) and isinstance(d.get("org"), str):
        return f"{d['event']}/{d['org']}"
    return None


def _is_registered(ctx: ImportContext, event: Event, org: Organization) -> bool:
    if ("registration", f"{event.ref}/{org.ref}") in ctx.created:
        return True
    if event.id is None or org.id is None:
        return False
    return db_session.scalar(sa.select(EventRegistration.id).where(
        EventRegistration.event_id == event.id, EventRegistration.org_id == org.id)) is not None


def load_registration(d: dict, ctx: ImportContext) -> EventRegistration:
    event = ctx.lookup(Event, "event", d.get("event"), "event")
    org = ctx.lookup(Organization, "organization", d.get("org"), "org")
    if org.kind not in PARTICIPANT_KINDS:
        raise f.LineError("org", "只有企业和金融机构可以报名参加对接活动")
    if _is_registered(ctx, event, org):
        raise f.LineError("org", f"“{org.ref}”已报名活动“{event.ref}”")
    demands = f.strings(d, "demands", max_len=64)
    if demands and org.kind != OrgKind.ENTERPRISE:
        raise f.LineError("demands", "只有企业可以携带融资需求")
    reg = EventRegistration(
        event=event, org=org,
        # Imported registrations are live unless the line says otherwise.
        status=f.code(d, "status", RegistrationStatus, required=False) or RegistrationStatus.ACCEPTED,
        attendees=f.strings(d, "attendees", max_items=10),
        demand_refs=demands,
        available_slots=_int_list(d, "available_slots", event.slots),
        max_meetings=f.integer(d, "max_meetings", lo=0, hi=event.slots),
        is_present=f.boolean(d, "present", default=False),
        note=f.text(d, "note", required=False, max_len=500),
    )
    if reg.available_slots == list(range(event.slots)):
        reg.available_slots = None
    db_session.add(reg)
    return reg


def dump_registration(r: EventRegistration, ctx: ImportContext) -> dict:
    line = {"event": r.event.ref, "org": r.org.ref, "status": r.status.value}
    optional = {
        "attendees": r.attendees or None, "demands": r.demand_refs or None, "available_slots": r.available_slots,
        "max_meetings": r.max_meetings, "present": r.is_present or None, "note": r.note,
    }
    line.update({k: v for k, v in optional.items() if v is not None})
    return line


# --- meeting request -------------------------------------------------------------------------


def _request_key(d: dict) -> str | None:
    if all(isinstance(d.get(k), str) for k in ("event", "from", "to")):
        return f"{d['event']}/{d['from']}>{d['to']}"
    return None


def load_meeting_request(d: dict, ctx: ImportContext) -> MeetingRequest:
    event = ctx.lookup(Event, "event", d.get("event"), "event")
    src = ctx.lookup(Organization, "organization", d.get("from"), "from")
    dst = ctx.lookup(Organization, "organization", d.get("to"), "to")
    kinds = {src.kind == OrgKind.ENTERPRISE, dst.kind == OrgKind.ENTERPRISE}
    if kinds != {True, False} or OrgKind.BUREAU in (src.kind, dst.kind):
        raise f.LineError("to", "约见须在企业与金融机构之间进行")
    for key, org in (("from", src), ("to", dst)):
        if not _is_registered(ctx, event, org):
            raise f.LineError(key, f"“{org.ref}”未报名活动“{event.ref}”（须在前面的行或数据库中）")
    key = _request_key(d)
    taken = ("meeting_request", key) in ctx.created or (
        event.id is not None and db_session.scalar(sa.select(MeetingRequest.id).where(
            MeetingRequest.event_id == event.id, MeetingRequest.from_org_id == src.id,
            MeetingRequest.to_org_id == dst.id)) is not None)
    if taken:
        raise f.LineError("to", "同一约见申请重复")
    req = MeetingRequest(
        event=event, from_org=src, to_org=dst,
        # Imported requests are history and count as accepted unless the line says otherwise.
        status=f.code(d, "status", RequestStatus, required=False) or RequestStatus.ACCEPTED,
        message=f.text(d, "message", required=False, max_len=500),
        expires_at=ctx.to_utc(f.iso_datetime(d, "expires")),
    )
    if d.get("created") is not None:
        req.created_at = ctx.to_utc(f.iso_datetime(d, "created"))
    db_session.add(req)
    return req


def dump_meeting_request(r: MeetingRequest, ctx: ImportContext) -> dict:
    line = {"event": r.event.ref, "from": r.from_org.ref, "to": r.to_org.ref, "status": r.status.value,
            "created": ctx.to_local(r.created_at)}
    optional = {"message": r.message, "expires": ctx.to_local(r.expires_at)}
    line.update({k: v for k, v in optional.items() if v is not None})
    return line


# --- meeting (the stored timetable and its outcomes) -----------------------------------------


def _meeting_key(d: dict) -> str | None:
    if all(isinstance(d.get(k), str) for k in ("event", "enterprise", "institution")):
        return f"{d['event']}/{d['enterprise']}>{d['institution']}"
    return None


def load_meeting(d: dict, ctx: ImportContext) -> Meeting:
    event = ctx.lookup(Event, "event", d.get("event"), "event")
    ent = ctx.lookup(Organization, "organization", d.get("enterprise"), "enterprise")
    inst = ctx.lookup(Organization, "organization", d.get("institution"), "institution")
    if ent.kind != OrgKind.ENTERPRISE:
        raise f.LineError("enterprise", "应为企业")
    if not inst.is_institution:
        raise f.LineError("institution", "应为金融机构")
    if ("meeting", _meeting_key(d)) in ctx.created:
        raise f.LineError("institution", "同一对企业与机构的洽谈重复")
    signed = f.decimal(d, "signed_amount", lo=0)
    disbursed = f.decimal(d, "disbursed_amount", lo=0)
    if disbursed is not None and (signed is None or disbursed > signed):
        raise f.LineError("disbursed_amount", "放款金额须有签约金额且不大于签约金额")
    offer = None
    if d.get("offer") is not None:
        from models.offers import Offer

        offer = ctx.lookup(Offer, "offer", d["offer"], "offer")
        if offer.org_id != inst.id or offer.demand.org_id != ent.id:
            raise f.LineError("offer", "应为该机构对该企业需求的方案")
    m = Meeting(
        event=event, enterprise=ent, institution=inst, offer=offer,
        slot=f.integer(d, "slot", required=True, lo=0, hi=event.slots - 1),
        table_no=f.integer(d, "table", required=True, lo=0, hi=event.tables - 1),
        is_requested=f.boolean(d, "requested"), is_locked=f.boolean(d, "locked"),
        score=f.decimal(d, "score", lo=0, hi=1) or 0,
        is_held=d.get("held") if d.get("held") is None else f.boolean(d, "held"),
        intent_amount=f.decimal(d, "intent_amount", lo=0), signed_amount=signed, disbursed_amount=disbursed,
        demand_ref=f.text(d, "demand", required=False, max_len=64),
        outcome_note=f.text(d, "note", required=False, max_len=500),
        recorded_at=ctx.to_utc(f.iso_datetime(d, "recorded")),
    )
    db_session.add(m)
    return m


def dump_meeting(m: Meeting, ctx: ImportContext) -> dict:
    line = {"event": m.event.ref, "slot": m.slot, "table": m.table_no, "enterprise": m.enterprise.ref,
            "institution": m.institution.ref, "requested": m.is_requested, "score": f.plain_number(m.score),
            "locked": m.is_locked}
    optional = {
        "held": m.is_held, "intent_amount": f.plain_number(m.intent_amount),
        "signed_amount": f.plain_number(m.signed_amount), "disbursed_amount": f.plain_number(m.disbursed_amount),
        "demand": m.demand_ref, "offer": m.offer.ref if m.offer is not None else None,
        "note": m.outcome_note, "recorded": ctx.to_local(m.recorded_at),
    }
    line.update({k: v for k, v in optional.items() if v is not None})
    return line


register(InterchangeType(
    "event", EVENT_KEYS, load_event, dump_event,
    lambda: db_session.scalars(sa.select(Event).order_by(Event.id)), 60,
))
register(InterchangeType(
    "registration", REGISTRATION_KEYS, load_registration, dump_registration,
    lambda: db_session.scalars(sa.select(EventRegistration).order_by(EventRegistration.event_id, EventRegistration.id)),
    61, line_key=_registration_key,
))
register(InterchangeType(
    "meeting_request", REQUEST_KEYS, load_meeting_request, dump_meeting_request,
    lambda: db_session.scalars(sa.select(MeetingRequest).order_by(MeetingRequest.event_id, MeetingRequest.id)),
    62, line_key=_request_key,
))
register(InterchangeType(
    "meeting", MEETING_KEYS, load_meeting, dump_meeting,
    lambda: db_session.scalars(sa.select(Meeting).order_by(Meeting.event_id, Meeting.slot, Meeting.table_no)),
    63, line_key=_meeting_key,
))
