"""Web sessions, API tokens and login attempts. Secrets are stored only as SHA-256 hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from zhifa.models.base import Base, CreatedAt, DistrictScoped
from zhifa.models.org import Officer


class WebSession(DistrictScoped, CreatedAt, Base):
    """A browser login. The cookie holds the secret; the row holds its hash and the CSRF token."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(255), default="")

    officer: Mapped[Officer] = relationship(lazy="raise")


class ApiToken(DistrictScoped, CreatedAt, Base):
    """A bearer token for a device or an integration, acting as its officer within its scopes."""

    __tablename__ = "api_token"
    __ledger_fields__ = (
        "district_code",
        "officer_id",
        "name",
        "prefix",
        "scopes",
        "expires_at",
        "revoked_at",
    )
    __ledger_digest_fields__ = ("token_hash",)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officer.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(default=list)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    officer: Mapped[Officer] = relationship(lazy="raise")


class LoginAttempt(CreatedAt, Base):
    """Every login attempt, for throttling by address. Not tenant-scoped: it precedes identity."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    succeeded: Mapped[bool] = mapped_column(Boolean)
