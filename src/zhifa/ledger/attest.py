"""Attesting ledgered rows that no entry describes yet.

Rows written before the log kept row states (or before a model became ledgered) have no entry whose
payload carries their ``state``, so the auditor could not tell whether they were edited. Attesting
records one ``ledger.row_attested`` entry per such row, with its state now: from then on, any edit
behind the application's back is caught. It is idempotent: an attested row is not attested again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.ledger.audit_sources import ledgered_models, row_key
from zhifa.models.ledger import LedgerEvent

KIND = "ledger.row_attested"


def _attested_ids(session: Session, table: str) -> set[str]:
    """Subjects of ``table`` that already have an entry carrying their state."""
    stmt = select(LedgerEvent.subject_id, LedgerEvent.payload).where(
        LedgerEvent.subject_type == table
    )
    return {subject for subject, payload in session.execute(stmt) if "state" in payload}


def _district_of(row: Any) -> str | None:
    code = getattr(row, "district_code", None) or getattr(row, "code", None)
    return str(code) if code is not None else None


def attest_rows(session: Session) -> int:
    """Record the state of every ledgered row no entry describes; return how many."""
    count = 0
    for model in ledgered_models():
        attested = _attested_ids(session, model.__tablename__)
        for row in session.scalars(select(model)):
            if row_key(row) in attested:
                continue
            ledger.record(
                session,
                KIND,
                row,
                {"reason": "no earlier entry carried this row's state"},
                actor_id=None,
                district_code=_district_of(row),
            )
            count += 1
    return count
