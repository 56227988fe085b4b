"""Gap-free numbers: per district, type and year; a rolled-back number is given back; concurrent
takers get distinct consecutive serials (threads with their own sessions, on both databases)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.catalog.helpers import world as catalog_world
from zhifa.db import Database
from zhifa.documents import numbering
from zhifa.documents import settings as numbering_settings
from zhifa.models.documents import DocumentNumber, DocumentType, NumberStatus
from zhifa.models.ledger import LedgerEvent
from zhifa.org.roles import Role

HOME, OTHER = "510184", "510104"
RECORD, NOTICE = DocumentType.INSPECTION_RECORD, DocumentType.RECTIFICATION_NOTICE


@pytest.fixture
def districts(session: Session) -> None:
    catalog_world(session, HOME)
    factories.district(session, OTHER, "锦江区")
    numbering_settings.ensure(session, HOME, agency_short="崇综执", via="test")
    numbering_settings.ensure(session, OTHER, agency_short="锦综执", via="test")
    session.commit()


def take(
    db: Database, district: str = HOME, doc_type: DocumentType = RECORD, year: int = 2026
) -> int:
    with db.unit_of_work() as s:
        return numbering.next_number(s, district, doc_type, year).serial


def register_serials(
    session: Session, doc_type: DocumentType = RECORD, year: int = 2026
) -> list[int]:
    found = numbering.register(session, HOME, doc_type, year)
    assert found.gaps == []
    return [n.serial for n in found.numbers]


class TestSeries:
    def test_serials_count_from_one_per_district_type_and_year(
        self, db: Database, districts: None
    ) -> None:
        serials = [
            take(db),
            take(db),
            take(db, doc_type=NOTICE),
            take(db, year=2027),
            take(db, district=OTHER),
            take(db),
        ]
        assert serials == [1, 2, 1, 1, 1, 3]

    def test_a_number_is_written_used_with_its_text_and_ledgered(
        self, db: Database, session: Session, districts: None
    ) -> None:
        take(db)
        row = session.scalars(select(DocumentNumber)).one()
        assert (row.status, row.text) == (NumberStatus.USED, "崇综执检字〔2026〕第1号")
        event = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "document.number.used")
        ).one()
        assert event.payload["state"]["text"] == "崇综执检字〔2026〕第1号"


class TestRollback:
    def test_a_rolled_back_number_is_given_back_and_the_register_has_no_gap(
        self, db: Database, session: Session, districts: None
    ) -> None:
        take(db)
        taken: list[int] = []

        def refused_issue() -> None:
            with db.unit_of_work() as s:
                taken.append(numbering.next_number(s, HOME, RECORD, 2026).serial)
                raise RuntimeError("the document was refused after the number was taken")

        with pytest.raises(RuntimeError):
            refused_issue()
        assert taken == [2]
        assert take(db) == 2
        assert register_serials(session) == [1, 2]


def run_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait(10)
            work(n)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return errors


class TestConcurrency:
    THREADS, EACH = 6, 8

    def test_concurrent_takers_get_every_serial_exactly_once(
        self, db: Database, session: Session, districts: None
    ) -> None:
        got: list[int] = []
        lock = threading.Lock()

        def work(_: int) -> None:
            for _ in range(self.EACH):
                serial = take(db)
                with lock:
                    got.append(serial)

        assert run_threads(self.THREADS, work) == []
        total = self.THREADS * self.EACH
        assert sorted(got) == list(range(1, total + 1))
        assert register_serials(session) == list(range(1, total + 1))

    def test_the_first_numbers_of_a_new_year_race_safely(
        self, db: Database, session: Session, districts: None
    ) -> None:
        got: list[int] = []

        def work(_: int) -> None:
            got.append(take(db, year=2031))

        assert run_threads(self.THREADS, work) == []
        assert sorted(got) == list(range(1, self.THREADS + 1))

    def test_blocks_allotted_concurrently_do_not_overlap(
        self, db: Database, session: Session, districts: None
    ) -> None:
        officers = [
            factories.officer(session, HOME, f"o{n}", [Role.OFFICER]).id
            for n in range(self.THREADS)
        ]
        session.commit()
        ranges: list[tuple[int, int]] = []

        def work(n: int) -> None:
            for _ in range(2):
                with db.unit_of_work() as s:
                    block = numbering.allot_block(
                        s,
                        district_code=HOME,
                        doc_type=DocumentType.ON_SPOT_PENALTY,
                        year=2026,
                        count=5,
                        officer_id=officers[n],
                        device_id=f"pad-{n}",
                        actor_id=officers[n],
                    )
                    ranges.append((block.first_serial, block.last_serial))
                take(db, doc_type=DocumentType.ON_SPOT_PENALTY)

        assert run_threads(self.THREADS, work) == []
        serials = sorted(s for first, last in ranges for s in range(first, last + 1))
        assert len(serials) == len(set(serials)) == self.THREADS * 2 * 5
        handed_out = register_serials(session, DocumentType.ON_SPOT_PENALTY)
        assert handed_out == list(range(1, self.THREADS * 2 * 6 + 1))
