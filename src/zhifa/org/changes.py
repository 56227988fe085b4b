"""Shared service helpers for the organisation domain: target district, field changes, ledger.

Every state change of an organisation row is one ledger event in the caller's session, with the
changed fields before and after (never password hashes: they are not in any snapshot here).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.errors import NotFound
from zhifa.ledger import Subject
from zhifa.org.actor import Actor


def jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | frozenset | set):
        return [jsonable(v) for v in value]
    return value


def snapshot(row: object, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: jsonable(getattr(row, name)) for name in fields}


def apply_changes(row: object, values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Set the attributes that differ; return ``{field: {"before", "after"}}`` for each of them."""
    changes: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        before = getattr(row, name)
        if before != value:
            changes[name] = {"before": jsonable(before), "after": jsonable(value)}
            setattr(row, name, value)
    return changes


def target_district(actor: Actor, district_code: str | None) -> str:
    """The district a new row goes into: the one named, or the actor's; it must be in scope."""
    code = district_code or actor.district_code
    if not actor.scope.allows_district(code):
        raise NotFound(
            "District {district} does not exist or is outside your data scope.",
            detail={"district_code": code},
            district=code,
        )
    return code


def record(
    session: Session,
    actor: Actor,
    kind: str,
    row: Subject | tuple[str, str | int],
    payload: dict[str, Any],
    *,
    district_code: str,
) -> None:
    ledger.record(
        session, kind, row, payload, actor_id=actor.officer_id, district_code=district_code
    )
