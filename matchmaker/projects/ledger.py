"""The bureau's project ledger as an Excel workbook (openpyxl)."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import selectinload

from matchmaker.projects.services import LedgerFilters, financing_by_project, ledger_query
from models import TechProject, db_session, label

HEADERS = ("企业名称", "区（市）", "产业集群", "项目名称", "项目类别", "总投资（万元）", "设备投资（万元）",
           "计划开工", "计划竣工", "进度（%）", "重大项目", "未解决问题", "申请融资（万元）", "已获融资（万元）")
WIDTHS = (32, 10, 12, 32, 12, 14, 14, 12, 12, 10, 10, 40, 16, 16)


def rows(user, filters: LedgerFilters):
    """The ledger lines, one per project, in the order of the page."""
    # The whole scope at once: load organisations and progress reports in two queries, not per row.
    q = ledger_query(user, filters).options(selectinload(TechProject.org), selectinload(TechProject.updates))
    projects = list(db_session.scalars(q))
    money = financing_by_project([p.id for p in projects])
    for p in projects:
        requested, obtained = money[p.id]
        yield (
            p.org.name, p.org.district, p.org.industry, p.name, label(p.category),
            float(p.total_investment), float(p.equipment_investment),
            p.start_on, p.end_on, p.progress, "是" if p.is_major else "否",
            "；".join(u.problems for u in p.open_problems), float(requested), float(obtained),
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
