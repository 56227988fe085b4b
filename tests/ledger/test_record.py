"""ledger.record lands with the change it describes, or not at all."""

import pytest
from sqlalchemy import select

from zhifa import ledger
from zhifa.db import Database
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import District


def _events(db: Database) -> list[LedgerEvent]:
    with db.sessionmaker() as s:
        return list(s.scalars(select(LedgerEvent).order_by(LedgerEvent.id)))


def _record_then_fail(db: Database) -> None:
    with db.unit_of_work() as session:
        ledger.record(
            session,
            "org.district.created",
            ("district", "510184"),
            {},
            actor_id=None,
            district_code="510184",
        )
        raise RuntimeError("the change failed")


def _deny_inside_failing_work(db: Database) -> None:
    with db.unit_of_work():
        ledger.record_detached(
            db,
            "security.permission_denied",
            ("officer", 7),
            {"path": "/x"},
            actor_id=7,
            district_code="510184",
        )
        raise RuntimeError("request refused")


class TestRecordInTheSameTransaction:
    def test_event_and_change_are_committed_together(self, db: Database) -> None:
        with db.unit_of_work() as session:
            district = District(code="510184", name="崇州", city_code="510100")
            session.add(district)
            ledger.record(
                session,
                "org.district.created",
                district,
                {"name": "崇州"},
                actor_id=None,
                district_code="510184",
            )
        [event] = _events(db)
        assert (event.kind, event.subject_type, event.subject_id) == (
            "org.district.created",
            "district",
            "510184",
        )
        assert event.payload["name"] == "崇州"
        assert event.payload["state"]["city_code"] == "510100"

    def test_a_failed_change_leaves_no_event(self, db: Database) -> None:
        with pytest.raises(RuntimeError):
            _record_then_fail(db)
        assert _events(db) == []


class TestRecordDetached:
    def test_survives_the_rollback_of_the_surrounding_work(self, db: Database) -> None:
        with pytest.raises(RuntimeError):
            _deny_inside_failing_work(db)
        assert [e.kind for e in _events(db)] == ["security.permission_denied"]
