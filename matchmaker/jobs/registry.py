"""The periodic jobs: what each calls, and when it is due (every N minutes, or daily at a city time)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


@dataclass(frozen=True)
class Job:
    """A job calls one service function; each is idempotent, so a missed or repeated slot does no harm."""

    name: str
    title: str
    func: Callable[[], dict]
    every: timedelta | None = None
    daily_at: time | None = None  # in the city's time zone (Asia/Shanghai for 枣庄)
    timeout: int = 600  # seconds a queued run may take before RQ stops it

    @property
    def schedule_text(self) -> str:
        if self.every is not None:
            minutes = int(self.every.total_seconds() // 60)
            return f"每 {minutes} 分钟" if minutes else f"每 {int(self.every.total_seconds())} 秒"
        return f"每天 {self.daily_at:%H:%M}"

    def current_slot(self, now: datetime, tz: ZoneInfo) -> datetime:
        """The latest scheduled time at or before `now` (naive UTC in, naive UTC out)."""
        if self.every is not None:
            step = int(self.every.total_seconds())
            epoch = int(now.replace(tzinfo=UTC).timestamp())
            return datetime.fromtimestamp(epoch - epoch % step, UTC).replace(tzinfo=None)
        local = now.replace(tzinfo=UTC).astimezone(tz)
        day = local.date() if local.time() >= self.daily_at else local.date() - timedelta(days=1)
        return _utc(datetime.combine(day, self.daily_at, tzinfo=tz))

    def next_slot(self, slot: datetime, tz: ZoneInfo) -> datetime:
        if self.every is not None:
            return slot + self.every
        day = slot.replace(tzinfo=UTC).astimezone(tz).date() + timedelta(days=1)
        return _utc(datetime.combine(day, self.daily_at, tzinfo=tz))


def _utc(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None)


def city_zone() -> ZoneInfo:
    city = current_app.extensions.get("city")
    return ZoneInfo(getattr(city, "timezone", None) or "Asia/Shanghai")


# --- what the jobs call: the services themselves, never the CLI --------------------------------------


def _demands_expire() -> dict:
    from matchmaker.demands.services import expire_demands

    return {"expired": expire_demands()}


def _offers_expire() -> dict:
    from matchmaker.offers.services import expire_offers

    return {"expired": expire_offers()}


def _offers_remind() -> dict:
    from matchmaker.offers.services import send_deadline_reminders

    return send_deadline_reminders()


class JobIncomplete(Exception):
    """The job ran but left work undone (it stays queued); the run is recorded as failed with its result."""

    def __init__(self, message: str, result: dict):
        super().__init__(message)
        self.result = result


def _search_sync() -> dict:
    from matchmaker.search_cli import get_backend
    from search.sources import make_loader
    from search.sync import drain, pending_count

    report = drain(get_backend(), make_loader())
    result = report.as_json() | {"pending": pending_count()}
    if report.failed:
        raise JobIncomplete("; ".join(f"{k}: {v}" for k, v in report.errors.items()) or "索引写入失败", result)
    return result


def _webhooks_deliver() -> dict:
    from matchmaker.api.webhooks import deliver_due

    return deliver_due()


def _mail_deliver() -> dict:
    from matchmaker.notifications.mail import deliver_due

    config = current_app.config
    return deliver_due(config.get("SMTP_HOST"), int(config.get("SMTP_PORT") or 25))


def _prune() -> dict:
    from matchmaker.jobs.runner import prune

    return prune()


JOBS: dict[str, Job] = {job.name: job for job in (
    # Validity dates are the city's calendar days: just after local midnight they are all decided.
    Job("demands-expire", "融资需求到期失效", _demands_expire, daily_at=time(0, 5)),
    Job("offers-expire", "融资方案到期失效", _offers_expire, daily_at=time(0, 10)),
    # Institutions read reminders at the start of the working day.
    Job("offers-remind", "申请答复期限提醒", _offers_remind, daily_at=time(8, 30)),
    Job("search-sync", "搜索索引同步", _search_sync, every=timedelta(minutes=1), timeout=300),
    Job("webhooks-deliver", "回调投递", _webhooks_deliver, every=timedelta(minutes=1), timeout=300),
    Job("mail-deliver", "邮件补发", _mail_deliver, every=timedelta(minutes=5), timeout=300),
    # The minute jobs write about 3,000 run rows a day: old runs and sent mail are deleted nightly.
    Job("prune-history", "清理任务与邮件记录", _prune, daily_at=time(3, 0)),
)}


def get(name: str) -> Job:
    """The job called `name`; KeyError names the known ones."""
    try:
        return JOBS[name]
    except KeyError:
        raise KeyError(f"unknown job {name!r}; known: {', '.join(JOBS)}") from None
