"""`flask events schedule EVENT [--json]`: build an event's 1:1 meeting timetable from the command line."""
from __future__ import annotations

import json
import sys

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from matchmaker.events import services
from models import Event, EventStatus, db_session

events_cli = AppGroup("events", help="对接活动：排期等。")


def timetable_json(event: Event, tt) -> dict:
    """The command's JSON: `objective`/`bound` are the first criterion (requested meetings scheduled).

    The scheduler optimises a lexicographic tuple (requested meetings, their mutual/accepted
    flags, proposal score in thousandths, minus idle gaps); an outside checker compares against
    the optimum of the first criterion, so `objective` and `bound` are that count. The whole
    tuples are kept under `lexicographic`.
    """
    bound = tt.bound
    return {
        "event": event.ref,
        "meetings": [
            {"slot": m.slot, "table": m.table, "enterprise": m.enterprise, "institution": m.institution,
             "requested": m.requested, "score": m.score}
            for m in tt.meetings
        ],
        "requested_total": tt.requested_total,
        "requested_scheduled": tt.requested_scheduled,
        "objective": tt.objective.requested,
        "bound": bound.requested if bound is not None else tt.requested_total,
        "status": tt.status,
        "lexicographic": {
            "order": ["requested", "preferred", "proposal_score", "negative_gaps"],
            "objective": tt.objective._asdict(),
            "bound": bound._asdict() if bound is not None else None,
        },
    }


@events_cli.command("schedule")
@click.argument("event_ref")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出排期结果（标准输出只有这一个 JSON 对象）。")
@click.option("--time-limit", default=5.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="求解器用时上限（秒）。")
@click.option("--save/--no-save", default=True, show_default=True,
              help="保存排期结果（已举办、已结束的活动从不覆盖）。")
def schedule_command(event_ref, as_json, time_limit, save):
    """为活动 EVENT（活动编号）排出一对一洽谈时间表。任何状态的活动均可排期。"""
    event = db_session.scalar(sa.select(Event).where(Event.ref == event_ref))
    if event is None:
        click.echo(f"活动“{event_ref}”不存在", err=True)
        sys.exit(2)
    # A held or closed event has outcomes on its meetings: compute, but never overwrite them.
    if event.status in (EventStatus.HELD, EventStatus.CLOSED) and save:
        click.echo("活动已举办，结果不保存（仅计算）。", err=True)
        save = False
    click.echo(f"正在排期：{event.title}（{event.ref}）……", err=True)
    try:
        tt = services.schedule_event(None, event, city=current_app.extensions["city"], time_limit=time_limit,
                                     save=save, check_state=False)
    except services.EventError as e:
        click.echo(str(e), err=True)
        sys.exit(1)
    click.echo(f"完成：请求 {tt.requested_total} 对，安排 {tt.requested_scheduled} 对，共 {len(tt.meetings)} 场，"
               f"状态 {tt.status}，用时 {tt.stats.get('wall_time', 0):.2f} 秒。", err=True)
    if as_json:
        click.echo(json.dumps(timetable_json(event, tt), ensure_ascii=False))
        return
    times = services.agenda_times(event)
    click.echo(f"{'时段':<14}{'桌号':>4}  {'企业':<16}{'金融机构':<16}{'请求':<4}{'推荐分':>6}")
    for m in tt.meetings:
        start, end = times[m.slot]
        click.echo(f"{m.slot + 1:>2} {start}-{end}{m.table + 1:>4}  {m.enterprise:<16}{m.institution:<16}"
                   f"{'是' if m.requested else '否':<4}{m.score:>6.3f}")
    bound = tt.bound.requested if tt.bound is not None else "—"
    click.echo(f"请求 {tt.requested_total} 对，已安排 {tt.requested_scheduled} 对（上界 {bound}），"
               f"共 {len(tt.meetings)} 场洽谈。")
