"""The bureau's monthly workbook (月报): the console's own figures for one month, sheet by sheet (openpyxl)."""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from matchmaker.console import service, services
from matchmaker.projects import ledger
from matchmaker.projects.services import LedgerFilters

SHEETS = ("汇总", "分区", "分产业", "活动成效", "分机构", "台账")


def _cell(value):
    # Excel has no decimal type: money leaves as a float rounded to the yuan (4 places of 万元).
    return float(value) if isinstance(value, Decimal) else value


def _or_dash(value):
    return "—" if value is None else value


def _sheet(wb: Workbook, title: str, headers: list[str], rows: list[list], widths: dict[int, int] | None = None):
    # A write-only workbook streams its rows: the ledger sheet alone has a line per project.
    ws = wb.create_sheet(title)
    for i, _h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = (widths or {}).get(i, 14)
    ws.freeze_panes = "A2"
    header = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        header.append(cell)
    ws.append(header)
    for r in rows:
        ws.append([_cell(v) for v in r])
    return ws


def _breakdown_sheet(wb: Workbook, title: str, rows: list[dict], dim_title: str) -> None:
    keys = list(rows[0]["figures"]) if rows else []
    headers = [dim_title] + [f"{services.METRIC_BY_KEY[k].title}（{services.METRIC_BY_KEY[k].unit}）" for k in keys]
    _sheet(wb, title, headers, [[r["label"]] + [r["figures"][k] for k in keys] for r in rows], {1: 16})


@dataclass(frozen=True)
class _Org:
    district: str | None


@dataclass(frozen=True)
class _Reader:
    """The ledger query scopes by a bureau user's district: the command line reads as the scope's bureau."""

    org: _Org


def workbook(scope: services.Scope, progress: Callable[[str], None] = lambda _s: None) -> io.BytesIO:
    """The workbook for `scope` (normally one month), with `progress` told each sheet's name."""
    wb = Workbook(write_only=True)
    progress("汇总")
    data = services.console(scope)
    period = f"{scope.labels[0]}" if len(scope.months) == 1 else f"{scope.labels[0]} 至 {scope.labels[-1]}"
    summary = [["统计期间", period, ""], ["范围", scope.district or "全市", ""]]
    summary += [[m.title, data["totals"][k], m.unit] for k, m in services.METRIC_BY_KEY.items()]
    summary += [[s["title"], float(s["percent"]) if s["percent"] is not None else "—", "%"] for s in data["shares"]]
    L = data["ledger"]
    summary += [["技改项目（台账）", L["projects"], "个"], ["项目总投资（台账）", L["total_investment"], "万元"],
                ["设备投资（台账）", L["equipment_investment"], "万元"], ["设备奖补测算", L["equipment_subsidy"], "万元"],
                ["贷款贴息测算", L["interest_subsidy"], "万元"], ["年度奖补预算", L["budget"], "万元"],
                ["预算余额", L["budget_left"], "万元"]]
    _sheet(wb, "汇总", ["指标", "数值", "单位"], summary, {1: 22, 2: 18})

    progress("分区")
    keys = dict(services.BREAKDOWNS)
    if scope.district:
        # A district's report has one line: its own totals, the same figures as its summary.
        rows = [{"label": scope.district, "figures": {k: data["totals"][k] for k in keys["district"]}}]
    else:
        rows = services.breakdown(scope, "district", keys["district"])
    _breakdown_sheet(wb, "分区", rows, "区（市）")
    progress("分产业")
    _breakdown_sheet(wb, "分产业", services.breakdown(scope, "cluster", keys["cluster"]), "产业集群")

    progress("活动成效")
    _sheet(wb, "活动成效", ["日期", "活动", "主办", "洽谈场次", "意向金额（万元）", "签约金额（万元）", "放款金额（万元）"],
           [[e["date"].isoformat(), e["title"], e["district"], e["meetings_held"], e["intent_amount"],
             e["signed_amount"], e["disbursed_amount"]] for e in data["events"]], {2: 32})
    # One line per institution with meetings or applications: the events' outcomes, then its service levels.
    meetings = {r["name"]: r for r in services.institution_outcomes(scope)}
    levels = {r["name"]: r for r in service.service_levels(scope)["institutions"]}
    rows = []
    for name in sorted(set(meetings) | set(levels)):
        m, v = meetings.get(name, {}), levels.get(name, {})
        rows.append([name, m.get("kind", ""), m.get("meetings", 0), m.get("meetings_held", 0),
                     m.get("intent_amount", 0), m.get("signed_amount", 0), m.get("disbursed_amount", 0),
                     v.get("applications", 0), v.get("answered", 0),
                     _or_dash(v.get("median_days")), _or_dash(v.get("p90_days")),
                     _or_dash(v.get("on_time_percent")), v.get("overdue", 0)])
    _sheet(wb, "分机构", ["金融机构", "类型", "洽谈安排", "洽谈场次", "意向金额（万元）", "签约金额（万元）", "放款金额（万元）",
                       "收到申请", "已答复", "答复中位数（工作日）", "答复90分位（工作日）", "按时答复率（%）", "当前超期"],
           rows, {1: 28})

    progress("台账")
    ws = _sheet(wb, "台账", list(ledger.HEADERS), [], dict(enumerate(ledger.WIDTHS, start=1)))
    for line in ledger.rows(_Reader(_Org(scope.district)), LedgerFilters()):
        ws.append(list(line))
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out
