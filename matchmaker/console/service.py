"""Institutions' service levels on applications: answer times, timeliness, overdue and decline reasons."""
from __future__ import annotations

import math
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from matchmaker.console.services import Scope
from matchmaker.workdays import local_day, working_days_between
from models import Demand, Offer, OfferOrigin, OfferStatus, Organization, db_session
from models.types import utcnow


def _local_day(at: datetime):
    return local_day(at, current_app.extensions["city"])


def answer_days(asked_at: datetime, answered_at: datetime, days=None) -> int:
    """Working days from the application to its first answer, counted on the city's calendar.

    An answer on the day of the application is 0; the day of the request never counts, as for the deadline.
    `days` is a `_DayCounter` to share between many calls.
    """
    days = days or _DayCounter(current_app.extensions["city"])
    return max(days(_local_day(asked_at), _local_day(answered_at)), 0)


class _DayCounter:
    """`working_days_between` remembered per pair of days: thousands of applications share a few hundred."""

    def __init__(self, city):
        self.city, self.known = city, {}

    def __call__(self, a, b) -> int:
        if (a, b) not in self.known:
            self.known[a, b] = working_days_between(a, b, self.city)
        return self.known[a, b]


def percentile(values: list[int], p: int) -> int | None:
    """The nearest-rank percentile (a value that occurred, not an interpolation)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)), 1) - 1]


def median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered, n = sorted(values), len(values)
    return float(ordered[n // 2]) if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def _applications(scope: Scope) -> sa.Select:
    """Applications asked in the period, held to the scope's district by the demand's enterprise."""
    asked = sa.func.coalesce(Offer.asked_at, Offer.created_at)
    q = (sa.select().select_from(Offer).join(Demand, Offer.demand_id == Demand.id)
         .where(Offer.origin == OfferOrigin.APPLICATION,
                asked >= scope.utc_bound(scope.start), asked < scope.utc_bound(scope.end)))
    if scope.district:
        q = q.where(Demand.org_id.in_(sa.select(Organization.id).where(Organization.district == scope.district)))
    return q


def _overdue(scope: Scope, now: datetime) -> sa.Select:
    """Applications unanswered past their deadline now, whenever asked (the backlog is not a period's)."""
    q = (sa.select().select_from(Offer).join(Demand, Offer.demand_id == Demand.id)
         .where(Offer.origin == OfferOrigin.APPLICATION, Offer.status == OfferStatus.REQUESTED,
                Offer.deadline_at < now))
    if scope.district:
        q = q.where(Demand.org_id.in_(sa.select(Organization.id).where(Organization.district == scope.district)))
    return q


def service_levels(scope: Scope, now: datetime | None = None) -> dict:
    """Per institution: applications, answers, median and 90th-percentile answer time (working days),
    share answered by the deadline, overdue now; and the institutions' decline reasons grouped."""
    now = now or utcnow()
    city = current_app.extensions["city"]
    apps = _applications(scope)
    answered = Offer.answered_at.is_not(None)
    # Counts in SQL; "due" is what timeliness is judged on: answered, or unanswered past the deadline.
    counts = db_session.execute(apps.add_columns(
        Offer.org_id,
        sa.func.count(Offer.id),
        sa.func.count(sa.case((answered, 1))),
        sa.func.count(sa.case((sa.and_(answered, Offer.amount.is_not(None)), 1))),
        sa.func.count(sa.case((sa.and_(Offer.status == OfferStatus.DECLINED, Offer.declined_by == "institution"), 1))),
        sa.func.count(sa.case((sa.or_(answered, Offer.deadline_at < now), 1))),
        sa.func.count(sa.case((sa.and_(answered, Offer.answered_at <= Offer.deadline_at), 1))),
    ).group_by(Offer.org_id)).all()
    # The answer times: a short list per institution, turned into working days here.
    count = _DayCounter(city)
    times: dict[int, list[int]] = {}
    for org_id, asked, ans in db_session.execute(apps.add_columns(
            Offer.org_id, sa.func.coalesce(Offer.asked_at, Offer.created_at), Offer.answered_at).where(answered)):
        times.setdefault(org_id, []).append(answer_days(asked, ans, count))
    overdue: dict[int, list[dict]] = {}
    today = _local_day(now)
    for offer in db_session.scalars(_overdue(scope, now).add_columns(Offer).order_by(Offer.deadline_at)):
        days = max(count(_local_day(offer.deadline_at), today), 0)
        hours = int((now - offer.deadline_at).total_seconds() // 3600)
        overdue.setdefault(offer.org_id, []).append({"offer": offer, "working_days": days, "hours": hours})
    ids = {r[0] for r in counts} | set(overdue)
    names = dict(db_session.execute(sa.select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all()) \
        if ids else {}
    rows = []
    for org_id in ids:
        c = next((r for r in counts if r[0] == org_id), (org_id, 0, 0, 0, 0, 0, 0))
        t = times.get(org_id, [])
        late = overdue.get(org_id, [])
        rows.append({
            "org_id": org_id, "name": names.get(org_id, str(org_id)), "applications": c[1], "answered": c[2],
            "offered": c[3], "declined": c[4], "due": c[5], "on_time": c[6],
            "on_time_percent": round(c[6] * 100 / c[5], 1) if c[5] else None,
            "median_days": median(t), "p90_days": percentile(t, 90),
            "overdue": len(late), "overdue_max_days": max((x["working_days"] for x in late), default=None),
            "overdue_list": late,
        })
    rows.sort(key=lambda r: r["name"])
    reason = sa.func.coalesce(Offer.decline_reason, "（未填写）")
    n = sa.func.count(Offer.id)
    reasons = db_session.execute(apps.add_columns(reason, n)
                                 .where(Offer.status == OfferStatus.DECLINED, Offer.declined_by == "institution")
                                 .group_by(reason).order_by(n.desc(), reason)).all()
    return {"institutions": rows, "reasons": [{"reason": r, "count": n} for r, n in reasons],
            "unit": "工作日"}
