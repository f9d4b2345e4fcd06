"""Whole-site backup and restore: every table as gzipped JSON Lines, the file directories, a checked manifest.

The format does not depend on the database: a backup of the embedded SQLite site restores into
PostgreSQL (and back) as long as both are at the same schema revision.

    DIR/manifest.json                     revision, time, row counts, columns, sha256 of every file
    DIR/tables/<table>.jsonl.gz           one JSON object per row, values typed by the column
    DIR/files/<CONFIG_KEY>/<path>         a copy of each file directory (notice files, attachments)
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory

from models import Base

FORMAT = "matchmaker-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# The directories of uploaded files, by config key, with the default the code that writes them uses
# when the key is unset (relative to the instance folder). A key no module sets yet is simply empty.
FILE_DIRECTORIES: dict[str, str] = {
    "NOTICE_FILES_DIR": "notice-files",
    "ATTACHMENT_DIR": "attachments",
}
_BATCH = 1000

Progress = Callable[[int], object]


class BackupError(Exception):
    """A backup or restore that cannot go on; the message is for the user (Chinese)."""


@dataclass
class Summary:
    directory: str
    schema_revision: str
    tables: dict[str, int]
    files: dict[str, int] = field(default_factory=dict)
    created_at: str = ""

    def as_json(self) -> dict:
        return {"directory": self.directory, "schema_revision": self.schema_revision, "created_at": self.created_at,
                "rows": sum(self.tables.values()), "tables": self.tables, "files": self.files}


def file_directories(config: dict, instance_path: str) -> dict[str, Path]:
    """Each file directory's path on this site (the config key's value, else its default under instance/)."""
    return {key: Path(config.get(key) or Path(instance_path) / default) for key, default in FILE_DIRECTORIES.items()}


def head_revision(url: str) -> str:
    from matchmaker.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def database_revision(conn: sa.Connection) -> str | None:
    if not sa.inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


# -- values ------------------------------------------------------------------------------------------

def _encode(value):
    """A column value as JSON, exactly: decimals as strings, times in ISO 8601, bytes in base64."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float):
        return value
    return value  # JSON columns: lists and dicts as they are


def _decoder(column: sa.Column) -> Callable:
    """The inverse of _encode for this column's type."""
    t = column.type
    if isinstance(t, sa.JSON):
        return lambda v: v
    if isinstance(t, sa.Enum):
        return lambda v: v
    if isinstance(t, sa.Numeric) and t.asdecimal:
        return lambda v: None if v is None else Decimal(v)
    if isinstance(t, sa.DateTime):
        def dt(v):
            if v is None:
                return None
            parsed = datetime.fromisoformat(v)
            # A naive column keeps naive UTC; an aware value bound for a naive column is converted first.
            if parsed.tzinfo is not None and not t.timezone:
                parsed = parsed.astimezone(UTC).replace(tzinfo=None)
            return parsed
        return dt
    if isinstance(t, sa.Date):
        return lambda v: None if v is None else date.fromisoformat(v)
    if isinstance(t, sa.Time):
        return lambda v: None if v is None else time.fromisoformat(v)
    if isinstance(t, sa.LargeBinary):
        return lambda v: None if v is None else base64.b64decode(v)
    return lambda v: v


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tables() -> list[sa.Table]:
    return list(Base.metadata.sorted_tables)


# -- backup ------------------------------------------------------------------------------------------

def count_rows(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return sum(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in _tables())


def backup(engine: sa.Engine, directory: Path, *, file_dirs: dict[str, Path], progress: Progress | None = None) -> Summary:
    """Write a consistent backup of the database at `engine` and of `file_dirs` into the new `directory`."""
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise BackupError(f"备份目录 {directory} 已存在且不为空：请指定一个新目录，以免覆盖已有备份。")
    (directory / "tables").mkdir(parents=True, exist_ok=True)
    checksums: dict[str, str] = {}
    tables: dict[str, dict] = {}
    files: dict[str, int] = {}
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    with _snapshot(engine) as conn:
        revision = database_revision(conn)
        if revision is None:
            raise BackupError("数据库尚未建立结构（没有 alembic_version）：请先运行 flask --app wsgi db upgrade。")
        for table in _tables():
            rel = f"tables/{table.name}.jsonl.gz"
            n = _dump_table(conn, table, directory / rel, progress)
            checksums[rel] = _sha256(directory / rel)
            tables[table.name] = {"rows": n, "file": rel, "columns": [c.name for c in table.columns]}
        # Files are copied while the snapshot is held, so no row written after it can be missing its file.
        for key, src in file_dirs.items():
            files[key] = 0
            if not src.is_dir():
                continue
            for path in sorted(p for p in src.rglob("*") if p.is_file()):
                rel = f"files/{key}/{path.relative_to(src).as_posix()}"
                (directory / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, directory / rel)
                checksums[rel] = _sha256(directory / rel)
                files[key] += 1
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION, "created_at": created_at, "schema_revision": revision,
        "source_dialect": engine.dialect.name, "tables": tables, "file_directories": files, "sha256": checksums,
    }
    # The manifest is written last: a backup interrupted half-way has none and is never restored.
    (directory / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return Summary(str(directory), revision, {k: v["rows"] for k, v in tables.items()}, files, created_at)


class _snapshot:
    """One read transaction over every table: REPEATABLE READ on PostgreSQL, a read snapshot on SQLite."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    def __enter__(self) -> sa.Connection:
        if self.engine.dialect.name == "postgresql":
            self.conn = self.engine.connect().execution_options(isolation_level="REPEATABLE READ")
            self.conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        else:
            self.conn = self.engine.connect()
            # pysqlite opens transactions only before writes; an explicit BEGIN makes the reads
            # that follow share the snapshot taken by the first one (WAL mode).
            self.conn.exec_driver_sql("BEGIN")
        return self.conn

    def __exit__(self, *exc):
        self.conn.rollback()
        self.conn.close()


def _dump_table(conn: sa.Connection, table: sa.Table, path: Path, progress: Progress | None) -> int:
    names = [c.name for c in table.columns]
    order = list(table.primary_key.columns) or list(table.columns)
    n = 0
    # mtime=0: the same data gives the same bytes, hence the same checksum.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        result = conn.execution_options(stream_results=True, yield_per=_BATCH).execute(
            sa.select(table).order_by(*order))
        for row in result:
            line = {name: _encode(value) for name, value in zip(names, row, strict=True)}
            gz.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            n += 1
            if progress and n % _BATCH == 0:
                progress(_BATCH)
        if progress:
            progress(n % _BATCH)
    return n


# -- restore -----------------------------------------------------------------------------------------

def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{directory} 不是完整的备份：缺少 {MANIFEST}（备份可能中途中断）。")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise BackupError(f"{MANIFEST} 已损坏，无法读取：{e}") from e
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise BackupError(f"{MANIFEST} 不是本平台第 {FORMAT_VERSION} 版的备份格式。")
    return manifest


def verify(directory: Path, manifest: dict) -> None:
    """Every file the manifest lists is present with its checksum; the first that is not is named."""
    directory = Path(directory)
    for rel, expected in manifest["sha256"].items():
        path = directory / rel
        if not path.is_file():
            raise BackupError(f"备份不完整：缺少文件 {rel}，未恢复任何数据。")
        if _sha256(path) != expected:
            raise BackupError(f"备份文件 {rel} 已损坏（校验和不符），未恢复任何数据。")


def restore(engine: sa.Engine, directory: Path, *, file_dirs: dict[str, Path], progress: Progress | None = None) -> Summary:
    """Restore the backup in `directory` into the empty database at `engine` and the empty `file_dirs`.

    All or nothing: the rows go in one transaction, and the files copied are removed again if it fails.
    """
    from matchmaker.migrate import upgrade

    directory = Path(directory)
    manifest = read_manifest(directory)
    url = engine.url.render_as_string(hide_password=False)
    head = head_revision(url)
    if manifest["schema_revision"] != head:
        raise BackupError(
            f"备份的数据库结构版本是 {manifest['schema_revision']}，而本程序的版本是 {head}：请用与备份时相同版本的"
            f"程序恢复，或先在原站点运行 flask --app wsgi db upgrade（或 db downgrade {head}）后重新备份。")
    verify(directory, manifest)
    current = [t.name for t in _tables()]
    if sorted(manifest["tables"]) != sorted(current):
        raise BackupError("备份中的表与本程序的数据表不一致，无法恢复。")
    with engine.connect() as conn:
        revision = database_revision(conn)
    if revision is None:
        upgrade(url)  # a brand-new database: create the schema first
    elif revision != head:
        raise BackupError(f"目标数据库的结构版本是 {revision}，请先运行 flask --app wsgi db upgrade 迁移到 {head}。")
    _refuse_non_empty(engine, file_dirs)

    created: list[Path] = []
    try:
        with engine.begin() as conn:
            _insert_all(conn, directory, manifest, progress)
            if engine.dialect.name == "postgresql":
                _reset_sequences(conn)
            # Files go in before the commit, so a failure here rolls the rows back too.
            files = _copy_files(directory, manifest, file_dirs, created)
    except Exception:
        for path in reversed(created):
            if path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
        raise
    tables = {name: info["rows"] for name, info in manifest["tables"].items()}
    return Summary(str(directory), head, tables, files, manifest["created_at"])


def _refuse_non_empty(engine: sa.Engine, file_dirs: dict[str, Path]) -> None:
    with engine.connect() as conn:
        for table in _tables():
            n = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            if n:
                raise BackupError(
                    f"目标数据库不是空的（表 {table.name} 已有 {n} 行）：恢复只写入空数据库，以免覆盖现有数据。"
                    "请新建一个数据库并设置 DATABASE_URL 后再恢复。")
    for key, path in file_dirs.items():
        if path.is_dir() and any(path.iterdir()):
            raise BackupError(f"文件目录 {path}（{key}）不是空的：恢复只写入空目录，请换一个目录或先移走其中的文件。")


def _read_rows(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            yield json.loads(line)


def _insert_all(conn: sa.Connection, directory: Path, manifest: dict, progress: Progress | None) -> None:
    tables = _tables()
    position = {t.name: i for i, t in enumerate(tables)}
    later: list[tuple[sa.Table, list[str], list[dict]]] = []
    for table in tables:
        info = manifest["tables"][table.name]
        if info["columns"] != [c.name for c in table.columns]:
            raise BackupError(f"备份中表 {table.name} 的列与本程序不一致，无法恢复。")
        decoders = {c.name: _decoder(c) for c in table.columns}
        # References to rows not inserted yet (a table's own rows, or a later table in a cycle such as
        # organizations.reviewed_by → users) go in as NULL and are set once every row exists.
        deferred = [fk.parent.name for fk in table.foreign_keys
                    if position.get(fk.column.table.name, -1) >= position[table.name]]
        keep = [c.name for c in table.columns if c.onupdate is not None]
        pk = [c.name for c in table.primary_key.columns]
        fixes: list[dict] = []
        batch: list[dict] = []
        for raw in _read_rows(directory / info["file"]):
            row = {name: decoders[name](raw[name]) for name in decoders}
            if any(row[c] is not None for c in deferred):
                fixes.append({**{f"k_{c}": row[c] for c in pk}, **{f"v_{c}": row[c] for c in deferred + keep}})
                row.update(dict.fromkeys(deferred))
            batch.append(row)
            if len(batch) >= _BATCH:
                conn.execute(table.insert(), batch)
                if progress:
                    progress(len(batch))
                batch = []
        if batch:
            conn.execute(table.insert(), batch)
            if progress:
                progress(len(batch))
        if fixes:
            later.append((table, pk, deferred + keep, fixes))
    for table, pk, cols, fixes in later:
        stmt = (table.update().where(*[table.c[c] == sa.bindparam(f"k_{c}") for c in pk])
                .values({c: sa.bindparam(f"v_{c}") for c in cols}))
        conn.execute(stmt, fixes)


def _reset_sequences(conn: sa.Connection) -> None:
    """Sequences continue after the restored ids, so the next row a user creates does not collide."""
    for table in _tables():
        for col in table.primary_key.columns:
            if not (isinstance(col.type, sa.Integer) and col.autoincrement in (True, "auto")):
                continue
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                               {"t": table.name, "c": col.name}).scalar()
            if seq:
                conn.execute(sa.text(f'SELECT setval(:s, coalesce((SELECT max("{col.name}") FROM "{table.name}"), 0) + 1, '
                                     "false)"), {"s": seq})


def _copy_files(directory: Path, manifest: dict, file_dirs: dict[str, Path], created: list[Path]) -> dict[str, int]:
    counts = dict.fromkeys(file_dirs, 0)
    for rel in manifest["sha256"]:
        parts = rel.split("/", 2)
        if parts[0] != "files":
            continue
        key, inner = parts[1], parts[2]
        if key not in file_dirs:
            raise BackupError(f"备份中的文件目录 {key} 在本程序中没有对应的配置项，无法恢复。")
        target = file_dirs[key] / inner
        if not target.resolve().is_relative_to(file_dirs[key].resolve()):
            raise BackupError(f"备份中的文件名 {rel} 不合法。")
        for parent in reversed(target.parents):
            if not parent.exists():
                parent.mkdir()
                created.append(parent)
        shutil.copy2(directory / rel, target)
        created.append(target)
        counts[key] += 1
    return counts
