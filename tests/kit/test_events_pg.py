"""The event bus across processes on PostgreSQL (LISTEN/NOTIFY): an event committed in one process
reaches the subscribers of another; a rolled-back one reaches nobody; a process does not hear its
own events twice. On SQLite there is one process, and these tests do not apply."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import PG_URL
from zhifa.db import Database
from zhifa.kit.events import Broker, BusEvent, PgListener, publish_after_commit

pytestmark = pytest.mark.skipif(not PG_URL, reason="LISTEN/NOTIFY is PostgreSQL's")

OTHER_PROCESS = textwrap.dedent(
    """
    import sys
    from sqlalchemy import text
    from zhifa.db import Database
    from zhifa.kit.events import publish_after_commit

    url, outcome = sys.argv[1], sys.argv[2]
    db = Database(url)
    with db.sessionmaker() as session:
        session.execute(text("SELECT 1"))
        publish_after_commit(
            session, "complaint", {"complaint_id": 7, "note": "占道经营"}, district_code="510184"
        )
        if outcome == "commit":
            session.commit()
        else:
            session.rollback()
    db.dispose()
    """
)


def run_other_process(url: str, outcome: str) -> None:
    subprocess.run([sys.executable, "-c", OTHER_PROCESS, url, outcome], check=True, timeout=60)


def hear(database_url: str, act: object, wait: float = 3.0) -> tuple[list[BusEvent], PgListener]:
    """Subscribe a private broker fed by a listener, run ``act`` and collect what arrives."""
    target = Broker()
    listener = PgListener(database_url, target).start()
    assert listener.wait_listening(), "the listener did not connect"

    async def main() -> list[BusEvent]:
        got: list[BusEvent] = []
        async with target.subscribe(frozenset({"510184"})) as queue:
            await asyncio.to_thread(act)  # type: ignore[arg-type]
            try:
                while True:
                    got.append(await asyncio.wait_for(queue.get(), wait))
            except TimeoutError:
                return got

    try:
        return asyncio.run(main()), listener
    finally:
        listener.stop()


class TestAcrossProcesses:
    def test_an_event_committed_in_another_process_reaches_this_ones_subscribers(
        self, database_url: str
    ) -> None:
        got, listener = hear(database_url, lambda: run_other_process(database_url, "commit"))
        assert [(e.topic, e.district_code, e.data) for e in got] == [
            ("complaint", "510184", {"complaint_id": 7, "note": "占道经营"})
        ]
        assert listener.received == 1

    def test_an_event_rolled_back_in_another_process_reaches_nobody(
        self, database_url: str
    ) -> None:
        got, listener = hear(
            database_url, lambda: run_other_process(database_url, "rollback"), wait=1.5
        )
        assert got == []
        assert listener.received == 0

    def test_a_process_does_not_hear_its_own_events_a_second_time(
        self, database_url: str, db: Database
    ) -> None:
        def commit_here() -> None:
            with db.sessionmaker() as session:
                from sqlalchemy import text

                session.execute(text("SELECT 1"))
                publish_after_commit(session, "sla", {"complaint_id": 1}, district_code="510184")
                session.commit()

        got, listener = hear(database_url, commit_here, wait=1.5)
        # The local broker delivered it at commit; the listener's private broker heard nothing.
        assert got == []
        assert listener.received == 0
