"""Rules for integrations with the city platform: create and change them, issue the api_key a peer
posts to our Open311 server with, authenticate it, read and retry the outbox.

Invariants:
- An integration's secret (webhook HMAC key or upstream api_key) is sealed with
  ``kit.sealed.box_for(secret_key, "integration")`` and never handed back (reads say whether one
  is set, masked).
- The inbound api_key is shown once when issued; the row keeps its HMAC digest under the same box
  and its first characters. Issuing a new one replaces the old (which stops working at once).
- A signed webhook that sends updates has a secret; polling is Open311 only; sending or polling
  needs an http(s) endpoint.
Services never commit; every change is one ledger event (``integration.*``) in the caller's session.
"""

from __future__ import annotations

import builtins
import hmac
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.config import Settings, get_settings
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.integrations import repository as repo
from zhifa.integrations.schemas import (
    STUCK_AFTER_ATTEMPTS,
    IntegrationCreate,
    IntegrationRead,
    IntegrationUpdate,
    OutboxMessageRead,
    OutboxPage,
)
from zhifa.kit.clock import utcnow
from zhifa.kit.sealed import Box, box_for
from zhifa.models.integrations import Integration, IntegrationKind, OutboxMessage, OutboxStatus
from zhifa.org.actor import Actor
from zhifa.org.changes import apply_changes, jsonable, target_district

BOX_PURPOSE = "integration"
INBOUND_KEY_PREFIX = "zi_"
INBOUND_PREFIX_CHARS = 10
MASK = "••••••••"


def box(settings: Settings) -> Box:
    """The sealing box of integration secrets and inbound key digests."""
    return box_for(settings.secret(), BOX_PURPOSE)


def read(row: Integration) -> IntegrationRead:
    """The API view of an integration: never the secret, never the inbound key's digest."""
    values = {
        name: getattr(row, name) for name in IntegrationRead.model_fields if hasattr(row, name)
    }
    values["secret_set"] = row.secret_cipher is not None
    values["secret_masked"] = MASK if row.secret_cipher is not None else ""
    return IntegrationRead.model_validate(values)


def read_message(row: OutboxMessage) -> OutboxMessageRead:
    result = OutboxMessageRead.model_validate(row)
    result.stuck = row.status == OutboxStatus.PENDING and row.attempts >= STUCK_AFTER_ATTEMPTS
    return result


def _check_url(url: str) -> None:
    if not url:
        return
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(
            "The endpoint must be an http:// or https:// address.",
            detail={"field": "endpoint_url"},
        )


def _check_rules(row: Integration) -> None:
    """The rules that tie the fields together (see the module docstring)."""
    _check_url(row.endpoint_url)
    if (row.send_updates or row.poll_enabled) and not row.endpoint_url:
        raise InvalidInput(
            "Sending updates or polling needs the endpoint address.",
            detail={"field": "endpoint_url"},
        )
    if row.poll_enabled and row.kind != IntegrationKind.OPEN311:
        raise InvalidInput(
            "Only an Open311 endpoint can be polled for new requests.",
            detail={"field": "poll_enabled"},
        )
    if row.kind == IntegrationKind.WEBHOOK and row.send_updates and row.secret_cipher is None:
        raise InvalidInput(
            "A signed webhook needs a secret to sign its messages with.",
            detail={"field": "secret"},
        )


def _check_secret(secret: str) -> None:
    if len(secret) < 8:
        raise InvalidInput(
            "The secret must have at least 8 characters.", detail={"field": "secret"}
        )


@dataclass(frozen=True)
class Issued:
    integration: Integration
    api_key: str


class IntegrationService:
    def list(self, session: Session, actor: Actor) -> builtins.list[Integration]:
        return repo.integrations(session, actor.scope)

    def get(self, session: Session, actor: Actor, *, integration_id: int) -> Integration:
        row = repo.integration(session, actor.scope, integration_id)
        if row is None:
            raise NotFound("The integration does not exist or is outside your data scope.")
        return row

    def create(
        self, session: Session, actor: Actor, *, settings: Settings, data: IntegrationCreate
    ) -> Integration:
        district_code = target_district(actor, data.district_code)
        self._check_code(session, district_code, data.code, None)
        values = data.model_dump(exclude={"district_code", "secret", "poll_cursor"})
        row = Integration(district_code=district_code, **values)
        row.poll_cursor = data.poll_cursor or utcnow()
        if data.secret is not None:
            _check_secret(data.secret)
            row.secret_cipher = box(settings).seal(data.secret)
        _check_rules(row)
        session.add(row)
        session.flush()
        self._record(session, actor, "integration.created", row, {"secret_set": bool(data.secret)})
        return row

    def update(
        self,
        session: Session,
        actor: Actor,
        *,
        settings: Settings,
        integration_id: int,
        data: IntegrationUpdate,
    ) -> Integration:
        row = self.get(session, actor, integration_id=integration_id)
        values = data.model_dump(exclude_unset=True, exclude_none=True, exclude={"secret"})
        if "code" in values:
            self._check_code(session, row.district_code, values["code"], row.id)
        changes = apply_changes(row, values)
        if data.secret is not None:
            if data.secret:
                _check_secret(data.secret)
            row.secret_cipher = box(settings).seal(data.secret) if data.secret else None
            changes["secret"] = {"before": MASK, "after": MASK if data.secret else ""}
        _check_rules(row)
        if changes:
            self._record(session, actor, "integration.updated", row, {"changes": changes})
        return row

    def issue_key(
        self, session: Session, actor: Actor, *, settings: Settings, integration_id: int
    ) -> Issued:
        """A new inbound api_key for the peer's posts to our Open311 server (shown once)."""
        row = self.get(session, actor, integration_id=integration_id)
        key = INBOUND_KEY_PREFIX + secrets.token_urlsafe(32)
        row.inbound_key_digest = box(settings).digest(key)
        row.inbound_key_prefix = key[:INBOUND_PREFIX_CHARS]
        session.flush()
        payload = {"prefix": row.inbound_key_prefix}
        self._record(session, actor, "integration.key_issued", row, payload)
        return Issued(row, key)

    def outbox(
        self,
        session: Session,
        actor: Actor,
        *,
        integration_id: int,
        status: OutboxStatus | None = None,
        stuck: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> OutboxPage:
        row = self.get(session, actor, integration_id=integration_id)
        stuck_after = STUCK_AFTER_ATTEMPTS if stuck else None
        rows, total = repo.messages(
            session, row.id, status=status, stuck_after=stuck_after, limit=limit, offset=offset
        )
        items = [read_message(m) for m in rows]
        return OutboxPage(items=items, total=total, limit=limit, offset=offset)

    def retry(self, session: Session, actor: Actor, *, message_id: int) -> OutboxMessage:
        """Send a waiting message at the next round instead of at the end of its back-off."""
        message = repo.message(session, actor.scope, message_id)
        if message is None:
            raise NotFound("The outbox message does not exist or is outside your data scope.")
        if message.status == OutboxStatus.DELIVERED:
            raise Conflict(
                "This message was already delivered; it is never sent twice.",
                detail={"status": str(message.status)},
                error_code="already_delivered",
            )
        message.next_attempt_at = utcnow()
        integration = session.get(Integration, message.integration_id)
        assert integration is not None  # a foreign key
        payload = {"retry": {"outbox_message_id": message.id, "dedupe_key": message.dedupe_key}}
        self._record(session, actor, "integration.updated", integration, payload)
        return message

    def _check_code(
        self, session: Session, district: str, code: str, except_id: int | None
    ) -> None:
        if repo.code_taken(session, district, code, except_id=except_id):
            raise Conflict(
                "Integration code {value} is already used in this district.",
                detail={"field": "code"},
                value=code,
            )

    def _record(
        self, session: Session, actor: Actor, kind: str, row: Integration, extra: dict[str, Any]
    ) -> None:
        ledger.record(
            session,
            kind,
            row,
            {"code": row.code, "kind": jsonable(row.kind)} | extra,
            actor_id=actor.officer_id,
            district_code=row.district_code,
        )


integration_service = IntegrationService()


def authenticate_api_key(
    session: Session, key: str, *, settings: Settings | None = None
) -> Integration | None:
    """The active integration whose inbound api_key is ``key``, else None.

    The key is looked up by its HMAC digest and the digests compared in constant time. Pass the
    running app's ``settings`` (``request.app.state.settings``): the digest is keyed by its secret;
    without them the environment's settings are used."""
    if not key or not key.startswith(INBOUND_KEY_PREFIX) or len(key) > 200:
        return None
    digest = box(settings or get_settings()).digest(key)
    row = repo.by_inbound_digest(session, digest)
    if row is None or row.inbound_key_digest is None:
        return None
    if not hmac.compare_digest(row.inbound_key_digest, digest) or not row.active:
        return None
    return row
