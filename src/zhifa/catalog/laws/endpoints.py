"""JSON API of the legal library: /api/v1/laws and /api/v1/provisions. Reading needs
catalog:read (every role); revising a provision needs catalog:manage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from zhifa.catalog.auth import CatalogManage, CatalogRead
from zhifa.catalog.laws.schemas import (
    LegalDocumentDetail,
    LegalDocumentPage,
    LegalDocumentRead,
    ProvisionPage,
    ProvisionRead,
    ProvisionRevise,
    ProvisionVersionsRead,
)
from zhifa.catalog.laws.service import law_service
from zhifa.models.catalog import LawKind, Provision
from zhifa.org.auth import DbSession

router = APIRouter(prefix="/api/v1", tags=["laws"])

Limit = Annotated[int, Query(ge=1, le=200, description="Page size (1–200)")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip")]
Terms = Annotated[
    str, Query(max_length=200, description="Search terms separated by spaces; all must appear")
]


def provision_reads(session: Session, rows: list[Provision]) -> list[ProvisionRead]:
    titles = law_service.titles(session, [r.document_id for r in rows])
    return [ProvisionRead.of(r, titles.get(r.document_id, "")) for r in rows]


@router.get("/laws", response_model=LegalDocumentPage)
def list_laws(
    session: DbSession,
    actor: CatalogRead,
    q: Terms = "",
    kind: LawKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> LegalDocumentPage:
    """Legal documents (one per revision) whose title holds every term; exact titles first."""
    page = law_service.list_documents(session, query=q, kind=kind, limit=limit, offset=offset)
    return LegalDocumentPage(items=[LegalDocumentRead.of(d) for d in page.rows], total=page.total)


@router.get("/laws/{document_id}", response_model=LegalDocumentDetail)
def get_law(session: DbSession, actor: CatalogRead, document_id: int) -> LegalDocumentDetail:
    """One legal document with the latest version of each of its articles, in order."""
    document = law_service.get_document(session, document_id=document_id)
    provisions = law_service.provisions(session, document_id=document.id)
    return LegalDocumentDetail(
        **LegalDocumentRead.of(document).model_dump(),
        provisions=[ProvisionRead.of(p, document.title) for p in provisions],
    )


@router.get("/provisions", response_model=ProvisionPage)
def search_provisions(
    session: DbSession,
    actor: CatalogRead,
    q: Terms = "",
    document_id: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ProvisionPage:
    """Articles (latest versions) whose text or label holds every term."""
    page = law_service.search_provisions(
        session, query=q, document_id=document_id, limit=limit, offset=offset
    )
    return ProvisionPage(items=provision_reads(session, page.rows), total=page.total)


@router.get("/provisions/{provision_id}", response_model=ProvisionVersionsRead)
def get_provision(
    session: DbSession, actor: CatalogRead, provision_id: int
) -> ProvisionVersionsRead:
    """One provision version, its document and every version of the article (its history)."""
    provision = law_service.get_provision(session, provision_id=provision_id)
    document = law_service.get_document(session, document_id=provision.document_id)
    history = law_service.versions(session, provision=provision)
    return ProvisionVersionsRead(
        provision=ProvisionRead.of(provision, document.title),
        document=LegalDocumentRead.of(document),
        versions=[ProvisionRead.of(p, document.title) for p in history],
    )


@router.post("/provisions/{provision_id}/revisions", response_model=ProvisionRead, status_code=201)
def revise_provision(
    session: DbSession, actor: CatalogManage, provision_id: int, body: ProvisionRevise
) -> ProvisionRead:
    """Record a new version of an article's text, effective from a date, with a note."""
    row = law_service.revise_provision(
        session,
        actor,
        provision_id=provision_id,
        text=body.text,
        effective_on=body.effective_on,
        note=body.note,
    )
    document = law_service.get_document(session, document_id=row.document_id)
    return ProvisionRead.of(row, document.title)
