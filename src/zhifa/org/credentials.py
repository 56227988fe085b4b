"""Resolving credentials (session cookie, bearer token) to an actor.

Secrets never touch the database: cookies and tokens are looked up by their SHA-256 digest.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.errors import NotAuthenticated
from zhifa.kit.clock import utcnow
from zhifa.models.org import District, Officer, OfficerStatus, Unit
from zhifa.models.security import ApiToken, WebSession
from zhifa.org.actor import Actor
from zhifa.org.roles import Permission, Role, ScopeLevel, permissions_for
from zhifa.org.scope import build_scope

SESSION_COOKIE = "zhifa_session"
TOKEN_PREFIX = "zf_"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def actor_for(
    session: Session,
    officer: Officer,
    *,
    via: str,
    token_scopes: list[str] | None = None,
    csrf_token: str | None = None,
) -> Actor:
    """Build the actor for an officer; a token's scopes narrow the officer's permissions."""
    roles = frozenset(Role(r) for r in officer.roles if r in Role.__members__.values())
    permissions = permissions_for(roles)
    if token_scopes is not None:
        permissions = permissions & frozenset(
            Permission(s) for s in token_scopes if s in Permission.__members__.values()
        )
    unit = session.get(Unit, officer.unit_id) if officer.unit_id is not None else None
    scope = build_scope(
        session, level=ScopeLevel(officer.scope), district_code=officer.district_code, unit=unit
    )
    district = session.get(District, officer.district_code)
    return Actor(
        officer_id=officer.id,
        username=officer.username,
        name=officer.name,
        district_code=officer.district_code,
        unit_id=officer.unit_id,
        roles=roles,
        permissions=permissions,
        scope=scope,
        via=via,  # type: ignore[arg-type]
        csrf_token=csrf_token,
        locale=officer.locale,
        district_name=district.name if district is not None else "",
        district_fictional=bool(district is not None and district.fictional),
    )


def _usable(officer: Officer | None) -> bool:
    return officer is not None and officer.status == OfficerStatus.ACTIVE


def _stale(seen: datetime | None, now: datetime) -> bool:
    """Touch 'last seen' at most once a minute, so reads do not turn into writes."""
    return seen is None or (now - seen).total_seconds() > 60


def actor_from_session_cookie(session: Session, cookie: str, now: datetime) -> Actor | None:
    """The actor behind a session cookie, or None when it is unknown, expired or revoked."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == digest(cookie)))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    officer = session.get(Officer, row.officer_id)
    if not _usable(officer) or officer is None:
        return None
    if _stale(row.last_seen_at, now):
        row.last_seen_at = now
    return actor_for(session, officer, via="session", csrf_token=row.csrf_token)


def actor_from_bearer(session: Session, token: str) -> Actor:
    """The actor behind an API token; a bad, expired or revoked token is refused (401)."""
    now = utcnow()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None:
        raise NotAuthenticated("The API token is not valid.", error_code="token_invalid")
    if row.revoked_at is not None:
        raise NotAuthenticated("The API token has been revoked.", error_code="token_revoked")
    if row.expires_at <= now:
        raise NotAuthenticated("The API token has expired.", error_code="token_expired")
    officer = session.get(Officer, row.officer_id)
    if officer is None or not _usable(officer):
        raise NotAuthenticated(
            "The account behind this token is disabled.", error_code="token_invalid"
        )
    if _stale(row.last_used_at, now):
        row.last_used_at = now
    return actor_for(session, officer, via="token", token_scopes=list(row.scopes))
