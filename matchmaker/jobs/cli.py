"""`flask jobs list|run|loop|scheduler|worker`: the periodic jobs, embedded or through RQ."""
from __future__ import annotations

import json
import logging
import signal
import sys
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from matchmaker.formatting import local_dt
from matchmaker.jobs import runner
from matchmaker.jobs.registry import JOBS
from models.types import utcnow

jobs_cli = AppGroup("jobs", help="后台任务：查看、手动运行、内置循环，或 Redis 队列的调度器与执行者。")

STATUS_TEXT = {"running": "运行中", "finished": "成功", "failed": "失败"}


def _stop_on_signals() -> threading.Event:
    """SIGTERM (systemd, make) and SIGINT (Ctrl-C) end the loop after the job in progress."""
    stop = threading.Event()

    def handler(signum, _frame):
        click.echo(f"收到信号 {signal.Signals(signum).name}，当前任务完成后退出。", err=True)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _connection():
    from matchmaker.jobs import queue

    try:
        return queue.connection()
    except RuntimeError as e:
        raise click.ClickException("未设置 REDIS_URL：没有 Redis 时请用 `flask --app wsgi jobs loop`。") from e


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@jobs_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出。")
def list_command(as_json):
    """列出后台任务：计划、上次运行、失败次数与下次运行时间。"""
    rows = runner.status()
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    from datetime import datetime

    for r in rows:
        last = r["last_run"]
        text = "从未运行" if last is None else (
            f"{STATUS_TEXT[last['status']]} {local_dt(datetime.fromisoformat(last['started_at']))}"
            f"（{last['duration_ms'] or 0} ms）")
        due = datetime.fromisoformat(r["next_due"])
        nxt = "已到期，等待运行" if due <= utcnow() else local_dt(due)
        click.echo(f"{r['name']:<18}{r['schedule']:<12}上次：{text}；24 小时内失败 {r['failures_24h']} 次；下次：{nxt}")


@jobs_cli.command("run")
@click.argument("name", type=click.Choice(list(JOBS)))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")
def run_command(name, as_json):
    """立即运行一个任务（记为手动运行）。"""
    outcome = runner.run_now(name)
    if as_json:
        click.echo(json.dumps(outcome.as_json(), ensure_ascii=False))
    click.echo(f"{name}：{STATUS_TEXT[outcome.status.value]}，{outcome.duration_ms} ms，"
               f"{json.dumps(outcome.result, ensure_ascii=False)}", err=True)
    if outcome.error:
        click.echo(outcome.error, err=True)
    if outcome.status.value == "failed":
        sys.exit(1)


@jobs_cli.command("loop")
@click.option("--tick", default=10.0, show_default=True, help="检查到期任务的间隔（秒）。")
@click.option("--once", is_flag=True, help="只检查并运行一轮后退出。")
def loop_command(tick, once):
    """内置循环：在本进程中按计划运行到期任务（无需 Redis）；SIGTERM/SIGINT 时干净退出。"""
    _logging()
    if once:
        for o in runner.run_due():
            click.echo(f"{o.job}：{STATUS_TEXT[o.status.value]}", err=True)
        return
    stop = _stop_on_signals()
    click.echo(f"后台任务循环已启动（每 {tick:g} 秒检查一次）。", err=True)
    runner.loop(stop, tick)
    click.echo("后台任务循环已退出。", err=True)


@jobs_cli.command("scheduler")
@click.option("--tick", default=10.0, show_default=True, help="检查到期任务的间隔（秒）。")
@click.option("--once", is_flag=True, help="只排入一轮后退出。")
def scheduler_command(tick, once):
    """调度器：把到期的任务排入 Redis 队列（需要 REDIS_URL），由 `jobs worker` 执行。"""
    from matchmaker.jobs import queue

    _logging()
    conn = _connection()
    if once:
        ids = queue.enqueue_due(conn)
        click.echo(json.dumps({"enqueued": ids}))
        return
    stop = _stop_on_signals()
    click.echo(f"调度器已启动：{current_app.config['REDIS_URL']}，队列 {queue.QUEUE_NAME}。", err=True)
    queue.schedule(conn, stop, tick)
    click.echo("调度器已退出。", err=True)


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="队列清空后退出。")
@click.option("--name", default=None, help="执行者名称（默认由 RQ 生成）。")
def worker_command(burst, name):
    """执行者：从 Redis 队列取出任务并在本应用中运行（需要 REDIS_URL）；SIGTERM 时做完当前任务再退出。"""
    from matchmaker.jobs import queue

    worker = queue.make_worker(_connection(), name=name)
    worker.work(burst=burst, logging_level="INFO")
