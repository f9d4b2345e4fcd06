"""Matching events (对接活动): the event and its life cycle, registrations, meeting requests and meetings."""
from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.db import Base
from models.organizations import Organization, User
from models.types import CodeEnum, Money, utcnow

if TYPE_CHECKING:
    from models.offers import Offer


class EventKind(StrEnum):
    BANK_ENTERPRISE_MEETING = "bank_enterprise_meeting"
    FINANCING_NEGOTIATION = "financing_negotiation"
    JOINT_OFFICE = "joint_office"
    ROADSHOW = "roadshow"


class EventStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    SCHEDULING = "scheduling"
    PUBLISHED = "published"
    HELD = "held"
    CLOSED = "closed"


class RegistrationStatus(StrEnum):
    INVITED = "invited"      # the bureau invited; the organisation has not answered
    PENDING = "pending"      # the organisation registered; the bureau has not decided
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class RequestStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


# The one table of the event life cycle: from a state, the states it may go to and the button's words.
EVENT_TRANSITIONS: dict[EventStatus, dict[EventStatus, str]] = {
    EventStatus.DRAFT: {EventStatus.OPEN: "开放报名"},
    EventStatus.OPEN: {EventStatus.SCHEDULING: "截止报名，开始排期", EventStatus.DRAFT: "撤回为草稿"},
    EventStatus.SCHEDULING: {EventStatus.PUBLISHED: "发布议程", EventStatus.OPEN: "重新开放报名"},
    EventStatus.PUBLISHED: {EventStatus.HELD: "标记为已举办", EventStatus.SCHEDULING: "撤回议程，重新排期"},
    EventStatus.HELD: {EventStatus.CLOSED: "结束活动"},
    EventStatus.CLOSED: {},
}

EVENT_LABELS = {
    "draft": "草稿", "open": "报名中", "scheduling": "排期中", "published": "议程已发布", "held": "已举办",
    "closed": "已结束",
}
REGISTRATION_LABELS = {
    "invited": "已邀请", "pending": "待确认", "accepted": "已确认", "declined": "未通过", "withdrawn": "已退出",
}
REQUEST_LABELS = {
    "pending": "待回复", "accepted": "已接受", "declined": "已谢绝", "expired": "已过期", "withdrawn": "已撤回",
}


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[EventKind] = mapped_column(CodeEnum(EventKind))
    title: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[EventStatus] = mapped_column(CodeEnum(EventStatus), default=EventStatus.DRAFT, index=True)
    # Null for a city-wide event; a district bureau's events carry its district.
    district: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    organizer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organizations.id"))
    description: Mapped[str | None] = mapped_column(sa.Text)

    date: Mapped[date]
    venue: Mapped[str | None] = mapped_column(sa.String(200))
    start_time: Mapped[time] = mapped_column(default=time(9, 0))
    registration_deadline: Mapped[datetime | None]  # UTC
    slots: Mapped[int] = mapped_column(default=12)
    slot_minutes: Mapped[int] = mapped_column(default=15)
    # A break of `break_minutes` comes after each listed slot index (0-based).
    breaks: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    break_minutes: Mapped[int] = mapped_column(default=0)
    tables: Mapped[int] = mapped_column(default=10)
    max_participants: Mapped[int | None]
    # Hours a meeting request waits for an answer; null: the city's default.
    request_expiry_hours: Mapped[int | None]

    # The last timetable run: objective tuple, bound, status, time (see events.services.schedule_event).
    schedule_info: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    scheduled_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    organizer: Mapped[Organization | None] = relationship(foreign_keys=[organizer_id])
    registrations: Mapped[list[EventRegistration]] = relationship(
        back_populates="event", order_by="EventRegistration.id", cascade="all, delete-orphan"
    )
    meetings: Mapped[list[Meeting]] = relationship(
        back_populates="event", order_by=lambda: [Meeting.slot, Meeting.table_no], cascade="all, delete-orphan"
    )

    def can_go_to(self, status: EventStatus) -> bool:
        return status in EVENT_TRANSITIONS[self.status]

    @property
    def next_states(self) -> dict[EventStatus, str]:
        return EVENT_TRANSITIONS[self.status]

    @property
    def agenda_is_final(self) -> bool:
        return self.status in (EventStatus.PUBLISHED, EventStatus.HELD, EventStatus.CLOSED)

    def __repr__(self) -> str:
        return f"<Event {self.ref} {self.status}>"


class EventRegistration(Base):
    __tablename__ = "event_registrations"
    __table_args__ = (sa.UniqueConstraint("event_id", "org_id", name="uq_event_registrations_event_org"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id"), index=True)
    org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    status: Mapped[RegistrationStatus] = mapped_column(CodeEnum(RegistrationStatus), default=RegistrationStatus.PENDING)
    # Who attends (names), for institutions and enterprises alike.
    attendees: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The financing demands the enterprise brings, as demand refs until demands are linked.
    demand_refs: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # Slot indices the participant can attend; null means every slot.
    available_slots: Mapped[list[int] | None] = mapped_column(sa.JSON)
    max_meetings: Mapped[int | None]
    note: Mapped[str | None] = mapped_column(sa.String(500))
    is_present: Mapped[bool] = mapped_column(default=False)
    checked_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship(back_populates="registrations")
    org: Mapped[Organization] = relationship()

    @property
    def ref(self) -> str:
        """The natural key in the audit log and interchange: event ref / organisation ref."""
        return f"{self.event.ref}/{self.org.ref}"

    @property
    def is_live(self) -> bool:
        return self.status == RegistrationStatus.ACCEPTED


class MeetingRequest(Base):
    __tablename__ = "meeting_requests"
    __table_args__ = (sa.UniqueConstraint("event_id", "from_org_id", "to_org_id", name="uq_meeting_requests_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id"), index=True)
    from_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    to_org_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"))
    status: Mapped[RequestStatus] = mapped_column(CodeEnum(RequestStatus), default=RequestStatus.PENDING, index=True)
    message: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(index=True)
    answered_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship()
    from_org: Mapped[Organization] = relationship(foreign_keys=[from_org_id])
    to_org: Mapped[Organization] = relationship(foreign_keys=[to_org_id])

    @property
    def ref(self) -> str:
        return f"{self.event.ref}/{self.from_org.ref}>{self.to_org.ref}"

    @property
    def enterprise(self) -> Organization:
        return self.to_org if self.from_org.is_institution else self.from_org

    @property
    def institution(self) -> Organization:
        return self.from_org if self.from_org.is_institution else self.to_org


class Meeting(Base):
    """One scheduled 1:1 meeting and, after it, its outcome (amounts in 万元, kept apart)."""

    __tablename__ = "meetings"
    __table_args__ = (
        sa.UniqueConstraint("event_id", "slot", "enterprise_id", name="uq_meetings_enterprise_slot"),
        sa.UniqueConstraint("event_id", "slot", "institution_id", name="uq_meetings_institution_slot"),
        sa.UniqueConstraint("event_id", "enterprise_id", "institution_id", name="uq_meetings_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(sa.ForeignKey("events.id"), index=True)
    slot: Mapped[int]
    table_no: Mapped[int]
    enterprise_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("organizations.id"), index=True)
    is_requested: Mapped[bool] = mapped_column(default=False)
    score: Mapped[Decimal] = mapped_column(sa.Numeric(6, 3), default=Decimal(0))
    is_locked: Mapped[bool] = mapped_column(default=False)

    # Outcome: intent at the table, then signing and disbursement reported later.
    is_held: Mapped[bool | None]
    intent_amount: Mapped[Decimal | None] = mapped_column(Money)
    signed_amount: Mapped[Decimal | None] = mapped_column(Money)
    disbursed_amount: Mapped[Decimal | None] = mapped_column(Money)
    outcome_note: Mapped[str | None] = mapped_column(sa.String(500))
    # The enterprise's demand the meeting was about, and the offer that came of it: through the offer
    # and its deal the money agreed at the table is in the offers pipeline and its statistics.
    demand_ref: Mapped[str | None] = mapped_column(sa.String(64))
    offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("offers.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None]

    event: Mapped[Event] = relationship(back_populates="meetings")
    enterprise: Mapped[Organization] = relationship(foreign_keys=[enterprise_id])
    institution: Mapped[Organization] = relationship(foreign_keys=[institution_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    offer: Mapped[Offer | None] = relationship("Offer")

    @property
    def ref(self) -> str:
        return f"{self.event.ref}/{self.slot}/{self.enterprise.ref}>{self.institution.ref}"

    @property
    def has_outcome(self) -> bool:
        return self.recorded_at is not None
