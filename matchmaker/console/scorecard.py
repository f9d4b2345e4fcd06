"""The public scorecard of institutions: a ranking the city bureau chooses to publish, with its period."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from matchmaker.console import service, services
from models import AuditEntry, db_session
from models.audit import record

PUBLISHED, WITHDRAWN = "scorecard.published", "scorecard.withdrawn"


@dataclass(frozen=True)
class Scorecard:
    """The audit subject of publishing: there is one scorecard for the city."""

    ref: str = "city"


def state() -> dict | None:
    """The published scorecard's period {start, end, at}, or None when it is not published.

    The flag is the audit log's latest publish or withdraw entry: no table of its own (no migration),
    and who published which period when is on record by the same token.
    """
    last = db_session.scalar(sa.select(AuditEntry).where(AuditEntry.object_type == "scorecard",
                                                         AuditEntry.action.in_([PUBLISHED, WITHDRAWN]))
                             .order_by(AuditEntry.id.desc()).limit(1))
    if last is None or last.action != PUBLISHED:
        return None
    return {"start": last.details["start"], "end": last.details["end"], "at": last.at}


def publish(actor, scope: services.Scope) -> None:
    if actor.org.district is not None or scope.district:
        # A district bureau cannot publish for the city, nor the city a district's part of it.
        raise PermissionError("只有市级工信局可以发布全市金融机构服务榜单")
    record(actor, PUBLISHED, Scorecard(), start=scope.labels[0], end=scope.labels[-1])
    db_session.commit()


def withdraw(actor) -> None:
    if actor.org.district is not None:
        raise PermissionError("只有市级工信局可以撤回榜单")
    record(actor, WITHDRAWN, Scorecard())
    db_session.commit()


def ranking(scope: services.Scope) -> list[dict]:
    """Institutions ranked by the share answered in time, then the median answer time, then offers made.

    Only institutions with applications due are ranked (a share of nothing says nothing); the offer
    figures come from the console's own institution breakdown.
    """
    keys = ("offers_made", "deal_signed_amount", "deal_disbursed_amount")
    offers = {r["value"]: r["figures"] for r in services.breakdown(scope, "institution", keys)}
    rows = []
    for r in service.service_levels(scope)["institutions"]:
        if not r["due"]:
            continue
        f = offers.get(str(r["org_id"]), {})
        rows.append({"name": r["name"], "applications": r["applications"], "median_days": r["median_days"],
                     "p90_days": r["p90_days"], "on_time_percent": r["on_time_percent"],
                     "offers_made": f.get("offers_made", 0), "signed_amount": f.get("deal_signed_amount", 0),
                     "disbursed_amount": f.get("deal_disbursed_amount", 0)})
    rows.sort(key=lambda x: (-x["on_time_percent"], x["median_days"] if x["median_days"] is not None else 1e9,
                             -x["offers_made"], x["name"]))
    for i, x in enumerate(rows, start=1):
        x["rank"] = i
    return rows
