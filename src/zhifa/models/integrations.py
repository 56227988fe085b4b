"""Integrations with the city platform (网络理政 / 12345): who may post to our Open311 server, where
status changes go back, and the outbox that carries them.

Invariants:
- An integration's secrets (the HMAC key of a webhook, the api_key of an upstream Open311
  endpoint) are stored Fernet-encrypted under a key derived from the application secret; the
  api_key it uses to post to us is stored only as an HMAC digest (``inbound_key_digest``) with a
  short visible prefix.
- ``OutboxMessage.dedupe_key`` is unique: one complaint event is queued at most once per
  integration, so it is never sent twice as two messages. A message is sent with its ``id`` as the
  delivery id (``X-Zhifa-Delivery``) so a receiver can drop a repeat after a crash between
  sending and recording. It stays ``pending`` (retried with back-off) until the peer accepts it;
  nothing is ever deleted.
- A worker claims a message by setting ``locked_until`` (with ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), so two app processes never send the same message at once.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from zhifa.models.base import Base, CreatedAt, DistrictScoped, Timestamps


class IntegrationKind(StrEnum):
    WEBHOOK = "webhook"  # JSON POST signed with HMAC-SHA256
    OPEN311 = "open311"  # the peer speaks Open311: updates via servicerequestupdates

    @property
    def label(self) -> str:
        return {"webhook": "Signed webhook", "open311": "Open311 endpoint"}[self.value]


class Integration(DistrictScoped, Timestamps, Base):
    __tablename__ = "integration"
    __table_args__ = (UniqueConstraint("district_code", "code"),)
    __ledger_fields__ = (
        "district_code",
        "code",
        "name",
        "kind",
        "endpoint_url",
        "jurisdiction_id",
        "inbound_key_prefix",
        "inbound_key_digest",
        "poll_enabled",
        "poll_interval_seconds",
        "send_updates",
        "active",
    )
    __ledger_digest_fields__ = ("secret_cipher",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[IntegrationKind] = mapped_column(String(20))
    # Webhook URL, or the upstream Open311 base (…/open311/v2) for updates and polling.
    endpoint_url: Mapped[str] = mapped_column(String(500), default="")
    # Upstream Open311 jurisdiction_id, if it serves several.
    jurisdiction_id: Mapped[str] = mapped_column(String(100), default="")
    # Webhook HMAC key or upstream api_key (Fernet cipher text).
    secret_cipher: Mapped[str | None] = mapped_column(Text, default=None)
    # The api_key this peer uses on our /open311/v2 POST: HMAC digest and the first characters.
    inbound_key_digest: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    inbound_key_prefix: Mapped[str] = mapped_column(String(12), default="")
    send_updates: Mapped[bool] = mapped_column(Boolean, default=True)
    poll_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    poll_interval_seconds: Mapped[int] = mapped_column(Integer, default=60)
    # The newest ``requested_datetime`` taken in by polling (the next poll starts there).
    poll_cursor: Mapped[datetime | None] = mapped_column(default=None)
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    last_poll_error: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"

    @property
    def label(self) -> str:
        return {"pending": "Waiting to be delivered", "delivered": "Delivered"}[self.value]


class OutboxMessage(DistrictScoped, CreatedAt, Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("dedupe_key"),
        Index("ix_outbox_message_status_next", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integration.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id"), default=None, index=True
    )
    # "{integration_id}:{complaint_event_id}" for a complaint update.
    dedupe_key: Mapped[str] = mapped_column(String(100))
    # What is sent: a webhook body, or the Open311 servicerequestupdates form fields.
    payload: Mapped[dict[str, Any]] = mapped_column()
    status: Mapped[OutboxStatus] = mapped_column(String(10), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
