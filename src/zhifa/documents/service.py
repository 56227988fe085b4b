"""Issuing documents (出具执法文书), exactly once per client UUID, and reading them back.

Issue, in one transaction: the task and its submitted inspection are checked; the number is taken
(a serial from the caller's block, or the next of the series); the fields are composed and the
PDF rendered with the signatures; the PDF and the signature images go into the blob store; the
``Document``, its signatures and their evidence rows are written; ``document.issued`` is ledgered
with the PDF's SHA-256 (and the signatures' digests) and announced on the event bus once the
transaction commits. Anything refused rolls it all back: the number goes back to the series.

Invariants:
- Issue is applied once per client UUID (``kit.idempotency``, operation ``document.issue``).
- An item is carried out by at most one issued document of a type (one 当场处罚决定书 per act:
  一事不再罚), and an inspection has one 现场检查笔录.
- A 当场处罚决定书 is pre-numbered (art. 52): it needs a serial of one of the caller's blocks.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zhifa import blobs, ledger
from zhifa.catalog.assembly import AssembledChecklist
from zhifa.config import Settings
from zhifa.documents import compose, numbering, repository, signatures
from zhifa.documents import settings as numbering_settings
from zhifa.documents.blocks import block_service
from zhifa.documents.render import render_pdf
from zhifa.documents.schemas import DocumentIn, DocumentRead, SignatureRead
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.kit import idempotency
from zhifa.kit.clock import local, utcnow
from zhifa.kit.events import publish_after_commit
from zhifa.models.documents import (
    Document,
    DocumentNumber,
    DocumentSignature,
    DocumentStatus,
    DocumentType,
    SignerRole,
)
from zhifa.models.inspections import Inspection, InspectionStatus, InspectionTask, TaskStatus
from zhifa.models.org import District
from zhifa.models.subjects import Subject, SubjectKind
from zhifa.org.actor import Actor
from zhifa.web.i18n import translate

OPERATION = "document.issue"
PDF_MAX_BYTES = 50_000_000
NEEDS_NAMED_PARTY = (DocumentType.ON_SPOT_PENALTY, DocumentType.RECTIFICATION_NOTICE)


@dataclass(frozen=True)
class Context:
    """What an issue works from, checked."""

    task: InspectionTask
    inspection: Inspection
    subject: Subject
    district: District
    agency: str
    present: list[compose.Officer]
    answers: dict[str, compose.Answer]
    inspected_from: datetime | None
    evidence_counts: dict[str, int]


def read(doc: Document, rows: list[DocumentSignature], locale: str, base_url: str) -> DocumentRead:
    return DocumentRead(
        id=doc.id,
        public_id=doc.public_id,
        doc_type=doc.doc_type,
        doc_type_label=translate(locale, DocumentType(doc.doc_type).label),
        number_text=doc.number_text,
        status=str(doc.status),
        issued_at=doc.issued_at,
        task_id=doc.task_id,
        inspection_id=doc.inspection_id,
        subject_id=doc.subject_id,
        party_name=str(doc.fields.get("party", {}).get("name", "")),
        pdf_sha256=doc.pdf_sha256,
        pdf_size=doc.pdf_size,
        pdf_url=f"/api/v1/documents/{doc.id}/pdf",
        verify_url=verify_url(base_url, doc.public_id),
        signatures=[
            SignatureRead(
                role=s.role,
                role_label=translate(locale, SignerRole(s.role).label),
                officer_id=s.officer_id,
                signer_name=s.signer_name,
                image_sha256=s.image_sha256,
                refused=s.refused,
                refusal_reason=s.refusal_reason,
                witness_name=s.witness_name,
                signed_at=s.signed_at,
            )
            for s in rows
        ],
    )


def verify_url(base_url: str, public_id: str) -> str:
    return f"{base_url.rstrip('/')}/verify/{public_id}"


class DocumentService:
    def issue(
        self, session: Session, actor: Actor, *, data: DocumentIn, config: Settings, locale: str
    ) -> tuple[int, dict[str, Any]]:
        """Issue a document exactly once per client UUID: (status code, answer)."""
        prior = idempotency.claim(
            session,
            client_uuid=data.client_uuid,
            district_code=actor.district_code,
            officer_id=actor.officer_id,
            operation=OPERATION,
            request=data.model_dump(mode="json", exclude={"client_uuid"}),
        )
        if prior is not None:
            return prior.status_code, prior.response
        doc, rows = self._issue(session, actor, data, config)
        answer = read(doc, rows, locale, config.public_base_url).model_dump(mode="json")
        idempotency.complete(
            session, client_uuid=data.client_uuid, status_code=201, response=answer
        )
        return 201, answer

    def _issue(
        self, session: Session, actor: Actor, data: DocumentIn, config: Settings
    ) -> tuple[Document, list[DocumentSignature]]:
        ctx = self._context(session, actor, data)
        _check_items(session, ctx, data)
        served = (
            _served(session, ctx, data) if data.doc_type == DocumentType.SERVICE_RECEIPT else []
        )
        party_name = (data.party.name if data.party else None) or ctx.subject.name
        signed = signatures.check(data.signatures, ctx.present, party_name)
        issued_at = utcnow().replace(microsecond=0)
        number = self._number(session, actor, data, local(issued_at, config.tz).year)
        public_id = secrets.token_urlsafe(16)
        sources = _sources(ctx, data, config, number, public_id, issued_at, signed, served)
        fields = compose.compose(sources) | {"item_codes": list(data.item_codes)}
        images = {
            s.signer.image_sha256: s.image for s in signed if s.image and s.signer.image_sha256
        }
        pdf = blobs.store_bytes(
            session,
            config.blob_dir,
            render_pdf(fields, images),
            max_bytes=PDF_MAX_BYTES,
            allowed=blobs.PDF_TYPES,
        ).blob
        doc = Document(
            district_code=actor.district_code,
            public_id=public_id,
            doc_type=data.doc_type,
            number_text=number.text,
            year=number.year,
            serial=number.serial,
            task_id=ctx.task.id,
            inspection_id=ctx.inspection.id,
            subject_id=ctx.subject.id,
            fields=fields,
            pdf_sha256=pdf.sha256,
            pdf_size=pdf.size,
            issued_at=issued_at,
            issued_by_id=actor.officer_id,
            status=DocumentStatus.ISSUED,
            client_uuid=idempotency.parse_uuid(data.client_uuid),
        )
        session.add(doc)
        session.flush()
        number.document_id = doc.id
        rows = signatures.store(
            session,
            config.blob_dir,
            document=doc,
            inspection=ctx.inspection,
            signed=signed,
            actor_id=actor.officer_id,
        )
        self._record(session, actor, doc, rows, config)
        return doc, rows

    def _context(self, session: Session, actor: Actor, data: DocumentIn) -> Context:
        task = repository.task(session, actor.scope, data.task_id)
        if task is None:
            raise NotFound(
                "There is no task {id} in your data scope to issue a document for.",
                detail={"field": "task_id"},
                id=data.task_id,
            )
        if task.status == TaskStatus.CANCELLED:
            raise Conflict(
                "The task was cancelled; no document can be issued for it.",
                detail={"field": "task_id"},
                error_code="task_cancelled",
            )
        if actor.officer_id not in task.officer_ids:
            raise Conflict(
                "You are not assigned to this task; only its officers issue its documents.",
                detail={"field": "task_id"},
                error_code="not_assigned",
            )
        inspection = repository.inspection_of(session, task.id)
        if inspection is None or inspection.status != InspectionStatus.SUBMITTED:
            raise Conflict(
                "Submit the inspection first: documents are made from the submitted results.",
                detail={"field": "task_id"},
                error_code="inspection_not_submitted",
            )
        subject = session.get_one(Subject, task.subject_id)
        district = session.get_one(District, task.district_code)
        agency = numbering_settings.required(session, task.district_code).agency_name
        return Context(
            task,
            inspection,
            subject,
            district,
            agency,
            repository.present_officers(session, task),
            repository.current_answers(session, inspection.id),
            repository.first_presence(session, task.id),
            repository.evidence_counts(session, task.id),
        )

    def _number(
        self, session: Session, actor: Actor, data: DocumentIn, year: int
    ) -> DocumentNumber:
        if data.serial is not None:
            return block_service.take(session, actor, doc_type=data.doc_type, serial=data.serial)
        if data.doc_type == DocumentType.ON_SPOT_PENALTY:
            raise InvalidInput(
                "An on-the-spot penalty decision is pre-numbered: send the serial of a number "
                "from your block.",
                detail={"field": "serial"},
                error_code="serial_required",
            )
        return numbering.next_number(
            session, actor.district_code, data.doc_type, year, actor_id=actor.officer_id
        )

    def _record(
        self,
        session: Session,
        actor: Actor,
        doc: Document,
        rows: list[DocumentSignature],
        config: Settings,
    ) -> None:
        digests = tuple(r.image_sha256 for r in rows if r.image_sha256)
        ledger.record(
            session,
            "document.issued",
            doc,
            {"pdf_sha256": doc.pdf_sha256, "number_text": doc.number_text},
            actor_id=actor.officer_id,
            district_code=doc.district_code,
            evidence=(doc.pdf_sha256, *digests),
        )
        publish_after_commit(
            session,
            "document.issued",
            {
                "id": doc.id,
                "unit_id": _task_unit(session, doc.task_id),
                "doc_type": str(doc.doc_type),
                "number_text": doc.number_text,
                "task_id": doc.task_id,
                "subject_id": doc.subject_id,
                "inspection_id": doc.inspection_id,
                "verify_url": verify_url(config.public_base_url, doc.public_id),
            },
            district_code=doc.district_code,
        )

    def list(
        self,
        session: Session,
        actor: Actor,
        *,
        task_id: int | None = None,
        inspection_id: int | None = None,
        subject_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Document]:
        return repository.documents(
            session,
            actor.scope,
            task_id=task_id,
            inspection_id=inspection_id,
            subject_id=subject_id,
            limit=limit,
            offset=offset,
        )

    def get(self, session: Session, actor: Actor, *, document_id: int) -> Document:
        doc = repository.document(session, actor.scope, document_id)
        if doc is None:
            raise NotFound("Document {id} does not exist.", id=document_id)
        return doc


def _check_items(session: Session, ctx: Context, data: DocumentIn) -> None:
    """The items a document carries out: none for a record or receipt; for an order or a
    penalty, 不合格 answers not yet carried out by a document of the same type."""
    if data.doc_type in (DocumentType.INSPECTION_RECORD, DocumentType.SERVICE_RECEIPT):
        if data.item_codes:
            raise InvalidInput(
                "This document covers the whole inspection; send no item codes.",
                detail={"field": "item_codes"},
            )
        if data.doc_type == DocumentType.INSPECTION_RECORD and repository.issued_of_type(
            session, ctx.task.id, data.doc_type
        ):
            raise Conflict(
                "The inspection record of this task was already issued.",
                detail={"field": "doc_type"},
                error_code="already_issued",
            )
        return
    if not data.item_codes or len(set(data.item_codes)) != len(data.item_codes):
        raise InvalidInput(
            "Name the non-compliant items this document carries out, each once.",
            detail={"field": "item_codes"},
        )
    done = repository.covered_items(session, ctx.task.id, data.doc_type) & set(data.item_codes)
    if done:
        raise Conflict(
            "A document of this type was already issued for item {codes}.",
            detail={"field": "item_codes", "item_codes": sorted(done)},
            error_code="already_issued",
            codes="、".join(sorted(done)),
        )
    named = bool(data.party and data.party.name and data.party.name.strip())
    if ctx.subject.kind == SubjectKind.SITE and data.doc_type in NEEDS_NAMED_PARTY and not named:
        raise InvalidInput(
            "This subject is a site: name the party the document is addressed to.",
            detail={"field": "party.name"},
        )


def _served(session: Session, ctx: Context, data: DocumentIn) -> list[compose.Served]:
    issued = [
        d
        for d in repository.for_task(session, ctx.task.id)
        if d.status == DocumentStatus.ISSUED and d.doc_type != DocumentType.SERVICE_RECEIPT
    ]
    wanted = data.service.document_ids if data.service else []
    chosen = [d for d in issued if not wanted or d.id in wanted]
    unknown = sorted(set(wanted) - {d.id for d in issued})
    if unknown or not chosen:
        raise InvalidInput(
            "A proof of service lists documents issued for this task; none or unknown ones "
            "were named.",
            detail={"field": "service.document_ids", "unknown": unknown},
        )
    return [compose.Served(compose.TITLES[DocumentType(d.doc_type)], d.number_text) for d in chosen]


def _party_type(ctx: Context) -> str | None:
    for answer in ctx.answers.values():
        if answer.penalty and answer.penalty.get("party_type"):
            return str(answer.penalty["party_type"])
    return SubjectKind(ctx.subject.kind).party_type


def _sources(
    ctx: Context,
    data: DocumentIn,
    config: Settings,
    number: DocumentNumber,
    public_id: str,
    issued_at: datetime,
    signed: list[signatures.Signed],
    served: list[compose.Served],
) -> compose.Sources:
    service = data.service
    return compose.Sources(
        doc_type=data.doc_type,
        agency=ctx.agency,
        review_body=f"{ctx.district.name}人民政府",
        number_text=number.text,
        verify_url=verify_url(config.public_base_url, public_id),
        issued_at=issued_at,
        tz=config.tz,
        subject=ctx.subject,
        party=data.party,
        party_type=_party_type(ctx),
        checklist=AssembledChecklist.model_validate(ctx.inspection.checklist),
        answers=ctx.answers,
        item_codes=list(data.item_codes),
        officers=ctx.present,
        signers=[s.signer for s in signed],
        inspected_from=ctx.inspected_from,
        inspected_to=ctx.inspection.submitted_at,
        summary=ctx.inspection.summary,
        evidence_counts=ctx.evidence_counts,
        served=served,
        service_method=service.method if service else "direct",
        recipient=service.recipient if service else "",
    )


document_service = DocumentService()


def _task_unit(session: Session, task_id: int | None) -> int | None:
    """The squad of the document's task: squad-scoped viewers of the live feed see their own."""
    task = session.get(InspectionTask, task_id) if task_id is not None else None
    return task.unit_id if task is not None else None
