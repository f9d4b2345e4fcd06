"""The interchange types: each domain registers how its objects are read from and written to a line."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from matchmaker.interchange.fields import LineError
from models import db_session


@dataclass
class ImportContext:
    """What an import knows while it runs: refs defined so far, the city, the importing user."""

    city: object
    actor: object = None
    created: dict[tuple[str, str], object] = field(default_factory=dict)
    # Refs whose own line was bad, with that line's number: a line using them says so.
    failed: dict[tuple[str, str], int] = field(default_factory=dict)

    def lookup(self, model: type, type_name: str, ref, key: str):
        """The object `ref` of `model`, from earlier lines of this file or from the database."""
        if not isinstance(ref, str) or not ref:
            raise LineError(key, "应为引用（ref 字符串）")
        if (type_name, ref) in self.failed:
            raise LineError(key, f"引用的{type_name}“{ref}”所在的第{self.failed[(type_name, ref)]}行有误")
        obj = self.created.get((type_name, ref))
        if obj is None:
            obj = db_session.scalar(sa.select(model).where(model.ref == ref))
        if obj is None:
            raise LineError(key, f"引用的{type_name}“{ref}”不存在（须在前面的行或数据库中定义）")
        return obj

    def ref_exists(self, model: type, type_name: str, ref: str) -> bool:
        return (type_name, ref) in self.created or (
            db_session.scalar(sa.select(model.id).where(model.ref == ref)) is not None
        )

    def to_utc(self, dt: datetime | None) -> datetime | None:
        if dt is None:
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=ZoneInfo(self.city.timezone))
        return dt.astimezone(UTC).replace(tzinfo=None)

    def to_local(self, dt: datetime | None) -> str | None:
        if dt is None:
            return None
        return dt.replace(tzinfo=UTC).astimezone(ZoneInfo(self.city.timezone)).replace(tzinfo=None).isoformat()


@dataclass
class InterchangeType:
    """How one `"type"` of line is imported and exported.

    `load(line, ctx)` checks the line and returns the new object (added to the session) or raises
    LineError; `dump(obj, ctx)` returns the line; `export_query()` lists the objects in an order in
    which every reference points to an earlier line. `order` places the type in the export file.
    """

    name: str
    keys: frozenset[str]
    load: Callable[[dict, ImportContext], object]
    dump: Callable[[object, ImportContext], dict]
    export_query: Callable[[], Iterable[object]]
    order: int
    # The line's natural key, for types without a "ref" (e.g. a registration keyed by event and
    # organisation): ctx.created and ctx.failed hold it so later lines can refer to the object.
    line_key: Callable[[dict], str | None] | None = None

    def key_of(self, data: dict) -> str | None:
        if self.line_key is not None:
            try:
                return self.line_key(data)
            except (KeyError, TypeError):
                return None
        ref = data.get("ref")
        return ref if isinstance(ref, str) else None


TYPES: dict[str, InterchangeType] = {}


def register(t: InterchangeType) -> None:
    TYPES[t.name] = t


def load_all_types() -> None:
    """Import every domain's interchange module so that its types are registered."""
    from matchmaker.interchange import demands, events, offers, organizations, products  # noqa: F401
