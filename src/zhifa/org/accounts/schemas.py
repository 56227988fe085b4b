"""Pydantic shapes of the accounts API: token requests and answers, the actor, password changes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TokenLogin(BaseModel):
    """A device or an integration signs in with a password and receives a bearer token."""

    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    name: str = Field(
        min_length=1, max_length=100, description="What the token is for, e.g. 手持终端 07"
    )
    scopes: list[str] | None = Field(default=None, description="Defaults to all of the holder's")
    days: int | None = Field(default=None, description="Validity in days, at most 3650")


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] | None = None
    days: int | None = None
    officer_id: int | None = Field(
        default=None, description="Another officer (needs tokens:manage)"
    )


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    officer_id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="The secret. Shown only in this answer: store it now.")


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class PasswordReset(BaseModel):
    new_password: str = Field(max_length=256)


class MeRead(BaseModel):
    id: int
    username: str
    name: str
    district_code: str
    district_name: str
    unit_id: int | None
    unit_name: str | None
    roles: list[str]
    scope: str
    permissions: list[str]
    via: str
    locale: str
