"""Every query on officers, filtered by the actor's data scope (district, then unit subtree)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from zhifa.models.org import Officer, OfficerStatus
from zhifa.org.roles import Role
from zhifa.org.scope import DataScope


@dataclass(frozen=True)
class OfficerFilter:
    unit_id: int | None = None
    role: Role | None = None
    status: OfficerStatus | None = None
    q: str = ""
    district_code: str | None = None


def _scoped(scope: DataScope) -> Select[Officer]:
    stmt = scope.where_district(select(Officer), Officer.district_code)
    return scope.where_unit(stmt, Officer.unit_id)


def _filtered(stmt: Select[Officer], f: OfficerFilter) -> Select[Officer]:
    if f.unit_id is not None:
        stmt = stmt.where(Officer.unit_id == f.unit_id)
    if f.status is not None:
        stmt = stmt.where(Officer.status == f.status)
    if f.district_code is not None:
        stmt = stmt.where(Officer.district_code == f.district_code)
    if f.q.strip():
        pattern = f"%{f.q.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Officer.name).like(pattern),
                func.lower(Officer.cert_no).like(pattern),
                func.lower(Officer.username).like(pattern),
            )
        )
    return stmt


def officers(
    session: Session, scope: DataScope, f: OfficerFilter, *, limit: int = 200, offset: int = 0
) -> list[Officer]:
    """Officers in scope matching the filter. The role filter runs in Python: roles are a JSON
    list, and JSON containment differs between SQLite and PostgreSQL."""
    stmt = _filtered(_scoped(scope), f).order_by(Officer.district_code, Officer.name, Officer.id)
    rows = list(session.scalars(stmt))
    if f.role is not None:
        rows = [r for r in rows if str(f.role) in r.roles]
    return rows[offset : offset + limit]


def officer(session: Session, scope: DataScope, officer_id: int) -> Officer | None:
    row: Officer | None = session.scalar(_scoped(scope).where(Officer.id == officer_id))
    return row


def cert_no_taken(session: Session, cert_no: str, *, except_id: int | None = None) -> bool:
    """执法证号 is unique across the deployment: a yes/no answer, no row leaves this function."""
    stmt = select(Officer.id).where(Officer.cert_no == cert_no)
    if except_id is not None:
        stmt = stmt.where(Officer.id != except_id)
    return session.scalar(stmt) is not None


def username_taken(session: Session, username: str) -> bool:
    return session.scalar(select(Officer.id).where(Officer.username == username)) is not None


def active_count(session: Session, scope: DataScope) -> int:
    stmt = _scoped(scope).where(Officer.status == OfficerStatus.ACTIVE)
    return int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
