"""The bureau console's figures: sources and metric definitions, aggregated in SQL per month and per dimension.

Every figure is one `Metric` of a `Source`. A source is a table (demands, projects, events, meetings,
offers, deals, disbursements) with its scope column (the district a bureau covers), its time column and
the way its rows are listed for a drill-down. The offer side (offers made, accepted, signed, disbursed)
belongs to the demand's enterprise; signed and disbursed are separate figures everywhere. The page
reads the figures from the summary table that `summary.py` keeps from these same definitions.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from matchmaker.demands.subsidy import equipment_subsidy_sql, interest_subsidy_sql
from matchmaker.workdays import local_midnight
from models import (
    Deal,
    Demand,
    DemandStatus,
    Disbursement,
    Event,
    EventStatus,
    FinancingType,
    Meeting,
    Offer,
    Organization,
    OrgKind,
    OrgStatus,
    ProgressUpdate,
    Purpose,
    Size,
    TechProject,
    db_session,
    label,
)
from models.types import utcnow

MAX_MONTHS = 36
HELD = (EventStatus.HELD, EventStatus.CLOSED)


class ConsoleError(Exception):
    """A filter the console cannot use; the message is shown next to the filter."""


# --- period and scope ------------------------------------------------------------------------------


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.extensions["city"].timezone)


def parse_month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except (ValueError, AttributeError):
        raise ConsoleError(f"“{text}”不是有效的月份（格式：2026-10）") from None


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


def local_month(now: datetime | None = None) -> date:
    now = (now or utcnow()).replace(tzinfo=UTC).astimezone(_zone())
    return date(now.year, now.month, 1)


@dataclass(frozen=True)
class Scope:
    """Whose figures over which months: `district` None is the whole city."""

    district: str | None
    months: tuple[date, ...]

    @property
    def start(self) -> date:
        return self.months[0]

    @property
    def end(self) -> date:
        """The first day after the period (exclusive)."""
        return _next_month(self.months[-1])

    def utc_bound(self, d: date) -> datetime:
        """Local midnight of `d` in the city as naive UTC, the way times are stored."""
        return local_midnight(d, current_app.extensions["city"])

    @property
    def labels(self) -> list[str]:
        return [m.strftime("%Y-%m") for m in self.months]

    def args(self) -> dict:
        out = {"start": self.labels[0], "end": self.labels[-1]}
        if self.district:
            out["district"] = self.district
        return out


def scope_for(user, start: str | None = None, end: str | None = None, district: str | None = None) -> Scope:
    """The scope a bureau user asks for; a district bureau is held to its own district.

    Raises ConsoleError for a malformed period and LookupError for a district outside the user's
    reach (the view answers 404: another district's figures are not disclosed).
    """
    districts = current_app.extensions["city"].districts
    own = user.org.district
    if own is not None:
        if district and district != own:
            raise LookupError(district)
        district = own
    elif district and district not in districts:
        raise ConsoleError(f"“{district}”不是本市的区（市）")
    last = parse_month(end) if end else local_month()
    first = parse_month(start) if start else date(last.year - 1 + (last.month == 12), last.month % 12 + 1, 1)
    if first > last:
        raise ConsoleError("起始月份不能晚于结束月份")
    months = [first]
    while months[-1] < last:
        months.append(_next_month(months[-1]))
    if len(months) > MAX_MONTHS:
        raise ConsoleError(f"统计期间最长 {MAX_MONTHS} 个月")
    return Scope(district=district or None, months=tuple(months))


# --- sources ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    """A breakdown: a column of the enterprise (`org_column`), of the row (`row_column`), or a JSON list."""

    key: str
    title: str
    org_column: Callable[[], sa.ColumnElement] | None = None
    row_column: Callable[[Source], sa.ColumnElement | None] | None = None
    codes: Callable[[], list[str]] | None = None
    has: Callable[[Source, str], sa.ColumnElement] | None = None

    def values(self) -> list[str]:
        """The known values in display order (the city's districts and clusters, the codes)."""
        return self.codes() if self.codes else []

    def row(self, src: Source) -> sa.ColumnElement | None:
        return self.row_column(src) if self.row_column else None


def _orgs_where(cond) -> sa.Select:
    return sa.select(Organization.id).where(cond)


@dataclass
class Source:
    """A table the console counts, with its scope, time and listing."""

    key: str
    title: str
    # The select the figures start from (no join to the organisations: see `scoped`).
    base: Callable[[], sa.Select]
    # The enterprise a row belongs to; None for events, which carry their own district.
    org: Callable[[], sa.ColumnElement] | None
    time: Callable[[], sa.ColumnElement]
    # "utc": a stored UTC datetime; "local": a date already in the city's calendar.
    time_kind: str
    dims: tuple[str, ...] = ()
    entity: type | None = None

    def in_district(self, district: str) -> sa.ColumnElement:
        # The enterprises of a district are a small set: filtering by it beats joining every row.
        if self.org is None:
            return Event.district == district
        return self.org().in_(_orgs_where(Organization.district == district))

    def scoped(self, scope: Scope, q: sa.Select | None = None, *, period: bool = True, metrics=()) -> sa.Select:
        q = self.base(metrics) if q is None else q
        if scope.district:
            q = q.where(self.in_district(scope.district))
        if period:
            lo, hi = self.bounds(scope.start), self.bounds(scope.end)
            q = q.where(self.time() >= lo, self.time() < hi)
        return q

    def bounds(self, d: date):
        if self.time_kind == "local":
            return d
        return local_midnight(d, current_app.extensions["city"])

    def month_bucket(self, scope: Scope) -> sa.ColumnElement:
        """The month of each row in the city's calendar, as 'YYYY-MM': a CASE over the month boundaries.

        Portable between SQLite and PostgreSQL and right across any zone's offset changes, because
        the boundaries are computed here in the city's zone rather than by database date functions.
        """
        whens = [(self.time() < self.bounds(_next_month(m)), m.strftime("%Y-%m")) for m in scope.months]
        return sa.case(*whens, else_=sa.null())


def first_signed():
    """When each enterprise created its first demand that was signed or funded (for 首贷)."""
    return (
        sa.select(Demand.org_id.label("org_id"), sa.func.min(Demand.created_at).label("at"))
        .where(Demand.status.in_([DemandStatus.SIGNED, DemandStatus.FUNDED]))
        .group_by(Demand.org_id)
        .subquery("first_signed")
    )


_first_signed: list[sa.Subquery] = []


def _signed():
    # One subquery object for the base and the expressions that refer to it.
    if not _first_signed:
        _first_signed.append(first_signed())
    return _first_signed[0]


def posted_at() -> sa.ColumnElement:
    # Imported history carries no submission time: then the demand's creation time stands for it.
    return sa.func.coalesce(Demand.submitted_at, Demand.created_at)


def _demands_posted_base(metrics=()) -> sa.Select:
    q = sa.select().select_from(Demand)
    if any(m.key == "first_loan" for m in metrics):
        # Only 首贷 needs each enterprise's first signing; the other figures read a narrow index.
        signed = _signed()
        q = q.outerjoin(signed, signed.c.org_id == Demand.org_id)
    return q.where(sa.or_(Demand.submitted_at.is_not(None),
                          Demand.status.not_in([DemandStatus.DRAFT, DemandStatus.WITHDRAWN])))


def _demands_published_base(metrics=()) -> sa.Select:
    return sa.select().select_from(Demand).where(Demand.published_at.is_not(None))


def _projects_base(metrics=()) -> sa.Select:
    return sa.select().select_from(TechProject)


def _events_base(metrics=()) -> sa.Select:
    return sa.select().select_from(Event).where(Event.status.in_(HELD))


def _meetings_base(metrics=()) -> sa.Select:
    return (sa.select().select_from(Meeting).join(Event, Meeting.event_id == Event.id)
            .where(Event.status.in_(HELD)))


def offered_at() -> sa.ColumnElement:
    # An offer is made when its terms are given: a bid at once, an application at its answer
    # (dating it by the application would count it in the month the enterprise asked).
    return sa.func.coalesce(Offer.answered_at, Offer.created_at)


def _offers_made_base(metrics=()) -> sa.Select:
    # Terms given: an application still waiting, or declined, carries no amount and is no offer.
    return sa.select().select_from(Offer).join(Demand, Offer.demand_id == Demand.id).where(Offer.amount.is_not(None))


def _offers_accepted_base(metrics=()) -> sa.Select:
    return sa.select().select_from(Offer).join(Demand, Offer.demand_id == Demand.id) \
        .where(Offer.accepted_at.is_not(None))


def _deals_base(metrics=()) -> sa.Select:
    return (sa.select().select_from(Deal).join(Offer, Deal.offer_id == Offer.id)
            .join(Demand, Offer.demand_id == Demand.id))


def _disbursements_base(metrics=()) -> sa.Select:
    return (sa.select().select_from(Disbursement).join(Deal, Disbursement.deal_id == Deal.id)
            .join(Offer, Deal.offer_id == Offer.id).join(Demand, Offer.demand_id == Demand.id))


_ENTERPRISE_DIMS = ("district", "cluster", "purpose", "financing_type", "size")
# The offers' figures break down by the demand's enterprise and by the institution that offered.
_OFFER_DIMS = _ENTERPRISE_DIMS + ("institution",)
OFFER_SOURCES = ("offers_made", "offers_accepted", "deals", "disbursements")

SOURCES: dict[str, Source] = {
    s.key: s for s in (
        Source("demands_posted", "提交的融资需求", _demands_posted_base, lambda: Demand.org_id,
               posted_at, "utc", _ENTERPRISE_DIMS, Demand),
        Source("demands_published", "发布的融资需求", _demands_published_base, lambda: Demand.org_id,
               lambda: Demand.published_at, "utc", _ENTERPRISE_DIMS, Demand),
        Source("projects", "技改项目", _projects_base, lambda: TechProject.org_id,
               lambda: TechProject.created_at, "utc", ("district", "cluster", "purpose", "size"), TechProject),
        # An event belongs to the district that organised it; city-wide events only to the city's figures.
        Source("events", "对接活动", _events_base, None, lambda: Event.date, "local", ("district",), Event),
        # A meeting's outcome belongs to the enterprise's district, whoever organised the event.
        Source("meetings", "活动洽谈", _meetings_base, lambda: Meeting.enterprise_id, lambda: Event.date, "local",
               ("district", "cluster", "size"), Meeting),
        # The offer side: an offer, its deal and its disbursements belong to the demand's enterprise.
        Source("offers_made", "机构报价", _offers_made_base, lambda: Demand.org_id, offered_at, "utc",
               _OFFER_DIMS, Offer),
        Source("offers_accepted", "接受的报价", _offers_accepted_base, lambda: Demand.org_id,
               lambda: Offer.accepted_at, "utc", _OFFER_DIMS, Offer),
        Source("deals", "签约", _deals_base, lambda: Demand.org_id, lambda: Deal.signed_on, "local",
               _OFFER_DIMS, Deal),
        Source("disbursements", "放款", _disbursements_base, lambda: Demand.org_id,
               lambda: Disbursement.disbursed_on, "local", _OFFER_DIMS, Disbursement),
    )
}


def _purpose_column(src: Source):
    return TechProject.category if src.key == "projects" else Demand.purpose


def _json_has(column, code: str):
    # The same portable "list contains" as the demand pool: each code appears quoted in the JSON text.
    return sa.cast(column, sa.Text).like(f'%"{code}"%')


def _cities():
    return current_app.extensions["city"]


DIMENSIONS: dict[str, Dimension] = {
    d.key: d for d in (
        Dimension("district", "区（市）", org_column=lambda: Organization.district,
                  row_column=lambda s: Event.district if s.org is None else None,
                  codes=lambda: list(_cities().districts)),
        Dimension("cluster", "产业集群", org_column=lambda: Organization.industry,
                  codes=lambda: list(_cities().clusters)),
        Dimension("purpose", "融资用途", row_column=_purpose_column, codes=lambda: [p.value for p in Purpose]),
        Dimension("financing_type", "融资方式", codes=lambda: [t.value for t in FinancingType],
                  has=lambda s, code: _json_has(Demand.financing_types, code)),
        Dimension("size", "企业规模", org_column=lambda: Organization.size, codes=lambda: [z.value for z in Size]),
        # The institution is a column of the offer (its id); its name is looked up for the labels.
        Dimension("institution", "金融机构", row_column=lambda s: Offer.org_id if s.key in OFFER_SOURCES else None),
    )
}


def _grouped(src: Source, q: sa.Select, dim: Dimension, exprs: list) -> list[tuple]:
    """Rows (value, *figures) of `exprs` over `q` grouped by the dimension.

    An enterprise's attribute is grouped in two steps: first per enterprise in the source table,
    then the few thousand per-enterprise lines by the attribute, so no row is joined on its own.
    """
    row = dim.row(src)
    if row is not None:
        col = row.label("value")
        return [tuple(r) for r in db_session.execute(q.add_columns(col, *exprs).group_by(col))]
    per_org = q.add_columns(src.org().label("org_id"), *[e.label(f"m{i}") for i, e in enumerate(exprs)]) \
        .group_by(src.org()).subquery("per_org")
    col = dim.org_column().label("value")
    outer = (sa.select(col, *[sa.func.sum(per_org.c[f"m{i}"]) for i in range(len(exprs))])
             .select_from(per_org.join(Organization, Organization.id == per_org.c.org_id)).group_by(col))
    return [tuple(r) for r in db_session.execute(outer)]


def dimension_label(dim: str, value: str | None) -> str:
    if dim == "institution" and value:
        org = db_session.get(Organization, int(value)) if str(value).isdigit() else None
        return org.name if org else str(value)
    if value is None:
        return "全市" if dim == "district" else "未填写"
    return label(value) if dim in ("purpose", "financing_type", "size") else value


# --- metrics ----------------------------------------------------------------------------------------


def is_first_loan():
    """首贷: a loan demand of an enterprise with no earlier demand signed or funded on the platform."""
    # The per-enterprise subquery is joined in the source's base (a correlated subquery per row
    # would rescan the demands for each of them).
    signed = _signed()
    return sa.and_(_json_has(Demand.financing_types, FinancingType.LOAN.value),
                   sa.or_(signed.c.at.is_(None), signed.c.at >= Demand.created_at))


def is_credit_loan():
    # 信用贷: the enterprise offers no collateral at all (DESIGN §9 code `none`).
    return _json_has(Demand.collateral, "none")


@dataclass(frozen=True)
class Metric:
    """One figure: the source it counts, what it sums (None counts rows), and which rows qualify."""

    key: str
    title: str
    unit: str
    source: str
    value: Callable[[], sa.ColumnElement] | None = None
    where: Callable[[], sa.ColumnElement] | None = None
    hint: str = ""

    def expr(self) -> sa.ColumnElement:
        cond = self.where() if self.where else sa.true()
        if self.value is None:
            return sa.func.count(sa.case((cond, 1)))
        return sa.func.sum(sa.case((cond, self.value()), else_=0))

    @property
    def is_money(self) -> bool:
        return self.unit == "万元"


# The console's figures in display order. The offers domain appends its own (see the module docstring).
METRICS: list[Metric] = [
    Metric("demands_posted", "提交融资需求", "项", "demands_posted", hint="企业提交审核的需求（按首次提交时间）"),
    Metric("amount_requested", "申请融资金额", "万元", "demands_posted", lambda: Demand.amount,
           hint="提交的需求所申请的金额合计"),
    Metric("first_loan", "首贷需求", "项", "demands_posted", where=is_first_loan,
           hint="含贷款方式、且企业此前在平台上没有已签约或已放款需求"),
    Metric("credit_loan", "信用贷需求", "项", "demands_posted", where=is_credit_loan, hint="抵质押方式为“信用”"),
    Metric("demands_published", "发布融资需求", "项", "demands_published", hint="经审核发布到需求项目库"),
    Metric("amount_published", "发布需求金额", "万元", "demands_published", lambda: Demand.amount),
    Metric("projects", "登记技改项目", "个", "projects"),
    Metric("project_investment", "项目总投资", "万元", "projects", lambda: TechProject.total_investment),
    Metric("events_held", "举办对接活动", "场", "events"),
    Metric("meetings_held", "洽谈场次", "场", "meetings", where=lambda: Meeting.is_held.is_(True)),
    Metric("intent_amount", "意向金额", "万元", "meetings", lambda: sa.func.coalesce(Meeting.intent_amount, 0)),
    # Signed and disbursed are separate figures everywhere: a signing is not money paid out.
    Metric("signed_amount", "签约金额", "万元", "meetings", lambda: sa.func.coalesce(Meeting.signed_amount, 0)),
    Metric("disbursed_amount", "放款金额", "万元", "meetings",
           lambda: sa.func.coalesce(Meeting.disbursed_amount, 0)),
    # The offer side, from the offers, deals and disbursements themselves (not the events' registrations).
    Metric("offers_made", "机构报价", "笔", "offers_made", hint="金融机构给出方案（主动报价或答复企业申请，按给出方案时间）"),
    Metric("amount_offered", "报价金额", "万元", "offers_made", lambda: Offer.amount),
    Metric("offers_accepted", "企业接受报价", "笔", "offers_accepted", hint="企业接受的方案（按接受时间）"),
    Metric("amount_accepted", "接受报价金额", "万元", "offers_accepted", lambda: Offer.amount),
    Metric("deals_signed", "签约合同", "笔", "deals", hint="金融机构登记的签约（按签约日期）"),
    Metric("deal_signed_amount", "合同签约金额", "万元", "deals", lambda: Deal.signed_amount,
           hint="登记签约的金额（按签约日期）；签约不等于放款"),
    Metric("deal_disbursed_amount", "合同放款金额", "万元", "disbursements", lambda: Disbursement.amount,
           hint="实际放款的金额（按放款日期）"),
]
METRIC_BY_KEY = {m.key: m for m in METRICS}

# The monthly series the page draws and tabulates (the shares' parts are shown as totals only).
TREND_KEYS = [k for k in METRIC_BY_KEY if k not in ("first_loan", "credit_loan")]

# Shares shown next to the figures: numerator and denominator metric keys.
SHARES = (("first_loan_share", "首贷需求占比", "first_loan", "demands_posted"),
          ("credit_loan_share", "信用贷需求占比", "credit_loan", "demands_posted"))

_OFFER_KEYS = ("offers_made", "amount_offered", "offers_accepted", "amount_accepted", "deal_signed_amount",
               "deal_disbursed_amount")

# Which breakdowns the console and the report show: (dimension, metric keys).
BREAKDOWNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("district", ("demands_posted", "amount_requested", "demands_published", "projects", "events_held",
                  "intent_amount", "signed_amount", "disbursed_amount") + _OFFER_KEYS),
    ("cluster", ("demands_posted", "amount_requested", "demands_published", "projects",
                 "intent_amount", "signed_amount", "disbursed_amount") + _OFFER_KEYS),
    ("purpose", ("demands_posted", "amount_requested", "demands_published") + _OFFER_KEYS),
    ("financing_type", ("demands_posted", "amount_requested", "demands_published") + _OFFER_KEYS),
    ("size", ("demands_posted", "amount_requested", "demands_published") + _OFFER_KEYS),
    ("institution", _OFFER_KEYS),
)


def _num(value, metric: Metric):
    if value is None:
        return Decimal(0) if metric.is_money else 0
    if metric.is_money:
        return Decimal(str(value)).quantize(Decimal("0.0001"))
    return int(value)


def _by_source(keys) -> dict[str, list[Metric]]:
    out: dict[str, list[Metric]] = {}
    for k in keys:
        m = METRIC_BY_KEY[k]
        out.setdefault(m.source, []).append(m)
    return out


def _summarized(src_key: str, raw: bool) -> bool:
    from matchmaker.console.summary import SUMMARIZED

    return not raw and src_key in SUMMARIZED


def _summary():
    from matchmaker.console import summary

    return summary


def totals(scope: Scope, keys=None, raw: bool = False) -> dict[str, Decimal | int]:
    """Each metric over the whole period and scope: one query per source.

    The sources of the summary table (`summary.SUMMARIZED`: all but the events) are read from its
    lines; `raw` counts their rows instead, as the summary's tests do. So do `trends`, `breakdown`,
    `funnel`, `event_outcomes`, `ledger_summary` and `console`.
    """
    out = {}
    for src_key, metrics in _by_source(keys or METRIC_BY_KEY).items():
        src = SOURCES[src_key]
        if _summarized(src_key, raw):
            row = _summary().figures(scope, src_key, metrics)[None]
        else:
            row = db_session.execute(src.scoped(scope, metrics=metrics)
                                     .add_columns(*[m.expr() for m in metrics])).one()
        out.update({m.key: _num(v, m) for m, v in zip(metrics, row, strict=True)})
    return out


def trends(scope: Scope, keys=None, raw: bool = False) -> dict[str, list]:
    """Each metric per month of the period (months with nothing are zero): GROUP BY the month bucket."""
    out = {}
    for src_key, metrics in _by_source(keys or METRIC_BY_KEY).items():
        src = SOURCES[src_key]
        if _summarized(src_key, raw):
            found = _summary().figures(scope, src_key, metrics, by="month")
        else:
            bucket = src.month_bucket(scope).label("month")
            q = src.scoped(scope, metrics=metrics).add_columns(bucket, *[m.expr() for m in metrics]).group_by(bucket)
            found = {row[0]: row[1:] for row in db_session.execute(q)}
        for i, m in enumerate(metrics):
            out[m.key] = [_num(found[lab][i], m) if lab in found else _num(None, m) for lab in scope.labels]
    return out


def breakdown(scope: Scope, dim_key: str, keys, raw: bool = False) -> list[dict]:
    """Metrics per value of a dimension: rows {value, label, figures}, known values first, then others."""
    dim = DIMENSIONS[dim_key]
    figures: dict[str | None, dict] = {}
    for src_key, metrics in _by_source(keys).items():
        src = SOURCES[src_key]
        if dim_key not in src.dims:
            continue
        if _summarized(src_key, raw):
            by = ("district", "") if dim_key == "district" else ("value", dim_key)
            rows = list(_summary().figures(scope, src_key, metrics, by=by[0], dim=by[1]).items())
        elif dim.has is None:
            rows = [(r[0], r[1:]) for r in _grouped(src, src.scoped(scope, metrics=metrics), dim, [m.expr() for m in metrics])]
        else:
            # A list column: one filtered aggregate per code, all in one query.
            codes = dim.values()
            cols = [_where_expr(m, dim.has(src, c)) for c in codes for m in metrics]
            flat = db_session.execute(src.scoped(scope, metrics=metrics).add_columns(*cols)).one()
            rows = [(c, flat[i * len(metrics):(i + 1) * len(metrics)]) for i, c in enumerate(codes)]
        for value, vals in rows:
            value = None if value is None else str(value)
            figures.setdefault(value, {}).update({m.key: _num(v, m) for m, v in zip(metrics, vals, strict=True)})
    order = [v for v in dim.values() if not (scope.district and dim_key == "district" and v != scope.district)]
    order += sorted((v for v in figures if v not in order and v is not None), key=str)
    if None in figures:
        order.append(None)
    present = [k for k in keys if dim_key in SOURCES[METRIC_BY_KEY[k].source].dims]
    names = {}
    if dim_key == "institution":
        # The institutions' names in one query rather than one per bar.
        ids = [int(v) for v in order if v is not None and str(v).isdigit()]
        names = {str(i): n for i, n in db_session.execute(
            sa.select(Organization.id, Organization.name).where(Organization.id.in_(ids)))} if ids else {}
    return [{"value": v, "label": names.get(v) or dimension_label(dim_key, v),
             "figures": {k: figures.get(v, {}).get(k, _num(None, METRIC_BY_KEY[k])) for k in present}}
            for v in order]


def _where_expr(m: Metric, extra) -> sa.ColumnElement:
    cond = sa.and_(m.where() if m.where else sa.true(), extra)
    if m.value is None:
        return sa.func.count(sa.case((cond, 1)))
    return sa.func.sum(sa.case((cond, m.value()), else_=0))


def shares(total: dict) -> list[dict]:
    out = []
    for key, title, num, den in SHARES:
        n, d = total.get(num, 0), total.get(den, 0)
        pct = (Decimal(n) * 100 / Decimal(d)).quantize(Decimal("0.1")) if d else None
        out.append({"key": key, "title": title, "numerator": n, "denominator": d, "percent": pct,
                    "metric": num})
    return out


# --- drill-down -------------------------------------------------------------------------------------


@dataclass
class Drill:
    """Which rows a figure counts: a metric, optionally one month and one dimension value."""

    metric: str
    month: str | None = None
    dim: str | None = None
    value: str | None = None
    errors: list[str] = field(default_factory=list)


def drill_query(scope: Scope, drill: Drill) -> sa.Select:
    """The rows behind a figure, as a select of the source's entity, newest first."""
    m = METRIC_BY_KEY.get(drill.metric)
    if m is None:
        raise LookupError(drill.metric)
    src = SOURCES[m.source]
    q = src.scoped(scope, src.base([m]).add_columns(src.entity))
    if m.where:
        q = q.where(m.where())
    if m.value is not None and m.source == "meetings":
        # A money figure of meetings lists the meetings that carry an amount.
        q = q.where(m.value() > 0)
    if drill.month:
        month = parse_month(drill.month)
        if month not in scope.months:
            raise ConsoleError("所选月份不在统计期间内")
        q = q.where(src.time() >= src.bounds(month), src.time() < src.bounds(_next_month(month)))
    if drill.dim:
        dim = DIMENSIONS.get(drill.dim)
        if dim is None or drill.dim not in src.dims:
            raise LookupError(drill.dim)
        if dim.has is not None:
            q = q.where(dim.has(src, drill.value or ""))
        else:
            col = dim.row(src)
            value = drill.value
            if drill.dim == "institution":
                # The institution's id travels as text in the link; compare it as the integer it is.
                if not (value or "").isdigit():
                    raise LookupError(value)
                value = int(value)
            is_value = (lambda c: c.is_(None)) if value in (None, "") else (lambda c: c == value)
            if col is not None:
                q = q.where(is_value(col))
            else:
                q = q.where(src.org().in_(_orgs_where(is_value(dim.org_column()))))
    return q.order_by(src.time().desc(), src.entity.id.desc())


def _list_loads(entity) -> list:
    """What the list shows of each row, loaded for the page in a few queries rather than per row."""
    from sqlalchemy.orm import selectinload

    def offer(path):
        return [path.selectinload(Offer.demand).selectinload(Demand.org), path.selectinload(Offer.org)]

    return {
        Demand: [selectinload(Demand.org)],
        TechProject: [selectinload(TechProject.org)],
        Meeting: [selectinload(Meeting.event), selectinload(Meeting.enterprise), selectinload(Meeting.institution)],
        Offer: [selectinload(Offer.demand).selectinload(Demand.org), selectinload(Offer.org)],
        Deal: offer(selectinload(Deal.offer)),
        Disbursement: offer(selectinload(Disbursement.deal).selectinload(Deal.offer)),
    }.get(entity, [])


def drill_page(scope: Scope, drill: Drill, page: int, per_page: int = 50):
    q = drill_query(scope, drill)
    total = _summary().drill_total(scope, drill)
    if total is None:
        total = db_session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    entity = SOURCES[METRIC_BY_KEY[drill.metric].source].entity
    rows = list(db_session.scalars(q.options(*_list_loads(entity)).limit(per_page).offset((page - 1) * per_page)))
    return rows, total


# --- the technical-transformation ledger summary -------------------------------------------------------


PROGRESS_BANDS = (("0-29", "30%以下", 0, 29), ("30-69", "30%–69%", 30, 69), ("70-99", "70%–99%", 70, 99),
                  ("100", "已完成", 100, 100))


# The demands whose interest subsidy the ledger estimates: live, not withdrawn, expired or closed.
LIVE_DEMAND_STATUSES = (DemandStatus.PUBLISHED, DemandStatus.MATCHED, DemandStatus.SIGNED, DemandStatus.FUNDED)


def open_problem():
    return sa.exists().where(ProgressUpdate.project_id == TechProject.id, ProgressUpdate.problems.is_not(None),
                             ProgressUpdate.is_resolved.is_(False))


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.0001"))


def _ledger_raw(scope: Scope, policy: dict):
    """(projects, total investment, equipment investment, open problems, equipment subsidy, *bands),
    the interest subsidy, and {dimension: {value: (projects, investment, open problems)}}, counted raw."""
    src = SOURCES["projects"]
    base = src.scoped(scope, period=False)
    problem = open_problem()
    band_cols = [sa.func.count(sa.case((TechProject.progress.between(lo, hi), 1))) for _k, _t, lo, hi in PROGRESS_BANDS]
    row = db_session.execute(base.add_columns(
        sa.func.count(TechProject.id), sa.func.sum(TechProject.total_investment),
        sa.func.sum(TechProject.equipment_investment),
        sa.func.count(sa.case((problem, 1))),
        sa.func.sum(equipment_subsidy_sql(TechProject.equipment_investment, TechProject.category, policy)),
        *band_cols,
    )).one()
    interest = db_session.scalar(SOURCES["demands_published"].scoped(scope, period=False).add_columns(
        sa.func.sum(interest_subsidy_sql(Demand.amount, Demand.max_rate, Demand.term_months, Demand.purpose, policy))
    ).where(Demand.status.in_(LIVE_DEMAND_STATUSES)))
    found = {dim_key: {r[0]: r[1:] for r in _grouped(src, base, DIMENSIONS[dim_key], [
        sa.func.count(TechProject.id), sa.func.sum(TechProject.total_investment),
        sa.func.count(sa.case((problem, 1)))])} for dim_key in ("district", "cluster")}
    return tuple(row), interest, found


def _ledger_summarized(scope: Scope):
    """The same figures as `_ledger_raw`, from the summary table's ledger lines."""
    sums = _summary().sums
    projects = sums(scope, "ledger_projects", 4)[None]
    row = (int(projects[0] or 0), *projects[1:3], int(projects[3] or 0),
           sums(scope, "ledger_equipment", 1)[None][0], *(int(n or 0) for n in sums(scope, "ledger_bands", 4)[None]))
    interest = sums(scope, "ledger_interest", 1)[None][0]
    found = {dim_key: {v: (int(n), inv, int(p)) for v, (n, inv, _eq, p) in
                       sums(scope, "ledger_projects", 4, by=by, dim=dim).items()}
             for dim_key, by, dim in (("district", "district", ""), ("cluster", "value", "cluster"))}
    return row, interest, found


def ledger_summary(scope: Scope, raw: bool = False) -> dict:
    """The project ledger as it stands now (not limited to the period): totals, bands, problems, subsidies."""
    policy = current_app.extensions["city"].policy
    row, interest, found_by = _ledger_raw(scope, policy) if raw else _ledger_summarized(scope)
    budget = Decimal(str(policy.get("subsidy_budget", 0)))
    equipment, interest = _money(row[4]), _money(interest)
    by = {}
    for dim_key in ("district", "cluster"):
        found = found_by[dim_key]
        order = [v for v in DIMENSIONS[dim_key].values() if v in found or not scope.district or dim_key != "district"]
        order += [v for v in found if v not in order]
        by[dim_key] = [{"value": v, "label": dimension_label(dim_key, v), "projects": found.get(v, (0,))[0],
                        "investment": _money(found[v][1]) if v in found else Decimal("0.0000"),
                        "open_problems": found[v][2] if v in found else 0} for v in order]
    return {
        "projects": row[0], "total_investment": _money(row[1]), "equipment_investment": _money(row[2]),
        "open_problems": row[3], "equipment_subsidy": equipment, "interest_subsidy": interest,
        "subsidy_total": equipment + interest, "budget": budget,
        "budget_left": budget - equipment - interest,
        "budget_used_percent": ((equipment + interest) * 100 / budget).quantize(Decimal("0.1")) if budget else None,
        "bands": [{"key": k, "label": t, "projects": n} for (k, t, _lo, _hi), n in zip(PROGRESS_BANDS, row[5:],
                                                                                      strict=True)],
        "by_district": by["district"], "by_cluster": by["cluster"],
    }


# --- event outcomes per event and per institution ------------------------------------------------------


def event_outcomes(scope: Scope, raw: bool = False) -> list[dict]:
    """Held events of the period with their meetings' outcomes (scoped by the enterprise's district)."""
    if not raw:
        summary = _summary()
        found = summary.sums(scope, "meetings", 4, by="value", dim=summary.EVENT_DIM)
        events = db_session.execute(
            sa.select(Event.id, Event.ref, Event.title, Event.date, Event.district)
            .where(Event.id.in_([int(v) for v in found])).order_by(Event.date, Event.id)).all() if found else []
        return [{"ref": e.ref, "title": e.title, "date": e.date, "district": e.district or "全市",
                 "meetings_held": int(found[str(e.id)][0]), "intent_amount": _money(found[str(e.id)][1]),
                 "signed_amount": _money(found[str(e.id)][2]), "disbursed_amount": _money(found[str(e.id)][3])}
                for e in events]
    src = SOURCES["meetings"]
    q = src.scoped(scope).add_columns(
        Event.ref, Event.title, Event.date, Event.district,
        sa.func.count(sa.case((Meeting.is_held.is_(True), 1))),
        sa.func.sum(sa.func.coalesce(Meeting.intent_amount, 0)),
        sa.func.sum(sa.func.coalesce(Meeting.signed_amount, 0)),
        sa.func.sum(sa.func.coalesce(Meeting.disbursed_amount, 0)),
    ).group_by(Event.id, Event.ref, Event.title, Event.date, Event.district).order_by(Event.date, Event.id)
    return [{"ref": r[0], "title": r[1], "date": r[2], "district": r[3] or "全市", "meetings_held": r[4],
             "intent_amount": _money(r[5]), "signed_amount": _money(r[6]), "disbursed_amount": _money(r[7])}
            for r in db_session.execute(q)]


def institution_outcomes(scope: Scope) -> list[dict]:
    """Meeting outcomes per institution (the service levels on applications are in `service.py`)."""
    inst = aliased(Organization)
    src = SOURCES["meetings"]
    q = src.scoped(scope).join(inst, Meeting.institution_id == inst.id).add_columns(
        inst.name, inst.kind, sa.func.count(Meeting.id),
        sa.func.count(sa.case((Meeting.is_held.is_(True), 1))),
        sa.func.sum(sa.func.coalesce(Meeting.intent_amount, 0)),
        sa.func.sum(sa.func.coalesce(Meeting.signed_amount, 0)),
        sa.func.sum(sa.func.coalesce(Meeting.disbursed_amount, 0)),
    ).group_by(inst.id, inst.name, inst.kind).order_by(inst.name)
    return [{"name": r[0], "kind": label(r[1]), "meetings": r[2], "meetings_held": r[3],
             "intent_amount": _money(r[4]), "signed_amount": _money(r[5]), "disbursed_amount": _money(r[6])}
            for r in db_session.execute(q)]


# --- the offer funnel ------------------------------------------------------------------------------

# Each stage counts distinct demands that reached it in the period: (key, title, source, metric to drill).
FUNNEL = (("published", "发布需求", "demands_published", "demands_published"),
          ("offered", "收到报价", "offers_made", "offers_made"),
          ("accepted", "接受报价", "offers_accepted", "offers_accepted"),
          ("signed", "签约", "deals", "deals_signed"),
          ("disbursed", "放款", "disbursements", "deal_disbursed_amount"))


def funnel(scope: Scope, raw: bool = False) -> list[dict]:
    """Demands published → offered → accepted → signed → disbursed in the period, with each step's rate.

    A stage counts the demands with such an event in the period (not a cohort of the period's
    publications), so a stage can exceed the one before it when earlier demands reach it now.
    """
    out, before = [], None
    for key, title, src_key, metric in FUNNEL:
        if _summarized(src_key, raw):
            n = _summary().funnel_demands(scope, src_key)
        else:
            n = db_session.scalar(SOURCES[src_key].scoped(scope)
                                  .add_columns(sa.func.count(sa.distinct(Demand.id)))) or 0
        pct = (Decimal(n) * 100 / Decimal(before)).quantize(Decimal("0.1")) if before else None
        out.append({"key": key, "title": title, "demands": n, "percent": pct, "metric": metric})
        before = n
    return out


# --- the whole page ---------------------------------------------------------------------------------


def console(scope: Scope, raw: bool = False) -> dict:
    """Everything the console page and the monthly report show, for one scope (`raw`: see `totals`)."""
    total = totals(scope, raw=raw)
    return {
        "scope": scope,
        "totals": total,
        "trends": trends(scope, TREND_KEYS, raw=raw),
        "shares": shares(total),
        "breakdowns": [{"dim": d, "title": DIMENSIONS[d].title, "metrics": list(keys),
                        "rows": breakdown(scope, d, keys, raw=raw)}
                       for d, keys in BREAKDOWNS if not (scope.district and d == "district")],
        "ledger": ledger_summary(scope, raw=raw),
        "events": event_outcomes(scope, raw=raw),
        "funnel": funnel(scope, raw=raw),
        "is_empty": not any(total.values()),
    }


def headline_figures() -> dict:
    """The public home page's figures: the whole city, all time."""
    published = (sa.select(sa.func.count(Demand.id), sa.func.sum(Demand.amount))
                 .where(Demand.published_at.is_not(None)))
    n, amount = db_session.execute(published).one()
    kinds = dict(db_session.execute(
        sa.select(Organization.kind, sa.func.count()).where(Organization.status == OrgStatus.APPROVED)
        .group_by(Organization.kind)).all())
    events = db_session.scalar(sa.select(sa.func.count(Event.id)).where(Event.status.in_(HELD)))
    return {
        "demands_published": n or 0,
        "amount_requested": _money(amount),
        "enterprises": kinds.get(OrgKind.ENTERPRISE, 0),
        "institutions": sum(kinds.get(k, 0) for k in (OrgKind.BANK, OrgKind.FUND, OrgKind.GUARANTOR)),
        "events_held": events or 0,
    }
