"""Queries over the log for people: entries with their actor's name, scoped to the districts in
the reader's data scope (an entry of another district does not exist for them)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.scope import DataScope

EntryWithActor = tuple[LedgerEvent, str | None]


def _entries_with_actor(scope: DataScope) -> Select[Any]:
    stmt: Select[Any] = select(LedgerEvent, Officer.name).outerjoin(  # type: ignore[assignment]
        Officer, Officer.id == LedgerEvent.actor_id
    )
    return scope.where_district(stmt, LedgerEvent.district_code)


def subject_chain(
    session: Session, scope: DataScope, subject_type: str, subject_id: str, *, limit: int
) -> list[EntryWithActor]:
    """A subject's entries, oldest first."""
    stmt = (
        _entries_with_actor(scope)
        .where(LedgerEvent.subject_type == subject_type, LedgerEvent.subject_id == subject_id)
        .order_by(LedgerEvent.seq)
        .limit(limit)
    )
    return [(entry, name) for entry, name in session.execute(stmt)]


def latest_entries(
    session: Session, scope: DataScope, *, limit: int, kind_prefix: str = ""
) -> list[EntryWithActor]:
    """The newest entries, optionally of kinds starting with ``kind_prefix``."""
    stmt = _entries_with_actor(scope).order_by(LedgerEvent.seq.desc()).limit(limit)
    if kind_prefix:
        stmt = stmt.where(LedgerEvent.kind.startswith(kind_prefix, autoescape=True))
    return [(entry, name) for entry, name in session.execute(stmt)]
