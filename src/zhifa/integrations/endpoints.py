"""JSON API for integrations with the city platform and their outbox. Read = command:view (or
integrations:manage: whoever sets a peer up may read it back) in the district scope; change, issue
keys and retry = integrations:manage."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from zhifa.config import Settings
from zhifa.errors import PermissionDenied
from zhifa.integrations.schemas import (
    IntegrationCreate,
    IntegrationRead,
    IntegrationUpdate,
    IssuedKey,
    OutboxMessageRead,
    OutboxPage,
)
from zhifa.integrations.service import integration_service, read, read_message
from zhifa.models.integrations import OutboxStatus
from zhifa.org.actor import Actor
from zhifa.org.auth import CurrentActor, DbSession, require
from zhifa.org.roles import Permission


def may_read(actor: CurrentActor) -> Actor:
    """command:view or integrations:manage (a refusal is ledgered by the error handler)."""
    if not (actor.can(Permission.COMMAND_VIEW) or actor.can(Permission.INTEGRATIONS_MANAGE)):
        raise PermissionDenied(
            "Your role does not allow this action.",
            detail={"permission": str(Permission.COMMAND_VIEW)},
        )
    return actor


IntegrationsRead = Annotated[Actor, Depends(may_read)]
IntegrationsManage = Annotated[Actor, require(Permission.INTEGRATIONS_MANAGE)]


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(app_settings)]

integrations = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])
outbox = APIRouter(prefix="/api/v1/outbox", tags=["integrations"])


@integrations.get("", response_model=list[IntegrationRead])
def list_integrations(session: DbSession, actor: IntegrationsRead) -> list[IntegrationRead]:
    """Integrations with the city platform in your data scope (secrets masked)."""
    return [read(row) for row in integration_service.list(session, actor)]


@integrations.post("", response_model=IntegrationRead, status_code=201)
def create_integration(
    session: DbSession, actor: IntegrationsManage, settings: AppSettings, body: IntegrationCreate
) -> IntegrationRead:
    """Add a peer: a signed webhook or an Open311 endpoint (updates, polling)."""
    return read(integration_service.create(session, actor, settings=settings, data=body))


@integrations.get("/{integration_id}", response_model=IntegrationRead)
def get_integration(
    session: DbSession, actor: IntegrationsRead, integration_id: int
) -> IntegrationRead:
    """One integration (secret masked)."""
    return read(integration_service.get(session, actor, integration_id=integration_id))


@integrations.patch("/{integration_id}", response_model=IntegrationRead)
def update_integration(
    session: DbSession,
    actor: IntegrationsManage,
    settings: AppSettings,
    integration_id: int,
    body: IntegrationUpdate,
) -> IntegrationRead:
    """Change an integration; a new secret replaces the old one ("" removes it)."""
    row = integration_service.update(
        session, actor, settings=settings, integration_id=integration_id, data=body
    )
    return read(row)


@integrations.post("/{integration_id}/key", response_model=IssuedKey, status_code=201)
def issue_key(
    session: DbSession, actor: IntegrationsManage, settings: AppSettings, integration_id: int
) -> IssuedKey:
    """Issue the api_key the peer posts to /open311/v2 with; shown once, replaces the old one."""
    issued = integration_service.issue_key(
        session, actor, settings=settings, integration_id=integration_id
    )
    row = issued.integration
    return IssuedKey(integration_id=row.id, api_key=issued.api_key, prefix=row.inbound_key_prefix)


@integrations.get("/{integration_id}/outbox", response_model=OutboxPage)
def list_outbox(
    session: DbSession,
    actor: IntegrationsRead,
    integration_id: int,
    status: OutboxStatus | None = None,
    stuck: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> OutboxPage:
    """An integration's messages, newest first; ``stuck=true`` for those failing again and
    again."""
    return integration_service.outbox(
        session,
        actor,
        integration_id=integration_id,
        status=status,
        stuck=stuck,
        limit=limit,
        offset=offset,
    )


@outbox.post("/{message_id}/retry", response_model=OutboxMessageRead)
def retry_message(
    session: DbSession, actor: IntegrationsManage, message_id: int
) -> OutboxMessageRead:
    """Try a waiting message again at the next round of the worker (not a delivered one)."""
    return read_message(integration_service.retry(session, actor, message_id=message_id))


router = APIRouter()
for _sub in (integrations, outbox):
    router.include_router(_sub)
