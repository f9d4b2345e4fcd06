"""Import (all or nothing, every bad line reported) and export of JSON Lines files."""
from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Protocol

from sqlalchemy.exc import IntegrityError

from matchmaker.interchange.fields import LineError
from matchmaker.interchange.registry import TYPES, ImportContext, load_all_types
from models import db_session, record


@dataclass
class LineProblem:
    line: int
    field: str | None
    message: str
    # A workbook's rows are reported with their sheet.
    sheet: str | None = None

    def __str__(self) -> str:
        where = f"字段 {self.field}：" if self.field else ""
        return f"{self.sheet or ''}第{self.line}行：{where}{self.message}"


@dataclass
class ImportReport:
    counts: Counter = field(default_factory=Counter)
    errors: list[LineProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "imported": dict(self.counts) if self.ok else {},
            "errors": [{"line": e.line, "field": e.field, "message": e.message,
                        **({"sheet": e.sheet} if e.sheet else {})} for e in self.errors],
        }


class ImportGuard(Protocol):
    """Who may import what: a file from an institution may only carry its own objects (see matchmaker/exchange)."""

    def check_line(self, data: dict) -> None:
        """Before the line is loaded: raise LineError for a type or a reference the importer may not use."""

    def check_object(self, type_name: str, obj) -> None:
        """After the line is loaded: raise LineError for an object outside the importer's reach."""

    def finish(self, objects: list[tuple[str, object]]) -> None:
        """Every line was good: the side effects of the import, in its transaction, before the commit."""


def import_lines(lines: Iterable[str], *, city, actor=None, progress: Callable[[int], None] | None = None,
                 max_errors: int = 1000, guard: ImportGuard | None = None) -> ImportReport:
    """Check every line and import them all in one transaction, or nothing if any line is bad."""
    return import_records(enumerate(lines, start=1), city=city, actor=actor, progress=progress,
                          max_errors=max_errors, guard=guard)


def import_records(records: Iterable[tuple], *, city, actor=None,
                   progress: Callable[[int], None] | None = None, max_errors: int = 1000,
                   guard: ImportGuard | None = None) -> ImportReport:
    """import_lines over (number, line) pairs: a line is JSON text, an already parsed object (a workbook row),
    or the LineError its reader met (reported like any bad line); a third item names the row's sheet."""
    load_all_types()
    ctx = ImportContext(city=city, actor=actor)
    report = ImportReport()
    loaded: list[tuple[str, object]] = []
    for number, raw, *where in records:
        sheet = where[0] if where else None
        if progress:
            progress(1)
        if isinstance(raw, str) and not raw.strip():
            continue
        try:
            if isinstance(raw, LineError):
                # A row its reader could not even turn into a line.
                raise raw
            obj, type_name = _load_line(raw, ctx, guard)
        except LineError as e:
            report.errors.append(LineProblem(number, e.field, e.message, sheet))
            _remember_failed_ref(raw, number, ctx)
            if len(report.errors) >= max_errors:
                break
            continue
        if report.errors:
            # Keep checking later lines, but nothing will be saved: free what this line added.
            db_session.expunge(obj)
            continue
        try:
            db_session.flush()
        except IntegrityError as e:
            db_session.rollback()
            report.errors.append(LineProblem(number, None, f"与已有数据冲突：{e.orig}", sheet))
            return report
        record(actor, f"{type_name}.imported", obj)
        report.counts[type_name] += 1
        loaded.append((type_name, obj))
    if not report.errors and guard is not None:
        guard.finish(loaded)
    if report.errors:
        db_session.rollback()
    else:
        db_session.commit()
    return report


def _parse(raw: str | dict):
    if isinstance(raw, dict):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return None


def _remember_failed_ref(raw: str | dict | LineError, number: int, ctx: ImportContext) -> None:
    if isinstance(raw, LineError):
        return
    data = _parse(raw)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str) or data["type"] not in TYPES:
        return
    key = TYPES[data["type"]].key_of(data)
    if key is not None:
        ctx.failed.setdefault((data["type"], key), number)


def _load_line(raw: str | dict, ctx: ImportContext, guard: ImportGuard | None = None):
    if isinstance(raw, dict):
        data = raw
    else:
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise LineError(None, f"不是有效的 JSON：{e.msg}（第{e.colno}列）") from None
    if not isinstance(data, dict):
        raise LineError(None, "每行应为一个 JSON 对象")
    for key, value in data.items():
        # PostgreSQL text cannot hold NUL: refuse the line by its field, not with a database error.
        if _has_nul(key) or _has_nul(value):
            raise LineError(key, "含有无效的控制字符（NUL）")
    type_name = data.get("type")
    t = TYPES.get(type_name) if isinstance(type_name, str) else None
    if t is None:
        raise LineError("type", f"未知的类型“{type_name}”，应为：{'、'.join(sorted(TYPES))}")
    unknown = sorted(set(data) - t.keys - {"type"})
    if unknown:
        raise LineError(unknown[0], "未知字段（不接受未定义的字段）")
    if guard is not None:
        guard.check_line(data)
    # No autoflush: a half-checked object must never reach the database mid-check.
    with db_session.no_autoflush:
        obj = t.load(data, ctx)
        if guard is not None:
            try:
                guard.check_object(type_name, obj)
            except LineError:
                db_session.expunge(obj)
                raise
    key = t.key_of(data) or getattr(obj, "ref", None)
    if key:
        ctx.created[(type_name, key)] = obj
    return obj, type_name


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    return False


def export_lines(out: IO[str], *, city, types: Iterable[str] | None = None) -> Counter:
    """Write every object as one JSON line, references before the lines that use them."""
    load_all_types()
    ctx = ImportContext(city=city)
    counts: Counter = Counter()
    wanted = set(types) if types else None
    for t in sorted(TYPES.values(), key=lambda t: t.order):
        if wanted is not None and t.name not in wanted:
            continue
        for obj in t.export_query():
            line = {"type": t.name, **t.dump(obj, ctx)}
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            counts[t.name] += 1
    return counts
