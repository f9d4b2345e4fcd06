"""Event operations: each changes data and writes its audit entry in the same transaction."""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from matchmaker import scheduling
from matchmaker.auth.services import new_ref
from matchmaker.events.pairing import FEW_REQUESTS, Proposal, pair_scorer
from matchmaker.permissions import bureau_covers, can_edit, policy
from models import (
    Demand,
    DemandStatus,
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
    record,
)
from models.codes import INSTITUTION_KINDS
from models.events import EVENT_LABELS
from models.types import utcnow

DEFAULT_REQUEST_EXPIRY_HOURS = 72


class EventError(Exception):
    """An action the event rules do not allow; the message (Chinese) is shown to the user."""


# --- who may see and change what ----------------------------------------------------------


def _event_view(user, event: Event) -> bool:
    org = user.org
    if org.kind == OrgKind.BUREAU:
        return bureau_covers(user, event.district)
    if not org.is_approved:
        return False
    if _registration_of(event, org) is not None:
        return True
    if event.status == EventStatus.DRAFT:
        return False
    # A district's event is for that district's enterprises; institutions serve across districts.
    return event.district is None or org.is_institution or org.district == event.district


def _event_edit(user, event: Event) -> bool:
    return user.org.kind == OrgKind.BUREAU and bureau_covers(user, event.district)


def _meeting_view(user, m: Meeting) -> bool:
    return user.org_id in (m.enterprise_id, m.institution_id) or _event_edit(user, m.event)


def _meeting_edit(user, m: Meeting) -> bool:
    """The outcome is the institution's to record, or the organising bureau's."""
    return user.org_id == m.institution_id or _event_edit(user, m.event)


def _registration_view(user, reg: EventRegistration) -> bool:
    return user.org_id == reg.org_id or _event_edit(user, reg.event)


def _registration_edit(user, reg: EventRegistration) -> bool:
    return (user.org_id == reg.org_id and user.is_admin) or _event_edit(user, reg.event)


policy(Event, view=_event_view, edit=_event_edit)
policy(Meeting, view=_meeting_view, edit=_meeting_edit)
policy(EventRegistration, view=_registration_view, edit=_registration_edit)


def _lock(event: Event) -> None:
    """Serialise changes to one event (row lock on PostgreSQL; SQLite writes are serial anyway).

    Caps, the life cycle and the stored timetable are read-then-write: two bureaus scheduling at
    once, or two organisations taking the last seat, must not both see the old state.
    """
    db_session.execute(sa.select(Event.id).where(Event.id == event.id).with_for_update())


def _require_edit(actor, event: Event) -> None:
    if actor is not None and not can_edit(actor, event):
        raise EventError("您无权管理该活动")


def events_for(user, *, include_past: bool = True) -> list[Event]:
    """The events a user sees, newest date first (bureaus: their scope; others: open to them)."""
    q = sa.select(Event).order_by(Event.date.desc(), Event.id.desc())
    org = user.org
    if org.kind == OrgKind.BUREAU:
        if org.district is not None:
            q = q.where(Event.district == org.district)
    else:
        mine = sa.select(EventRegistration.event_id).where(EventRegistration.org_id == org.id)
        visible = Event.status != EventStatus.DRAFT
        if not org.is_institution:
            visible = visible & sa.or_(Event.district.is_(None), Event.district == org.district)
        q = q.where(sa.or_(Event.id.in_(mine), visible))
    return list(db_session.scalars(q))


# --- events and their life cycle -------------------------------------------------------------

EVENT_FIELDS = (
    "kind", "title", "date", "venue", "start_time", "registration_deadline", "slots", "slot_minutes",
    "breaks", "break_minutes", "tables", "max_participants", "request_expiry_hours", "description",
)


def _check_event_fields(data: dict) -> None:
    if data.get("slots") is not None and not 1 <= data["slots"] <= 64:
        raise EventError("洽谈时段数应在1至64之间")
    if data.get("tables") is not None and not 1 <= data["tables"] <= 500:
        raise EventError("洽谈桌数应在1至500之间")
    slots = data.get("slots")
    for b in data.get("breaks") or ():
        if slots is not None and not 0 <= b < slots - 1:
            raise EventError(f"休息安排“第{b + 1}段后”超出时段范围")


def create_event(actor, data: dict) -> Event:
    """A bureau creates an event in draft; a district bureau's event belongs to its district."""
    if actor.org.kind != OrgKind.BUREAU:
        raise EventError("只有工信局可以创建对接活动")
    _check_event_fields(data)
    data = {**data, "kind": EventKind(data.get("kind") or EventKind.BANK_ENTERPRISE_MEETING)}
    event = Event(ref=new_ref("ev"), status=EventStatus.DRAFT, district=actor.org.district,
                  organizer=actor.org, created_by_id=actor.id,
                  **{k: data[k] for k in EVENT_FIELDS if k in data})
    event.breaks = sorted(set(event.breaks or []))
    db_session.add(event)
    db_session.flush()
    record(actor, "event.created", event, title=event.title, kind=event.kind.value)
    db_session.commit()
    return event


def update_event(actor, event: Event, data: dict) -> Event:
    """Change an event's particulars; the slot grid is frozen once a timetable exists."""
    _require_edit(actor, event)
    if event.status not in (EventStatus.DRAFT, EventStatus.OPEN, EventStatus.SCHEDULING):
        raise EventError(f"活动已{EVENT_LABELS[event.status.value]}，不能再修改")
    _check_event_fields(data)
    if "kind" in data:
        data = {**data, "kind": EventKind(data["kind"])}
    grid = ("slots", "tables")
    if event.meetings and any(k in data and data[k] != getattr(event, k) for k in grid):
        raise EventError("已有排期结果，不能修改时段数或桌数；请先清空排期")
    changed = {}
    for k in EVENT_FIELDS:
        if k in data and data[k] != getattr(event, k):
            changed[k] = str(data[k])
            setattr(event, k, data[k])
    event.breaks = sorted(set(event.breaks or []))
    record(actor, "event.updated", event, **changed)
    db_session.commit()
    return event


def transition(actor, event: Event, to: EventStatus | str) -> Event:
    """Move an event along the one transition table (EVENT_TRANSITIONS); anything else is refused."""
    _require_edit(actor, event)
    to = EventStatus(to)
    _lock(event)
    db_session.refresh(event, ["status"])
    if not event.can_go_to(to):
        raise EventError(
            f"活动当前为“{EVENT_LABELS[event.status.value]}”，不能变更为“{EVENT_LABELS[to.value]}”"
        )
    if to == EventStatus.PUBLISHED and not event.meetings:
        raise EventError("尚未排期，不能发布议程")
    before = event.status
    event.status = to
    if to == EventStatus.PUBLISHED:
        event.published_at = utcnow()
    record(actor, "event.status_changed", event, **{"from": before.value, "to": to.value})
    db_session.commit()
    return event


def agenda_times(event: Event) -> list[tuple[str, str]]:
    """Start and end (HH:MM, local) of every slot, breaks included."""
    start = datetime.combine(event.date, event.start_time)
    out = []
    breaks = set(event.breaks or ())
    for s in range(event.slots):
        end = start + timedelta(minutes=event.slot_minutes)
        out.append((start.strftime("%H:%M"), end.strftime("%H:%M")))
        start = end + timedelta(minutes=event.break_minutes if s in breaks else 0)
    return out


# --- registration ------------------------------------------------------------------------------


def _registration_of(event: Event, org: Organization) -> EventRegistration | None:
    return db_session.scalar(sa.select(EventRegistration).where(
        EventRegistration.event_id == event.id, EventRegistration.org_id == org.id))


def registration_of(event: Event, org: Organization) -> EventRegistration | None:
    return _registration_of(event, org)


def registration_is_open(event: Event, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return event.status == EventStatus.OPEN and (
        event.registration_deadline is None or now <= event.registration_deadline)


def _count_taken(event: Event) -> int:
    return db_session.scalar(sa.select(sa.func.count(EventRegistration.id)).where(
        EventRegistration.event_id == event.id,
        EventRegistration.status.in_((RegistrationStatus.ACCEPTED, RegistrationStatus.PENDING))))


def _clean_slots(event: Event, slots) -> list[int] | None:
    if slots is None:
        return None
    slots = sorted({int(s) for s in slots})
    if any(not 0 <= s < event.slots for s in slots):
        raise EventError(f"可参加时段应在第1至第{event.slots}段之间")
    if not slots:
        raise EventError("请至少选择一个可参加的时段")
    return None if len(slots) == event.slots else slots


def demands_to_bring(org) -> list[Demand]:
    """An enterprise's demands that are in the pool (published or being matched)."""
    if org.kind != OrgKind.ENTERPRISE:
        return []
    return list(db_session.scalars(
        sa.select(Demand).where(Demand.org_id == org.id, Demand.status.in_((DemandStatus.PUBLISHED, DemandStatus.MATCHED)))
        .order_by(Demand.id.desc())))


def register(actor, event: Event, *, attendees: list[str], demand_refs: list[str] | None = None,
             available_slots: list[int] | None = None, max_meetings: int | None = None,
             note: str | None = None, now: datetime | None = None) -> EventRegistration:
    """An enterprise or institution registers (or answers an invitation) while registration is open."""
    org = actor.org
    if org.kind not in (OrgKind.ENTERPRISE, *INSTITUTION_KINDS):
        raise EventError("只有企业和金融机构可以报名参加对接活动")
    if not registration_is_open(event, now):
        raise EventError("活动不在报名期内（报名已截止或尚未开放）")
    attendees = [a.strip() for a in attendees if a and a.strip()]
    if not attendees:
        raise EventError("请填写参会人员姓名")
    if org.kind != OrgKind.ENTERPRISE and demand_refs:
        raise EventError("只有企业可以携带融资需求")
    if demand_refs and not set(demand_refs) <= {d.ref for d in demands_to_bring(org)}:
        raise EventError("只能携带本企业已发布的融资需求")
    _lock(event)
    reg = _registration_of(event, org)
    if reg is not None and reg.status in (RegistrationStatus.PENDING, RegistrationStatus.ACCEPTED):
        raise EventError("您已报名该活动")
    if reg is not None and reg.status == RegistrationStatus.DECLINED:
        raise EventError("主办方未通过您的报名，不能再次报名")
    invited = reg is not None and reg.status == RegistrationStatus.INVITED
    if not invited and event.max_participants and _count_taken(event) >= event.max_participants:
        raise EventError("报名人数已满")
    if reg is None:
        reg = EventRegistration(event=event, org=org)
        db_session.add(reg)
    # Accepting an invitation needs no further decision by the bureau.
    reg.status = RegistrationStatus.ACCEPTED if invited else RegistrationStatus.PENDING
    reg.attendees = attendees[:10]
    reg.demand_refs = list(dict.fromkeys(demand_refs or []))
    reg.available_slots = _clean_slots(event, available_slots)
    reg.max_meetings = max_meetings
    reg.note = note
    db_session.flush()
    record(actor, "registration.accepted_invitation" if invited else "registration.created", reg)
    db_session.commit()
    return reg


def withdraw(actor, reg: EventRegistration) -> None:
    """A participant leaves before the agenda is final; its pending requests lapse with it."""
    if actor.org_id != reg.org_id:
        raise EventError("只能退出本机构的报名")
    if reg.event.agenda_is_final:
        raise EventError("议程已发布，请联系主办方调整")
    reg.status = RegistrationStatus.WITHDRAWN
    for r in _requests_of(reg.event, reg.org, statuses=(RequestStatus.PENDING, RequestStatus.ACCEPTED)):
        r.status = RequestStatus.WITHDRAWN
    record(actor, "registration.withdrawn", reg)
    db_session.commit()


def invite(actor, event: Event, org: Organization) -> EventRegistration:
    """The bureau invites an organisation; accepting the invitation needs no further approval."""
    _require_edit(actor, event)
    if org.kind not in (OrgKind.ENTERPRISE, *INSTITUTION_KINDS) or not org.is_approved:
        raise EventError("只能邀请已通过审核的企业或金融机构")
    if event.status not in (EventStatus.DRAFT, EventStatus.OPEN):
        raise EventError("活动已截止报名，不能再邀请")
    if _registration_of(event, org) is not None:
        raise EventError(f"「{org.name}」已在报名名单中")
    reg = EventRegistration(event=event, org=org, status=RegistrationStatus.INVITED)
    db_session.add(reg)
    db_session.flush()
    record(actor, "registration.invited", reg)
    db_session.commit()
    return reg


def decide(actor, reg: EventRegistration, *, accept: bool) -> EventRegistration:
    """The bureau accepts or declines a registration (accepting respects the participant cap)."""
    _require_edit(actor, reg.event)
    if reg.event.agenda_is_final:
        raise EventError("议程已发布，不能再调整报名")
    if reg.status not in (RegistrationStatus.PENDING, RegistrationStatus.ACCEPTED, RegistrationStatus.DECLINED):
        raise EventError("该报名当前不能审核")
    _lock(reg.event)
    if accept and reg.status != RegistrationStatus.ACCEPTED:
        cap = reg.event.max_participants
        accepted = db_session.scalar(sa.select(sa.func.count(EventRegistration.id)).where(
            EventRegistration.event_id == reg.event_id, EventRegistration.status == RegistrationStatus.ACCEPTED))
        if cap and accepted >= cap:
            raise EventError(f"已确认{accepted}家，达到人数上限{cap}")
    reg.status = RegistrationStatus.ACCEPTED if accept else RegistrationStatus.DECLINED
    reg.decided_at = utcnow()
    record(actor, "registration.accepted" if accept else "registration.declined", reg)
    db_session.commit()
    return reg


def registrations(event: Event, *, live_only: bool = False) -> list[EventRegistration]:
    q = (sa.select(EventRegistration).where(EventRegistration.event_id == event.id)
         .options(selectinload(EventRegistration.org)).order_by(EventRegistration.id))
    if live_only:
        q = q.where(EventRegistration.status == RegistrationStatus.ACCEPTED)
    return list(db_session.scalars(q))


def check_in(actor, reg: EventRegistration, *, present: bool = True) -> EventRegistration:
    """The bureau marks a participant present (or not) on the day."""
    _require_edit(actor, reg.event)
    if reg.event.status not in (EventStatus.PUBLISHED, EventStatus.HELD):
        raise EventError("议程发布后才能签到")
    reg.is_present = present
    reg.checked_in_at = utcnow() if present else None
    record(actor, "registration.checked_in" if present else "registration.check_in_undone", reg)
    db_session.commit()
    return reg


# --- meeting requests ------------------------------------------------------------------------


def expiry_hours(event: Event, city=None) -> int:
    if event.request_expiry_hours:
        return event.request_expiry_hours
    policy_ = getattr(city, "policy", None) or {}
    return int(policy_.get("meeting_request_expiry_hours", DEFAULT_REQUEST_EXPIRY_HOURS))


def expire_requests(now: datetime | None = None, event: Event | None = None) -> int:
    """Mark pending requests whose answer time has passed as expired; returns how many."""
    now = now or utcnow()
    q = sa.select(MeetingRequest).where(MeetingRequest.status == RequestStatus.PENDING,
                                        MeetingRequest.expires_at.is_not(None), MeetingRequest.expires_at <= now)
    if event is not None:
        q = q.where(MeetingRequest.event_id == event.id)
    expired = list(db_session.scalars(q.with_for_update(skip_locked=True)))
    for r in expired:
        r.status = RequestStatus.EXPIRED
        record(None, "meeting_request.expired", r, expires_at=r.expires_at.isoformat())
    if expired:
        db_session.commit()
    return len(expired)


def _requests_of(event: Event, org: Organization, statuses=None) -> list[MeetingRequest]:
    q = sa.select(MeetingRequest).where(
        MeetingRequest.event_id == event.id,
        sa.or_(MeetingRequest.from_org_id == org.id, MeetingRequest.to_org_id == org.id))
    if statuses:
        q = q.where(MeetingRequest.status.in_(statuses))
    return list(db_session.scalars(q.order_by(MeetingRequest.id)))


def requests_for(event: Event, org: Organization | None = None) -> list[MeetingRequest]:
    """An organisation's requests in an event (or all of them), after lazily expiring old ones."""
    expire_requests(event=event)
    if org is None:
        q = (sa.select(MeetingRequest).where(MeetingRequest.event_id == event.id)
             .options(selectinload(MeetingRequest.from_org), selectinload(MeetingRequest.to_org))
             .order_by(MeetingRequest.id))
        return list(db_session.scalars(q))
    return _requests_of(event, org)


def request_meeting(actor, event: Event, to_org: Organization, *, message: str | None = None,
                    city=None, now: datetime | None = None) -> MeetingRequest:
    """A registered participant asks a registered participant of the other side for a meeting."""
    now = now or utcnow()
    from_org = actor.org
    if event.status not in (EventStatus.OPEN, EventStatus.SCHEDULING):
        raise EventError("活动当前不接受约见申请")
    mine, theirs = _registration_of(event, from_org), _registration_of(event, to_org)
    if mine is None or not mine.is_live:
        raise EventError("报名经主办方确认后才能发起约见")
    if theirs is None or not theirs.is_live:
        raise EventError("对方尚未确认参加该活动")
    if from_org.is_institution == to_org.is_institution or OrgKind.BUREAU in (from_org.kind, to_org.kind):
        raise EventError("约见须在企业与金融机构之间进行")
    expire_requests(now, event)
    existing = db_session.scalar(sa.select(MeetingRequest).where(
        MeetingRequest.event_id == event.id, MeetingRequest.from_org_id == from_org.id,
        MeetingRequest.to_org_id == to_org.id))
    if existing is not None and existing.status in (RequestStatus.PENDING, RequestStatus.ACCEPTED):
        raise EventError("已向对方发出约见申请")
    reverse = db_session.scalar(sa.select(MeetingRequest).where(
        MeetingRequest.event_id == event.id, MeetingRequest.from_org_id == to_org.id,
        MeetingRequest.to_org_id == from_org.id))
    req = existing or MeetingRequest(event=event, from_org=from_org, to_org=to_org)
    req.message = message
    req.created_at = now
    req.answered_at = None
    req.expires_at = now + timedelta(hours=expiry_hours(event, city))
    req.status = RequestStatus.PENDING
    if reverse is not None and reverse.status in (RequestStatus.PENDING, RequestStatus.ACCEPTED):
        # Both sides asked: a mutual wish, accepted on both sides at once.
        req.status = RequestStatus.ACCEPTED
        req.answered_at = now
        if reverse.status == RequestStatus.PENDING:
            reverse.status = RequestStatus.ACCEPTED
            reverse.answered_at = now
            record(actor, "meeting_request.accepted", reverse, mutual=True)
    db_session.add(req)
    db_session.flush()
    record(actor, "meeting_request.created", req, status=req.status.value)
    db_session.commit()
    return req


def answer_request(actor, req: MeetingRequest, *, accept: bool, now: datetime | None = None) -> MeetingRequest:
    """The asked side accepts or declines a pending request that has not expired."""
    now = now or utcnow()
    if actor.org_id != req.to_org_id:
        raise EventError("只能回复发给本机构的约见申请")
    expire_requests(now, req.event)
    if req.status != RequestStatus.PENDING:
        raise EventError("该约见申请已处理或已过期")
    if req.event.status not in (EventStatus.OPEN, EventStatus.SCHEDULING):
        raise EventError("活动当前不接受约见回复")
    req.status = RequestStatus.ACCEPTED if accept else RequestStatus.DECLINED
    req.answered_at = now
    record(actor, "meeting_request.accepted" if accept else "meeting_request.declined", req)
    db_session.commit()
    return req


def withdraw_request(actor, req: MeetingRequest) -> MeetingRequest:
    if actor.org_id != req.from_org_id:
        raise EventError("只能撤回本机构发出的约见申请")
    if req.status not in (RequestStatus.PENDING, RequestStatus.ACCEPTED) or req.event.agenda_is_final:
        raise EventError("该约见申请当前不能撤回")
    req.status = RequestStatus.WITHDRAWN
    record(actor, "meeting_request.withdrawn", req)
    db_session.commit()
    return req


# --- proposals and the timetable --------------------------------------------------------------


def propose_pairs(event: Event, *, city=None, few: int = FEW_REQUESTS, scorer=None,
                  enterprise: Organization | None = None) -> list[Proposal]:
    """Pairs the platform suggests to enterprises that asked for fewer than `few` meetings.

    Each such enterprise gets its best-scoring registered institutions it has not asked for (or
    been asked by), up to `few` meetings in all, scored by the pluggable pair scorer.
    `enterprise` limits the answer to that one enterprise (its event page).
    """
    scorer = scorer or pair_scorer()
    regs = registrations(event, live_only=True)
    enterprises = [r.org for r in regs if r.org.kind == OrgKind.ENTERPRISE]
    institutions = [r.org for r in regs if r.org.is_institution]
    if not enterprises or not institutions:
        return []
    asked: dict[int, set[int]] = defaultdict(set)
    for r in _live_requests(event):
        asked[r.enterprise.id].add(r.institution.id)
    out: list[Proposal] = []
    for ent in enterprises:
        if enterprise is not None and ent.id != enterprise.id:
            continue
        want = few - len(asked[ent.id])
        if want <= 0:
            continue
        scored = []
        for inst in institutions:
            if inst.id in asked[ent.id]:
                continue
            score, reasons = scorer(ent, inst, city)
            scored.append((-score, inst.ref, inst, score, reasons))
        scored.sort(key=lambda t: (t[0], t[1]))
        for _, _, inst, score, reasons in scored[:want]:
            out.append(Proposal(ent, inst, max(0.0, min(1.0, float(score))), tuple(reasons)))
    return out


def _live_requests(event: Event) -> list[MeetingRequest]:
    """Pending and accepted requests whose two sides are confirmed participants."""
    live = sa.select(EventRegistration.org_id).where(
        EventRegistration.event_id == event.id, EventRegistration.status == RegistrationStatus.ACCEPTED)
    q = (sa.select(MeetingRequest)
         .where(MeetingRequest.event_id == event.id,
                MeetingRequest.status.in_((RequestStatus.PENDING, RequestStatus.ACCEPTED)),
                MeetingRequest.from_org_id.in_(live), MeetingRequest.to_org_id.in_(live))
         .options(selectinload(MeetingRequest.from_org), selectinload(MeetingRequest.to_org))
         .order_by(MeetingRequest.id))
    return list(db_session.scalars(q))


@dataclass
class Problem:
    """The scheduler's input built from the database, with the organisations behind each id."""

    event: scheduling.Event
    orgs: dict[str, Organization] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)


def build_problem(event: Event, *, city=None) -> Problem:
    """Turn registrations, requests, proposals, windows and locked meetings into a scheduling.Event."""
    regs = registrations(event, live_only=True)
    orgs = {r.org.ref: r.org for r in regs}

    def participant(r: EventRegistration) -> scheduling.Participant:
        return scheduling.Participant(r.org.ref, None if r.available_slots is None else frozenset(r.available_slots),
                                      r.max_meetings)

    enterprises = [participant(r) for r in regs if r.org.kind == OrgKind.ENTERPRISE]
    institutions = [participant(r) for r in regs if r.org.is_institution]
    requests = [
        scheduling.Request(r.enterprise.ref, r.institution.ref,
                           "institution" if r.from_org.is_institution else "enterprise",
                           accepted=r.status == RequestStatus.ACCEPTED)
        for r in _live_requests(event)
    ]
    proposals = propose_pairs(event, city=city)
    locked = [
        scheduling.LockedMeeting(m.enterprise.ref, m.institution.ref, m.slot, m.table_no)
        for m in event.meetings if m.is_locked and m.enterprise.ref in orgs and m.institution.ref in orgs
    ]
    problem = scheduling.Event(
        slots=event.slots, tables=event.tables, enterprises=enterprises, institutions=institutions,
        requests=requests,
        proposals=[scheduling.ProposedPair(p.enterprise.ref, p.institution.ref, p.score) for p in proposals],
        locked=locked,
    )
    return Problem(problem, orgs, proposals)


def schedule_event(actor, event: Event, *, city=None, time_limit: float = 8.0, save: bool = True,
                   check_state: bool = True) -> scheduling.Timetable:
    """Build the timetable of an event and store its meetings (locked meetings are kept as they are).

    Web users schedule in the "scheduling" state only; the command line schedules any state
    (`check_state=False`).
    """
    if actor is not None:
        _require_edit(actor, event)
    if check_state and event.status != EventStatus.SCHEDULING:
        raise EventError("只有在“排期中”状态才能排期（请先截止报名）")
    expire_requests(event=event)
    if save:
        _lock(event)
    problem = build_problem(event, city=city)
    t0 = time.perf_counter()
    try:
        tt = scheduling.schedule(problem.event, time_limit=time_limit)
    except ValueError as e:
        raise EventError(f"排期数据不一致：{e}") from None
    info = {
        "status": tt.status, "requested_total": tt.requested_total, "requested_scheduled": tt.requested_scheduled,
        "objective": tt.objective._asdict(), "bound": None if tt.bound is None else tt.bound._asdict(),
        "meetings": len(tt.meetings), "proposals": len(problem.proposals),
        "seconds": round(time.perf_counter() - t0, 3),
    }
    if save:
        _store_meetings(event, tt, problem)
        event.schedule_info = info
        event.scheduled_at = utcnow()
        record(actor, "event.scheduled", event, **{k: v for k, v in info.items() if k != "bound"})
        db_session.commit()
    return tt


def _store_meetings(event: Event, tt: scheduling.Timetable, problem: Problem) -> None:
    keep = {(m.enterprise.ref, m.institution.ref): m for m in event.meetings if m.is_locked
            and m.enterprise.ref in problem.orgs and m.institution.ref in problem.orgs}
    for m in list(event.meetings):
        if (m.enterprise.ref, m.institution.ref) not in keep:
            event.meetings.remove(m)
    # Deletes first, so a pair or slot freed by the re-run can be taken again.
    db_session.flush()
    for m in tt.meetings:
        if m.locked:
            old = keep[(m.enterprise, m.institution)]
            old.is_requested, old.score = m.requested, Decimal(str(round(m.score, 3)))
            continue
        event.meetings.append(Meeting(
            slot=m.slot, table_no=m.table, enterprise=problem.orgs[m.enterprise],
            institution=problem.orgs[m.institution], is_requested=m.requested,
            score=Decimal(str(round(m.score, 3))), is_locked=False,
        ))


def set_locked(actor, meeting: Meeting, locked: bool) -> Meeting:
    """Lock a meeting in place (or release it); a re-run keeps locked meetings where they are."""
    _require_edit(actor, meeting.event)
    if meeting.event.status != EventStatus.SCHEDULING:
        raise EventError("只有在“排期中”状态才能锁定或解锁洽谈")
    meeting.is_locked = locked
    record(actor, "meeting.locked" if locked else "meeting.unlocked", meeting)
    db_session.commit()
    return meeting


def clear_schedule(actor, event: Event) -> None:
    _require_edit(actor, event)
    if event.status != EventStatus.SCHEDULING:
        raise EventError("只有在“排期中”状态才能清空排期")
    n = len(event.meetings)
    event.meetings.clear()
    event.schedule_info = None
    record(actor, "event.schedule_cleared", event, meetings=n)
    db_session.commit()


def meetings_of(event: Event, org: Organization | None = None) -> list[Meeting]:
    q = (sa.select(Meeting).where(Meeting.event_id == event.id)
         .options(selectinload(Meeting.enterprise), selectinload(Meeting.institution))
         .order_by(Meeting.slot, Meeting.table_no))
    if org is not None:
        q = q.where(sa.or_(Meeting.enterprise_id == org.id, Meeting.institution_id == org.id))
    return list(db_session.scalars(q))


# --- outcomes and the report ----------------------------------------------------------------


def _amount(value, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    value = Decimal(str(value))
    if value < 0 or value > Decimal(10) ** 7:
        raise EventError(f"{name}应在0至10,000,000万元之间")
    return value


def offers_for_meeting(meeting: Meeting) -> list:
    """The offers this meeting's institution made on this meeting's enterprise's demands, newest first."""
    from models.offers import Offer

    return list(db_session.scalars(
        sa.select(Offer).join(Demand, Offer.demand_id == Demand.id)
        .where(Offer.org_id == meeting.institution_id, Demand.org_id == meeting.enterprise_id)
        .order_by(Offer.created_at.desc(), Offer.id.desc())))


def record_outcome(actor, meeting: Meeting, *, held: bool = True, intent_amount=None, signed_amount=None,
                   disbursed_amount=None, demand_ref: str | None = None, note: str | None = None,
                   offer_ref: str | None = None) -> Meeting:
    """The institution or the bureau records what came of a meeting (intent, signed, disbursed kept apart)."""
    if not can_edit(actor, meeting):
        raise EventError("只有参会金融机构或主办方可以登记洽谈结果")
    if meeting.event.status not in (EventStatus.PUBLISHED, EventStatus.HELD, EventStatus.CLOSED):
        raise EventError("议程发布后才能登记洽谈结果")
    intent = _amount(intent_amount, "意向金额")
    signed = _amount(signed_amount, "签约金额")
    disbursed = _amount(disbursed_amount, "放款金额")
    if disbursed is not None and signed is None:
        raise EventError("须先登记签约金额，才能登记放款金额")
    if signed is not None and disbursed is not None and disbursed > signed:
        raise EventError("放款金额不能大于签约金额")
    if not held and any(v is not None for v in (intent, signed, disbursed)):
        raise EventError("未洽谈的会面不能登记金额")
    demand_ref = (demand_ref or "").strip() or None
    offer = None
    if (offer_ref or "").strip():
        offer = next((o for o in offers_for_meeting(meeting) if o.ref == offer_ref.strip()), None)
        if offer is None:
            raise EventError(f"方案“{offer_ref.strip()}”不是该机构对该企业需求的方案")
        if demand_ref is not None and demand_ref != offer.demand.ref:
            raise EventError("所选方案不是针对该融资需求的方案")
        demand_ref = offer.demand.ref
    if demand_ref is not None:
        # The ref must name one of the meeting enterprise's own demands (the demand page lists the outcome).
        owner = db_session.scalar(sa.select(Demand.org_id).where(Demand.ref == demand_ref))
        if owner != meeting.enterprise_id:
            raise EventError(f"融资需求编号“{demand_ref}”不是该企业的融资需求")
    meeting.is_held = held
    meeting.intent_amount, meeting.signed_amount, meeting.disbursed_amount = intent, signed, disbursed
    meeting.demand_ref = demand_ref
    meeting.offer_id = offer.id if offer is not None else None
    meeting.outcome_note = (note or "").strip() or None
    meeting.recorded_by_id = getattr(actor, "id", None)
    meeting.recorded_at = utcnow()
    record(actor, "meeting.outcome_recorded", meeting, held=held,
           intent_amount=str(intent) if intent is not None else None,
           signed_amount=str(signed) if signed is not None else None,
           disbursed_amount=str(disbursed) if disbursed is not None else None,
           offer=offer.ref if offer is not None else None)
    db_session.commit()
    return meeting


@dataclass
class Tally:
    meetings: int = 0
    held: int = 0
    requested: int = 0
    intent: Decimal = Decimal(0)
    signed: Decimal = Decimal(0)
    disbursed: Decimal = Decimal(0)

    def add(self, m: Meeting) -> None:
        self.meetings += 1
        self.held += int(bool(m.is_held))
        self.requested += int(m.is_requested)
        self.intent += m.intent_amount or 0
        self.signed += m.signed_amount or 0
        self.disbursed += m.disbursed_amount or 0


@dataclass
class Report:
    total: Tally
    by_institution: list[tuple[Organization, Tally]]
    by_district: list[tuple[str, Tally]]
    registered: int
    present: int


def event_report(event: Event) -> Report:
    """Meetings held, intents, signed and disbursed amounts: in all, by institution, by district."""
    total = Tally()
    by_inst: dict[int, tuple[Organization, Tally]] = {}
    by_district: dict[str, Tally] = defaultdict(Tally)
    for m in meetings_of(event):
        total.add(m)
        by_inst.setdefault(m.institution_id, (m.institution, Tally()))[1].add(m)
        by_district[m.enterprise.district or "未填写"].add(m)
    regs = registrations(event, live_only=True)
    return Report(
        total=total,
        by_institution=sorted(by_inst.values(), key=lambda t: (-t[1].intent, t[0].ref)),
        by_district=sorted(by_district.items(), key=lambda t: (-t[1].intent, t[0])),
        registered=len(regs), present=sum(r.is_present for r in regs),
    )


def upcoming_events(user, *, today=None, limit: int = 5) -> list[Event]:
    """Events still ahead that the user sees, soonest first (for the home page)."""
    from datetime import date

    today = today or date.today()
    return [e for e in reversed(events_for(user)) if e.date >= today
            and e.status in (EventStatus.OPEN, EventStatus.SCHEDULING, EventStatus.PUBLISHED)][:limit]
