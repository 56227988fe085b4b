"""Permission dependencies for routes: who is asking, and may they?

``CurrentActor`` resolves the bearer token or the session cookie (checking the CSRF token on unsafe
cookie requests) and refuses anonymous requests with 401. ``require(permission)`` adds the check of
one permission. Every refusal (``PermissionDenied``, wherever raised) is recorded in the ledger by
the error handler through ``record_denial``, in its own transaction, so it outlives the request.
``OptionalActor`` is for pages that also work logged out.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.db import Database
from zhifa.errors import CsrfFailed, NotAuthenticated, PermissionDenied
from zhifa.kit.clock import utcnow
from zhifa.org.actor import Actor
from zhifa.org.credentials import SESSION_COOKIE, actor_from_bearer, actor_from_session_cookie
from zhifa.org.roles import Permission

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def session_scope(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed after the handler returns, before the response is
    sent; rolled back when the handler raises (a refused request changes nothing)."""
    with get_db(request).unit_of_work() as session:
        yield session


DbSession = Annotated[Session, Depends(session_scope, scope="function")]


# Fields a posted form may have. Starlette's default (1,000) is too few for a benchmark typed as a
# table (17 columns a row); the form is parsed once, by whichever reads it first, so both readers
# (here and the catalog's form dependency) pass this.
MAX_FORM_FIELDS = 10_000


async def submitted_csrf(request: Request) -> str | None:
    """The CSRF token sent with an unsafe request: the header (htmx) or the form field."""
    if request.method in SAFE_METHODS:
        return None
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return None  # bearer requests need no CSRF token; leave their body unread
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form(max_fields=MAX_FORM_FIELDS)).get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


def _resolve(request: Request, session: Session, csrf: str | None) -> Actor | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return actor_from_bearer(session, authorization[7:].strip())
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    actor = actor_from_session_cookie(session, cookie, utcnow())
    if actor is not None and request.method not in SAFE_METHODS:
        expected = actor.csrf_token or ""
        if not csrf or not hmac.compare_digest(csrf, expected):
            request.state.actor = actor  # the error handler records the denial against it
            raise CsrfFailed("The form has expired or was not sent from this site. Reload it.")
    return actor


def get_optional_actor(
    request: Request,
    session: DbSession,
    csrf: Annotated[str | None, Depends(submitted_csrf)],
) -> Actor | None:
    actor = _resolve(request, session, csrf)
    request.state.actor = actor
    return actor


def get_actor(actor: Annotated[Actor | None, Depends(get_optional_actor)]) -> Actor:
    if actor is None:
        raise NotAuthenticated("Please log in first.")
    return actor


OptionalActor = Annotated[Actor | None, Depends(get_optional_actor)]
CurrentActor = Annotated[Actor, Depends(get_actor)]


def record_denial(request: Request, exc: PermissionDenied) -> None:
    """Ledger a refused request in its own transaction. Called by the error handler, after the
    request's own transaction has been rolled back (so no lock of it is still held)."""
    actor: Actor | None = getattr(request.state, "actor", None)
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    ledger.record_detached(
        get_db(request),
        "security.permission_denied",
        ("officer", actor.officer_id if actor is not None else "anonymous"),
        {
            "method": request.method,
            "path": request.url.path,
            "reason": exc.code,
            "permission": detail.get("permission"),
        },
        actor_id=actor.officer_id if actor is not None else None,
        district_code=actor.district_code if actor is not None else None,
    )


def require(permission: Permission) -> object:
    """A dependency that lets the request through only if the actor holds ``permission``.

    Every refusal (here, in a service, or a CSRF failure) is ledgered by the error handler."""

    def check(actor: CurrentActor) -> Actor:
        if not actor.can(permission):
            raise PermissionDenied(
                "Your role does not allow this action.", detail={"permission": str(permission)}
            )
        return actor

    return Depends(check)


OrgRead = Annotated[Actor, require(Permission.ORG_READ)]
OrgManage = Annotated[Actor, require(Permission.ORG_MANAGE)]
DistrictsManage = Annotated[Actor, require(Permission.DISTRICTS_MANAGE)]
TokensOwn = Annotated[Actor, require(Permission.TOKENS_OWN)]
AuditRead = Annotated[Actor, require(Permission.AUDIT_READ)]
