"""The bureau's project ledger as an Excel workbook (openpyxl)."""
from __future__ import annotations

import io

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from matchmaker.projects.services import LedgerFilters, financing_by_project, ledger_query
from models import Organization, ProgressUpdate, TechProject, db_session, label

HEADERS = ("企业名称", "区（市）", "产业集群", "项目名称", "项目类别", "总投资（万元）", "设备投资（万元）",
           "计划开工", "计划竣工", "进度（%）", "重大项目", "未解决问题", "申请融资（万元）", "已获融资（万元）")
WIDTHS = (32, 10, 12, 32, 12, 14, 14, 12, 12, 10, 10, 40, 16, 16)


def rows(user, filters: LedgerFilters):
    """The ledger lines, one per project, in the order of the page."""
    # Plain rows, not objects: the monthly report writes the whole city's ledger (tens of thousands).
    q = ledger_query(user, filters).with_only_columns(
        TechProject.id, Organization.name, Organization.district, Organization.industry, TechProject.name,
        TechProject.category, TechProject.total_investment, TechProject.equipment_investment, TechProject.start_on,
        TechProject.end_on, TechProject.progress, TechProject.is_major)
    projects = db_session.execute(q).all()
    problems: dict[int, list[str]] = {}
    # The open problems of every project (few), in the order they were reported (TechProject.open_problems).
    for project_id, text in db_session.execute(
            sa.select(ProgressUpdate.project_id, ProgressUpdate.problems)
            .where(ProgressUpdate.problems.is_not(None), ProgressUpdate.problems != "",
                   ProgressUpdate.is_resolved.is_(False)).order_by(ProgressUpdate.id)):
        problems.setdefault(project_id, []).append(text)
    money = financing_by_project([p.id for p in projects])
    for p in projects:
        requested, obtained = money[p.id]
        yield (
            p[1], p.district, p.industry, p[4], label(p.category),
            float(p.total_investment), float(p.equipment_investment),
            p.start_on, p.end_on, p.progress, "是" if p.is_major else "否",
            "；".join(problems.get(p.id, ())), float(requested), float(obtained),
        )


def workbook(user, filters: LedgerFilters) -> io.BytesIO:
    wb = Workbook()
    ws = wb.active
    ws.title = "技改项目台账"
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    for line in rows(user, filters):
        ws.append(line)
    for i, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    for row in ws.iter_rows(min_row=2):
        for idx in (7, 8):
            row[idx].number_format = "yyyy-mm-dd"
        for idx in (5, 6, 12, 13):
            row[idx].number_format = "#,##0.00"
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out
