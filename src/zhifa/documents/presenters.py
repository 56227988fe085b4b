"""Shaping numbering data for the API and the pages: the number register of a year.

The register lists every serial from 1 to next − 1: each with its row, and — should one ever be
missing (a row deleted behind the application's back) — a ``missing`` line in its place, so that
a gap shows where it is and is not silently skipped."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.documents import numbering
from zhifa.documents.schemas import RegisterRead, RegisterRow
from zhifa.ledger.kinds import N_
from zhifa.models.documents import DocumentNumber, DocumentType, NumberBlock, NumberStatus
from zhifa.web.i18n import translate

MISSING = N_("Not accounted for")


def register_read(
    session: Session, district_code: str, locale: str, doc_type: DocumentType, year: int
) -> RegisterRead:
    found = numbering.register(session, district_code, doc_type, year)
    block_ids = {n.block_id for n in found.numbers if n.block_id is not None}
    stmt = select(NumberBlock.id, NumberBlock.officer_id).where(NumberBlock.id.in_(block_ids))
    blocks: dict[int, int] = {row[0]: row[1] for row in session.execute(stmt)}
    rows = [_row(n, blocks, locale) for n in found.numbers]
    rows += [_missing(serial, locale) for serial in found.gaps]
    counts: dict[str, int] = {}
    for n in found.numbers:
        counts[str(n.status)] = counts.get(str(n.status), 0) + 1
    return RegisterRead(
        district_code=district_code,
        doc_type=doc_type,
        doc_type_label=translate(locale, doc_type.label),
        year=year,
        next_serial=found.next_serial,
        counts=counts,
        gaps=found.gaps,
        numbers=sorted(rows, key=lambda r: r.serial),
    )


def _row(n: DocumentNumber, blocks: dict[int, int], locale: str) -> RegisterRow:
    return RegisterRow(
        serial=n.serial,
        text=n.text,
        status=n.status,
        status_label=translate(locale, NumberStatus(n.status).label),
        block_id=n.block_id,
        officer_id=blocks.get(n.block_id) if n.block_id else None,
        document_id=n.document_id,
        void_reason=n.void_reason,
        changed_at=n.changed_at,
    )


def _missing(serial: int, locale: str) -> RegisterRow:
    return RegisterRow(
        serial=serial,
        text="",
        status="missing",
        status_label=translate(locale, MISSING),
        block_id=None,
        officer_id=None,
        document_id=None,
        void_reason="",
        changed_at=None,
    )
