"""`flask report monthly …` (the bureau's monthly workbook) and `flask report rebuild-summary` (the console's summary table)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import click
from flask.cli import AppGroup

from matchmaker.console import report, services, summary
from models import db_session

report_cli = AppGroup("report", help="报表：工信局月报等。")


# The command runs with the city bureau's reach; --district narrows it as the console's filter does.
_CITY_BUREAU = SimpleNamespace(org=SimpleNamespace(district=None))


@report_cli.command("monthly")
@click.option("--month", required=True, help="月份，如 2026-10（按城市时区划分）")
@click.option("--district", default=None, help="只统计一个区（市）")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="输出的 .xlsx 文件")
@click.option("--json", "as_json", is_flag=True, help="只在标准输出打印 JSON 结果")
def monthly(month: str, district: str | None, out: str, as_json: bool) -> None:
    """Write the monthly workbook (汇总, 分区, 分产业, 活动成效, 分机构, 台账) for MONTH."""
    try:
        scope = services.scope_for(_CITY_BUREAU, month, month, district)
    except services.ConsoleError as e:
        raise click.BadParameter(str(e)) from None
    # Progress goes to stderr so that stdout carries nothing but the JSON.
    data = report.workbook(scope, progress=lambda name: click.echo(f"生成工作表：{name}", err=True))
    path = Path(out)
    path.write_bytes(data.getvalue())
    click.echo(f"已写入 {path}", err=True)
    if as_json:
        sys.stdout.write(json.dumps({"out": str(path), "sheets": list(report.SHEETS)}, ensure_ascii=False) + "\n")


@report_cli.command("rebuild-summary")
@click.option("--json", "as_json", is_flag=True, help="只在标准输出打印 JSON 结果")
def rebuild_summary(as_json: bool) -> None:
    """Recompute the console's monthly summary table from the raw demands, offers, deals and disbursements.

    Writes made through the application keep it right by themselves; run this after writing to the
    database around the application, or after changing the city's time zone.
    """
    lines = summary.rebuild()
    db_session.commit()
    click.echo(f"工作台汇总表已重建：{lines} 行", err=True)
    if as_json:
        sys.stdout.write(json.dumps({"lines": lines}) + "\n")
