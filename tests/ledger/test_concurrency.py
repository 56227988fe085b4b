"""Parallel writers: K threads × M transactions × E events, each thread in its own sessions.

Whatever order the sequencer takes them in, the log must come out as one: indices exactly
0 … K·M·E − 1, every subject's chain linked through its entries in index order (subjects are
shared between threads), and the stored nodes and root those of the leaves in index order.

PostgreSQL: the writers really overlap, and the ``ledger_head`` row lock serialises them.
SQLite: one writer at a time by design; the writers queue on the database lock (busy timeout) and,
should SQLite still answer "database is locked", retry the whole transaction, as a job would.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from zhifa import ledger
from zhifa.db import Database
from zhifa.ledger import merkle, store
from zhifa.models.ledger import LedgerEvent, LedgerNode

THREADS, TRANSACTIONS, EVENTS = 4, 25, 3
RETRIES = 20
JOIN_TIMEOUT_S = 120


def _subjects(thread: int, transaction: int) -> list[tuple[str, str]]:
    """Per transaction: a subject all threads share, one two threads share, one of its own."""
    return [
        ("case", "shared"),
        ("case", f"pair-{thread // 2}"),
        ("officer", f"{thread}-{transaction % 5}"),
    ][:EVENTS]


def _one_transaction(db: Database, thread: int, transaction: int) -> None:
    for attempt in range(RETRIES):
        try:
            with db.unit_of_work() as session:
                for subject in _subjects(thread, transaction):
                    payload = {"thread": thread, "transaction": transaction, "attempt": attempt}
                    ledger.record(
                        session, "test.event", subject, payload, actor_id=None, district_code=None
                    )
            return
        except OperationalError as error:
            if not (db.is_sqlite and "database is locked" in str(error)):
                raise
    raise RuntimeError(f"thread {thread}: transaction {transaction} kept meeting a locked database")


def _run_writers(db: Database) -> list[BaseException]:
    start = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def writer(thread: int) -> None:
        try:
            start.wait(timeout=JOIN_TIMEOUT_S)
            for transaction in range(TRANSACTIONS):
                _one_transaction(db, thread, transaction)
        except BaseException as error:  # the main thread reports it
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT_S)
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        failures.append(RuntimeError(f"writers still running after {JOIN_TIMEOUT_S} s: {stuck}"))
    return failures


def _entries(db: Database) -> list[LedgerEvent]:
    with db.sessionmaker() as session:
        return list(session.scalars(select(LedgerEvent).order_by(LedgerEvent.seq)))


class TestParallelWriters:
    def test_every_event_lands_once_with_contiguous_indices(self, db: Database) -> None:
        assert _run_writers(db) == []
        entries = _entries(db)
        total = THREADS * TRANSACTIONS * EVENTS
        assert [e.seq for e in entries] == list(range(total))
        landed = {(e.payload["thread"], e.payload["transaction"], e.subject_id) for e in entries}
        assert len(landed) == total
        with db.sessionmaker() as session:
            assert store.size(session) == total

    def test_each_subject_chain_links_its_entries_in_index_order(self, db: Database) -> None:
        assert _run_writers(db) == []
        chains: dict[tuple[str, str], list[LedgerEvent]] = defaultdict(list)
        for entry in _entries(db):
            chains[(entry.subject_type, entry.subject_id)].append(entry)
        assert len(chains[("case", "shared")]) == THREADS * TRANSACTIONS
        for chain in chains.values():
            assert chain[0].prev_hash is None
            for before, after in zip(chain, chain[1:], strict=False):
                assert after.prev_hash == before.leaf_hash
            for entry in chain:
                assert entry.leaf_hash == merkle.leaf_hash(entry.body)

    def test_the_stored_tree_is_the_tree_of_the_leaves_in_index_order(self, db: Database) -> None:
        assert _run_writers(db) == []
        leaves = [e.leaf_hash for e in _entries(db)]
        reference = merkle.MemoryTree()
        for leaf in leaves:
            reference.append_hash(leaf)
        with db.sessionmaker() as session:
            nodes = {(n.level, n.idx): n.hash for n in session.scalars(select(LedgerNode))}
            assert store.root(session, len(leaves)) == merkle.root_from_leaves(leaves)
        assert nodes == {key: value for key, value in reference.nodes.items() if key[0] > 0}
