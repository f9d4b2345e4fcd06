"""Column types shared by every domain: money as exact decimals, codes as checked strings, UTC times."""
from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

# 万元 with four decimals = exact to the yuan.
Money = sa.Numeric(14, 4)


def CodeEnum(enum_cls):
    """A code column: stored as its string value (not a native enum), validated on the way in."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        create_constraint=False,
    )


def utcnow() -> datetime:
    """Naive UTC now: stored times are UTC everywhere; the UI converts to the city's time zone."""
    return datetime.now(UTC).replace(tzinfo=None)
