"""Builders for test data, writing real rows (they do not stand in for the code under test)."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from sqlalchemy.orm import Session

from zhifa.kit.clock import utcnow
from zhifa.models.org import Department, District, Officer, Unit, UnitKind
from zhifa.models.security import ApiToken
from zhifa.org.accounts.passwords import hash_password
from zhifa.org.credentials import TOKEN_PREFIX, digest, new_secret
from zhifa.org.roles import DEFAULT_SCOPE, Permission, Role

__all__ = ["PASSWORD", "Role", "bearer", "department", "district", "hashed", "officer", "unit"]

PASSWORD = "Zhifa-Test-2026"


@lru_cache
def hashed(password: str) -> str:
    """argon2id is slow on purpose: hash each test password once per run (the code under test
    still hashes for real)."""
    return hash_password(password)


def district(session: Session, code: str = "510184", name: str = "崇州市（演示）") -> District:
    row = District(
        code=code,
        name=name,
        city_code=code[:4] + "00",
        fictional=True,
        bureau_name=f"{name}综合行政执法局",
    )
    session.add(row)
    session.flush()
    return row


def department(session: Session, district_code: str, code: str, name: str) -> Department:
    row = Department(district_code=district_code, code=code, name=name)
    session.add(row)
    session.flush()
    return row


def unit(
    session: Session,
    district_code: str,
    kind: UnitKind,
    name: str,
    code: str,
    parent: Unit | None = None,
) -> Unit:
    row = Unit(
        district_code=district_code,
        kind=kind,
        name=name,
        code=code,
        parent_id=parent.id if parent else None,
    )
    session.add(row)
    session.flush()
    row.assign_path(parent)
    session.flush()
    return row


def officer(
    session: Session,
    district_code: str,
    username: str,
    roles: list[Role],
    *,
    unit: Unit | None = None,
    scope: str | None = None,
    password: str = PASSWORD,
    cert_no: str | None = None,
    name: str | None = None,
) -> Officer:
    row = Officer(
        district_code=district_code,
        username=username,
        name=name or username,
        roles=[str(r) for r in roles],
        scope=scope or str(DEFAULT_SCOPE[roles[0]]),
        unit_id=unit.id if unit else None,
        cert_no=cert_no,
        password_hash=hashed(password),
        password_changed_at=utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def bearer(
    session: Session, officer: Officer, scopes: list[Permission] | None = None, days: int = 30
) -> dict[str, str]:
    """An API token for ``officer`` (all permissions by default), as request headers."""
    secret = new_secret(TOKEN_PREFIX)
    session.add(
        ApiToken(
            district_code=officer.district_code,
            officer_id=officer.id,
            name="test",
            prefix=secret[:10],
            token_hash=digest(secret),
            scopes=[str(s) for s in (scopes or list(Permission))],
            expires_at=utcnow() + timedelta(days=days),
        )
    )
    session.flush()
    return {"Authorization": f"Bearer {secret}"}
