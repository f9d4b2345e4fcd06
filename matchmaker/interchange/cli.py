"""`flask data import|export FILE` (JSON Lines) and `flask data backup|restore DIR` (the whole site)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

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


def _file_directories():
    from matchmaker.interchange.backup import file_directories

    return file_directories(current_app.config, current_app.instance_path)


@data_cli.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, writable=True))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出备份摘要。")
def backup_command(directory, as_json):
    """把整个站点（全部数据表和上传的文件）备份到一个新目录，可用 data restore 恢复。"""
    from matchmaker.interchange import backup
    from models import db_session, get_engine

    db_session.remove()
    engine = get_engine()
    with click.progressbar(length=backup.count_rows(engine), label="备份", file=sys.stderr) as bar:
        try:
            summary = backup.backup(engine, Path(directory), file_dirs=_file_directories(), progress=bar.update)
        except backup.BackupError as e:
            raise click.ClickException(str(e)) from e
    _report(summary, "备份完成", as_json)


@data_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出恢复摘要。")
def restore_command(directory, as_json):
    """把 data backup 生成的备份恢复到空数据库（结构版本须一致），然后重建搜索索引。"""
    from matchmaker.interchange import backup
    from matchmaker.search_cli import reindex
    from models import db_session, get_engine
    from search.backend import SearchUnavailable

    db_session.remove()
    engine = get_engine()
    try:
        manifest = backup.read_manifest(Path(directory))
        total = sum(t["rows"] for t in manifest["tables"].values())
        with click.progressbar(length=total, label="恢复", file=sys.stderr) as bar:
            summary = backup.restore(engine, Path(directory), file_dirs=_file_directories(), progress=bar.update)
    except backup.BackupError as e:
        raise click.ClickException(str(e)) from e
    _report(summary, "恢复完成", as_json)
    try:
        reindex()
    except SearchUnavailable as e:
        click.echo(f"数据已恢复，但搜索服务不可用（{e}）：请稍后运行 flask --app wsgi search reindex。", err=True)


def _report(summary, verb, as_json):
    files = sum(summary.files.values())
    click.echo(f"{verb}：{len(summary.tables)} 张表 {sum(summary.tables.values())} 行，文件 {files} 个，"
               f"结构版本 {summary.schema_revision}（{summary.directory}）", err=True)
    if as_json:
        click.echo(json.dumps(summary.as_json(), ensure_ascii=False))
