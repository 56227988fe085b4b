"""The log in the database: sequencing entries at commit, perfect-subtree nodes, roots, proofs.

Invariants:
- Entries get contiguous 0-based indices from one sequencer at a time: the ``ledger_head`` row's
  UPDATE takes the writer's lock (SQLite's database lock, PostgreSQL's row lock) and holds it to
  the end of the transaction. Indices are handed out in ``before_commit``, so the lock is held only
  while the transaction commits, and an entry lands if and only if its transaction commits.
- A subject's chain (``prev_hash``) is read under that lock, so two concurrent transactions about
  the same subject cannot both claim the same predecessor.
- Every perfect subtree completed by an append is stored, so roots and proofs cost O(log n) reads.
"""

from __future__ import annotations

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from zhifa.ledger import merkle
from zhifa.ledger.envelope import Pending, body_of
from zhifa.models.ledger import LedgerEvent, LedgerHead, LedgerNode

PENDING_KEY = "zhifa.ledger.pending"
HEAD_ID = 1


def add_pending(session: Session, pending: Pending) -> None:
    session.info.setdefault(PENDING_KEY, []).append(pending)


def pending_events(session: Session) -> list[Pending]:
    return list(session.info.get(PENDING_KEY, []))


@event.listens_for(Session, "before_commit")
def _sequence_on_commit(session: Session) -> None:
    pending: list[Pending] = session.info.pop(PENDING_KEY, [])
    if pending:
        session.flush()  # business rows first: a constraint error must stop the entries too
        append(session, pending)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def append(session: Session, events: list[Pending]) -> int:
    """Give ``events`` the next indices, store them and their completed nodes; return the start."""
    start = _reserve(session, len(events))
    nodes = _NodeCache(session)
    chains: dict[tuple[str, str], bytes | None] = {}
    for offset, recorded in enumerate(events):
        item = recorded.with_state()
        seq = start + offset
        key = (item.subject_type, item.subject_id)
        prev = chains[key] if key in chains else _last_leaf_of(session, key)
        body = body_of(item, prev)
        leaf = merkle.leaf_hash(body)
        session.add(_entry(item, seq, body, leaf, prev))
        chains[key] = leaf
        nodes.add_leaf(seq, leaf)
    session.add_all(nodes.completed())
    session.flush()
    return start


def _reserve(session: Session, count: int) -> int:
    session.execute(
        update(LedgerHead).where(LedgerHead.id == HEAD_ID).values(size=LedgerHead.size + count)
    )
    size = session.scalar(select(LedgerHead.size).where(LedgerHead.id == HEAD_ID))
    if size is None:
        raise RuntimeError("the ledger head row is missing: run `zhifa db upgrade`")
    return int(size) - count


def _last_leaf_of(session: Session, key: tuple[str, str]) -> bytes | None:
    stmt = (
        select(LedgerEvent.leaf_hash)
        .where(LedgerEvent.subject_type == key[0], LedgerEvent.subject_id == key[1])
        .order_by(LedgerEvent.seq.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def _entry(item: Pending, seq: int, body: bytes, leaf: bytes, prev: bytes | None) -> LedgerEvent:
    return LedgerEvent(
        seq=seq,
        kind=item.kind,
        district_code=item.district_code,
        actor_id=item.actor_id,
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        payload=item.payload,
        time_ms=item.time_ms,
        body=body,
        leaf_hash=leaf,
        prev_hash=prev,
    )


class _NodeCache:
    """Nodes completed by a batch of appends, reading older ones from the database."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.new: dict[tuple[int, int], bytes] = {}

    def add_leaf(self, seq: int, leaf: bytes) -> None:
        self.new[(0, seq)] = leaf
        for level, idx in merkle.perfect_nodes_completed_by(seq):
            left = self.read(level - 1, 2 * idx)
            self.new[(level, idx)] = merkle.node_hash(left, self.read(level - 1, 2 * idx + 1))

    def read(self, level: int, idx: int) -> bytes:
        if (level, idx) in self.new:
            return self.new[(level, idx)]
        return read_node(self.session, level, idx)

    def completed(self) -> list[LedgerNode]:
        return [LedgerNode(level=lv, idx=i, hash=h) for (lv, i), h in self.new.items() if lv > 0]


def read_node(session: Session, level: int, idx: int) -> bytes:
    """The stored hash of perfect subtree (level, idx); level 0 is a leaf hash."""
    if level == 0:
        found = session.scalar(select(LedgerEvent.leaf_hash).where(LedgerEvent.seq == idx))
    else:
        found = session.scalar(
            select(LedgerNode.hash).where(LedgerNode.level == level, LedgerNode.idx == idx)
        )
    if found is None:
        raise LookupError(f"ledger node ({level}, {idx}) is not stored")
    return bytes(found)


def reader(session: Session) -> merkle.NodeReader:
    def read(level: int, idx: int) -> bytes:
        return read_node(session, level, idx)

    return read


def size(session: Session) -> int:
    value = session.scalar(select(LedgerHead.size).where(LedgerHead.id == HEAD_ID))
    return int(value or 0)


def root(session: Session, tree_size: int) -> bytes:
    return merkle.root(reader(session), tree_size)


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    return merkle.inclusion_proof(reader(session), index, tree_size)


def consistency_proof(session: Session, first: int, second: int) -> list[bytes]:
    return merkle.consistency_proof(reader(session), first, second)


def entry(session: Session, index: int) -> LedgerEvent | None:
    return session.scalar(select(LedgerEvent).where(LedgerEvent.seq == index))


def latest_for(session: Session, subject_type: str, subject_id: str) -> list[LedgerEvent]:
    """A subject's chain, oldest first."""
    stmt = (
        select(LedgerEvent)
        .where(LedgerEvent.subject_type == subject_type, LedgerEvent.subject_id == subject_id)
        .order_by(LedgerEvent.seq)
    )
    return list(session.scalars(stmt))
