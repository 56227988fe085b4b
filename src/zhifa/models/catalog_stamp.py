"""The catalog's change stamp: one row whose random ``stamp`` changes in every transaction that
commits a change to the catalog, so a process can tell whether what it cached is still current.

Invariants:
- Every committed change to a catalog row (every mapped class of ``zhifa.models.catalog``) or to a
  department (the catalog shows department codes and names) writes a fresh stamp in the same
  transaction: the stamp and the change are committed together or not at all.
- A transaction that writes nothing to the catalog, or whose catalog writes are rolled back (the
  whole transaction, or the SAVEPOINT they were made in, as in a dry-run import), leaves the stamp
  as it was.
- The stamp is random (``uuid4().hex``), never a counter: a restored backup or an emptied test
  database must not match a snapshot cached from another state. No row means the stamp ``""``.

The listeners are registered when this module is imported (``zhifa.models`` imports it, so any use
of the models registers them). Changes written with Core statements or raw SQL bypass them; the
catalog is only written through the ORM.
"""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from sqlalchemy import Integer, String, bindparam, event, select, text
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from zhifa.kit.clock import utcnow
from zhifa.models import catalog
from zhifa.models.base import Base, UTCDateTime
from zhifa.models.org import Department

STAMP_ID = 1
# Set in ``session.info`` when a flush wrote a catalog row in the current transaction.
CHANGED_KEY = "catalog_changed"
# The flag as it was when each open SAVEPOINT began (restored when the SAVEPOINT rolls back).
SAVEPOINTS_KEY = "catalog_changed_savepoints"


class CatalogStamp(Base):
    """The catalog's change stamp (one row, ``id`` 1)."""

    __tablename__ = "catalog_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    stamp: Mapped[str] = mapped_column(String(36))
    changed_at: Mapped[datetime] = mapped_column()


CATALOG_MODELS: tuple[type[Base], ...] = (
    *(
        model
        for model in vars(catalog).values()
        if isinstance(model, type) and issubclass(model, Base) and model is not Base
    ),
    Department,
)

_table = CatalogStamp.__table__
_CURRENT = select(_table.c.stamp).where(_table.c.id == STAMP_ID)
_UPSERT = text(
    "INSERT INTO catalog_stamp (id, stamp, changed_at) VALUES (:id, :stamp, :now) "
    "ON CONFLICT (id) DO UPDATE SET stamp = excluded.stamp, changed_at = excluded.changed_at"
).bindparams(bindparam("now", type_=UTCDateTime()))


def current_stamp(session: Session) -> str:
    """The stamp of the last committed catalog change (``""`` when there has been none)."""
    found = session.connection().execute(_CURRENT).scalar()
    return found or ""


def has_uncommitted_changes(session: Session) -> bool:
    """Whether this session's transaction has written catalog rows not committed yet."""
    return bool(session.info.get(CHANGED_KEY))


@event.listens_for(Session, "after_flush")
def _note_catalog_change(session: Session, _context: object) -> None:
    if session.info.get(CHANGED_KEY):
        return
    for group in (session.new, session.dirty, session.deleted):
        if any(isinstance(row, CATALOG_MODELS) for row in group):
            session.info[CHANGED_KEY] = True
            return


@event.listens_for(Session, "before_commit")
def _stamp_on_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT release: the stamp is written by the real commit
    session.flush()  # rows not flushed yet must count
    if session.info.pop(CHANGED_KEY, False):
        session.connection().execute(
            _UPSERT, {"id": STAMP_ID, "stamp": uuid4().hex, "now": utcnow()}
        )


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a SAVEPOINT: ``_restore_on_savepoint_rollback`` restores the flag
    session.info.pop(CHANGED_KEY, None)


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:
        marks = session.info.setdefault(SAVEPOINTS_KEY, {})
        marks[id(transaction)] = bool(session.info.get(CHANGED_KEY))


@event.listens_for(Session, "after_soft_rollback")
def _restore_on_savepoint_rollback(session: Session, transaction: SessionTransaction) -> None:
    """Writes rolled back with their SAVEPOINT (a dry run, a refused import row) never happened.

    (This event comes after ``after_transaction_end``, so the marks of SAVEPOINTs are kept until
    the outermost transaction ends.)"""
    if transaction.nested:
        mark = session.info.get(SAVEPOINTS_KEY, {}).pop(id(transaction), None)
        if mark is False:
            session.info.pop(CHANGED_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None and not transaction.nested:
        # The outermost transaction ended (committed, rolled back or closed): nothing is pending.
        session.info.pop(CHANGED_KEY, None)
        session.info.pop(SAVEPOINTS_KEY, None)


__all__ = ["CATALOG_MODELS", "CatalogStamp", "current_stamp", "has_uncommitted_changes"]
