"""`flask offers expire` and `flask offers remind`: the offer clocks, run on a schedule (pages also expire lazily)."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from matchmaker.offers.services import expire_offers, send_deadline_reminders

offers_cli = AppGroup("offers", help="融资方案的维护命令。")


@offers_cli.command("expire")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")
def expire_command(as_json):
    """把超过有效期（或需求已下架）的方案标记为已失效。"""
    count = expire_offers()
    if as_json:
        click.echo(json.dumps({"expired": count}))
    click.echo(f"已失效的方案：{count} 项", err=True)


@offers_cli.command("remind")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")
def remind_command(as_json):
    """提醒机构：申请在 2 个工作日内到期，或已逾期（每项只提醒一次）。"""
    sent = send_deadline_reminders()
    if as_json:
        click.echo(json.dumps(sent))
    click.echo(f"到期提醒 {sent['reminders']} 条，逾期通知 {sent['overdue']} 条", err=True)
