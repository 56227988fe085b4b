"""Number blocks: pre-numbered forms for an officer's device (行政处罚法 art. 52 requires a
当场处罚决定书 to be 编有号码 before it is filled in, and the device may be offline when it is).

Invariants:
- A block is allotted exactly once per client UUID (``kit.idempotency``); its serials come from the
  gap-free series like any other number and are ``reserved`` to the officer.
- An officer holds at most ``MAX_RESERVED`` reserved numbers per document type (409 beyond).
- A reserved number can only be used by the officer it was allotted to, once; returning a block
  voids its unused numbers with the reason given. A used or voided number is never usable again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.documents import numbering
from zhifa.documents.schemas import BlockIn, BlockNumber, BlockRead
from zhifa.errors import Conflict, NotFound, PermissionDenied
from zhifa.kit import idempotency
from zhifa.kit.clock import today_local, utcnow
from zhifa.models.documents import DocumentNumber, DocumentType, NumberBlock, NumberStatus
from zhifa.models.org import Officer, OfficerStatus, Unit
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission, Role
from zhifa.web.i18n import translate

MAX_RESERVED = 50
OPERATION = "document.block.allot"
FIELD_ROLES = frozenset({Role.OFFICER, Role.SQUAD_LEADER})


def unused(session: Session, block: NumberBlock) -> list[DocumentNumber]:
    stmt = (
        select(DocumentNumber)
        .where(DocumentNumber.block_id == block.id, DocumentNumber.status == NumberStatus.RESERVED)
        .order_by(DocumentNumber.serial)
    )
    return list(session.scalars(stmt))


def block_read(session: Session, block: NumberBlock, locale: str) -> BlockRead:
    return BlockRead(
        id=block.id,
        doc_type=block.doc_type,
        doc_type_label=translate(locale, DocumentType(block.doc_type).label),
        year=block.year,
        first_serial=block.first_serial,
        last_serial=block.last_serial,
        officer_id=block.officer_id,
        device_id=block.device_id,
        created_at=block.created_at,
        returned_at=block.returned_at,
        unused=[
            BlockNumber(serial=n.serial, text=n.text, status=n.status)
            for n in unused(session, block)
        ],
    )


def _officer_in_scope(session: Session, actor: Actor, officer_id: int) -> Officer | None:
    officer = session.get(Officer, officer_id)
    if officer is None or officer.district_code != actor.district_code:
        return None
    unit = session.get(Unit, officer.unit_id) if officer.unit_id is not None else None
    if not actor.scope.allows_unit_path(unit.path if unit is not None else None):
        return None
    return officer


def _holder(session: Session, actor: Actor, officer_id: int | None) -> int:
    """Whose block it is: the caller, or (inspections:manage) an active field officer in scope."""
    if officer_id is None or officer_id == actor.officer_id:
        return actor.officer_id
    if not actor.can(Permission.TASKS_MANAGE):
        raise PermissionDenied(
            "Only a squad leader or dispatcher may allot numbers to another officer.",
            detail={"permission": str(Permission.TASKS_MANAGE), "field": "officer_id"},
        )
    officer = _officer_in_scope(session, actor, officer_id)
    if officer is None:
        raise NotFound(
            "There is no officer {id} in your data scope to allot numbers to.",
            detail={"field": "officer_id"},
            id=officer_id,
        )
    if officer.status != OfficerStatus.ACTIVE or not FIELD_ROLES & {Role(r) for r in officer.roles}:
        raise Conflict(
            "{name} is not an active field officer; numbers cannot be allotted to them.",
            detail={"field": "officer_id"},
            name=officer.name,
        )
    return officer.id


class BlockService:
    def allot(
        self, session: Session, actor: Actor, *, data: BlockIn, locale: str
    ) -> tuple[int, dict[str, Any]]:
        """Allot a block exactly once per client UUID: (status code, answer)."""
        request = data.model_dump(mode="json", exclude={"client_uuid"})
        prior = idempotency.claim(
            session,
            client_uuid=data.client_uuid,
            district_code=actor.district_code,
            officer_id=actor.officer_id,
            operation=OPERATION,
            request=request,
        )
        if prior is not None:
            return prior.status_code, prior.response
        holder = _holder(session, actor, data.officer_id)
        held = numbering.reserved_count(session, holder, data.doc_type)
        if held + data.count > MAX_RESERVED:
            raise Conflict(
                "An officer may hold at most {max} unused numbers of one document type; "
                "{held} are held now. Use or return them first.",
                detail={"field": "count", "held": held, "max": MAX_RESERVED},
                error_code="too_many_reserved",
                max=MAX_RESERVED,
                held=held,
            )
        block = numbering.allot_block(
            session,
            district_code=actor.district_code,
            doc_type=data.doc_type,
            year=today_local().year,
            count=data.count,
            officer_id=holder,
            device_id=data.device_id,
            actor_id=actor.officer_id,
        )
        answer = block_read(session, block, locale).model_dump(mode="json")
        idempotency.complete(
            session, client_uuid=data.client_uuid, status_code=201, response=answer
        )
        return 201, answer

    def mine(self, session: Session, actor: Actor) -> list[NumberBlock]:
        stmt = (
            select(NumberBlock)
            .where(
                NumberBlock.district_code == actor.district_code,
                NumberBlock.officer_id == actor.officer_id,
                NumberBlock.returned_at.is_(None),
            )
            .order_by(NumberBlock.doc_type, NumberBlock.year, NumberBlock.first_serial)
        )
        return list(session.scalars(stmt))

    def get(self, session: Session, actor: Actor, *, block_id: int) -> NumberBlock:
        """A block the actor may act on: their own, or (inspections:manage) one of an officer in
        their scope. Any other is not found."""
        block = session.get(NumberBlock, block_id)
        if block is None or block.district_code != actor.district_code:
            raise NotFound("Number block {id} does not exist.", id=block_id)
        if block.officer_id == actor.officer_id:
            return block
        if actor.can(Permission.TASKS_MANAGE) and _officer_in_scope(
            session, actor, block.officer_id
        ):
            return block
        raise NotFound("Number block {id} does not exist.", id=block_id)

    def return_block(
        self, session: Session, actor: Actor, *, block_id: int, reason: str
    ) -> NumberBlock:
        """Void the block's unused numbers for good and close it."""
        block = self.get(session, actor, block_id=block_id)
        if block.returned_at is not None:
            raise Conflict(
                "This number block was already returned; its unused numbers are void.",
                error_code="block_returned",
            )
        reason = reason.strip()
        voided = [
            n.serial
            for n in unused(session, block)
            if numbering.void_reserved(session, n, reason=reason, actor_id=actor.officer_id)
        ]
        block.returned_at = utcnow()
        session.flush()
        ledger.record(
            session,
            "document.block.returned",
            block,
            {"reason": reason, "voided": voided},
            actor_id=actor.officer_id,
            district_code=block.district_code,
        )
        return block

    def take(
        self, session: Session, actor: Actor, *, doc_type: DocumentType, serial: int
    ) -> DocumentNumber:
        """Use serial ``serial`` of one of the actor's open blocks (409 when it cannot be)."""
        stmt = (
            select(DocumentNumber, NumberBlock)
            .join(NumberBlock, NumberBlock.id == DocumentNumber.block_id)
            .where(
                DocumentNumber.district_code == actor.district_code,
                DocumentNumber.doc_type == str(doc_type),
                DocumentNumber.serial == serial,
            )
            .order_by(DocumentNumber.year.desc())
        )
        found = [(n, b) for n, b in session.execute(stmt)]
        mine = [(n, b) for n, b in found if b.officer_id == actor.officer_id]
        usable = [n for n, b in mine if n.status == NumberStatus.RESERVED]
        if usable and numbering.use_reserved(session, usable[0], actor_id=actor.officer_id):
            return usable[0]
        _refuse_serial(serial, [n for n, _ in mine], [n for n, _ in found])
        raise AssertionError("unreachable")  # pragma: no cover


def _refuse_serial(serial: int, mine: list[DocumentNumber], anyone: list[DocumentNumber]) -> None:
    detail = {"field": "serial", "serial": serial}
    for number in mine:
        if number.status == NumberStatus.VOIDED:
            raise Conflict(
                "Number {text} was voided and can never be used.",
                detail=detail,
                error_code="number_voided",
                text=number.text,
            )
        raise Conflict(
            "Number {text} has already been used; a number is never used twice.",
            detail=detail,
            error_code="number_used",
            text=number.text,
        )
    if anyone:
        raise Conflict(
            "Serial {serial} was allotted to another officer's device; use a number from your "
            "own block.",
            detail=detail,
            error_code="number_not_yours",
            serial=serial,
        )
    raise Conflict(
        "Serial {serial} is not in any of your number blocks; request a block first.",
        detail=detail,
        error_code="number_not_allotted",
        serial=serial,
    )


block_service = BlockService()
