"""JSON API for accounts: device sign-in (bearer tokens), the actor, passwords and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from zhifa.config import Settings
from zhifa.models.security import ApiToken
from zhifa.org.accounts.login import LoginRequest, login_service
from zhifa.org.accounts.schemas import (
    MeRead,
    PasswordChange,
    PasswordReset,
    TokenCreate,
    TokenCreated,
    TokenLogin,
    TokenRead,
)
from zhifa.org.accounts.service import IssuedToken, account_service
from zhifa.org.auth import CurrentActor, DbSession, OrgManage, TokensOwn, get_db
from zhifa.org.credentials import SESSION_COOKIE, digest

router = APIRouter(prefix="/api/v1", tags=["accounts"])


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_ip(request: Request) -> str:
    return request.client.host if request.client is not None else ""


def _created(issued: IssuedToken, response: Response) -> TokenCreated:
    response.headers["Cache-Control"] = "no-store"  # the answer carries the secret
    read = TokenRead.model_validate(issued.row)
    return TokenCreated(**read.model_dump(), token=issued.secret)


@router.post("/auth/token", status_code=status.HTTP_201_CREATED)
def create_auth_token(
    body: TokenLogin, request: Request, response: Response, session: DbSession
) -> TokenCreated:
    """Sign a device or integration in with a password and issue it a bearer token."""
    attempt = LoginRequest(
        username=body.username,
        password=body.password,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
        channel="api",
    )
    settings = _settings(request)
    officer = login_service.authenticate(
        session, None, db=get_db(request), settings=settings, attempt=attempt
    )
    issued = account_service.create_token(
        session,
        None,
        settings=settings,
        holder=officer,
        name=body.name,
        scopes=body.scopes,
        days=body.days,
    )
    return _created(issued, response)


@router.get("/me")
def get_me(actor: CurrentActor, session: DbSession) -> MeRead:
    """Who is asking: identity, district, unit, roles, data scope and permissions."""
    profile = account_service.profile(session, actor)
    return MeRead(
        id=actor.officer_id,
        username=actor.username,
        name=actor.name,
        district_code=actor.district_code,
        district_name=actor.district_name,
        unit_id=actor.unit_id,
        unit_name=profile.unit.name if profile.unit is not None else None,
        roles=sorted(str(r) for r in actor.roles),
        scope=str(actor.scope.level),
        permissions=sorted(str(p) for p in actor.permissions),
        via=actor.via,
        locale=actor.locale,
    )


@router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
def change_my_password(
    body: PasswordChange, request: Request, actor: CurrentActor, session: DbSession
) -> Response:
    """Change my password; my other web sessions are ended."""
    cookie = request.cookies.get(SESSION_COOKIE)
    account_service.change_password(
        session,
        actor,
        settings=_settings(request),
        current=body.current_password,
        new=body.new_password,
        keep_session_hash=digest(cookie) if actor.via == "session" and cookie else None,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/tokens")
def list_tokens(
    actor: TokensOwn,
    session: DbSession,
    officer_id: Annotated[
        int | None, Query(description="Another officer's (tokens:manage)")
    ] = None,
) -> list[TokenRead]:
    """My API tokens, or an officer's in my data scope when I hold tokens:manage."""
    holder = account_service.token_holder(session, actor, officer_id=officer_id)
    rows = account_service.list_tokens(session, actor, holder=holder)
    return [TokenRead.model_validate(row) for row in rows]


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def create_token(
    body: TokenCreate, request: Request, response: Response, actor: TokensOwn, session: DbSession
) -> TokenCreated:
    """Create an API token for me, or for an officer in my scope (tokens:manage); shown once."""
    holder = account_service.token_holder(session, actor, officer_id=body.officer_id)
    issued = account_service.create_token(
        session,
        actor,
        settings=_settings(request),
        holder=holder,
        name=body.name,
        scopes=body.scopes,
        days=body.days,
    )
    return _created(issued, response)


@router.delete("/tokens/{token_id}")
def revoke_token(token_id: int, actor: TokensOwn, session: DbSession) -> TokenRead:
    """Revoke an API token: mine, or one in my data scope when I hold tokens:manage."""
    row: ApiToken = account_service.revoke_token(session, actor, token_id=token_id)
    return TokenRead.model_validate(row)


@router.post("/officers/{officer_id}/password", status_code=status.HTTP_204_NO_CONTENT)
def reset_officer_password(
    officer_id: int, body: PasswordReset, request: Request, actor: OrgManage, session: DbSession
) -> Response:
    """Set an officer's password (administrator); clears the lock-out, ends their web sessions."""
    officer = account_service.get_officer(session, actor, officer_id=officer_id)
    account_service.reset_password(
        session, actor, settings=_settings(request), officer=officer, new=body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
