"""Rules for districts, source departments and the unit tree (局 → 大队 → 中队).

Invariants:
- A district is created only by an account with city scope, inside its own city; its ``city_code``
  is derived from the GB/T 2260 code.
- One active bureau per district; a brigade sits under the bureau; a squad under a brigade or the
  bureau; parent and child are in the same district (else Conflict).
- Moving a unit recomputes ``Unit.path`` for the whole subtree; deactivating one needs its
  sub-units deactivated first.
Services never commit; every change is one ledger event per changed row.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.kit.district_code import city_code_of, validate_district_code
from zhifa.kit.geo import in_china
from zhifa.models.org import Department, District, Unit, UnitKind
from zhifa.org import repository as repo
from zhifa.org.actor import Actor
from zhifa.org.changes import apply_changes, record, snapshot, target_district
from zhifa.org.roles import ScopeLevel
from zhifa.org.schemas import (
    DepartmentCreate,
    DepartmentUpdate,
    DistrictCreate,
    DistrictUpdate,
    UnitCreate,
    UnitMove,
    UnitRead,
    UnitUpdate,
)

# Ledger snapshots in "created" payloads: the models' ledgered columns.
DISTRICT_FIELDS: tuple[str, ...] = District.__ledger_fields__
DEPARTMENT_FIELDS: tuple[str, ...] = Department.__ledger_fields__
UNIT_FIELDS: tuple[str, ...] = Unit.__ledger_fields__


def _check_centre(lon: float | None, lat: float | None) -> None:
    if (lon is None) != (lat is None) or (
        lon is not None and lat is not None and not in_china(lon, lat)
    ):
        raise InvalidInput(
            "The centre needs both longitude and latitude, inside China, in [lon, lat] order.",
            detail={"field": "center_lon"},
        )


class DistrictService:
    def list(self, session: Session, actor: Actor) -> list[District]:
        return repo.districts(session, actor.scope)

    def get(self, session: Session, actor: Actor, *, code: str) -> District:
        row = repo.district(session, actor.scope, code)
        if row is None:
            raise NotFound(
                "District {district} does not exist or is outside your data scope.",
                district=code,
            )
        return row

    def create(self, session: Session, actor: Actor, *, data: DistrictCreate) -> District:
        code = validate_district_code(data.code)
        self._check_may_create(actor, code)
        return self._insert(session, data, code, actor_id=actor.officer_id, via=actor.via)

    def list_by_operator(self, session: Session) -> builtins.list[District]:
        """All districts, for the operator at the command line."""
        return repo.all_districts(session)

    def create_by_operator(self, session: Session, *, data: DistrictCreate) -> District:
        """The first district of a deployment, created from the command line by the operator."""
        code = validate_district_code(data.code)
        return self._insert(session, data, code, actor_id=None, via="cli")

    def _insert(
        self, session: Session, data: DistrictCreate, code: str, *, actor_id: int | None, via: str
    ) -> District:
        if repo.district_exists(session, code):
            raise Conflict("District {district} already exists.", district=code)
        _check_centre(data.center_lon, data.center_lat)
        row = District(city_code=city_code_of(code), **data.model_dump() | {"code": code})
        session.add(row)
        session.flush()
        payload = snapshot(row, DISTRICT_FIELDS) | {"via": via}
        ledger.record(
            session, "org.district.created", row, payload, actor_id=actor_id, district_code=code
        )
        return row

    def _check_may_create(self, actor: Actor, code: str) -> None:
        if actor.scope.level is not ScopeLevel.CITY:
            raise PermissionDenied("Only an account with city scope can create districts.")
        city = city_code_of(actor.district_code)
        if city_code_of(code) != city:
            raise PermissionDenied(
                "District {district} is not in your city ({city}).", district=code, city=city
            )

    def update(
        self, session: Session, actor: Actor, *, code: str, data: DistrictUpdate
    ) -> District:
        row = self.get(session, actor, code=code)
        values = data.model_dump(exclude_unset=True)
        if "center_lon" in values or "center_lat" in values:
            values = {"center_lon": row.center_lon, "center_lat": row.center_lat} | values
            _check_centre(values["center_lon"], values["center_lat"])
        changes = apply_changes(row, values)
        if changes:
            record(
                session,
                actor,
                "org.district.updated",
                row,
                {"changes": changes},
                district_code=code,
            )
        return row


class DepartmentService:
    def list(
        self,
        session: Session,
        actor: Actor,
        *,
        district_code: str | None = None,
        active: bool | None = None,
    ) -> builtins.list[Department]:
        return repo.departments(session, actor.scope, district_code=district_code, active=active)

    def get(self, session: Session, actor: Actor, *, department_id: int) -> Department:
        row = repo.department(session, actor.scope, department_id)
        if row is None:
            raise NotFound("The department does not exist or is outside your data scope.")
        return row

    def create(self, session: Session, actor: Actor, *, data: DepartmentCreate) -> Department:
        district_code = target_district(actor, data.district_code)
        self._check_code(session, district_code, data.code, None)
        row = Department(district_code=district_code, code=data.code, name=data.name)
        session.add(row)
        session.flush()
        record(
            session,
            actor,
            "org.department.created",
            row,
            snapshot(row, DEPARTMENT_FIELDS),
            district_code=district_code,
        )
        return row

    def _check_code(
        self, session: Session, district: str, code: str, except_id: int | None
    ) -> None:
        if repo.department_code_taken(session, district, code, except_id=except_id):
            raise Conflict("Department code {value} is already used in this district.", value=code)

    def update(
        self, session: Session, actor: Actor, *, department_id: int, data: DepartmentUpdate
    ) -> Department:
        row = self.get(session, actor, department_id=department_id)
        values = data.model_dump(exclude_unset=True, exclude_none=True)
        if "code" in values:
            self._check_code(session, row.district_code, values["code"], row.id)
        changes = apply_changes(row, values)
        if changes:
            record(
                session,
                actor,
                "org.department.updated",
                row,
                {"changes": changes},
                district_code=row.district_code,
            )
        return row

    def deactivate(self, session: Session, actor: Actor, *, department_id: int) -> Department:
        row = self.get(session, actor, department_id=department_id)
        if apply_changes(row, {"active": False}):
            record(
                session,
                actor,
                "org.department.deactivated",
                row,
                {"active": False},
                district_code=row.district_code,
            )
        return row


@dataclass
class UnitNode:
    """A unit in the tree page, with its active officer count and its visible children."""

    unit: Unit
    officer_count: int
    children: list[UnitNode] = field(default_factory=list)


def check_parent(kind: UnitKind, parent: Unit | None, district_code: str) -> None:
    """The tree rules: bureau at the root; brigade under the bureau; squad under either."""
    if kind is UnitKind.BUREAU:
        if parent is not None:
            raise Conflict("A bureau has no parent unit.")
        return
    if parent is None:
        raise Conflict("A brigade or squad needs a parent unit.")
    if parent.district_code != district_code:
        raise Conflict(
            "The parent unit is in another district ({district}): units stay within one district.",
            district=parent.district_code,
        )
    if not parent.active:
        raise Conflict("The parent unit is deactivated.")
    allowed = {
        UnitKind.BRIGADE: {UnitKind.BUREAU},
        UnitKind.SQUAD: {UnitKind.BUREAU, UnitKind.BRIGADE},
    }
    if UnitKind(parent.kind) not in allowed[kind]:
        if kind is UnitKind.BRIGADE:
            raise Conflict("A brigade's parent must be the bureau.")
        raise Conflict("A squad's parent must be a brigade or the bureau.")


class UnitService:
    def list(
        self, session: Session, actor: Actor, *, district_code: str | None = None
    ) -> builtins.list[UnitRead]:
        counts = repo.officer_counts(session, actor.scope)
        rows = repo.units(session, actor.scope, district_code=district_code)
        return [
            UnitRead.model_validate(u).model_copy(update={"officer_count": counts.get(u.id, 0)})
            for u in rows
        ]

    def tree(self, session: Session, actor: Actor) -> builtins.list[UnitNode]:
        counts = repo.officer_counts(session, actor.scope)
        nodes = {u.id: UnitNode(u, counts.get(u.id, 0)) for u in repo.units(session, actor.scope)}
        roots: builtins.list[UnitNode] = []
        for node in nodes.values():
            parent = nodes.get(node.unit.parent_id) if node.unit.parent_id else None
            (parent.children if parent else roots).append(node)
        return roots

    def get(self, session: Session, actor: Actor, *, unit_id: int) -> Unit:
        row = repo.unit(session, actor.scope, unit_id)
        if row is None:
            raise NotFound("The unit does not exist or is outside your data scope.")
        return row

    def create(self, session: Session, actor: Actor, *, data: UnitCreate) -> Unit:
        parent = None
        if data.parent_id is not None:
            parent = self.get(session, actor, unit_id=data.parent_id)
        district_code = target_district(
            actor, data.district_code or (parent.district_code if parent else None)
        )
        check_parent(data.kind, parent, district_code)
        self._check_unique(session, data.kind, district_code, data.code, None)
        row = Unit(
            district_code=district_code,
            kind=data.kind,
            code=data.code,
            name=data.name,
            parent_id=parent.id if parent else None,
            phone=data.phone,
        )
        session.add(row)
        session.flush()
        row.assign_path(parent)
        record(
            session,
            actor,
            "org.unit.created",
            row,
            snapshot(row, UNIT_FIELDS),
            district_code=district_code,
        )
        return row

    def _check_unique(
        self, session: Session, kind: UnitKind, district: str, code: str, except_id: int | None
    ) -> None:
        if kind is UnitKind.BUREAU and repo.bureau_exists(session, district, except_id=except_id):
            raise Conflict("District {district} already has a bureau.", district=district)
        if repo.unit_code_taken(session, district, code, except_id=except_id):
            raise Conflict("Unit code {value} is already used in this district.", value=code)

    def update(self, session: Session, actor: Actor, *, unit_id: int, data: UnitUpdate) -> Unit:
        row = self.get(session, actor, unit_id=unit_id)
        values = data.model_dump(exclude_unset=True, exclude_none=True)
        if "code" in values and repo.unit_code_taken(
            session, row.district_code, values["code"], except_id=row.id
        ):
            raise Conflict(
                "Unit code {value} is already used in this district.", value=values["code"]
            )
        changes = apply_changes(row, values)
        if changes:
            record(
                session,
                actor,
                "org.unit.updated",
                row,
                {"changes": changes},
                district_code=row.district_code,
            )
        return row

    def deactivate(self, session: Session, actor: Actor, *, unit_id: int) -> Unit:
        row = self.get(session, actor, unit_id=unit_id)
        if row.active and repo.active_children(session, row.id):
            raise Conflict("Deactivate the unit's sub-units first.")
        if apply_changes(row, {"active": False}):
            record(
                session,
                actor,
                "org.unit.deactivated",
                row,
                {"active": False},
                district_code=row.district_code,
            )
        return row

    def move(self, session: Session, actor: Actor, *, unit_id: int, data: UnitMove) -> Unit:
        row = self.get(session, actor, unit_id=unit_id)
        parent = self.get(session, actor, unit_id=data.parent_id)
        if parent.path.startswith(row.path):
            raise Conflict("A unit cannot be moved under itself or one of its sub-units.")
        check_parent(UnitKind(row.kind), parent, row.district_code)
        if parent.id == row.parent_id:
            return row
        before = {"parent_id": row.parent_id, "path": row.path}
        self._repath(session, actor, row, parent)
        record(
            session,
            actor,
            "org.unit.moved",
            row,
            {"before": before, "after": {"parent_id": parent.id, "path": row.path}},
            district_code=row.district_code,
        )
        return row

    def _repath(self, session: Session, actor: Actor, row: Unit, parent: Unit) -> None:
        """Give the moved unit its new parent and recompute the path of every descendant."""
        nodes = repo.subtree(session, row)
        by_id = {n.id: n for n in nodes}
        row.parent_id = parent.id
        for node in nodes:
            old_path = node.path
            node.assign_path(parent if node is row else by_id[node.parent_id or 0])
            if node is not row:
                record(
                    session,
                    actor,
                    "org.unit.repathed",
                    node,
                    {
                        "moved_with": row.id,
                        "before": {"path": old_path},
                        "after": {"path": node.path},
                    },
                    district_code=node.district_code,
                )
        session.flush()


district_service = DistrictService()
department_service = DepartmentService()
unit_service = UnitService()
