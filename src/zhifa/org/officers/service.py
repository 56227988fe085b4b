"""Rules for officers: create with an initial password, update with a before/after ledger trail.

Refusals: a duplicate 执法证号 or user name → Conflict; a unit in another district → Conflict;
a unit outside the actor's scope → NotFound; a data scope wider than the actor's own →
PermissionDenied; certificate validity ending before it starts → InvalidInput.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy.orm import Session

from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.clock import utcnow
from zhifa.models.org import Officer, OfficerStatus, Unit
from zhifa.org.accounts.passwords import check_policy, hash_password
from zhifa.org.actor import Actor
from zhifa.org.changes import apply_changes, record, snapshot, target_district
from zhifa.org.officers import repository as repo
from zhifa.org.officers.repository import OfficerFilter
from zhifa.org.officers.schemas import OfficerCreate, OfficerUpdate
from zhifa.org.roles import DEFAULT_SCOPE, ScopeLevel
from zhifa.org.service import unit_service

SCOPE_ORDER = (ScopeLevel.SQUAD, ScopeLevel.BRIGADE, ScopeLevel.DISTRICT, ScopeLevel.CITY)
# Ledger snapshots: the model's ledgered columns (the password only ever as a digest, in state).
OFFICER_FIELDS: tuple[str, ...] = Officer.__ledger_fields__
NOT_NULL = ("name", "phone", "roles", "scope", "status")


def wider(a: ScopeLevel | str, b: ScopeLevel | str) -> bool:
    return SCOPE_ORDER.index(ScopeLevel(a)) > SCOPE_ORDER.index(ScopeLevel(b))


def check_grantable(actor: Actor, scope: ScopeLevel | str) -> None:
    if wider(scope, actor.scope.level):
        raise PermissionDenied(
            "You cannot grant a data scope wider than your own.",
            detail={"field": "scope", "value": str(scope), "yours": str(actor.scope.level)},
        )


def _unit_for(session: Session, actor: Actor, unit_id: int | None, district: str) -> Unit | None:
    if unit_id is None:
        return None
    unit = unit_service.get(session, actor, unit_id=unit_id)
    if unit.district_code != district:
        raise Conflict(
            "The unit is in another district ({district}): an officer's unit must be in the "
            "officer's own district.",
            detail={"field": "unit_id", "unit_district": unit.district_code},
            district=unit.district_code,
        )
    return unit


def _check_consistent(officer: Officer) -> None:
    scope = ScopeLevel(officer.scope)
    if scope in (ScopeLevel.SQUAD, ScopeLevel.BRIGADE) and officer.unit_id is None:
        raise InvalidInput(
            "A squad or brigade data scope needs a unit.", detail={"field": "unit_id"}
        )
    start, end = officer.cert_valid_from, officer.cert_valid_until
    if start is not None and end is not None and end < start:
        raise InvalidInput(
            "The certificate cannot expire before it becomes valid.",
            detail={"field": "cert_valid_until"},
        )


def _check_cert_no(session: Session, cert_no: str | None, except_id: int | None) -> None:
    if cert_no and repo.cert_no_taken(session, cert_no, except_id=except_id):
        raise Conflict(
            "Enforcement certificate number {cert_no} is already registered to another officer.",
            detail={"field": "cert_no"},
            cert_no=cert_no,
        )


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in values.items() if not (k in NOT_NULL and v is None)}
    if "cert_no" in values:
        values["cert_no"] = (values["cert_no"] or "").strip() or None
    if "roles" in values:
        values["roles"] = [str(r) for r in values["roles"]]
    for key in ("scope", "status"):
        if key in values:
            values[key] = str(values[key])
    return values


class OfficerService:
    def list(
        self,
        session: Session,
        actor: Actor,
        *,
        criteria: OfficerFilter,
        limit: int = 200,
        offset: int = 0,
    ) -> builtins.list[Officer]:
        return repo.officers(session, actor.scope, criteria, limit=limit, offset=offset)

    def get(self, session: Session, actor: Actor, *, officer_id: int) -> Officer:
        row = repo.officer(session, actor.scope, officer_id)
        if row is None:
            raise NotFound("The officer does not exist or is outside your data scope.")
        return row

    def create(
        self, session: Session, actor: Actor, *, data: OfficerCreate, password_min_length: int = 10
    ) -> Officer:
        district = target_district(actor, data.district_code)
        _unit_for(session, actor, data.unit_id, district)
        values = _clean(data.model_dump(exclude={"password", "district_code"}))
        values["scope"] = values.get("scope") or str(DEFAULT_SCOPE[data.roles[0]])
        values["status"] = values.get("status") or str(OfficerStatus.ACTIVE)
        check_grantable(actor, values["scope"])
        if repo.username_taken(session, data.username):
            raise Conflict("The user name {username} is taken.", username=data.username)
        _check_cert_no(session, values["cert_no"], None)
        check_policy(data.password, min_length=password_min_length, username=data.username)
        row = Officer(district_code=district, **values)
        _check_consistent(row)
        row.password_hash = hash_password(data.password)
        row.password_changed_at = utcnow()
        session.add(row)
        session.flush()
        record(
            session,
            actor,
            "org.officer.created",
            row,
            snapshot(row, OFFICER_FIELDS),
            district_code=district,
        )
        return row

    def update(
        self, session: Session, actor: Actor, *, officer_id: int, data: OfficerUpdate
    ) -> Officer:
        row = self.get(session, actor, officer_id=officer_id)
        if wider(row.scope, actor.scope.level):
            raise PermissionDenied("You cannot change an account whose scope is wider than yours.")
        values = _clean(data.model_dump(exclude_unset=True))
        if values.get("unit_id") is not None:
            _unit_for(session, actor, values["unit_id"], row.district_code)
        if "scope" in values:
            check_grantable(actor, values["scope"])
        if "cert_no" in values:
            _check_cert_no(session, values["cert_no"], row.id)
        changes = apply_changes(row, values)
        _check_consistent(row)
        if changes:
            record(
                session,
                actor,
                "org.officer.updated",
                row,
                {"changes": changes},
                district_code=row.district_code,
            )
        return row


officer_service = OfficerService()
