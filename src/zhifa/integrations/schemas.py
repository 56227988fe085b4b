"""API shapes for integrations with the city platform and their outbox. A secret is accepted on
create and change and never handed back: reads say only whether one is set."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from zhifa.models.integrations import IntegrationKind, OutboxStatus

# A message still waiting after this many attempts is flagged "stuck" on the page.
STUCK_AFTER_ATTEMPTS = 5

Code = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$")
Name = Field(min_length=1, max_length=100)
Url = Field(default="", max_length=500, description="http(s) URL; the upstream Open311 base")
Secret = Field(
    default=None,
    min_length=8,
    max_length=500,
    description="Webhook HMAC key, or the upstream Open311 api_key (write-only)",
)
Interval = Field(default=60, ge=10, le=86_400, description="Seconds between polls")


class IntegrationCreate(BaseModel):
    district_code: str | None = Field(default=None, description="Defaults to your district")
    code: str = Code
    name: str = Name
    kind: IntegrationKind
    endpoint_url: str = Url
    jurisdiction_id: str = Field(default="", max_length=100)
    secret: str | None = Secret
    send_updates: bool = True
    poll_enabled: bool = False
    poll_interval_seconds: int = Interval
    poll_cursor: datetime | None = Field(
        default=None, description="Take in upstream requests from this time (default: now)"
    )
    active: bool = True


class IntegrationUpdate(BaseModel):
    code: str | None = Field(
        default=None, min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.\-]+$"
    )
    name: str | None = Field(default=None, min_length=1, max_length=100)
    kind: IntegrationKind | None = None
    endpoint_url: str | None = Field(default=None, max_length=500)
    jurisdiction_id: str | None = Field(default=None, max_length=100)
    # "" removes the secret (an Open311 peer that needs no api_key); absent keeps it.
    secret: str | None = Field(default=None, max_length=500)
    send_updates: bool | None = None
    poll_enabled: bool | None = None
    poll_interval_seconds: int | None = Field(default=None, ge=10, le=86_400)
    poll_cursor: datetime | None = None
    active: bool | None = None


class IntegrationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    district_code: str
    code: str
    name: str
    kind: IntegrationKind
    endpoint_url: str
    jurisdiction_id: str
    secret_set: bool
    secret_masked: str
    inbound_key_prefix: str
    send_updates: bool
    poll_enabled: bool
    poll_interval_seconds: int
    poll_cursor: datetime | None
    last_polled_at: datetime | None
    last_poll_error: str
    active: bool
    created_at: datetime
    updated_at: datetime


class IssuedKey(BaseModel):
    """The inbound api_key, shown once: only its digest and prefix are kept."""

    integration_id: int
    api_key: str
    prefix: str


class OutboxMessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    integration_id: int
    complaint_id: int | None
    dedupe_key: str
    payload: dict[str, Any]
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str
    last_http_status: int | None
    delivered_at: datetime | None
    created_at: datetime
    stuck: bool = False


class OutboxPage(BaseModel):
    items: list[OutboxMessageRead]
    total: int
    limit: int
    offset: int
