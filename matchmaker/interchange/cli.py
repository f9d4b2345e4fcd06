"""`flask data import FILE` and `flask data export FILE`."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import AppGroup

from matchmaker.interchange import services
from matchmaker.search_cli import sync_all

data_cli = AppGroup("data", help="以 JSON Lines 导入、导出平台数据。")


@data_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果（供程序读取）。")
def import_command(path, as_json):
    """导入 JSON Lines 文件：全部行通过校验才导入，否则一行也不导入。"""
    city = current_app.extensions["city"]
    with click.open_file(path, "rb") as fh:
        lines, undecodable = _decode_lines(fh.read())
    if undecodable:
        for number in undecodable:
            click.echo(str(services.LineProblem(number, None, "不是有效的 UTF-8 文本")), err=True)
        if as_json:
            click.echo(json.dumps({"ok": False, "imported": {}, "errors": [
                {"line": n, "field": None, "message": "不是有效的 UTF-8 文本"} for n in undecodable]},
                ensure_ascii=False))
        click.echo(f"共 {len(undecodable)} 行有误，未导入任何数据。", err=True)
        sys.exit(1)
    with click.progressbar(length=len(lines), label="导入", file=sys.stderr) as bar:
        report = services.import_lines(lines, city=city, progress=bar.update)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    if not report.ok:
        for problem in report.errors:
            click.echo(str(problem), err=True)
        click.echo(f"共 {len(report.errors)} 行有误，未导入任何数据。", err=True)
        sys.exit(1)
    summary = "，".join(f"{k} {v}" for k, v in report.counts.items()) or "无数据"
    click.echo(f"导入完成：{summary}", err=True)
    # The import queued its rows for the search index in its own transaction; apply them now.
    synced = sync_all()
    if synced is None or synced.failed:
        click.echo("搜索索引暂未更新（已留在待同步队列，可稍后运行 flask search sync）。", err=True)


def _decode_lines(data: bytes) -> tuple[list[str], list[int]]:
    """The file's lines as text, and the numbers of the lines that are not UTF-8 (reported, never guessed)."""
    lines, bad = [], []
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            lines.append(raw.decode("utf-8-sig" if number == 1 else "utf-8"))
        except UnicodeDecodeError:
            bad.append(number)
            lines.append("")
    return lines, bad


@data_cli.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, allow_dash=True))
@click.option("--type", "types", multiple=True, help="只导出这些类型（可重复）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出各类型的数量。")
def export_command(path, types, as_json):
    """把平台数据导出为 JSON Lines 文件（可再导入）。"""
    city = current_app.extensions["city"]
    with click.open_file(path, "w", encoding="utf-8") as fh:
        counts = services.export_lines(fh, city=city, types=types or None)
    if as_json and path != "-":
        click.echo(json.dumps({"exported": dict(counts)}, ensure_ascii=False))
    click.echo("导出完成：" + ("，".join(f"{k} {v}" for k, v in counts.items()) or "无数据"), err=True)
