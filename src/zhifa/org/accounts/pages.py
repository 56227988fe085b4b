"""HTML pages for accounts: the login form, logging out, and "my account" (who I am, my password,
my API tokens, my language). 登录页与"我的账户"。

The login form is protected by a double-submit CSRF token: GET sets a random ``zhifa_csrf`` cookie
and puts the same value in the form; POST refuses a missing or different value before it looks at
the password. After login, forms carry the session's own CSRF token (checked by ``zhifa.org.auth``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from zhifa.config import Settings
from zhifa.errors import AppError, CsrfFailed, InvalidInput
from zhifa.kit.clock import utcnow
from zhifa.models.security import ApiToken
from zhifa.org.accounts.endpoints import client_ip
from zhifa.org.accounts.login import LoginRequest, login_service
from zhifa.org.accounts.service import (
    LOCALE_CHOICES,
    MAX_TOKEN_DAYS,
    account_service,
    cert_valid,
    holder_permissions,
)
from zhifa.org.actor import Actor
from zhifa.org.auth import CurrentActor, DbSession, OptionalActor, TokensOwn, get_db
from zhifa.org.credentials import SESSION_COOKIE, digest, new_secret
from zhifa.web.i18n import translate
from zhifa.web.templating import LOCALE_COOKIE, render, request_locale

router = APIRouter(include_in_schema=False)

LOGIN_CSRF_COOKIE = "zhifa_csrf"
LOCALE_LABELS = {"zh_CN": "中文（简体）", "en": "English"}
PERMISSION_LABELS = {
    "org:read": "Read organisation data",
    "org:manage": "Manage organisation data",
    "districts:manage": "Manage districts",
    "tokens:own": "Use and manage my own API tokens",
    "tokens:manage": "Manage other officers' API tokens",
    "audit:read": "Read the audit log",
}
DONE_MESSAGES = {
    "password": "Your password was changed. Your other sessions were ended.",
    "token_revoked": "The token was revoked.",
    "locale": "Your language was saved.",
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def safe_next(value: str | None) -> str:
    """Only a local path may be a redirect target: "/x", never "//host" or "/\\host"."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    if any(c in value for c in "\\\r\n\t") or any(ord(c) < 32 for c in value):
        return "/"
    return value


def _message(request: Request, exc: AppError) -> str:
    return translate(request_locale(request), exc.message, **exc.params)


# -- login and logout ---------------------------------------------------------------------------


def _login_form(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    error: str = "",
    status: int = 200,
    fresh_csrf: bool = False,
) -> Response:
    settings = _settings(request)
    token = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if fresh_csrf or len(token) < 32:
        token = new_secret()
    context = {"csrf_token": token, "next": next_path, "username": username, "error": error}
    response = render(request, "accounts/login.html", context, status_code=status)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/login")
def show_login(request: Request, actor: OptionalActor, next: str = "/") -> Response:
    """The login page (already logged in: straight on)."""
    if actor is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_form(request, next_path=safe_next(next))


@router.post("/login")
def submit_login(
    request: Request,
    session: DbSession,
    username: Annotated[str, Form(max_length=256)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    csrf_token: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Check the credentials; open a web session and go on to ``next``."""
    target = safe_next(next)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not csrf_token or not expected or not hmac.compare_digest(csrf_token, expected):
        error = CsrfFailed("The form has expired or was not sent from this site. Reload it.")
        return _login_form(
            request,
            next_path=target,
            username=username,
            error=_message(request, error),
            status=error.status_code,
            fresh_csrf=True,
        )
    attempt = LoginRequest(username, password, client_ip(request), _user_agent(request))
    try:
        opened = _log_in(request, session, attempt)
    except AppError as exc:
        session.rollback()
        return _login_form(
            request,
            next_path=target,
            username=username[:64],
            error=_message(request, exc),
            status=exc.status_code,
        )
    return _logged_in(request, opened, target)


def _user_agent(request: Request) -> str:
    return request.headers.get("user-agent", "")


def _log_in(request: Request, session: Session, attempt: LoginRequest) -> str:
    settings = _settings(request)
    officer = login_service.authenticate(
        session, None, db=get_db(request), settings=settings, attempt=attempt
    )
    opened = login_service.start_session(
        session, officer, settings=settings, ip=attempt.ip, user_agent=attempt.user_agent
    )
    return opened.secret


def _logged_in(request: Request, secret: str, target: str) -> Response:
    settings = _settings(request)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_hours * 3600,
        path="/",
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    response.delete_cookie(
        LOGIN_CSRF_COOKIE, path="/", httponly=True, secure=settings.cookie_secure, samesite="lax"
    )
    return response


@router.post("/logout")
def submit_logout(request: Request, actor: CurrentActor, session: DbSession) -> Response:
    """End my web session and go back to the login page."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if actor.via == "session" and cookie:
        login_service.logout(session, actor, cookie_secret=cookie)
    settings = _settings(request)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=settings.cookie_secure, samesite="lax"
    )
    return response


# -- my account ---------------------------------------------------------------------------------


def _token_state(row: ApiToken) -> tuple[str, str]:
    if row.revoked_at is not None:
        return "Revoked", "red"
    if row.expires_at <= utcnow():
        return "Expired", "grey"
    return "Valid", "green"


def _account_context(session: Session, actor: Actor, settings: Settings) -> dict[str, Any]:
    profile = account_service.profile(session, actor)
    tokens = account_service.list_tokens(session, actor, holder=profile.officer)
    grantable = holder_permissions(profile.officer) & actor.permissions
    return {
        "profile": profile,
        "roles": sorted(actor.roles),
        "cert_valid": cert_valid(profile.officer, utcnow().astimezone(settings.tz).date()),
        "tokens": [(row, *_token_state(row)) for row in tokens],
        "grantable": [(str(p), PERMISSION_LABELS.get(str(p), str(p))) for p in sorted(grantable)],
        "permission_labels": PERMISSION_LABELS,
        "default_days": settings.api_token_days,
        "max_days": MAX_TOKEN_DAYS,
        "locales": [(code, LOCALE_LABELS[code]) for code in LOCALE_CHOICES],
        "min_length": settings.password_min_length,
    }


def _account_page(
    request: Request,
    session: Session,
    actor: Actor,
    *,
    error: AppError | None = None,
    done: str | None = None,
) -> Response:
    context = _account_context(session, actor, _settings(request))
    context["error"] = _message(request, error) if error is not None else ""
    context["done"] = DONE_MESSAGES.get(done or "", "")
    status = error.status_code if error is not None else 200
    response = render(request, "accounts/account.html", context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _account_action(
    request: Request, session: Session, actor: Actor, action: Callable[[], str]
) -> Response:
    """Run a form's action: on success back to the page with a note, on refusal the page again
    with the reason (and nothing of the refused action kept)."""
    try:
        done = action()
    except AppError as exc:
        session.rollback()
        return _account_page(request, session, actor, error=exc)
    return RedirectResponse(f"/account?done={done}", status_code=303)


@router.get("/account")
def show_account(
    request: Request, actor: CurrentActor, session: DbSession, done: str | None = None
) -> Response:
    """My account: who I am, my password, my API tokens, my language."""
    return _account_page(request, session, actor, done=done)


@router.post("/account/password")
def submit_password(
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    current_password: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=256)] = "",
    repeat_password: Annotated[str, Form(max_length=256)] = "",
) -> Response:
    """Change my password (current + new + repeat); my other sessions end."""

    def change() -> str:
        if new_password != repeat_password:
            raise _mismatch()
        cookie = request.cookies.get(SESSION_COOKIE)
        account_service.change_password(
            session,
            actor,
            settings=_settings(request),
            current=current_password,
            new=new_password,
            keep_session_hash=digest(cookie) if cookie else None,
        )
        return "password"

    return _account_action(request, session, actor, change)


def _mismatch() -> AppError:
    return InvalidInput(
        "The two new passwords are not the same.", detail={"field": "repeat_password"}
    )


@router.post("/account/tokens")
def submit_token(
    request: Request,
    actor: TokensOwn,
    session: DbSession,
    name: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[int | None, Form()] = None,
) -> Response:
    """Create an API token for me; its secret is shown on the next page, once."""
    try:
        holder = account_service.profile(session, actor).officer
        issued = account_service.create_token(
            session,
            actor,
            settings=_settings(request),
            holder=holder,
            name=name,
            scopes=scopes or [],
            days=days,
        )
    except AppError as exc:
        session.rollback()
        return _account_page(request, session, actor, error=exc)
    context = {"token": issued.row, "secret": issued.secret, "permission_labels": PERMISSION_LABELS}
    response = render(request, "accounts/token_created.html", context, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id}/revoke")
def submit_token_revoke(
    request: Request, token_id: int, actor: TokensOwn, session: DbSession
) -> Response:
    """Revoke one of my API tokens."""

    def revoke() -> str:
        account_service.revoke_token(session, actor, token_id=token_id)
        return "token_revoked"

    return _account_action(request, session, actor, revoke)


@router.post("/account/locale")
def submit_locale(
    request: Request,
    actor: CurrentActor,
    session: DbSession,
    locale: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Keep my language choice (zh_CN or en)."""

    def choose() -> str:
        account_service.set_locale(session, actor, locale=locale)
        return "locale"

    response = _account_action(request, session, actor, choose)
    if response.status_code == 303:
        settings = _settings(request)
        response.set_cookie(
            LOCALE_COOKIE,
            locale,
            max_age=365 * 86400,
            path="/",
            httponly=True,
            secure=settings.cookie_secure,
            samesite="lax",
        )
    return response
