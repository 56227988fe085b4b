"""Queries for accounts: officers by name, login attempts, sessions and tokens, scoped by the actor.

A row outside the actor's data scope does not exist for them: the scoped lookups return None and the
service answers NotFound (404).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from zhifa.models.org import District, Officer, Unit
from zhifa.models.security import ApiToken, LoginAttempt, WebSession
from zhifa.org.scope import DataScope


def officer_by_username(session: Session, username: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.username == username))


def officer_by_cert_no(session: Session, cert_no: str) -> Officer | None:
    return session.scalar(select(Officer).where(Officer.cert_no == cert_no))


def officer_in_scope(session: Session, scope: DataScope, officer_id: int) -> Officer | None:
    stmt = select(Officer).where(Officer.id == officer_id)
    stmt = scope.where_unit(scope.where_district(stmt, Officer.district_code), Officer.unit_id)
    return session.scalar(stmt)


def failed_attempts_since(session: Session, ip: str, since: datetime) -> int:
    stmt = select(func.count(LoginAttempt.id)).where(
        LoginAttempt.ip == ip, LoginAttempt.succeeded.is_(False), LoginAttempt.created_at >= since
    )
    return session.scalar(stmt) or 0


def session_by_digest(session: Session, token_hash: str) -> WebSession | None:
    return session.scalar(select(WebSession).where(WebSession.token_hash == token_hash))


def revoke_sessions(
    session: Session, officer_id: int, now: datetime, *, keep_hash: str | None = None
) -> int:
    """Revoke an officer's live web sessions, except the one whose digest is ``keep_hash``."""
    stmt = update(WebSession).where(
        WebSession.officer_id == officer_id, WebSession.revoked_at.is_(None)
    )
    if keep_hash is not None:
        stmt = stmt.where(WebSession.token_hash != keep_hash)
    result = session.execute(
        stmt.values(revoked_at=now).execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def tokens_of(session: Session, officer_id: int) -> Sequence[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.officer_id == officer_id)
    return session.scalars(stmt.order_by(ApiToken.created_at.desc(), ApiToken.id.desc())).all()


def token_in_scope(session: Session, scope: DataScope, token_id: int) -> ApiToken | None:
    stmt = select(ApiToken).join(Officer, Officer.id == ApiToken.officer_id)
    stmt = scope.where_district(stmt.where(ApiToken.id == token_id), ApiToken.district_code)
    return session.scalar(scope.where_unit(stmt, Officer.unit_id))


def tokens_by_id_or_prefix(session: Session, key: str) -> Sequence[ApiToken]:
    """Unscoped (command line only): the token with this id, or those whose prefix starts so."""
    if key.isdigit():
        return session.scalars(select(ApiToken).where(ApiToken.id == int(key))).all()
    return session.scalars(select(ApiToken).where(ApiToken.prefix.startswith(key))).all()


def district(session: Session, code: str) -> District | None:
    return session.get(District, code)


def units_by_code(session: Session, code: str) -> Sequence[Unit]:
    return session.scalars(select(Unit).where(Unit.code == code)).all()
