"""The log in the database: sequencing at commit, chains, nodes, proofs, append-only triggers."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.db import Database
from zhifa.ledger import merkle, store
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import District


def _record_many(db: Database, count: int, subject: tuple[str, str] = ("thing", "1")) -> None:
    with db.unit_of_work() as session:
        for n in range(count):
            ledger.record(
                session, "test.event", subject, {"n": n}, actor_id=None, district_code=None
            )


def _entries(session: Session) -> list[LedgerEvent]:
    return list(session.scalars(select(LedgerEvent).order_by(LedgerEvent.seq)))


class TestSequencing:
    def test_indices_are_contiguous_from_zero_across_transactions(self, db: Database) -> None:
        for count in (1, 3, 2, 5):
            _record_many(db, count)
        with db.sessionmaker() as session:
            assert [e.seq for e in _entries(session)] == list(range(11))
            assert store.size(session) == 11

    def test_nothing_is_sequenced_before_commit(self, db: Database) -> None:
        with db.sessionmaker() as session:
            ledger.record(
                session, "test.event", ("thing", "1"), {}, actor_id=None, district_code=None
            )
            session.flush()
            assert _entries(session) == []
            session.rollback()
            assert store.size(session) == 0

    def test_the_body_is_the_hashed_bytes_and_names_the_subject(self, db: Database) -> None:
        _record_many(db, 1)
        with db.sessionmaker() as session:
            [entry] = _entries(session)
            assert entry.leaf_hash == merkle.leaf_hash(entry.body)
            assert b'"subject":{"id":"1","type":"thing"}' in entry.body

    def test_each_subject_has_its_own_chain(self, db: Database) -> None:
        _record_many(db, 2, ("a", "1"))
        _record_many(db, 1, ("b", "1"))
        _record_many(db, 1, ("a", "1"))
        with db.sessionmaker() as session:
            a0, a1, b0, a2 = _entries(session)
            assert (a0.prev_hash, b0.prev_hash) == (None, None)
            assert a1.prev_hash == a0.leaf_hash
            assert a2.prev_hash == a1.leaf_hash

    def test_a_ledgered_row_carries_its_state_at_commit(self, db: Database) -> None:
        with db.unit_of_work() as session:
            row = District(code="510184", name="草稿", city_code="510100")
            session.add(row)
            ledger.record(
                session, "org.district.created", row, {}, actor_id=None, district_code="510184"
            )
            row.name = "崇州市"  # changed after recording: the state is taken at commit
        with db.sessionmaker() as session:
            [entry] = _entries(session)
            assert entry.payload["state"]["name"] == "崇州市"

    def test_a_float_payload_is_stored_as_its_exact_decimal_text(self, db: Database) -> None:
        with db.unit_of_work() as session:
            ledger.record(
                session,
                "test.event",
                ("x", "1"),
                {"lon": 103.67},
                actor_id=None,
                district_code=None,
            )
        with db.sessionmaker() as session:
            assert _entries(session)[0].payload == {"lon": "103.67"}


class TestTreeAndProofs:
    @pytest.mark.parametrize("total", [1, 2, 7, 8, 9, 33])
    def test_stored_root_and_proofs_match_the_reference_tree(
        self, db: Database, total: int
    ) -> None:
        for chunk in (total // 2, total - total // 2):
            if chunk:
                _record_many(db, chunk)
        with db.sessionmaker() as session:
            leaves = [e.leaf_hash for e in _entries(session)]
            for size in range(1, total + 1):
                root = store.root(session, size)
                assert root == merkle.root_from_leaves(leaves[:size])
                for index in range(size):
                    proof = store.inclusion_proof(session, index, size)
                    merkle.verify_inclusion(leaves[index], index, size, proof, root)
            final = store.root(session, total)
            for first in range(1, total + 1):
                proof = store.consistency_proof(session, first, total)
                merkle.verify_consistency(first, total, store.root(session, first), final, proof)


class TestAppendOnly:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE ledger_event SET kind = 'x'",
            "DELETE FROM ledger_event",
            "UPDATE ledger_node SET hash = hash",
            "DELETE FROM ledger_node",
        ],
    )
    def test_the_database_refuses_updates_and_deletes(self, db: Database, statement: str) -> None:
        _record_many(db, 4)
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
            conn.execute(text(statement))
        with db.sessionmaker() as session:
            assert len(_entries(session)) == 4
