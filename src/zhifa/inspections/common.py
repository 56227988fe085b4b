"""Small pieces the inspection services share: exactly-once replies, local days, ledger calls.

``once`` wraps an operation a device submits under a client UUID (``kit.idempotency``): the first
request is applied and its reply (status and JSON body) kept in the same transaction; a repeat
with the same content gets that reply again; other content under the UUID is a 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic_core import to_jsonable_python
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.config import get_settings
from zhifa.kit import idempotency
from zhifa.kit.clock import as_utc, utcnow
from zhifa.ledger.canonical import canonical_bytes
from zhifa.ledger.envelope import normalise
from zhifa.org.actor import Actor


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Reply:
    """An answer to a device: the HTTP status and the JSON body (kept for a replay)."""

    status_code: int
    body: dict[str, Any]


def once(
    session: Session,
    actor: Actor,
    *,
    client_uuid: str,
    operation: str,
    request: dict[str, Any],
    apply: Callable[[], Reply],
) -> Reply:
    """Apply ``apply`` once for ``client_uuid``; a repeat of the same request gets its reply."""
    prior = idempotency.claim(
        session,
        client_uuid=client_uuid,
        district_code=actor.district_code,
        officer_id=actor.officer_id,
        operation=operation,
        request=request,
    )
    if prior is not None:
        return Reply(prior.status_code, prior.response)
    reply = apply()
    body = to_jsonable_python(reply.body)
    idempotency.complete(
        session, client_uuid=client_uuid, status_code=reply.status_code, response=body
    )
    return Reply(reply.status_code, body)


def tz() -> ZoneInfo:
    return get_settings().tz


def today() -> date:
    return utcnow().astimezone(tz()).date()


def day_bounds(on: date) -> tuple[datetime, datetime]:
    """The local day ``on`` as [start, next day's start) in UTC."""
    start = datetime.combine(on, time(0, 0), tz())
    return as_utc(start), as_utc(start + timedelta(days=1))


def whole_day(on: date) -> tuple[datetime, datetime]:
    """A task window covering the local day ``on``: 00:00:00 to 23:59:59."""
    start, end = day_bounds(on)
    return start, end - timedelta(seconds=1)


def aware(value: datetime) -> datetime:
    """A time from the client in UTC; one without an offset is read as local time."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz())
    return as_utc(value)


def digest(value: Any) -> str:
    """SHA-256 of the RFC 8785 JSON of ``value`` (after the ledger's normalisation)."""
    return hashlib.sha256(canonical_bytes(normalise(value))).hexdigest()


def record(
    session: Session,
    actor_id: int | None,
    kind: str,
    row: Any,
    payload: dict[str, Any],
    *,
    district_code: str,
    evidence: tuple[str, ...] = (),
) -> None:
    ledger.record(
        session,
        kind,
        row,
        payload,
        actor_id=actor_id,
        district_code=district_code,
        evidence=evidence,
    )
