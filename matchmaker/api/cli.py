"""`flask api webhooks-deliver`: send the webhook deliveries that are due (run it from cron every minute)."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

api_cli = AppGroup("api", help="集成接口：回调投递。")


@api_cli.command("webhooks-deliver")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")
def deliver_command(as_json):
    """发送到期的回调（失败的按退避时间重试）。"""
    from matchmaker.api.webhooks import deliver_due

    counts = deliver_due()
    click.echo(json.dumps(counts) if as_json else f"送达 {counts['delivered']}，待重试 {counts['retry']}，"
                                                 f"失败 {counts['failed']}")
