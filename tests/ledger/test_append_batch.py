"""A big batch appends exactly what one event per transaction would: same bodies, chains, nodes.

The reference is built in memory, one event at a time: each body from the envelope of the event and
its subject's previous leaf, and the tree in a ``merkle.MemoryTree``. The clock is frozen so the
bodies (which carry the time) are the same whichever way they are appended.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.db import Database
from zhifa.ledger import merkle, store
from zhifa.ledger.envelope import Pending, body_of
from zhifa.models.ledger import LedgerEvent, LedgerNode
from zhifa.models.org import District

FROZEN = datetime(2026, 11, 28, 8, 30, tzinfo=UTC)
# Small batches before and after a big one, so the big one starts and ends on a ragged edge.
BATCHES = (1, 3, 7, 1000, 2, 6, 300)

Event = tuple[tuple[str, str], dict[str, Any]]


def _events(count: int) -> list[Event]:
    """Many subjects, most seen several times, some across batch boundaries."""
    events: list[Event] = []
    for n in range(count):
        subject = ("case", str(n % 97)) if n % 5 else ("officer", str(n % 13))
        events.append((subject, {"n": n, "note": f"第{n}号 违法建设", "amount_fen": 100 * n}))
    return events


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger, "utcnow", lambda: FROZEN)


def _record(session: Session, subject: tuple[str, str], payload: dict[str, Any]) -> None:
    ledger.record(session, "test.event", subject, payload, actor_id=7, district_code="510184")


def _append_in_batches(db: Database, events: list[Event], sizes: tuple[int, ...]) -> None:
    position = 0
    for size in sizes:
        with db.unit_of_work() as session:
            for subject, payload in events[position : position + size]:
                _record(session, subject, payload)
        position += size


def _reference(events: list[Event]) -> tuple[list[bytes], list[bytes | None], merkle.MemoryTree]:
    """Bodies, previous-leaf hashes and the tree, appending one event at a time."""
    tree, chains = merkle.MemoryTree(), {}
    bodies: list[bytes] = []
    prevs: list[bytes | None] = []
    for (subject_type, subject_id), payload in events:
        pending = Pending(
            kind="test.event",
            time_ms=int(FROZEN.timestamp() * 1000),
            district_code="510184",
            actor_id=7,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=payload,
        )
        prev = chains.get((subject_type, subject_id))
        bodies.append(body_of(pending, prev))
        prevs.append(prev)
        chains[(subject_type, subject_id)] = tree.nodes[(0, tree.append(bodies[-1]))]
    return bodies, prevs, tree


def _stored(db: Database) -> tuple[list[LedgerEvent], dict[tuple[int, int], bytes]]:
    with db.sessionmaker() as session:
        entries = list(session.scalars(select(LedgerEvent).order_by(LedgerEvent.seq)))
        nodes = {(n.level, n.idx): n.hash for n in session.scalars(select(LedgerNode))}
    return entries, nodes


class TestABigBatch:
    def test_stores_the_bodies_and_chains_of_one_event_per_transaction(self, db: Database) -> None:
        events = _events(sum(BATCHES))
        _append_in_batches(db, events, BATCHES)
        bodies, prevs, _ = _reference(events)
        entries, _ = _stored(db)
        assert [e.seq for e in entries] == list(range(len(events)))
        assert [e.body for e in entries] == bodies
        assert [e.prev_hash for e in entries] == prevs
        assert [e.leaf_hash for e in entries] == [merkle.leaf_hash(b) for b in bodies]

    def test_stores_every_perfect_subtree_of_the_reference_tree_and_nothing_else(
        self, db: Database
    ) -> None:
        events = _events(sum(BATCHES))
        _append_in_batches(db, events, BATCHES)
        _, _, tree = _reference(events)
        _, nodes = _stored(db)
        assert nodes == {key: value for key, value in tree.nodes.items() if key[0] > 0}

    def test_gives_the_reference_root_and_proofs_at_every_batch_boundary(
        self, db: Database
    ) -> None:
        events = _events(sum(BATCHES))
        _append_in_batches(db, events, BATCHES)
        _, _, tree = _reference(events)
        boundaries = [sum(BATCHES[: i + 1]) for i in range(len(BATCHES))]
        with db.sessionmaker() as session:
            for size in boundaries:
                assert store.root(session, size) == tree.root(size)
                assert store.inclusion_proof(session, size - 1, size) == tree.inclusion_proof(
                    size - 1, size
                )
                for first in boundaries[: boundaries.index(size)]:
                    assert store.consistency_proof(session, first, size) == (
                        tree.consistency_proof(first, size)
                    )

    def test_is_the_same_as_the_same_events_one_per_transaction(self, db: Database) -> None:
        events = _events(40)
        _append_in_batches(db, events, (40,))
        _append_in_batches(db, events, (1,) * 40)  # the chains go on from the batch
        entries, _ = _stored(db)
        bodies, prevs, _ = _reference(events + events)
        assert [e.body for e in entries] == bodies
        assert [e.prev_hash for e in entries] == prevs


class TestABatchOfLedgeredRows:
    def test_each_row_carries_its_own_state_at_commit(self, db: Database) -> None:
        with db.unit_of_work() as session:
            rows = [
                District(code=f"5101{n:02d}", name="草稿", city_code="510100") for n in range(60)
            ]
            session.add_all(rows)
            for row in rows:
                ledger.record(
                    session, "org.district.created", row, {}, actor_id=None, district_code=row.code
                )
            for n, row in enumerate(rows):
                row.name = f"第{n}区"
        entries, _ = _stored(db)
        assert [(e.subject_id, e.payload["state"]["name"]) for e in entries] == [
            (f"5101{n:02d}", f"第{n}区") for n in range(60)
        ]


class TestStatementsPerBatch:
    def _statements_to_append(self, db: Database, events: list[Event]) -> int:
        executed: list[str] = []

        def count(*args: Any) -> None:
            executed.append(args[2])

        with db.unit_of_work() as session:
            for subject, payload in events:
                _record(session, subject, payload)
            event.listen(db.engine, "before_cursor_execute", count)
        event.remove(db.engine, "before_cursor_execute", count)
        return len(executed)

    def test_a_batch_costs_a_few_statements_whatever_its_size(self, db: Database) -> None:
        _append_in_batches(db, _events(5), (5,))
        small = self._statements_to_append(db, _events(3))
        big = self._statements_to_append(db, _events(1000))
        # Reserve the indices, read the chain heads, read the tree's right edge (its nodes, and
        # the last leaf when the size is odd), insert the entries, insert the nodes.
        assert small <= 6
        assert big <= 6

    def test_chain_heads_are_read_400_subjects_to_a_statement(self, db: Database) -> None:
        events: list[Event] = [(("case", str(n)), {"n": n}) for n in range(1000)]
        assert self._statements_to_append(db, events) <= 6 + 2
