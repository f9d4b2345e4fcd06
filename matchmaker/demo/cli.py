"""`flask seed-demo`: the demo world for a first look at the platform."""
from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from matchmaker.demo.organizations import DEMO_PASSWORD
from matchmaker.demo.services import database_is_empty, seed_demo


@click.command("seed-demo")
@click.option("--seed", default=2026, show_default=True, help="随机种子：相同种子生成相同的演示数据。")
@click.option("--enterprises", default=300, show_default=True, type=click.IntRange(10, 100000), help="企业数量。")
@click.option("--if-empty", is_flag=True, help="只在数据库中还没有任何机构时生成（make serve 使用）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出演示账户。")
@with_appcontext
def seed_demo_command(seed, enterprises, if_empty, as_json):
    """生成演示数据（已存在时不重复生成）。"""
    if if_empty and not database_is_empty():
        click.echo("数据库已有数据，未生成演示数据。", err=True)
        return
    logins = seed_demo(current_app.extensions["city"], seed=seed, enterprises=enterprises)
    if as_json:
        click.echo(json.dumps({"created": logins is not None, "logins": logins or {}, "password": DEMO_PASSWORD},
                              ensure_ascii=False))
    if logins is None:
        click.echo("演示数据已存在，未重复生成。", err=True)
        return
    click.echo(f"演示数据已生成。演示账户（密码均为 {DEMO_PASSWORD}）：", err=True)
    for role, username in logins.items():
        click.echo(f"  {role}: {username}", err=True)
