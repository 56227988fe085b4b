"""Engine, sessions and the unit of work.

Invariants:
- Services never commit. A request (``session_scope``) or a job (``unit_of_work``) owns the work:
  it commits once when the work succeeded and rolls back on any exception, so a state change and its
  ledger event land together or not at all.
- SQLite runs in WAL mode with a busy timeout and foreign keys on; PostgreSQL needs nothing special.
- A SAVEPOINT on SQLite is always inside the session's transaction (see
  ``_sqlite_begin_before_savepoint``), so a released savepoint commits with the rest or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000
# A request holds its connection from the first query to the commit, across the thread pool's
# hand-offs (sync endpoints and dependencies run on AnyIO's 40 worker threads). With fewer
# connections than threads, busy requests wait on each other's connections until the pool times
# out; 20 + 30 overflow covers the 40 threads with room for the background jobs.
POOL_SIZE = 20
POOL_MAX_OVERFLOW = 30


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_before_savepoint(conn: Any, _name: Any) -> None:
    """pysqlite opens a transaction only before its first INSERT/UPDATE/DELETE. A SAVEPOINT issued
    before that would start a transaction of its own, and its RELEASE would commit it at once,
    outside the session's transaction. Open the outer transaction first."""
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; for SQLite, create the file's folder and set the pragmas."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        if parsed.database and parsed.database != ":memory:":
            kwargs.setdefault("pool_size", POOL_SIZE)
            kwargs.setdefault("max_overflow", POOL_MAX_OVERFLOW)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "savepoint", _sqlite_begin_before_savepoint)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_MAX_OVERFLOW)
    return create_engine(url, **kwargs)


class Database:
    """One engine and its session factory; the app keeps one in ``app.state.db``."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on error."""
        session = self.sessionmaker()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
