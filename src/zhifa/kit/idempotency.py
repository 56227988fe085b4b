"""Exactly-once application of device submissions, keyed by a client-generated UUID.

A device (often offline) sends each submission with a UUID it generated when the officer acted, and
repeats it until it sees an answer. The first request under a UUID is applied and its answer kept;
a repeat with the same content gets that answer again, whatever happened in between (a lost
response, a restarted server); a repeat with other content is refused (409).

Use inside the request's transaction::

    prior = idempotency.claim(session, client_uuid=u, district_code=d, officer_id=o,
                              operation="inspection.submit", request=body_without_uuid)
    if prior is not None:
        return prior.response            # (and prior.status_code)
    result = ...apply...
    idempotency.complete(session, client_uuid=u, status_code=201, response=result)

Invariants: ``claim`` inserts the record at once (flushed), so a concurrent request with the same
UUID waits on the primary key until the first commits and then reads its answer; if the first rolls
back, its claim goes with it and the second applies. A claim and its completion commit together
with the change, or neither does.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.ledger.canonical import canonical_bytes
from zhifa.ledger.envelope import normalise
from zhifa.models.inspections import SubmissionRecord


@dataclass(frozen=True)
class Prior:
    """The answer given the first time a UUID was submitted."""

    status_code: int
    response: dict[str, Any]


def parse_uuid(value: Any, *, field: str = "client_uuid") -> str:
    """The canonical lower-case text of a client UUID, or a 422 naming the field."""
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise InvalidInput(
            "The submission ID {value} is not a UUID.", detail={"field": field}, value=str(value)
        ) from None


def request_digest(request: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(normalise(request))).hexdigest()


def claim(
    session: Session,
    *,
    client_uuid: str,
    district_code: str,
    officer_id: int,
    operation: str,
    request: dict[str, Any],
) -> Prior | None:
    """Claim ``client_uuid`` for this request: None when it is new (apply it, then ``complete``),
    or the first answer when the same request was applied before."""
    client_uuid = parse_uuid(client_uuid)
    digest = request_digest(request)
    existing = session.get(SubmissionRecord, client_uuid)
    if existing is None:
        try:
            with session.begin_nested():
                session.add(
                    SubmissionRecord(
                        client_uuid=client_uuid,
                        district_code=district_code,
                        officer_id=officer_id,
                        operation=operation,
                        request_sha256=digest,
                        status_code=0,
                        response={},
                    )
                )
                session.flush()
            return None
        except IntegrityError:
            existing = session.scalars(
                select(SubmissionRecord)
                .where(SubmissionRecord.client_uuid == client_uuid)
                .execution_options(populate_existing=True)
            ).one()
    return _compare(existing, district_code, operation, digest)


def _compare(
    existing: SubmissionRecord, district_code: str, operation: str, digest: str
) -> Prior | None:
    if existing.district_code != district_code:
        # Another district's UUID does not exist for this actor (no leak of its content).
        raise Conflict(
            "The submission ID {uuid} was already used; generate a new one.",
            detail={"field": "client_uuid"},
            uuid=existing.client_uuid,
        )
    if existing.operation != operation or existing.request_sha256 != digest:
        raise Conflict(
            "The submission ID {uuid} was already used for different content; the first "
            "submission stands. Generate a new ID for a new submission.",
            detail={"field": "client_uuid", "operation": existing.operation},
            uuid=existing.client_uuid,
        )
    if existing.status_code == 0:  # claimed earlier in this same transaction
        return None
    return Prior(status_code=existing.status_code, response=dict(existing.response))


def complete(
    session: Session, *, client_uuid: str, status_code: int, response: dict[str, Any]
) -> None:
    """Keep the answer of the request that claimed ``client_uuid``."""
    record = session.get(SubmissionRecord, parse_uuid(client_uuid))
    if record is None:
        raise NotFound("The submission {uuid} was not claimed.", uuid=client_uuid)
    record.status_code = status_code
    # JSON as the API sends it (ISO datetimes, floats as numbers), so a replay is identical.
    record.response = to_jsonable_python(response)
