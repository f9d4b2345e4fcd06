"""Interchange of technical-transformation projects and financing demands (DESIGN §9)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.demands.services import demand_errors
from matchmaker.interchange import fields as f
from matchmaker.interchange.registry import ImportContext, InterchangeType, register
from matchmaker.projects.services import progress_errors, project_errors
from models import (
    Collateral,
    Demand,
    DemandIntendedBank,
    DemandStatus,
    FinancingType,
    Organization,
    OrgKind,
    ProblemFollowUp,
    ProgressUpdate,
    Purpose,
    TechProject,
    db_session,
)
from models.types import utcnow

PROJECT_KEYS = frozenset({
    "ref", "org", "name", "category", "total_investment", "equipment_investment", "start", "end", "progress",
    "major", "district", "description", "created",
})
DEMAND_KEYS = frozenset({
    "ref", "org", "project", "title", "description", "amount", "term_months", "purpose", "financing_types",
    "collateral", "max_rate", "status", "created", "valid_until", "published", "return_reason",
    "contact_name", "contact_phone", "banks",
})
# Model attribute -> line key, where they differ.
UPDATE_KEYS = frozenset({"project", "percent", "done", "problems", "resolved", "created", "follow_ups"})
FOLLOW_UP_KEYS = frozenset({"note", "resolves", "created"})
PROJECT_KEY_OF = {"start_on": "start", "end_on": "end"}


def _enterprise(d: dict, ctx: ImportContext) -> Organization:
    org = ctx.lookup(Organization, "organization", d.get("org"), "org")
    if org.kind != OrgKind.ENTERPRISE:
        raise f.LineError("org", f"“{org.ref}”不是企业")
    return org


def _first(errors: dict[str, str], key_of: dict[str, str] | None = None) -> None:
    """Raise the first rule the line breaks, named by its line key."""
    for name, message in errors.items():
        raise f.LineError((key_of or {}).get(name, name), message)


def load_tech_project(d: dict, ctx: ImportContext) -> TechProject:
    ref = f.text(d, "ref", max_len=64)
    if ctx.ref_exists(TechProject, "tech_project", ref):
        raise f.LineError("ref", f"技改项目“{ref}”已存在")
    org = _enterprise(d, ctx)
    district = f.text(d, "district", required=False, max_len=50)
    if district is not None and district not in ctx.city.districts:
        raise f.LineError("district", f"“{district}”不是本市的区（市）")
    values = {
        "name": f.text(d, "name", max_len=10000),
        "category": f.code(d, "category", Purpose),
        "total_investment": f.decimal(d, "total_investment", required=True),
        "equipment_investment": f.decimal(d, "equipment_investment", required=False) or Decimal(0),
        "start_on": f.iso_date(d, "start"), "end_on": f.iso_date(d, "end"),
        "description": f.text(d, "description", required=False, max_len=10000),
    }
    _first(project_errors(values), PROJECT_KEY_OF)
    project = TechProject(
        ref=ref, org=org, district=district or org.district, progress=f.integer(d, "progress", lo=0, hi=100) or 0,
        is_major=f.boolean(d, "major"), created_at=ctx.to_utc(f.iso_datetime(d, "created")) or utcnow(), **values,
    )
    db_session.add(project)
    return project


def dump_tech_project(p: TechProject, ctx: ImportContext) -> dict:
    line = {
        "ref": p.ref, "org": p.org.ref, "name": p.name, "category": str(p.category),
        "total_investment": f.plain_number(p.total_investment),
        "equipment_investment": f.plain_number(p.equipment_investment),
        "start": p.start_on.isoformat() if p.start_on else None, "end": p.end_on.isoformat() if p.end_on else None,
        "progress": p.progress, "major": p.is_major, "district": p.district, "description": p.description,
        "created": ctx.to_local(p.created_at),
    }
    return {k: v for k, v in line.items() if v is not None}


def load_progress_update(d: dict, ctx: ImportContext) -> ProgressUpdate:
    """A progress report of a project, with the bureau's follow-ups on its problem (no ref of its own)."""
    project = ctx.lookup(TechProject, "tech_project", d.get("project"), "project")
    percent, done, problems = f.integer(d, "percent", required=True), f.text(d, "done", max_len=10000), \
        f.text(d, "problems", required=False, max_len=10000)
    _first(progress_errors(percent, done, problems))
    update = ProgressUpdate(project=project, percent=percent, done=done, problems=problems,
                            is_resolved=f.boolean(d, "resolved"),
                            created_at=ctx.to_utc(f.iso_datetime(d, "created")) or utcnow())
    follow_ups = d.get("follow_ups") or []
    if not isinstance(follow_ups, list) or not all(isinstance(x, dict) for x in follow_ups):
        raise f.LineError("follow_ups", "应为对象数组")
    for item in follow_ups:
        if unknown := sorted(set(item) - FOLLOW_UP_KEYS):
            raise f.LineError("follow_ups", f"未知字段“{unknown[0]}”")
        update.follow_ups.append(ProblemFollowUp(
            note=f.text(item, "note", max_len=2000), resolves=f.boolean(item, "resolves"),
            created_at=ctx.to_utc(f.iso_datetime(item, "created")) or utcnow()))
    if update.is_resolved:
        update.resolved_at = max((x.created_at for x in update.follow_ups if x.resolves), default=update.created_at)
    db_session.add(update)
    return update


def dump_progress_update(u: ProgressUpdate, ctx: ImportContext) -> dict:
    line = {"project": u.project.ref, "percent": u.percent, "done": u.done, "created": ctx.to_local(u.created_at)}
    if u.problems:
        line.update(problems=u.problems, resolved=u.is_resolved)
    if u.follow_ups:
        line["follow_ups"] = [{"note": x.note, "resolves": x.resolves, "created": ctx.to_local(x.created_at)}
                              for x in u.follow_ups]
    return line


def load_demand(d: dict, ctx: ImportContext) -> Demand:
    ref = f.text(d, "ref", max_len=64)
    if ctx.ref_exists(Demand, "demand", ref):
        raise f.LineError("ref", f"融资需求“{ref}”已存在")
    org = _enterprise(d, ctx)
    project = None
    if d.get("project") is not None:
        project = ctx.lookup(TechProject, "tech_project", d["project"], "project")
        if project.org is not org:
            raise f.LineError("project", f"技改项目“{project.ref}”不属于企业“{org.ref}”")
    created = ctx.to_utc(f.iso_datetime(d, "created")) or utcnow()
    valid_until = f.iso_date(d, "valid_until")
    if valid_until is None:
        # Defaults from the city configuration, counted from the day the demand was made.
        days = int(ctx.city.policy.get("demand_valid_days", 180))
        valid_until = date_of(ctx, created) + timedelta(days=days)
    values = {
        "title": f.text(d, "title", max_len=10000), "description": f.text(d, "description", max_len=10000),
        "amount": f.decimal(d, "amount", required=True), "term_months": f.integer(d, "term_months", required=True),
        "purpose": f.code(d, "purpose", Purpose),
        "financing_types": f.codes(d, "financing_types", tuple(t.value for t in FinancingType), required=True),
        "collateral": f.codes(d, "collateral", tuple(c.value for c in Collateral), required=True),
        "max_rate": f.decimal(d, "max_rate"), "valid_until": valid_until,
        "contact_name": f.text(d, "contact_name", required=False, max_len=50),
        "contact_phone": f.text(d, "contact_phone", required=False, max_len=30),
    }
    # Statuses are history: a past valid-until date is fine here.
    _first(demand_errors(values, history=True, policy=ctx.city.policy))
    status = f.code(d, "status", DemandStatus, required=False) or DemandStatus.DRAFT
    published = ctx.to_utc(f.iso_datetime(d, "published"))
    if published is None and status in (DemandStatus.PUBLISHED, DemandStatus.MATCHED, DemandStatus.SIGNED,
                                        DemandStatus.FUNDED):
        # A demand that reached the pool was published; without the time, the time it was made stands in.
        published = created
    demand = Demand(ref=ref, org=org, project=project, status=status, created_at=created, published_at=published,
                    return_reason=f.text(d, "return_reason", required=False, max_len=500), **values)
    banks = d.get("banks") or []
    if not isinstance(banks, list):
        raise f.LineError("banks", "应为机构引用的数组")
    limit = int(ctx.city.policy.get("intended_banks_limit", 3))
    if len(banks) > limit:
        raise f.LineError("banks", f"每个需求最多{limit}家意向银行")
    for bank_ref in dict.fromkeys(banks):
        bank = ctx.lookup(Organization, "organization", bank_ref, "banks")
        if bank.kind != OrgKind.BANK:
            raise f.LineError("banks", f"“{bank_ref}”不是银行")
        demand.intended_banks.append(DemandIntendedBank(org=bank, chosen_by="enterprise"))
    db_session.add(demand)
    return demand


def date_of(ctx: ImportContext, utc: datetime) -> date:
    """The city's calendar day of a stored (UTC) time."""
    return datetime.fromisoformat(ctx.to_local(utc)).date()


def dump_demand(m: Demand, ctx: ImportContext) -> dict:
    line = {
        "ref": m.ref, "org": m.org.ref, "project": m.project.ref if m.project else None, "title": m.title,
        "description": m.description, "amount": f.plain_number(m.amount), "term_months": m.term_months,
        "purpose": str(m.purpose), "financing_types": list(m.financing_types), "collateral": list(m.collateral),
        "max_rate": f.plain_number(m.max_rate), "status": str(m.status), "created": ctx.to_local(m.created_at),
        "valid_until": m.valid_until.isoformat(), "published": ctx.to_local(m.published_at),
        "return_reason": m.return_reason, "contact_name": m.contact_name, "contact_phone": m.contact_phone,
        "banks": [r.org.ref for r in m.intended_banks] or None,
    }
    return {k: v for k, v in line.items() if v is not None}


register(InterchangeType(
    "tech_project", PROJECT_KEYS, load_tech_project, dump_tech_project,
    lambda: db_session.scalars(sa.select(TechProject).order_by(TechProject.id)), 30,
))
register(InterchangeType(
    "progress_update", UPDATE_KEYS, load_progress_update, dump_progress_update,
    lambda: db_session.scalars(sa.select(ProgressUpdate).order_by(ProgressUpdate.id)), 35,
))
register(InterchangeType(
    "demand", DEMAND_KEYS, load_demand, dump_demand,
    lambda: db_session.scalars(sa.select(Demand).order_by(Demand.id)), 40,
))
