"""`flask exchange export` (outcomes upward, JSON Lines or the provincial workbook) and `flask exchange import`."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from matchmaker.exchange import services
from matchmaker.search_cli import sync_all

exchange_cli = AppGroup("exchange", help="对接成果上报（导出）与金融机构报送（导入）。")


def _fail(message: str, as_json: bool):
    if as_json:
        click.echo(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    click.echo(message, err=True)
    sys.exit(2)


@exchange_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(services.FORMATS), required=True, help="jsonl 或 xlsx（省平台模板）")
@click.option("--from", "start", required=True, help="起始日期 YYYY-MM-DD（含）")
@click.option("--to", "end", required=True, help="结束日期 YYYY-MM-DD（含）")
@click.option("--district", default=None, help="只导出该区（市）的企业")
@click.option("--out", "path", required=True, type=click.Path(dir_okay=False, writable=True, allow_dash=True),
              help="输出文件（- 为标准输出，仅 jsonl）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出各类型的数量。")
def export_command(fmt, start, end, district, path, as_json):
    """导出期间内已发布的需求及其对接结果（已接受的方案、签约、放款）。"""
    city = current_app.extensions["city"]
    try:
        scope = services.export_scope(city, start, end, district)
    except services.ExchangeError as e:
        _fail(str(e), as_json)
    if fmt == "xlsx" and path == "-":
        _fail("xlsx 须写入文件（--out FILE.xlsx）", as_json)
    ds = services.reported_demands(scope, city)
    outcomes = services.outcome_offers(ds)
    data, _name, _mime = services.export_file(fmt, scope, city)
    with click.open_file(path, "wb") as fh:
        fh.write(data)
    summary = {"out": path, "format": fmt, "demands": len(ds), "outcomes": len(outcomes),
               "deals": sum(1 for o in outcomes if o.deal is not None)}
    if as_json and path != "-":
        click.echo(json.dumps(summary, ensure_ascii=False))
    click.echo(f"导出完成：需求 {summary['demands']} 项，对接结果 {summary['outcomes']} 项（签约 {summary['deals']} 项）",
               err=True)


@exchange_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--org", "org_ref", required=True, help="报送的金融机构（ref）：只能导入该机构自己的产品和对接结果")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果（供程序读取）。")
def import_command(path, org_ref, as_json):
    """导入金融机构报送的产品和对接结果（JSON Lines 或省平台模板工作簿）：全部通过校验才导入。"""
    city = current_app.extensions["city"]
    with click.open_file(path, "rb") as fh:
        data = fh.read()
    try:
        actor = services.institution_actor(org_ref)
        report = services.import_file(actor, path, data, city)
    except services.ExchangeError as e:
        _fail(str(e), as_json)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    if not report.ok:
        for problem in report.errors:
            click.echo(str(problem), err=True)
        click.echo(f"共 {len(report.errors)} 处有误，未导入任何数据。", err=True)
        sys.exit(1)
    click.echo("导入完成：" + ("，".join(f"{k} {v}" for k, v in report.counts.items()) or "无数据"), err=True)
    synced = sync_all()
    if synced is None or synced.failed:
        click.echo("搜索索引暂未更新（已留在待同步队列，可稍后运行 flask search sync）。", err=True)
