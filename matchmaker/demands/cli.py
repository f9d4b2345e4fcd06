"""`flask demands expire`: expire demands past their valid-until date (the pool also does it when read)."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from matchmaker.demands.services import expire_demands

demands_cli = AppGroup("demands", help="融资需求的维护命令。")


@demands_cli.command("expire")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")
def expire_command(as_json):
    """把有效期已过的融资需求标记为已过期。"""
    count = expire_demands()
    if as_json:
        click.echo(json.dumps({"expired": count}))
    click.echo(f"已过期的需求：{count} 项", err=True)
