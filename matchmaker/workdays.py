"""Working-day arithmetic for deadlines: weekends, the city's public holidays and its 调休 working days."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local_day(at: datetime, city) -> date:
    """The city's calendar day of `at` (naive UTC, as times are stored)."""
    return at.replace(tzinfo=UTC).astimezone(ZoneInfo(city.timezone)).date()


def local_midnight(day: date, city) -> datetime:
    """The start of the city's calendar day `day`, as naive UTC (the bound of a period of local days)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(city.timezone)).astimezone(UTC).replace(tzinfo=None)


def is_working_day(day: date, city) -> bool:
    """A working day: Monday to Friday unless a public holiday, or a weekend day the city made a working day."""
    if isinstance(day, datetime):
        day = day.date()
    if day in city.extra_working_days:
        return True
    if day in city.holidays:
        return False
    return day.weekday() < 5


def add_working_days(start: date | datetime, n: int, city) -> date | datetime:
    """The `n`-th working day after `start` (before it when `n` is negative); a datetime keeps its time of day.

    The day of `start` itself never counts, whether or not it is a working day: a request made on a
    Friday evening or on a holiday has its first working day on the next working day.
    """
    day = start.date() if isinstance(start, datetime) else start
    step = 1 if n >= 0 else -1
    remaining = abs(n)
    while remaining:
        day += timedelta(days=step)
        if is_working_day(day, city):
            remaining -= 1
    if isinstance(start, datetime):
        return datetime.combine(day, start.timetz() if start.tzinfo else start.time())
    return day


def working_days_between(a: date | datetime, b: date | datetime, city) -> int:
    """How many working days lie after `a` up to and including `b` (negative when `b` is before `a`).

    The inverse of `add_working_days`: working_days_between(a, add_working_days(a, n, city), city) == n.
    """
    a = a.date() if isinstance(a, datetime) else a
    b = b.date() if isinstance(b, datetime) else b
    if b < a:
        return -working_days_between(b, a, city)
    count = 0
    day = a
    while day < b:
        day += timedelta(days=1)
        if is_working_day(day, city):
            count += 1
    return count


def response_deadline(asked_at: datetime, city, n: int | None = None) -> datetime:
    """The answer deadline of a request made at `asked_at` (naive UTC, as stored), as naive UTC.

    The clock runs in the city's local calendar: the deadline is the end of the `n`-th local working
    day after the local day of the request (`n` defaults to the city's response_working_days).
    """
    if n is None:
        n = int(city.policy.get("response_working_days", 10))
    last_day = add_working_days(local_day(asked_at, city), n, city)
    return local_midnight(last_day + timedelta(days=1), city) - timedelta(microseconds=1)
