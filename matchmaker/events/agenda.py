"""Agendas: the timetable per participant and per table, and the whole timetable as an Excel workbook."""
from __future__ import annotations

import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from matchmaker.events import services
from models import Event, Meeting, Organization


@dataclass
class Row:
    slot: int
    start: str
    end: str
    meeting: Meeting | None


def participant_agenda(event: Event, org: Organization) -> list[Row]:
    """Every slot of the day for one participant, with its meeting or a free slot."""
    times = services.agenda_times(event)
    by_slot = {m.slot: m for m in services.meetings_of(event, org)}
    return [Row(s, a, b, by_slot.get(s)) for s, (a, b) in enumerate(times)]


def table_agenda(event: Event) -> list[tuple[int, Organization, list[Row]]]:
    """Per table: its institution and who comes to it in each slot."""
    times = services.agenda_times(event)
    tables: dict[int, dict[int, Meeting]] = {}
    inst: dict[int, Organization] = {}
    for m in services.meetings_of(event):
        tables.setdefault(m.table_no, {})[m.slot] = m
        inst[m.table_no] = m.institution
    return [(t, inst[t], [Row(s, a, b, tables[t].get(s)) for s, (a, b) in enumerate(times)])
            for t in sorted(tables)]


def workbook(event: Event) -> bytes:
    """The whole timetable: a slot × table grid, then a list of every meeting."""
    wb = Workbook()
    grid = wb.active
    grid.title = "总表"
    times = services.agenda_times(event)
    tables = table_agenda(event)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    grid.append([event.title])
    grid["A1"].font = Font(bold=True, size=14)
    grid.append([f"{event.date.isoformat()}  {event.venue or ''}  {'正式议程' if event.agenda_is_final else '初步议程'}"])
    grid.append(["时段"] + [f"{t + 1}号桌\n{org.name}" for t, org, _ in tables])
    for cell in grid[3]:
        cell.font, cell.fill = bold, head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for s, (a, b) in enumerate(times):
        row = [f"{s + 1}  {a}-{b}"]
        for _, _, rows in tables:
            m = rows[s].meeting
            row.append(m.enterprise.name if m else "")
        grid.append(row)
    grid.column_dimensions["A"].width = 16
    for k in range(len(tables)):
        grid.column_dimensions[get_column_letter(k + 2)].width = 24
    grid.freeze_panes = "B4"

    flat = wb.create_sheet("洽谈清单")
    flat.append(["时段", "开始", "结束", "桌号", "金融机构", "机构编号", "企业", "企业编号", "企业所在地",
                 "双方约见", "推荐分", "锁定", "意向金额（万元）", "签约金额（万元）", "放款金额（万元）"])
    for cell in flat[1]:
        cell.font, cell.fill = bold, head_fill
    for m in services.meetings_of(event):
        a, b = times[m.slot]
        flat.append([m.slot + 1, a, b, m.table_no + 1, m.institution.name, m.institution.ref, m.enterprise.name,
                     m.enterprise.ref, m.enterprise.district or "", "是" if m.is_requested else "推荐",
                     float(m.score), "是" if m.is_locked else "",
                     *(float(v) if v is not None else None
                       for v in (m.intent_amount, m.signed_amount, m.disbursed_amount))])
    for col, width in zip("ABCDEFGHIJKLMNO", (6, 8, 8, 6, 28, 16, 28, 16, 10, 8, 8, 6, 14, 14, 14), strict=True):
        flat.column_dimensions[col].width = width
    flat.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
