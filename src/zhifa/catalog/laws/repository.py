"""Every query of the legal library. Laws and provisions are national: nothing here is scoped by
district.

Search is "Chinese full-text" without a tokeniser: the query is split on whitespace and every term
must appear as a substring (case-insensitive for Latin letters) of the searched columns. That needs
no word segmentation (Chinese has no spaces) and behaves the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from zhifa.models.catalog import LawKind, LegalDocument, Provision

CHINA_PREFIX = "中华人民共和国"


def short_title(title: str) -> str:
    """The title as citations usually write it: without a leading 中华人民共和国."""
    rest = title.removeprefix(CHINA_PREFIX)
    return rest or title


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int


def terms(query: str | None) -> list[str]:
    return [t.lower() for t in (query or "").split() if t]


def _matches(term: str, *columns: Any) -> ColumnElement[bool]:
    return or_(*(func.lower(c).contains(term, autoescape=True) for c in columns))


def _page(
    session: Session, stmt: Select[Any], order: Sequence[Any], limit: int, offset: int
) -> Page:
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.order_by(*order).limit(limit).offset(offset)))
    return Page(rows, int(total))


# Documents -------------------------------------------------------------------------------------


def document(session: Session, document_id: int) -> LegalDocument | None:
    return session.get(LegalDocument, document_id)


def document_revision(session: Session, title: str, revision_date: date) -> LegalDocument | None:
    stmt = select(LegalDocument).where(
        LegalDocument.title == title, LegalDocument.revision_date == revision_date
    )
    return session.scalar(stmt)


def search_documents(
    session: Session, *, query: str | None, kind: LawKind | None, limit: int, offset: int
) -> Page:
    """Documents whose title holds every term: exact title matches first, then by title, the
    newest revision first."""
    stmt = select(LegalDocument)
    for term in terms(query):
        stmt = stmt.where(_matches(term, LegalDocument.title))
    if kind is not None:
        stmt = stmt.where(LegalDocument.kind == kind)
    whole = (query or "").strip()
    exact = case(
        (or_(LegalDocument.title == whole, LegalDocument.short_title == whole), 0), else_=1
    )
    order = (exact, LegalDocument.title, LegalDocument.revision_date.desc(), LegalDocument.id)
    return _page(session, stmt, order, limit, offset)


def document_in_force(session: Session, title: str, on: date) -> LegalDocument | None:
    """The revision of the document called ``title`` (full or short) in force on ``on``: the
    latest to take effect on or before it, not repealed by then."""
    stmt = (
        select(LegalDocument)
        .where(
            or_(LegalDocument.title == title, LegalDocument.short_title == short_title(title)),
            LegalDocument.effective_on <= on,
            or_(LegalDocument.repealed_on.is_(None), LegalDocument.repealed_on > on),
        )
        .order_by(
            LegalDocument.effective_on.desc(),
            LegalDocument.revision_date.desc(),
            LegalDocument.id.desc(),
        )
    )
    return session.scalar(stmt.limit(1))


# Provisions ------------------------------------------------------------------------------------


def provision(session: Session, provision_id: int) -> Provision | None:
    return session.get(Provision, provision_id)


def _latest_only() -> ColumnElement[bool]:
    """No later version of the same article exists."""
    later = aliased(Provision)
    return ~(
        select(later.id)
        .where(
            later.document_id == Provision.document_id,
            later.article == Provision.article,
            later.version > Provision.version,
        )
        .exists()
    )


def latest_provisions(session: Session, document_id: int) -> list[Provision]:
    """The latest version of each article of a document, in article order."""
    stmt = (
        select(Provision)
        .where(Provision.document_id == document_id, _latest_only())
        .order_by(Provision.article)
    )
    return list(session.scalars(stmt))


def versions(session: Session, document_id: int, article: int) -> list[Provision]:
    """Every version of one article, oldest first."""
    stmt = (
        select(Provision)
        .where(Provision.document_id == document_id, Provision.article == article)
        .order_by(Provision.version)
    )
    return list(session.scalars(stmt))


def search_provisions(
    session: Session, *, query: str | None, document_id: int | None, limit: int, offset: int
) -> Page:
    """Latest article versions whose text or label holds every term, in document and article
    order."""
    stmt = select(Provision).where(_latest_only())
    for term in terms(query):
        stmt = stmt.where(_matches(term, Provision.text, Provision.label))
    if document_id is not None:
        stmt = stmt.where(Provision.document_id == document_id)
    return _page(session, stmt, (Provision.document_id, Provision.article), limit, offset)


def titles(session: Session, document_ids: Iterable[int]) -> dict[int, str]:
    ids = set(document_ids)
    if not ids:
        return {}
    stmt = select(LegalDocument.id, LegalDocument.title).where(LegalDocument.id.in_(ids))
    return {row.id: row.title for row in session.execute(stmt)}


def provisions_in_force(
    session: Session, wanted: Iterable[tuple[int, int]], on: date
) -> dict[tuple[int, int], Provision]:
    """For each (document id, article), the version in force on ``on``: the latest
    ``effective_on`` on or before it, then the highest version. Missing keys have none."""
    keys = set(wanted)
    if not keys:
        return {}
    stmt = (
        select(Provision)
        .where(
            Provision.document_id.in_({doc for doc, _ in keys}),
            Provision.article.in_({art for _, art in keys}),
            Provision.effective_on <= on,
        )
        .order_by(Provision.effective_on, Provision.version)
    )
    found: dict[tuple[int, int], Provision] = {}
    for row in session.scalars(stmt):
        key = (row.document_id, row.article)
        if key in keys:
            found[key] = row  # ordered: the version in force comes last
    return found


def provision_in_force(
    session: Session, document_id: int, article: int, on: date
) -> Provision | None:
    stmt = (
        select(Provision)
        .where(
            Provision.document_id == document_id,
            Provision.article == article,
            Provision.effective_on <= on,
        )
        .order_by(Provision.effective_on.desc(), Provision.version.desc())
        .limit(1)
    )
    return session.scalar(stmt)


def provision_count(session: Session, document_id: int) -> int:
    stmt = select(func.count(func.distinct(Provision.article))).where(
        Provision.document_id == document_id
    )
    return int(session.scalar(stmt) or 0)
