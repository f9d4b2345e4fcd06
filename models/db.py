"""The declarative base, the engine and the scoped session shared by the web app, commands and search."""
from __future__ import annotations

import logging

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, scoped_session, sessionmaker

# Constraint names are fixed so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING)


log = logging.getLogger(__name__)
db_session = scoped_session(sessionmaker(expire_on_commit=False))
_engine: sa.Engine | None = None


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web workers read while a command writes.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    # The bureau console aggregates whole tables: a larger page cache and in-memory sorts keep
    # repeated scans of its indexes off the disk.
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def discard_session() -> None:
    """End this thread's session whatever state its connection is in.

    Closing rolls back; on a connection the server has just dropped (a PostgreSQL restart) the
    rollback itself can fail, and that must not turn a clean answer into a 500.
    """
    try:
        db_session.remove()
    except sa.exc.DBAPIError as e:
        log.warning("discarding a session whose connection failed: %s", e)
        db_session.registry.clear()


def init_engine(url: str, **kwargs) -> sa.Engine:
    """Create the engine for `url` and bind the session to it (called once per process)."""
    global _engine
    if _engine is not None and str(_engine.url) == url:
        return _engine
    if _engine is not None:
        db_session.remove()
        _engine.dispose()
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 10})
    else:
        kwargs.setdefault("pool_pre_ping", True)
    engine = sa.create_engine(url, **kwargs)
    if url.startswith("sqlite"):
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    db_session.configure(bind=engine)
    _engine = engine
    return engine


def get_engine() -> sa.Engine:
    if _engine is None:
        raise RuntimeError("init_engine() has not been called")
    return _engine
