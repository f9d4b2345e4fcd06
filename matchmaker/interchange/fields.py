"""Field checks for interchange lines: each returns the clean value or raises LineError naming the field."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class LineError(Exception):
    """A bad line: `field` names the key at fault, the message says why (in Chinese)."""

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _given(d: dict, key: str, required: bool):
    """The value at `key`, or None when absent; an absent required key is a line error."""
    v = d.get(key)
    if v is None and required:
        raise LineError(key, "缺少必填字段")
    return v


def text(d: dict, key: str, *, required: bool = True, max_len: int = 200) -> str | None:
    v = d.get(key)
    if v is None or v == "":
        if required:
            raise LineError(key, "缺少必填字段")
        return None
    if not isinstance(v, str):
        raise LineError(key, "应为字符串")
    if len(v) > max_len:
        raise LineError(key, f"长度不能超过{max_len}个字符")
    return v


def integer(d: dict, key: str, *, required: bool = False, lo: int | None = None, hi: int | None = None) -> int | None:
    v = _given(d, key, required)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise LineError(key, "应为整数")
    if (lo is not None and v < lo) or (hi is not None and v > hi):
        raise LineError(key, f"应在{lo}至{hi}之间")
    return v


def decimal(d: dict, key: str, *, required: bool = False, lo: Decimal | int | None = None,
            hi: Decimal | int | None = None, lo_open: bool = False) -> Decimal | None:
    v = _given(d, key, required)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise LineError(key, "应为数字")
    try:
        # Through str so that 0.1 stays 0.1 and not its binary approximation.
        value = Decimal(str(v))
    except InvalidOperation:
        raise LineError(key, "应为数字") from None
    if not value.is_finite():
        raise LineError(key, "应为有限的数字")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise LineError(key, f"应{'大于' if lo_open else '不小于'}{lo}")
    if hi is not None and value > hi:
        raise LineError(key, f"不能大于{hi}")
    return value


def boolean(d: dict, key: str, *, default: bool = False) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise LineError(key, "应为 true 或 false")
    return v


def code(d: dict, key: str, enum: type[StrEnum] | tuple[str, ...], *, required: bool = True):
    v = _given(d, key, required)
    if v is None:
        return None
    allowed = tuple(m.value for m in enum) if isinstance(enum, type) else enum
    if v not in allowed:
        raise LineError(key, f"取值“{v}”无效，应为：{'、'.join(allowed)}")
    return enum(v) if isinstance(enum, type) else v


def codes(d: dict, key: str, allowed: tuple[str, ...], *, required: bool = False) -> list[str]:
    v = d.get(key)
    if v is None:
        if required:
            raise LineError(key, "缺少必填字段")
        return []
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise LineError(key, "应为字符串数组")
    bad = [x for x in v if x not in allowed]
    if bad:
        raise LineError(key, f"取值“{bad[0]}”无效，应为：{'、'.join(allowed)}")
    return list(dict.fromkeys(v))


def strings(d: dict, key: str, *, max_items: int = 50, max_len: int = 50) -> list[str]:
    v = d.get(key)
    if v is None:
        return []
    if not isinstance(v, list) or not all(isinstance(x, str) and 0 < len(x) <= max_len for x in v):
        raise LineError(key, f"应为字符串数组（每项1至{max_len}个字符）")
    if len(v) > max_items:
        raise LineError(key, f"最多{max_items}项")
    return list(dict.fromkeys(v))


def iso_date(d: dict, key: str, *, required: bool = False) -> date | None:
    v = _given(d, key, required)
    if v is None:
        return None
    try:
        return date.fromisoformat(v)
    except (TypeError, ValueError):
        raise LineError(key, "应为 YYYY-MM-DD 格式的日期") from None


def iso_datetime(d: dict, key: str, *, required: bool = False) -> datetime | None:
    """A timestamp as written; `ImportContext.to_utc` gives it the city's zone when it has none."""
    v = _given(d, key, required)
    if v is None:
        return None
    try:
        return datetime.fromisoformat(v)
    except (TypeError, ValueError):
        raise LineError(key, "应为 ISO 8601 格式的时间，如 2026-03-01T09:00:00") from None


def plain_number(value: Decimal | None):
    """A Decimal as a JSON number: integral amounts as integers, others with their exact digits."""
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value.normalize())
