"""Schema migrations (Alembic) driven from the app's configuration: `flask db upgrade` and friends."""
from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

db_cli = AppGroup("db", help="数据库结构迁移（Alembic）。")


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would eat the % of URL-encoded passwords.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (the current schema by default)."""
    command.upgrade(alembic_config(url), revision)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision):
    """创建数据库或迁移到最新结构。"""
    upgrade(current_app.config["SQLALCHEMY_DATABASE_URI"], revision)
    click.echo(f"数据库已迁移到 {revision}", err=True)


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade_command(revision):
    """回退数据库结构到指定版本。"""
    command.downgrade(alembic_config(current_app.config["SQLALCHEMY_DATABASE_URI"]), revision)


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
def revision_command(message):
    """根据模型自动生成一个迁移脚本（开发用）。"""
    command.revision(alembic_config(current_app.config["SQLALCHEMY_DATABASE_URI"]), message=message,
                     autogenerate=True)


@db_cli.command("current")
def current_command():
    """显示数据库当前的结构版本。"""
    command.current(alembic_config(current_app.config["SQLALCHEMY_DATABASE_URI"]))
