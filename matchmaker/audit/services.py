"""The bureau's view of the audit log: filters, the district scope, paging and the Excel export."""
from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from matchmaker.workdays import local_midnight
from models import (
    AuditEntry,
    Deal,
    Demand,
    Event,
    Offer,
    Organization,
    Product,
    PushBatch,
    TechProject,
    User,
    db_session,
)

PER_PAGE = 50
EXPORT_MAX = 50_000

OBJECT_TYPE_LABELS = {
    "demand": "融资需求", "offer": "申请与方案", "deal": "签约", "tech_project": "技改项目",
    "organization": "机构", "user": "用户", "product": "金融产品", "event": "对接活动",
    "event_registration": "活动报名", "meeting_request": "约见请求", "meeting": "洽谈", "push_batch": "推送清单",
    "notice": "通知公告", "api_token": "API 令牌", "webhook_endpoint": "Webhook", "webhook_delivery": "Webhook 投递",
    "saved_search": "需求订阅", "scorecard": "服务评价榜",
}
# Objects whose audit ref begins with their event's ref ("ev-0001/ent-0042").
_EVENT_PARTS = ("event_registration", "meeting_request", "meeting")


@dataclass
class AuditFilters:
    object_type: str = ""
    object_ref: str = ""
    user: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        f = cls(object_type=(args.get("object_type") or "").strip()[:32],
                object_ref=(args.get("object_ref") or "").strip()[:64],
                user=(args.get("user") or "").strip()[:100], action=(args.get("action") or "").strip()[:64])
        for name in ("date_from", "date_to"):
            raw = (args.get(name) or "").strip()
            if raw:
                try:
                    setattr(f, name, date.fromisoformat(raw))
                except ValueError:
                    f.errors[name] = "请输入有效日期（如 2026-12-31）"
        if f.date_from and f.date_to and f.date_from > f.date_to:
            f.errors["date_to"] = "结束日期不能早于开始日期"
        if f.object_type and f.object_type not in OBJECT_TYPE_LABELS:
            f.errors["object_type"] = "请选择列表中的对象类型"
        return f

    def args(self) -> dict[str, str]:
        """The filters as query arguments (for the export link and the pages)."""
        values = {"object_type": self.object_type, "object_ref": self.object_ref, "user": self.user,
                  "action": self.action, "date_from": self.date_from.isoformat() if self.date_from else "",
                  "date_to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in values.items() if v}


def _local_midnight_utc(day: date) -> datetime:
    return local_midnight(day, current_app.extensions["city"])


def _in_district(district: str):
    """Entries about objects of `district` (the enterprise's district for demands, offers, deals, projects)."""
    A = AuditEntry
    ent = sa.select(Organization.id).where(Organization.district == district)
    owned = {
        "demand": sa.select(Demand.ref).where(Demand.org_id.in_(ent)),
        "offer": sa.select(Offer.ref).join(Demand, Offer.demand_id == Demand.id).where(Demand.org_id.in_(ent)),
        "deal": sa.select(Deal.ref).join(Offer, Deal.offer_id == Offer.id).join(Demand, Offer.demand_id == Demand.id)
        .where(Demand.org_id.in_(ent)),
        "tech_project": sa.select(TechProject.ref).where(TechProject.org_id.in_(ent)),
        "organization": sa.select(Organization.ref).where(Organization.district == district),
        "user": sa.select(User.ref).where(User.org_id.in_(ent)),
        "product": sa.select(Product.ref).where(Product.org_id.in_(ent)),
        "event": sa.select(Event.ref).where(Event.district == district),
        "push_batch": sa.select(PushBatch.ref).where(PushBatch.bureau_id.in_(ent)),
    }
    conditions = [sa.and_(A.object_type == kind, A.object_ref.in_(refs)) for kind, refs in owned.items()]
    conditions.append(sa.and_(A.object_type.in_(_EVENT_PARTS), sa.exists().where(
        Event.district == district, A.object_ref.startswith(Event.ref + "/"))))
    return sa.or_(*conditions)


def scoped_query(user, filters: AuditFilters) -> sa.Select:
    """Entries the bureau `user` may read, narrowed by `filters`, newest first.

    The city bureau reads everything; a district bureau reads what concerns its district's objects
    and whatever its own staff did.
    """
    A = AuditEntry
    q = sa.select(A)
    district = user.org.district
    if district is not None:
        q = q.where(sa.or_(A.org_id == user.org_id, _in_district(district)))
    if filters.object_type and "object_type" not in filters.errors:
        q = q.where(A.object_type == filters.object_type)
    if filters.object_ref:
        q = q.where(A.object_ref == filters.object_ref)
    if filters.action:
        # "demand." lists every action on demands; a full name lists that one.
        q = q.where(A.action.startswith(filters.action, autoescape=True) if filters.action.endswith(".")
                    else A.action == filters.action)
    if filters.user:
        pattern = filters.user
        matching = sa.select(User.id).where(sa.or_(User.username == pattern, User.ref == pattern,
                                                   User.name.contains(pattern, autoescape=True)))
        q = q.where(A.user_id.in_(matching))
    if filters.date_from and "date_from" not in filters.errors:
        q = q.where(A.at >= _local_midnight_utc(filters.date_from))
    if filters.date_to and not {"date_to", "date_from"} & filters.errors.keys():
        q = q.where(A.at < _local_midnight_utc(filters.date_to + timedelta(days=1)))
    return q.order_by(A.at.desc(), A.id.desc())


@dataclass(frozen=True)
class Row:
    entry: AuditEntry
    user: User | None
    org: Organization | None

    @property
    def type_label(self) -> str:
        return OBJECT_TYPE_LABELS.get(self.entry.object_type, self.entry.object_type)

    @property
    def details_pairs(self) -> str:
        """The details as the page shows them: "key: value" pairs."""
        def show(key, value) -> str:
            if key == "sha256" and isinstance(value, str):
                return value[:12] + "…"  # enough to tell files apart on screen; the export has it whole
            return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)

        return "；".join(f"{k}: {show(k, v)}" for k, v in (self.entry.details or {}).items())

    @property
    def details_text(self) -> str:
        return json.dumps(self.entry.details or {}, ensure_ascii=False, default=str)


def _rows(entries: list[AuditEntry]) -> list[Row]:
    users = {u.id: u for u in db_session.scalars(sa.select(User).where(
        User.id.in_({e.user_id for e in entries if e.user_id})))}
    orgs = {o.id: o for o in db_session.scalars(sa.select(Organization).where(
        Organization.id.in_({e.org_id for e in entries if e.org_id})))}
    return [Row(e, users.get(e.user_id), orgs.get(e.org_id)) for e in entries]


def page(user, filters: AuditFilters, number: int, per_page: int = PER_PAGE) -> tuple[list[Row], int]:
    q = scoped_query(user, filters)
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery()))
    entries = list(db_session.scalars(q.limit(per_page).offset((number - 1) * per_page)))
    return _rows(entries), total


def actions() -> list[str]:
    """The action names in the log (for the filter's list)."""
    return list(db_session.scalars(sa.select(AuditEntry.action).distinct().order_by(AuditEntry.action)))


def workbook(user, filters: AuditFilters) -> tuple[io.BytesIO, int]:
    """The filtered list as an .xlsx (at most EXPORT_MAX rows, newest first) and the number of rows written."""
    from matchmaker.formatting import local_dt

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("审计日志")

    def text(value: str) -> WriteOnlyCell:
        # Names, file names and details come from users: a leading "=" must stay text, never a formula.
        cell = WriteOnlyCell(ws, value)
        cell.data_type = "s"
        return cell

    ws.append(["时间", "用户", "用户名", "机构", "操作", "对象类型", "对象编号", "详情"])
    written = 0
    q = scoped_query(user, filters).limit(EXPORT_MAX)
    for chunk in db_session.scalars(q).partitions(1000):
        for r in _rows(list(chunk)):
            e = r.entry
            ws.append([local_dt(e.at, "%Y-%m-%d %H:%M:%S"), *map(text, (
                r.user.name if r.user else "系统", r.user.username if r.user else "", r.org.name if r.org else "",
                e.action, r.type_label, e.object_ref, r.details_text))])
            written += 1
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out, written
