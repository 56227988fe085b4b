"""Gap-free document numbers (文号) per district, document type and year.

``DocumentNumberSeries.next_serial`` is advanced under a lock held to the end of the caller's
transaction: ``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the database's writer lock, taken by
making the first statement a write (pysqlite runs a SELECT outside any transaction, so a read
first would let two writers read the same serial). Every serial handed out gets its
``DocumentNumber`` row in the same transaction, so a rolled-back document gives its number back
and a committed one keeps it: the register of a year is the serials 1..next-1, each accounted for.

Invariants:
- A number is ``used`` (by a document), ``reserved`` (in an officer's block) or ``voided`` (with a
  reason). Only a reserved number can become used or voided, and only once: the change is a
  conditional UPDATE (``WHERE status = 'reserved'``), so two requests racing for the same serial
  cannot both win, on either database.
- Every change of a number row is a ledger event about that row (``document.number.used``,
  ``document.number.voided``; a number reserved in a block is recorded with the block's
  ``document.block.allotted``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.documents.settings import format_number, required
from zhifa.kit.clock import utcnow
from zhifa.models.documents import (
    DocumentNumber,
    DocumentNumberSeries,
    DocumentType,
    NumberBlock,
    NumberStatus,
)


def _series_filter(
    district_code: str, doc_type: DocumentType, year: int
) -> tuple[ColumnElement[bool], ...]:
    return (
        DocumentNumberSeries.district_code == district_code,
        DocumentNumberSeries.doc_type == str(doc_type),
        DocumentNumberSeries.year == year,
    )


def _locked_series(
    session: Session, district_code: str, doc_type: DocumentType, year: int
) -> DocumentNumberSeries:
    """The series row, locked until the transaction ends; created (serial 1 next) if missing."""
    where = _series_filter(district_code, doc_type, year)
    if session.get_bind().dialect.name == "sqlite":
        # A write first: it takes SQLite's writer lock before anything is read.
        session.execute(
            update(DocumentNumberSeries)
            .where(*where)
            .values(next_serial=DocumentNumberSeries.next_serial)
            .execution_options(synchronize_session=False)
        )
    stmt = (
        select(DocumentNumberSeries)
        .where(*where)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    row = session.scalar(stmt)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            session.add(
                DocumentNumberSeries(
                    district_code=district_code, doc_type=doc_type, year=year, next_serial=1
                )
            )
    except IntegrityError:
        pass  # another transaction created it first and has committed: lock theirs
    return session.scalars(stmt).one()


def advance(
    session: Session, district_code: str, doc_type: DocumentType, year: int, count: int = 1
) -> int:
    """Take ``count`` consecutive serials; the first of them."""
    series = _locked_series(session, district_code, doc_type, year)
    first = series.next_serial
    series.next_serial = first + count
    session.flush()
    return first


def next_number(
    session: Session,
    district_code: str,
    doc_type: DocumentType,
    year: int,
    *,
    actor_id: int | None = None,
) -> DocumentNumber:
    """The next serial as a ``used`` number row with its text (the caller links the document)."""
    settings = required(session, district_code)
    serial = advance(session, district_code, doc_type, year)
    row = DocumentNumber(
        district_code=district_code,
        doc_type=doc_type,
        year=year,
        serial=serial,
        text=format_number(settings, doc_type, year, serial),
        status=NumberStatus.USED,
        changed_at=utcnow(),
    )
    session.add(row)
    session.flush()
    ledger.record(
        session,
        "document.number.used",
        row,
        {"serial": serial, "text": row.text, "from_block": False},
        actor_id=actor_id,
        district_code=district_code,
    )
    return row


def allot_block(
    session: Session,
    *,
    district_code: str,
    doc_type: DocumentType,
    year: int,
    count: int,
    officer_id: int,
    device_id: str,
    actor_id: int,
) -> NumberBlock:
    """Reserve ``count`` consecutive serials for an officer's device: the block and its numbers,
    each recorded as ``document.block.allotted``."""
    settings = required(session, district_code)
    first = advance(session, district_code, doc_type, year, count)
    block = NumberBlock(
        district_code=district_code,
        doc_type=doc_type,
        year=year,
        first_serial=first,
        last_serial=first + count - 1,
        officer_id=officer_id,
        device_id=device_id,
    )
    session.add(block)
    session.flush()
    now = utcnow()
    rows = [
        DocumentNumber(
            district_code=district_code,
            doc_type=doc_type,
            year=year,
            serial=serial,
            text=format_number(settings, doc_type, year, serial),
            status=NumberStatus.RESERVED,
            block_id=block.id,
            changed_at=now,
        )
        for serial in range(first, first + count)
    ]
    session.add_all(rows)
    session.flush()
    payload = {"block_id": block.id, "officer_id": officer_id, "device_id": device_id}
    ledger.record(
        session,
        "document.block.allotted",
        block,
        {**payload, "first": first, "last": block.last_serial, "texts": [r.text for r in rows]},
        actor_id=actor_id,
        district_code=district_code,
    )
    for row in rows:
        ledger.record(
            session,
            "document.block.allotted",
            row,
            {**payload, "serial": row.serial, "text": row.text},
            actor_id=actor_id,
            district_code=district_code,
        )
    return block


def _claim_reserved(
    session: Session, number: DocumentNumber, status: NumberStatus, reason: str
) -> bool:
    """Move one reserved number to ``status``; False if it was no longer reserved."""
    result = session.execute(
        update(DocumentNumber)
        .where(DocumentNumber.id == number.id, DocumentNumber.status == NumberStatus.RESERVED)
        .values(status=status, void_reason=reason, changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    claimed = bool(getattr(result, "rowcount", 0))
    session.refresh(number)
    return claimed


def use_reserved(session: Session, number: DocumentNumber, *, actor_id: int) -> bool:
    """Mark a reserved number used; False if another request used or voided it first."""
    if not _claim_reserved(session, number, NumberStatus.USED, ""):
        return False
    ledger.record(
        session,
        "document.number.used",
        number,
        {"serial": number.serial, "text": number.text, "from_block": True},
        actor_id=actor_id,
        district_code=number.district_code,
    )
    return True


def void_reserved(session: Session, number: DocumentNumber, *, reason: str, actor_id: int) -> bool:
    """Void a reserved number for good; False if it was no longer reserved."""
    if not _claim_reserved(session, number, NumberStatus.VOIDED, reason):
        return False
    ledger.record(
        session,
        "document.number.voided",
        number,
        {"serial": number.serial, "text": number.text, "reason": reason},
        actor_id=actor_id,
        district_code=number.district_code,
    )
    return True


@dataclass(frozen=True)
class Register:
    next_serial: int
    numbers: list[DocumentNumber]
    gaps: list[int]


def register(session: Session, district_code: str, doc_type: DocumentType, year: int) -> Register:
    """Every serial of the year handed out so far, in order, and the serials missing (none)."""
    series = session.scalar(
        select(DocumentNumberSeries).where(*_series_filter(district_code, doc_type, year))
    )
    next_serial = series.next_serial if series is not None else 1
    stmt = (
        select(DocumentNumber)
        .where(
            DocumentNumber.district_code == district_code,
            DocumentNumber.doc_type == str(doc_type),
            DocumentNumber.year == year,
        )
        .order_by(DocumentNumber.serial)
    )
    numbers = list(session.scalars(stmt))
    present = {n.serial for n in numbers}
    gaps = [s for s in range(1, next_serial) if s not in present]
    return Register(next_serial, numbers, gaps)


def years(session: Session, district_code: str, doc_type: DocumentType) -> list[int]:
    stmt = (
        select(DocumentNumberSeries.year)
        .where(
            DocumentNumberSeries.district_code == district_code,
            DocumentNumberSeries.doc_type == str(doc_type),
        )
        .order_by(DocumentNumberSeries.year.desc())
    )
    return list(session.scalars(stmt))


def reserved_count(session: Session, officer_id: int, doc_type: DocumentType) -> int:
    """Numbers reserved in the officer's open blocks of this type (any year)."""
    stmt = (
        select(func.count())
        .select_from(DocumentNumber)
        .join(NumberBlock, NumberBlock.id == DocumentNumber.block_id)
        .where(
            NumberBlock.officer_id == officer_id,
            NumberBlock.doc_type == str(doc_type),
            NumberBlock.returned_at.is_(None),
            DocumentNumber.status == NumberStatus.RESERVED,
        )
    )
    return int(session.scalar(stmt) or 0)
