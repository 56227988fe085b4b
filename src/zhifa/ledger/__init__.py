"""The ledger: every state change and security event, as an entry of an append-only Merkle log.

Invariant: ``record`` adds the event to the caller's session; it becomes a leaf (with its index,
canonical bytes and hash) when that session commits, in the same transaction as the change it
describes, or not at all. ``record_detached`` is for events that must survive the refusal they
describe (a failed login, a permission denial): it commits in a transaction of its own.

When the subject is a ledgered row (its model declares ``__ledger_fields__``), the entry's
payload carries the row's ``state`` at commit, which is what lets an auditor catch a row edited
behind the application's back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from zhifa.db import Database
from zhifa.kit import events
from zhifa.kit.clock import utcnow
from zhifa.ledger import store
from zhifa.ledger.canonical import canonical_bytes
from zhifa.ledger.envelope import Pending, normalise


class Subject(Protocol):
    __tablename__: str


def _subject_key(session: Session, subject: Subject | tuple[str, str | int]) -> tuple[str, str]:
    """(table name, primary key) of a model instance, flushing first if it has no key yet."""
    if isinstance(subject, tuple):
        return subject[0], str(subject[1])
    if inspect(subject).identity is None:
        session.flush()
    identity = inspect(subject).identity or ()
    return subject.__tablename__, "/".join(str(part) for part in identity)


def record(
    session: Session,
    kind: str,
    subject: Subject | tuple[str, str | int],
    payload: dict[str, Any],
    *,
    actor_id: int | None,
    district_code: str | None,
    evidence: tuple[str, ...] = (),
) -> None:
    """Append one event to ``session``; the caller's transaction decides whether it lands."""
    subject_type, subject_id = _subject_key(session, subject)
    normalised = normalise(payload)
    canonical_bytes(normalised)  # refuse an unhashable payload here, not at commit
    store.add_pending(
        session,
        Pending(
            kind=kind,
            time_ms=int(utcnow().timestamp() * 1000),
            district_code=district_code,
            actor_id=actor_id,
            subject_type=subject_type,
            subject_id=subject_id,
            payload=normalised,
            evidence=evidence,
            row=None if isinstance(subject, tuple) else subject,
        ),
    )


@contextmanager
def savepoint(session: Session, *, keep: bool = True) -> Iterator[None]:
    """Run the block in a SAVEPOINT whose events leave with it: on an exception (or when ``keep`` is
    False, for a dry run) the block's rows are rolled back and its pending events (ledger entries
    and bus announcements) forgotten, while the rest of the transaction and its events stay."""
    mark = len(store.pending_events(session))
    bus_mark = events.pending_mark(session)
    nested = session.begin_nested()
    try:
        yield
    except BaseException:
        nested.rollback()
        store.forget_after(session, mark)
        events.forget_after(session, bus_mark)
        raise
    if keep:
        nested.commit()
    else:
        nested.rollback()
        store.forget_after(session, mark)
        events.forget_after(session, bus_mark)


def record_detached(
    db: Database,
    kind: str,
    subject: tuple[str, str | int],
    payload: dict[str, Any],
    *,
    actor_id: int | None,
    district_code: str | None,
) -> None:
    """Record an event in its own transaction (it must outlive the request's rollback)."""
    with db.unit_of_work() as session:
        record(session, kind, subject, payload, actor_id=actor_id, district_code=district_code)
