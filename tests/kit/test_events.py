"""The event bus: committed changes are announced to their district's subscribers, once."""

from __future__ import annotations

import asyncio

from sqlalchemy.orm import Session

from tests import factories
from zhifa.db import Database
from zhifa.kit.events import BusEvent, broker, pending_mark, publish_after_commit


def collect(db: Database, work: str, district: str = "510184") -> list[BusEvent]:
    """Subscribe to 510184, run ``work`` in a worker thread and return what arrived."""

    def run_work() -> None:
        session = db.sessionmaker()
        try:
            factories.district(session, "510184")
            publish_after_commit(session, "inspection.submitted", {"id": 1}, district_code=district)
            if work == "commit":
                session.commit()
            else:
                session.rollback()
        finally:
            session.close()

    async def main() -> list[BusEvent]:
        got: list[BusEvent] = []
        async with broker.subscribe(frozenset({"510184"})) as queue:
            await asyncio.to_thread(run_work)
            try:
                while True:
                    got.append(await asyncio.wait_for(queue.get(), 0.3))
            except TimeoutError:
                return got

    return asyncio.run(main())


class TestDelivery:
    def test_a_committed_change_is_announced(self, db: Database) -> None:
        got = collect(db, "commit")
        assert [(e.topic, e.district_code, e.data) for e in got] == [
            ("inspection.submitted", "510184", {"id": 1})
        ]

    def test_a_rolled_back_change_announces_nothing(self, db: Database) -> None:
        assert collect(db, "rollback") == []

    def test_another_districts_subscribers_hear_nothing(self, db: Database) -> None:
        assert collect(db, "commit", district="510104") == []

    def test_a_closed_stream_is_forgotten(self, session: Session) -> None:
        async def open_and_close() -> int:
            async with broker.subscribe(frozenset({"510184"})):
                return broker.subscriber_count()

        before = broker.subscriber_count()
        assert asyncio.run(open_and_close()) == before + 1
        assert broker.subscriber_count() == before


def test_a_slow_subscriber_is_told_it_lagged() -> None:
    overflow = 300

    async def main() -> list[str]:
        async with broker.subscribe(frozenset({"510184"})) as queue:
            for n in range(overflow):
                broker.publish(BusEvent("check_in", "510184", {"n": n}))
            await asyncio.sleep(0.05)
            topics = []
            while not queue.empty():
                topics.append(queue.get_nowait().topic)
            return topics

    topics = asyncio.run(main())
    assert "lagged" in topics
    assert len(topics) <= 256


def test_an_event_inside_a_released_savepoint_waits_for_the_real_commit(db: Database) -> None:
    """SQLAlchemy fires its commit hooks when a SAVEPOINT is released; the bus must not."""
    seen: list[list[BusEvent]] = []

    async def main() -> list[BusEvent]:
        got: list[BusEvent] = []
        async with broker.subscribe(frozenset({"510184"})) as queue:

            def work() -> None:
                with db.sessionmaker() as session:
                    factories.district(session, "510184")
                    with session.begin_nested():
                        publish_after_commit(session, "sla", {"n": 1}, district_code="510184")
                    # Released, not committed: still pending, nothing delivered yet.
                    assert pending_mark(session) == 1
                    seen.append(list(_drain(queue)))
                    session.commit()

            await asyncio.to_thread(work)
            try:
                while True:
                    got.append(await asyncio.wait_for(queue.get(), 0.3))
            except TimeoutError:
                return got

    got = asyncio.run(main())
    assert seen == [[]]
    assert [(e.topic, e.data) for e in got] == [("sla", {"n": 1})]


def _drain(queue: asyncio.Queue[BusEvent]) -> list[BusEvent]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
