"""``ledger.savepoint``: a block's rows and events leave together when it fails (or is a dry run),
and the rest of the transaction keeps its own; events wait for the real commit."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests import factories
from zhifa import ledger
from zhifa.db import Database
from zhifa.ledger import store
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Department


def record_department(session, code: str) -> None:  # type: ignore[no-untyped-def]
    row = factories.department(session, "510184", code, code)
    ledger.record(session, "org.department.created", row, {}, actor_id=None, district_code="510184")


def refused_block(session) -> None:  # type: ignore[no-untyped-def]
    with ledger.savepoint(session):
        record_department(session, "dropped")
        raise RuntimeError("refused")


def committed(db: Database) -> tuple[list[str], list[str]]:
    with db.sessionmaker() as session:
        departments = list(session.scalars(select(Department.code).order_by(Department.code)))
        subjects = [
            e.payload["state"]["code"]
            for e in session.scalars(select(LedgerEvent).order_by(LedgerEvent.seq))
            if e.kind == "org.department.created"
        ]
    return departments, subjects


class TestSavepoint:
    def test_a_failed_block_takes_its_rows_and_events_and_leaves_the_rest(
        self, db: Database
    ) -> None:
        with db.unit_of_work() as session:
            factories.district(session)
            record_department(session, "kept")
            with pytest.raises(RuntimeError):
                refused_block(session)
            record_department(session, "after")
        assert committed(db) == (["after", "kept"], ["kept", "after"])

    def test_a_dry_run_block_is_rolled_back_with_its_events(self, db: Database) -> None:
        with db.unit_of_work() as session:
            factories.district(session)
            record_department(session, "kept")
            with ledger.savepoint(session, keep=False):
                record_department(session, "tried")
        assert committed(db) == (["kept"], ["kept"])

    def test_events_of_a_kept_block_wait_for_the_real_commit(self, db: Database) -> None:
        with db.unit_of_work() as session:
            factories.district(session)
            with ledger.savepoint(session):
                record_department(session, "inner")
            assert [p.kind for p in store.pending_events(session)] == ["org.department.created"]
            assert session.scalars(select(LedgerEvent)).first() is None
        assert committed(db) == (["inner"], ["inner"])
