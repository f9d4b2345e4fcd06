"""Display helpers used by templates: money in 万元, times in the city's zone."""
from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import current_app


def wan(value: Decimal | int | float | None, digits: int = 2) -> str:
    """Format an amount in 万元: thousands separators, trailing zeros dropped."""
    if value is None:
        return "—"
    q = Decimal(value).quantize(Decimal(1).scaleb(-digits))
    text = f"{q:,.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.extensions["city"].timezone)


def local_dt(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "—"
    return value.replace(tzinfo=UTC).astimezone(_zone()).strftime(fmt)


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return local_dt(value, "%Y-%m-%d")
    return value.isoformat()
