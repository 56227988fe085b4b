"""Logging in and out: credentials, lock-out, throttling by address, and web sessions. 登录与会话。

A refused login raises after recording itself (the ``LoginAttempt``, the failure counter, the lock
and the ledger events) in a transaction of its own, because the request's transaction rolls back.
A successful login writes everything in the request's session, so it lands with the new session.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.errors import AccountLocked, AppError, NotAuthenticated, Throttled
from zhifa.kit.clock import utcnow
from zhifa.models.org import Officer, OfficerStatus
from zhifa.models.security import LoginAttempt, WebSession
from zhifa.org.accounts import repository
from zhifa.org.accounts.passwords import hash_password, needs_rehash, verify_password
from zhifa.org.actor import Actor
from zhifa.org.credentials import digest, new_secret

# Verified against when the user name is unknown, so both answers take the same time.
_DUMMY_HASH = hash_password("unknown-user-dummy-Password-1")
WRONG_CREDENTIALS = "The user name or password is wrong."


@dataclass(frozen=True)
class LoginRequest:
    """What a person typed, and where from. ``channel`` says which door: web or api."""

    username: str
    password: str
    ip: str
    user_agent: str = ""
    channel: str = "web"

    @property
    def name(self) -> str:
        return self.username.strip()[:64]


@dataclass(frozen=True)
class NewSession:
    """A web session just opened: the cookie secret (never stored) and its row."""

    secret: str
    row: WebSession


def _minutes_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds() / 60))


class LoginService:
    def authenticate(
        self,
        session: Session,
        actor: Actor | None,
        *,
        db: Database,
        settings: Settings,
        attempt: LoginRequest,
    ) -> Officer:
        """The officer behind these credentials, or a refusal (401, 423, 429) already recorded."""
        now = utcnow()
        self._check_address(session, db, settings, attempt, now)
        officer = repository.officer_by_username(session, attempt.name)
        if officer is None:
            verify_password(_DUMMY_HASH, attempt.password)
            self._refuse(db, attempt, None, "unknown_user", NotAuthenticated(WRONG_CREDENTIALS))
        if officer.locked_until is not None and officer.locked_until > now:
            minutes = _minutes_until(officer.locked_until, now)
            self._refuse(db, attempt, officer, "locked", self._locked_error(minutes))
        if not verify_password(officer.password_hash, attempt.password):
            self._wrong_password(db, settings, attempt, officer, now)
        if officer.status != OfficerStatus.ACTIVE:
            disabled = NotAuthenticated("This account is disabled. Ask the system administrator.")
            self._refuse(db, attempt, officer, "disabled", disabled)
        self._succeed(session, officer, attempt, now)
        return officer

    def start_session(
        self, session: Session, officer: Officer, *, settings: Settings, ip: str, user_agent: str
    ) -> NewSession:
        """Open a web session for a freshly authenticated officer."""
        secret = new_secret()
        row = WebSession(
            district_code=officer.district_code,
            officer_id=officer.id,
            token_hash=digest(secret),
            csrf_token=new_secret(),
            expires_at=utcnow() + timedelta(hours=settings.session_hours),
            ip=ip[:64],
            user_agent=user_agent[:255],
        )
        session.add(row)
        session.flush()
        return NewSession(secret, row)

    def logout(self, session: Session, actor: Actor, *, cookie_secret: str) -> None:
        """Revoke the web session behind ``cookie_secret`` (the actor's own)."""
        row = repository.session_by_digest(session, digest(cookie_secret))
        if row is None or row.officer_id != actor.officer_id or row.revoked_at is not None:
            return
        row.revoked_at = utcnow()
        ledger.record(
            session,
            "security.logout",
            ("officer", actor.officer_id),
            {"session_id": row.id},
            actor_id=actor.officer_id,
            district_code=actor.district_code,
        )

    @staticmethod
    def _locked_error(minutes: int) -> AccountLocked:
        return AccountLocked(
            "This account is locked after too many failed logins. "
            "Try again in {minutes} minutes, or ask the system administrator.",
            detail={"minutes": minutes},
            minutes=minutes,
        )

    def _check_address(
        self,
        session: Session,
        db: Database,
        settings: Settings,
        attempt: LoginRequest,
        now: datetime,
    ) -> None:
        since = now - timedelta(minutes=settings.login_ip_window_minutes)
        if repository.failed_attempts_since(session, attempt.ip, since) < (
            settings.login_ip_max_failures
        ):
            return
        minutes = settings.login_ip_window_minutes
        error = Throttled(
            "Too many failed logins from this address. Try again in {minutes} minutes.",
            detail={"minutes": minutes},
            minutes=minutes,
        )
        self._refuse(db, attempt, None, "throttled", error)

    def _wrong_password(
        self,
        db: Database,
        settings: Settings,
        attempt: LoginRequest,
        officer: Officer,
        now: datetime,
    ) -> NoReturn:
        """Count the failure; the one that reaches the limit locks the account."""
        with db.unit_of_work() as detached:
            row = detached.get(Officer, officer.id, with_for_update=True)
            assert row is not None
            row.failed_logins += 1
            locked = row.failed_logins >= settings.login_max_failures
            if locked:
                row.failed_logins = 0
                row.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                ledger.record(
                    detached,
                    "security.account_locked",
                    row,
                    {
                        "username": row.username,
                        "ip": attempt.ip,
                        "until": row.locked_until.isoformat(),
                    },
                    actor_id=None,
                    district_code=row.district_code,
                )
            self._record_failure(detached, attempt, row, "wrong_password")
        if locked:
            raise self._locked_error(settings.login_lockout_minutes)
        raise NotAuthenticated(WRONG_CREDENTIALS)

    def _refuse(
        self,
        db: Database,
        attempt: LoginRequest,
        officer: Officer | None,
        reason: str,
        error: AppError,
    ) -> NoReturn:
        with db.unit_of_work() as detached:
            self._record_failure(detached, attempt, officer, reason)
        raise error

    @staticmethod
    def _record_failure(
        session: Session, attempt: LoginRequest, officer: Officer | None, reason: str
    ) -> None:
        row = LoginAttempt(username=attempt.name, ip=attempt.ip[:64], succeeded=False)
        session.add(row)
        payload = {"username": attempt.name, "ip": attempt.ip, "reason": reason}
        ledger.record(
            session,
            "security.login_failed",
            row,
            payload | {"channel": attempt.channel},
            actor_id=None,
            district_code=officer.district_code if officer is not None else None,
        )

    @staticmethod
    def _succeed(session: Session, officer: Officer, attempt: LoginRequest, now: datetime) -> None:
        officer.failed_logins = 0
        officer.locked_until = None
        officer.last_login_at = now
        if needs_rehash(officer.password_hash):
            officer.password_hash = hash_password(attempt.password)
        session.add(LoginAttempt(username=attempt.name, ip=attempt.ip[:64], succeeded=True))
        ledger.record(
            session,
            "security.login_succeeded",
            officer,
            {"username": officer.username, "ip": attempt.ip, "channel": attempt.channel},
            actor_id=officer.id,
            district_code=officer.district_code,
        )


login_service = LoginService()
