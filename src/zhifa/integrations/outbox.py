"""The outbox: public steps of a complaint go back to the platform it came from, exactly once.

``on_event`` (called by ``complaints.workflow.advance`` for public steps, in the step's
transaction) queues one ``OutboxMessage`` per step when the complaint came from an active
integration that wants updates: a rolled-back step queues nothing, and ``dedupe_key``
(``"{integration_id}:{event_id}"``) stops a second queuing of the same step.

``deliver_due`` (the periodic worker) sends what is due, one message at a time:

1. claim it in a short transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) by leasing it
   (``locked_until = now + 2 × timeout``), so no other process sends it meanwhile;
2. send it outside any transaction: a webhook as signed JSON (``client.post_signed_json``), an
   Open311 peer as the mySociety ``servicerequestupdates`` form (the upstream api_key is added
   here, from the sealed secret: it is never stored in a payload);
3. record the answer in a new transaction: 2xx → delivered (ledger ``integration.delivered``);
   anything else → ``attempts + 1``, the error, and the next attempt after
   ``min(base × 2^(attempts−1), max)`` ± 10 %, lease cleared.

Invariants: a message is never deleted and never given up (a page flags it "stuck" after
``STUCK_AFTER_ATTEMPTS``); a delivered message is never sent again (the record step only moves a
pending message, and claims take pending messages only); a later message of a complaint is not
sent while an earlier one of the same complaint to the same integration is pending. A crash
between sending and recording sends the message again after its lease: the receiver drops the
repeat by ``X-Zhifa-Delivery``. The payload never carries the reporter's identity.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.integrations import client
from zhifa.integrations import repository as repo
from zhifa.integrations.service import box
from zhifa.kit.clock import as_utc, utcnow
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintStatus
from zhifa.models.integrations import Integration, IntegrationKind, OutboxMessage, OutboxStatus
from zhifa.web.i18n import translate

log = logging.getLogger("zhifa.outbox")


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is recorded."""
    return message


NO_ENDPOINT = N_("The integration has no endpoint address.")
NO_SECRET = N_("The webhook has no secret to sign with.")

# Messages sent in one round at most (the worker runs again a few seconds later).
ROUND_LIMIT = 200
JITTER = 0.10

S = ComplaintStatus
# Our status → the Open311 update status (FixMyStreet's extended statuses where they fit).
OPEN311_STATUS: dict[ComplaintStatus, str] = {
    S.RECEIVED: "OPEN",
    S.FILED: "OPEN",
    S.DISPATCHED: "IN_PROGRESS",
    S.TAKEN: "IN_PROGRESS",
    S.ON_SCENE: "IN_PROGRESS",
    S.DISPOSED: "IN_PROGRESS",
    S.FED_BACK: "IN_PROGRESS",
    S.CLOSED: "FIXED",
    S.TRANSFERRED: "NOT_COUNCILS_RESPONSIBILITY",
    S.MERGED: "DUPLICATE",
    S.REJECTED: "NO_FURTHER_ACTION",
}


def iso(value: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, to the second."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def on_event(session: Session, complaint: Complaint, event: ComplaintEvent) -> None:
    """Queue a public step for the complaint's originating platform (see the module docstring)."""
    if complaint.integration_id is None or not event.public:
        return
    integration = session.get(Integration, complaint.integration_id)
    if integration is None or not integration.active or not integration.send_updates:
        return
    dedupe_key = f"{integration.id}:{event.id}"
    if repo.dedupe_key_exists(session, dedupe_key):
        return
    message = OutboxMessage(
        district_code=complaint.district_code,
        integration_id=integration.id,
        complaint_id=complaint.id,
        dedupe_key=dedupe_key,
        payload={},
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
    )
    session.add(message)
    session.flush()  # the id is the delivery id, part of a webhook's body
    message.payload = payload_for(integration, complaint, event, message.id)
    session.flush()


def payload_for(
    integration: Integration, complaint: Complaint, event: ComplaintEvent, delivery_id: int
) -> dict[str, Any]:
    if integration.kind == IntegrationKind.OPEN311:
        return open311_update(integration, complaint, event)
    return webhook_body(complaint, event, delivery_id)


def webhook_body(complaint: Complaint, event: ComplaintEvent, delivery_id: int) -> dict[str, Any]:
    status = ComplaintStatus(event.status)
    body: dict[str, Any] = {
        "delivery_id": delivery_id,
        "tracking_no": complaint.tracking_no,
        "source_ref": complaint.source_ref,
        "status": "open" if status.is_open else "closed",
        "zhifa_status": str(status),
        "step": event.kind,
        "note": event.note,
        "updated_datetime": iso(event.at),
    }
    if status == ComplaintStatus.CLOSED:
        body["answer"] = complaint.answer
    if complaint.rating is not None:
        body["rating"] = complaint.rating
    return body


def open311_update(
    integration: Integration, complaint: Complaint, event: ComplaintEvent
) -> dict[str, str]:
    """The mySociety ``servicerequestupdates`` POST fields, without ``api_key`` (added when sent)
    and without any reporter field. The peer knows the request by its own id (``source_ref``, for
    a request we polled from it) or by our tracking number (one it posted to us)."""
    status = ComplaintStatus(event.status)
    description = event.note
    if status == ComplaintStatus.CLOSED and complaint.answer and event.kind == "closed":
        description = complaint.answer
    fields = {
        "service_request_id": complaint.source_ref or complaint.tracking_no,
        "update_id": str(event.id),
        "status": OPEN311_STATUS.get(status, "OPEN" if status.is_open else "CLOSED"),
        "updated_datetime": iso(event.at),
        "description": description,
    }
    if integration.jurisdiction_id:
        fields["jurisdiction_id"] = integration.jurisdiction_id
    return fields


@dataclass(frozen=True)
class Claimed:
    """What sending a message needs, read while it was claimed."""

    message_id: int
    integration_id: int
    kind: IntegrationKind
    endpoint_url: str
    secret: str | None
    payload: dict[str, Any]


def deliver_due(db: Database, settings: Settings) -> int:
    """Send every message whose next attempt is due; the number delivered."""
    delivered = 0
    failed_integrations: list[int] = []  # a peer that failed is not tried again this round
    for _ in range(ROUND_LIMIT):
        claimed = claim_next(db, settings, skip_integrations=failed_integrations)
        if claimed is None:
            break
        answer = send(claimed, settings)
        if record_result(db, settings, claimed, answer):
            delivered += 1
        if not answer.ok:
            failed_integrations.append(claimed.integration_id)
    return delivered


def claim_next(
    db: Database, settings: Settings, *, skip_integrations: list[int] | None = None
) -> Claimed | None:
    """Lease the oldest due message (see the module docstring) and read what sending needs."""
    now = utcnow()
    stmt = repo.claimable(now, skip_integrations=skip_integrations or ())
    if not db.is_sqlite:
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
    with db.unit_of_work() as session:
        message = session.scalars(stmt.limit(1)).first()
        if message is None:
            return None
        message.locked_until = now + timedelta(seconds=2 * settings.outbox_timeout_seconds)
        integration = session.get(Integration, message.integration_id)
        assert integration is not None  # a foreign key
        secret = (
            box(settings).open(integration.secret_cipher) if integration.secret_cipher else None
        )
        return Claimed(
            message_id=message.id,
            integration_id=integration.id,
            kind=IntegrationKind(integration.kind),
            endpoint_url=integration.endpoint_url,
            secret=secret,
            payload=dict(message.payload),
        )


def send(claimed: Claimed, settings: Settings) -> client.Response:
    """One attempt at delivering ``claimed``; never raises for the peer's failures."""
    timeout = settings.outbox_timeout_seconds
    if not claimed.endpoint_url:
        return client.Response(None, b"", translate(settings.default_locale, NO_ENDPOINT))
    if claimed.kind == IntegrationKind.OPEN311:
        fields = dict(claimed.payload)
        if claimed.secret:
            fields["api_key"] = claimed.secret
        url = client.join(claimed.endpoint_url, "servicerequestupdates.json")
        return client.post_form(url, fields, delivery_id=claimed.message_id, timeout=timeout)
    if not claimed.secret:
        return client.Response(None, b"", translate(settings.default_locale, NO_SECRET))
    return client.post_signed_json(
        claimed.endpoint_url,
        claimed.payload,
        secret=claimed.secret,
        delivery_id=claimed.message_id,
        timeout=timeout,
    )


def backoff_seconds(
    attempts: int, settings: Settings, *, rng: random.Random | None = None
) -> float:
    """The wait before the next attempt after ``attempts`` failed ones, with ± 10 % jitter."""
    exponent = min(max(attempts - 1, 0), 40)
    wait = min(
        settings.outbox_backoff_base_seconds * 2.0**exponent, settings.outbox_backoff_max_seconds
    )
    jitter: float = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return wait * jitter


def record_result(
    db: Database, settings: Settings, claimed: Claimed, answer: client.Response
) -> bool:
    """Record one attempt in its own transaction; True when the message is now delivered."""
    now = utcnow()
    with db.unit_of_work() as session:
        message = session.get(OutboxMessage, claimed.message_id)
        if message is None or message.status != OutboxStatus.PENDING:
            return False
        message.attempts += 1
        message.last_attempt_at = now
        message.last_http_status = answer.status
        message.locked_until = None
        if answer.ok:
            _delivered(session, message, answer, now)
            return True
        message.last_error = answer.error or f"HTTP {answer.status}"
        wait = backoff_seconds(message.attempts, settings)
        message.next_attempt_at = now + timedelta(seconds=wait)
        log.info("outbox message %s not delivered: %s", message.id, message.last_error)
        return False


def _delivered(
    session: Session, message: OutboxMessage, answer: client.Response, now: datetime
) -> None:
    message.status = OutboxStatus.DELIVERED
    message.delivered_at = now
    message.last_error = ""
    ledger.record(
        session,
        "integration.delivered",
        message,
        {
            "outbox_message_id": message.id,
            "integration_id": message.integration_id,
            "complaint_id": message.complaint_id,
            "dedupe_key": message.dedupe_key,
            "http_status": answer.status,
            "attempts": message.attempts,
        },
        actor_id=None,
        district_code=message.district_code,
    )
