"""Projects: the enterprise keeps them and reports progress; the bureau follows problems up and keeps the ledger."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa

from matchmaker.auth.services import new_ref
from matchmaker.permissions import bureau_covers, in_bureau_district, policy
from models import (
    Demand,
    DemandStatus,
    Organization,
    OrgKind,
    ProblemFollowUp,
    ProgressUpdate,
    Purpose,
    TechProject,
    db_session,
    record,
)
from models.types import utcnow

PROJECT_FIELDS = ("name", "category", "total_investment", "equipment_investment", "start_on", "end_on",
                  "district", "description")
NAME_MAX, TEXT_MAX = 200, 2000
MAX_INVESTMENT = Decimal(10) ** 8  # 万元: a trillion yuan, a bound against typing slips


class ProjectError(Exception):
    """An action the rules do not allow; the message is shown to the user."""


# --- who may see and change a project ----------------------------------------------------------


def in_bureau_scope(user, org: Organization) -> bool:
    """A bureau follows the enterprises of its district; the city bureau follows all."""
    return bureau_covers(user, org.district)


def _project_view(user, project: TechProject) -> bool:
    return user.org_id == project.org_id or in_bureau_scope(user, project.org)


def _project_edit(user, project: TechProject) -> bool:
    return user.org_id == project.org_id


policy(TechProject, view=_project_view, edit=_project_edit)


# --- rules shared by the web forms and the import -----------------------------------------------


def project_errors(v: dict) -> dict[str, str]:
    """Field -> Chinese message for every rule a project's values break (types already parsed)."""
    errors: dict[str, str] = {}
    if not v.get("name"):
        errors["name"] = "请填写项目名称"
    elif len(v["name"]) > NAME_MAX:
        errors["name"] = f"项目名称不能超过{NAME_MAX}个字"
    if v.get("category") not in {p.value for p in Purpose}:
        errors["category"] = "请选择项目类别"
    total, equipment = v.get("total_investment"), v.get("equipment_investment")
    if total is None:
        errors["total_investment"] = "请填写总投资"
    elif total <= 0:
        errors["total_investment"] = "总投资应大于0"
    elif total > MAX_INVESTMENT:
        errors["total_investment"] = "总投资数额过大，请以万元为单位填写"
    if equipment is None:
        errors["equipment_investment"] = "请填写设备投资（没有请填0）"
    elif equipment < 0:
        errors["equipment_investment"] = "设备投资不能为负数"
    elif "total_investment" not in errors and equipment > total:
        errors["equipment_investment"] = "设备投资不能大于总投资"
    if v.get("start_on") and v.get("end_on") and v["end_on"] < v["start_on"]:
        errors["end_on"] = "计划竣工日期不能早于计划开工日期"
    if v.get("description") and len(v["description"]) > TEXT_MAX:
        errors["description"] = f"项目简介不能超过{TEXT_MAX}个字"
    return errors


def progress_errors(percent: int | None, done: str | None, problems: str | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if percent is None or not 0 <= percent <= 100:
        errors["percent"] = "进度应为0至100之间的整数"
    if not done:
        errors["done"] = "请填写本期完成的工作"
    elif len(done) > TEXT_MAX:
        errors["done"] = f"不能超过{TEXT_MAX}个字"
    if problems and len(problems) > TEXT_MAX:
        errors["problems"] = f"不能超过{TEXT_MAX}个字"
    return errors


# --- changes -------------------------------------------------------------------------------------


def create_project(actor, values: dict) -> TechProject:
    """An enterprise user adds a project of its own organisation."""
    if actor.org.kind != OrgKind.ENTERPRISE:
        raise ProjectError("只有企业可以登记技改项目")
    if errors := project_errors(values):
        raise ProjectError(next(iter(errors.values())))
    project = TechProject(ref=new_ref("tp"), org=actor.org, **{k: values.get(k) for k in PROJECT_FIELDS})
    project.district = project.district or actor.org.district
    db_session.add(project)
    db_session.flush()
    record(actor, "tech_project.created", project, name=project.name)
    db_session.commit()
    return project


def update_project(actor, project: TechProject, values: dict) -> TechProject:
    if actor.org_id != project.org_id:
        raise ProjectError("只能修改本企业的项目")
    if errors := project_errors(values):
        raise ProjectError(next(iter(errors.values())))
    changed = {}
    for key in PROJECT_FIELDS:
        new = values.get(key)
        if getattr(project, key) != new:
            changed[key] = str(new) if new is not None else None
            setattr(project, key, new)
    if changed:
        record(actor, "tech_project.updated", project, changed=changed)
    db_session.commit()
    return project


def add_progress(actor, project: TechProject, *, percent: int, done: str, problems: str | None) -> ProgressUpdate:
    """The enterprise reports how far the project is and what problems it meets."""
    if actor.org_id != project.org_id:
        raise ProjectError("只能填报本企业项目的进度")
    if errors := progress_errors(percent, done, problems):
        raise ProjectError(next(iter(errors.values())))
    update = ProgressUpdate(project=project, percent=percent, done=done, problems=problems or None,
                            created_by_id=actor.id)
    project.progress = percent
    db_session.add(update)
    db_session.flush()
    record(actor, "tech_project.progress", project, percent=percent, problems=bool(problems))
    db_session.commit()
    return update


def follow_up(actor, update: ProgressUpdate, *, note: str, resolve: bool) -> ProblemFollowUp:
    """The bureau records what it did about a reported problem, and may mark it resolved."""
    project = update.project
    if not in_bureau_scope(actor, project.org):
        raise ProjectError("您无权跟踪该项目")
    if not update.problems:
        raise ProjectError("该条进度没有需要跟踪的问题")
    if update.is_resolved:
        raise ProjectError("该问题已解决，无需再跟踪")
    note = (note or "").strip()
    if not note:
        raise ProjectError("请填写跟踪情况")
    if len(note) > TEXT_MAX:
        raise ProjectError(f"跟踪情况不能超过{TEXT_MAX}个字")
    item = ProblemFollowUp(update=update, note=note, resolves=resolve, created_by_id=actor.id)
    if resolve:
        update.is_resolved = True
        update.resolved_at = utcnow()
    db_session.add(item)
    db_session.flush()
    record(actor, "tech_project.problem_resolved" if resolve else "tech_project.follow_up", project,
           update=update.id, note=note)
    db_session.commit()
    return item


def set_major(actor, project: TechProject, is_major: bool) -> None:
    """The bureau marks a project as major (重大项目): it can then go onto push lists."""
    if not in_bureau_scope(actor, project.org):
        raise ProjectError("您无权调整该项目")
    if project.is_major != is_major:
        project.is_major = is_major
        record(actor, "tech_project.major" if is_major else "tech_project.not_major", project)
    db_session.commit()


# --- reading -------------------------------------------------------------------------------------


def projects_of(org: Organization) -> list[TechProject]:
    return list(db_session.scalars(
        sa.select(TechProject).where(TechProject.org_id == org.id).order_by(TechProject.id.desc())
    ))


PROGRESS_BANDS = {"0-29": (0, 29), "30-69": (30, 69), "70-99": (70, 99), "100": (100, 100)}
PROGRESS_LABELS = {"0-29": "30%以下", "30-69": "30%–69%", "70-99": "70%–99%", "100": "已完成"}


@dataclass
class LedgerFilters:
    district: str | None = None
    cluster: str | None = None
    category: str | None = None
    progress: str | None = None
    problems: bool = False
    major: bool = False

    @classmethod
    def from_args(cls, args) -> LedgerFilters:
        return cls(
            district=args.get("district") or None, cluster=args.get("cluster") or None,
            # An unknown category is no filter, rather than a database error on the enum column.
            category=args.get("category") if args.get("category") in {p.value for p in Purpose} else None,
            progress=args.get("progress") or None,
            problems=args.get("problems") == "1", major=args.get("major") == "1",
        )


def _open_problem():
    return sa.exists().where(
        ProgressUpdate.project_id == TechProject.id, ProgressUpdate.problems.is_not(None),
        ProgressUpdate.is_resolved.is_(False),
    )


def ledger_query(user, f: LedgerFilters) -> sa.Select:
    """The projects of the bureau's scope matching the filters, newest first."""
    q = in_bureau_district(sa.select(TechProject).join(TechProject.org), user)
    if f.district:
        q = q.where(Organization.district == f.district)
    if f.cluster:
        q = q.where(Organization.industry == f.cluster)
    if f.category:
        q = q.where(TechProject.category == f.category)
    if f.progress in PROGRESS_BANDS:
        lo, hi = PROGRESS_BANDS[f.progress]
        q = q.where(TechProject.progress.between(lo, hi))
    if f.problems:
        q = q.where(_open_problem())
    if f.major:
        q = q.where(TechProject.is_major.is_(True))
    return q.order_by(TechProject.id.desc())


def ledger_page(user, f: LedgerFilters, page: int, per_page: int = 30):
    q = ledger_query(user, f)
    total = db_session.scalar(sa.select(sa.func.count()).select_from(q.subquery()))
    rows = list(db_session.scalars(q.limit(per_page).offset((page - 1) * per_page)))
    return rows, total


# Demands that are no longer asking for money (or never did) do not count as requested.
NOT_REQUESTED = (DemandStatus.DRAFT, DemandStatus.WITHDRAWN)


def financing_by_project(project_ids: list[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Project id -> (financing requested, financing obtained) in 万元.

    Obtained stays 0 until the offers domain records disbursements.
    """
    if not project_ids:
        return {}
    rows = db_session.execute(
        sa.select(Demand.project_id, sa.func.sum(Demand.amount))
        .where(Demand.project_id.in_(project_ids), Demand.status.not_in(NOT_REQUESTED))
        .group_by(Demand.project_id)
    )
    requested = {pid: Decimal(total or 0) for pid, total in rows}
    return {pid: (requested.get(pid, Decimal(0)), Decimal(0)) for pid in project_ids}
