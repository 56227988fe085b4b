"""The log in the database: sequencing entries at commit, perfect-subtree nodes, roots, proofs.

Invariants:
- Entries get contiguous 0-based indices from one sequencer at a time: the ``ledger_head`` row's
  UPDATE takes the writer's lock (SQLite's database lock, PostgreSQL's row lock) and holds it to
  the end of the transaction. Indices are handed out in ``before_commit``, so the lock is held only
  while the transaction commits, and an entry lands if and only if its transaction commits.
- A subject's chain (``prev_hash``) is read under that lock, so two concurrent transactions about
  the same subject cannot both claim the same predecessor.
- Every perfect subtree completed by an append is stored, so roots and proofs cost O(log n) reads.

Cost: a batch is appended in a handful of statements whatever its size: the head update, one read
of the latest leaf of every subject in the batch (per 400 subjects; an index probe each, on
``ix_ledger_event_subject``), one read of the tree's right edge (the O(log n) perfect subtrees that
new nodes are built on), then the entries and the completed nodes as two bulk inserts; envelopes,
canonical bytes, hashes and nodes are computed in memory. A root or proof reads all the nodes it
needs in one statement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from sqlalchemy import Table, TextClause, event, insert, select, text, update
from sqlalchemy.orm import Session

from zhifa.kit.clock import utcnow
from zhifa.ledger import merkle
from zhifa.ledger.envelope import Pending, body_of
from zhifa.models.ledger import LedgerEvent, LedgerHead, LedgerNode

PENDING_KEY = "zhifa.ledger.pending"
HEAD_ID = 1
# Subjects looked up per statement (two bound values each, well under every driver's limit).
SUBJECTS_PER_QUERY = 400

SubjectKey = tuple[str, str]
T = TypeVar("T")
_EVENTS = cast(Table, LedgerEvent.__table__)
_NODES = cast(Table, LedgerNode.__table__)


def add_pending(session: Session, pending: Pending) -> None:
    session.info.setdefault(PENDING_KEY, []).append(pending)


def pending_events(session: Session) -> list[Pending]:
    return list(session.info.get(PENDING_KEY, []))


def forget_after(session: Session, mark: int) -> None:
    """Drop the events queued after the first ``mark`` (their savepoint was rolled back)."""
    pending: list[Pending] = session.info.get(PENDING_KEY, [])
    del pending[mark:]


@event.listens_for(Session, "before_commit")
def _sequence_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT release: the events wait for the real commit (see ledger.savepoint)
    pending: list[Pending] = session.info.pop(PENDING_KEY, [])
    if pending:
        session.flush()  # business rows first: a constraint error must stop the entries too
        append(session, pending)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT: ledger.savepoint forgets exactly the events queued inside it
    session.info.pop(PENDING_KEY, None)


def append(session: Session, events: list[Pending]) -> int:
    """Give ``events`` the next indices, store them and their completed nodes; return the start."""
    start = _reserve(session, len(events))
    items = [recorded.with_state() for recorded in events]
    chains = last_leaves(session, {(i.subject_type, i.subject_id) for i in items})
    nodes = _Frontier(session, start)
    created_at = utcnow()
    entries = []
    for seq, item in enumerate(items, start):
        key = (item.subject_type, item.subject_id)
        body = body_of(item, chains.get(key))
        leaf = merkle.leaf_hash(body)
        entries.append(_entry(item, seq, body, leaf, chains.get(key)) | {"created_at": created_at})
        chains[key] = leaf
        nodes.add_leaf(seq, leaf)
    # Core inserts of the tables: executemany without the ORM's per-row bookkeeping.
    session.execute(insert(_EVENTS), entries)
    if completed := nodes.completed():
        session.execute(insert(_NODES), completed)
    return start


def _reserve(session: Session, count: int) -> int:
    size = session.scalar(
        update(LedgerHead)
        .where(LedgerHead.id == HEAD_ID)
        .values(size=LedgerHead.size + count)
        .returning(LedgerHead.size)
    )
    if size is None:
        raise RuntimeError("the ledger head row is missing: run `zhifa db upgrade`")
    return int(size) - count


def last_leaves(session: Session, keys: Iterable[SubjectKey]) -> dict[SubjectKey, bytes | None]:
    """The leaf hash of each subject's latest entry (None for a subject with no entry yet)."""
    wanted = sorted(set(keys))
    found: dict[SubjectKey, bytes | None] = {}
    for first in range(0, len(wanted), SUBJECTS_PER_QUERY):
        chunk = wanted[first : first + SUBJECTS_PER_QUERY]
        params = {
            f"{c}{n}": v for n, key in enumerate(chunk) for c, v in zip("ti", key, strict=True)
        }
        for subject_type, subject_id, leaf in session.execute(_latest_of_each(len(chunk)), params):
            found[(subject_type, subject_id)] = None if leaf is None else bytes(leaf)
    return found


@functools.lru_cache(maxsize=64)
def _latest_of_each(count: int) -> TextClause:
    """For ``count`` subjects (:t0, :i0) …: each one's latest leaf, one index probe per subject."""
    keys = ", ".join(f"(:t{n}, :i{n})" for n in range(count))
    return text(
        f"WITH k(t, i) AS (VALUES {keys}) "
        "SELECT k.t, k.i, (SELECT e.leaf_hash FROM ledger_event e "
        "WHERE e.subject_type = k.t AND e.subject_id = k.i ORDER BY e.seq DESC LIMIT 1) FROM k"
    )


def _entry(item: Pending, seq: int, body: bytes, leaf: bytes, prev: bytes | None) -> dict[str, Any]:
    return {
        "seq": seq,
        "kind": item.kind,
        "district_code": item.district_code,
        "actor_id": item.actor_id,
        "subject_type": item.subject_type,
        "subject_id": item.subject_id,
        "payload": item.payload,
        "time_ms": item.time_ms,
        "body": body,
        "leaf_hash": leaf,
        "prev_hash": prev,
    }


class _Frontier:
    """The nodes a batch of appends completes, built in memory on the tree's right edge.

    A node completed by leaf ``seq`` has its right child from the same batch and its left child
    either from the batch or among the perfect subtrees that make up the first ``start`` leaves
    (the right edge), which are read once, up front.
    """

    def __init__(self, session: Session, start: int) -> None:
        self.known = right_edge(session, start)
        self.new: dict[tuple[int, int], bytes] = {}

    def add_leaf(self, seq: int, leaf: bytes) -> None:
        self.known[(0, seq)] = leaf
        for level, idx in merkle.perfect_nodes_completed_by(seq):
            left, right = self.known[(level - 1, 2 * idx)], self.known[(level - 1, 2 * idx + 1)]
            self.known[(level, idx)] = self.new[(level, idx)] = merkle.node_hash(left, right)

    def completed(self) -> list[dict[str, Any]]:
        return [{"level": lv, "idx": i, "hash": h} for (lv, i), h in self.new.items()]


def right_edge(session: Session, size: int) -> dict[tuple[int, int], bytes]:
    """The perfect subtrees (level, index) that make up the first ``size`` leaves, with hashes."""
    pieces, start = [], 0
    while start < size:
        level = (size - start).bit_length() - 1
        pieces.append((level, start >> level))
        start += 1 << level
    return read_nodes(session, pieces)


def read_nodes(session: Session, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Many stored hashes (level 0: leaf hashes) in one statement of index lookups."""
    wanted = set(wanted)
    leaves = [idx for level, idx in wanted if level == 0]
    inner = [(level, idx) for level, idx in wanted if level > 0]
    params = {f"s{n}": idx for n, idx in enumerate(leaves)}
    params.update(
        (f"{c}{n}", v) for n, key in enumerate(inner) for c, v in zip("li", key, strict=True)
    )
    rows: Iterable[Any] = []
    if wanted:
        rows = session.execute(_nodes_query(len(leaves), len(inner)), params)
    found = {(int(level), int(idx)): bytes(value) for level, idx, value in rows}
    if missing := sorted(wanted - found.keys()):
        raise LookupError(f"ledger nodes {missing} are not stored")
    return found


@functools.lru_cache(maxsize=256)
def _nodes_query(leaves: int, inner: int) -> TextClause:
    """Leaves :s0 … by index, nodes (:l0, :i0) … by key. Textual and cached: building the
    expression per call costs more than the lookups. The nodes are an OR of pairs, not a row-value
    IN, which SQLite answers with a table scan."""
    parts = []
    if leaves:
        seqs = ", ".join(f":s{n}" for n in range(leaves))
        parts.append(f"SELECT 0, seq, leaf_hash FROM ledger_event WHERE seq IN ({seqs})")
    if inner:
        pairs = " OR ".join(f"(level = :l{n} AND idx = :i{n})" for n in range(inner))
        parts.append(f"SELECT level, idx, hash FROM ledger_node WHERE {pairs}")
    return text(" UNION ALL ".join(parts))


def read_node(session: Session, level: int, idx: int) -> bytes:
    """The stored hash of perfect subtree (level, idx); level 0 is a leaf hash."""
    return read_nodes(session, [(level, idx)])[(level, idx)]


def reader(session: Session) -> merkle.NodeReader:
    def read(level: int, idx: int) -> bytes:
        return read_node(session, level, idx)

    return read


def _prefetched(session: Session, compute: Callable[[merkle.NodeReader], T]) -> T:
    """Run ``compute`` over the stored tree with one read of all the nodes it needs.

    Which nodes a root or proof reads depends only on the sizes, never on the hashes, so a dry
    run with placeholder hashes names them all.
    """
    wanted: list[tuple[int, int]] = []

    def note_down(level: int, idx: int) -> bytes:
        wanted.append((level, idx))
        return bytes(merkle.HASH_SIZE)

    compute(note_down)
    known = read_nodes(session, wanted)
    return compute(lambda level, idx: known[(level, idx)])


def size(session: Session) -> int:
    value = session.scalar(select(LedgerHead.size).where(LedgerHead.id == HEAD_ID))
    return int(value or 0)


def root(session: Session, tree_size: int) -> bytes:
    return _prefetched(session, lambda read: merkle.root(read, tree_size))


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    return _prefetched(session, lambda read: merkle.inclusion_proof(read, index, tree_size))


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    return _prefetched(session, lambda read: merkle.consistency_proof(read, first, second))


def entry(session: Session, index: int) -> LedgerEvent | None:
    return session.scalar(select(LedgerEvent).where(LedgerEvent.seq == index))
