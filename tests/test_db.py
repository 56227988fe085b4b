"""The unit of work and the SQLite settings the design promises."""

import pytest
from sqlalchemy import func, select, text

from zhifa.db import Database
from zhifa.models.org import District


def _count_districts(db: Database) -> int:
    with db.sessionmaker() as s:
        return s.scalar(select(func.count()).select_from(District)) or 0


def _add_district_then_fail(db: Database) -> None:
    with db.unit_of_work() as session:
        session.add(District(code="510184", name="崇州", city_code="510100"))
        session.flush()
        raise RuntimeError("boom")


class TestUnitOfWork:
    def test_commits_when_the_work_succeeds(self, db: Database) -> None:
        with db.unit_of_work() as session:
            session.add(District(code="510184", name="崇州", city_code="510100"))
        assert _count_districts(db) == 1

    def test_rolls_everything_back_when_the_work_raises(self, db: Database) -> None:
        with pytest.raises(RuntimeError):
            _add_district_then_fail(db)
        assert _count_districts(db) == 0


def _savepoint_first_then_fail(db: Database) -> None:
    with db.unit_of_work() as session:
        session.scalar(select(func.count()).select_from(District))  # a read, no write yet
        with session.begin_nested():
            session.add(District(code="510184", name="崇州", city_code="510100"))
        raise RuntimeError("boom")


class TestSavepoints:
    def test_a_released_savepoint_rolls_back_with_its_transaction(self, db: Database) -> None:
        # pysqlite begins a transaction only before the first write: a SAVEPOINT opened before
        # that used to start a transaction of its own, which RELEASE committed at once.
        with pytest.raises(RuntimeError):
            _savepoint_first_then_fail(db)
        assert _count_districts(db) == 0


class TestSqlitePragmas:
    def test_wal_busy_timeout_and_foreign_keys_are_on(self, db: Database) -> None:
        if not db.is_sqlite:
            pytest.skip("SQLite pragmas only")
        with db.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
