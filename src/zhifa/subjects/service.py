"""The rules of the subject registry: what a valid subject is, who may see and change it, and the
ledger events of every change (``subject.created`` / ``updated`` / ``deactivated`` /
``id_revealed``).

``check`` turns a ``SubjectIn`` into the row's values and the list of everything wrong with it (so
a form and an import row can show every problem at once); ``register`` is the one place a subject
is created, used by the API, the pages, the import and the demo.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.errors import AppError, Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.models.subjects import RiskLevel, Subject, SubjectKind
from zhifa.org.actor import Actor
from zhifa.org.changes import apply_changes, jsonable
from zhifa.org.roles import Permission
from zhifa.org.scope import DataScope
from zhifa.subjects import repository as repo
from zhifa.subjects.idcard import IdCardKeys
from zhifa.subjects.identifiers import looks_like_id_card, mask, normalise_id_card, normalise_uscc
from zhifa.subjects.location import check_fence, check_point
from zhifa.subjects.schemas import SubjectIn, SubjectRead, SubjectUpdate
from zhifa.web.i18n import translate

NEEDS_USCC = frozenset(
    {SubjectKind.ENTERPRISE, SubjectKind.INDIVIDUAL_BUSINESS, SubjectKind.ORGANISATION}
)
ID_CARD_FIELDS = ("id_card_cipher", "id_card_masked", "id_card_digest")
NOT_FOUND = "The subject does not exist or is outside your data scope."


def field_of(exc: AppError) -> str:
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    return str(detail.get("field") or "")


def refuse(problems: Sequence[AppError]) -> None:
    """Raise the first problem, carrying all of them in ``detail.problems`` (field, message)."""
    if not problems:
        return
    first = problems[0]
    listed = [
        {"field": field_of(p), "message": p.message, "params": jsonable(p.params)} for p in problems
    ]
    detail = {**(first.detail if isinstance(first.detail, dict) else {}), "problems": listed}
    first.detail = detail
    raise first


def _uscc(data: SubjectIn) -> tuple[str | None, list[AppError]]:
    raw = (data.uscc or "").strip()
    if not raw:
        if data.kind in NEEDS_USCC:
            return None, [
                InvalidInput(
                    "An enterprise, individually-owned business or organisation needs its "
                    "unified social credit code.",
                    detail={"field": "uscc"},
                )
            ]
        return None, []
    if data.kind is SubjectKind.PERSON:
        return None, [
            InvalidInput(
                "A natural person has no unified social credit code: register a business run by "
                "a person as an individually-owned business.",
                detail={"field": "uscc"},
            )
        ]
    try:
        return normalise_uscc(raw), []
    except InvalidInput as exc:
        return None, [exc]


def _id_card(
    data: SubjectIn, keys: IdCardKeys, existing: Subject | None, *, keep: bool
) -> tuple[dict[str, Any], list[AppError]]:
    """The id-card columns to set; {} leaves the stored ones (``keep``: the update did not send
    ``id_card``, or sent the number already stored)."""
    raw = (data.id_card or "").strip()
    if not raw:
        stored = existing is not None and bool(existing.id_card_digest)
        if keep and stored and data.kind is not SubjectKind.PERSON:
            return {}, [
                InvalidInput(
                    "Only a natural person is registered with an ID card number: remove the "
                    "number before changing the kind.",
                    detail={"field": "id_card"},
                )
            ]
        return ({} if keep else dict.fromkeys(ID_CARD_FIELDS)), []
    if data.kind is not SubjectKind.PERSON:
        return {}, [
            InvalidInput(
                "Only a natural person is registered with an ID card number.",
                detail={"field": "id_card"},
            )
        ]
    try:
        number = normalise_id_card(raw)
    except InvalidInput as exc:
        return {}, [exc]
    digest = keys.digest(number)
    if existing is not None and existing.id_card_digest == digest:
        return {}, []
    return {
        "id_card_cipher": keys.encrypt(number),
        "id_card_masked": mask(number),
        "id_card_digest": digest,
    }, []


def _subject_type(session: Session, district_code: str, code: str) -> list[AppError]:
    row = repo.subject_type(session, district_code, code)
    if row is None:
        return [
            InvalidInput(
                "Subject type {code} is not in this district's catalog.",
                detail={"field": "subject_type"},
                code=code,
            )
        ]
    if not row.active:
        return [
            InvalidInput(
                "Subject type {code} is no longer in use.",
                detail={"field": "subject_type"},
                code=code,
            )
        ]
    return []


def _grid_and_unit(
    session: Session, district_code: str, scope: DataScope | None, lon: float, lat: float
) -> tuple[dict[str, Any], list[AppError]]:
    grid = repo.grid_at(session, district_code, lon, lat)
    values = {"grid_id": grid.id if grid else None, "unit_id": grid.unit_id if grid else None}
    if scope is None or scope.unit_path is None:
        return values, []
    squad = repo.unit(session, grid.unit_id) if grid else None
    if squad is not None and scope.allows_unit_path(squad.path):
        return values, []
    return values, [
        InvalidInput(
            "The location is not inside a grid of your squad: only staff with district scope can "
            "register subjects elsewhere.",
            detail={"field": "lon"},
        )
    ]


def _place(
    session: Session,
    district_code: str,
    scope: DataScope | None,
    data: SubjectIn,
    existing: Subject | None,
) -> tuple[dict[str, Any], list[AppError]]:
    """Point, fence, and (when the point is new or moved) the grid and squad it falls in."""
    problems = check_point(data.lon, data.lat)
    point = (data.lon, data.lat) if not problems else (None, None)
    lon, lat = point
    # "a fence needs a point" only when none was given (a bad point has its own message)
    given = data.lon is not None or data.lat is not None
    fence, fence_problems = check_fence(data.geofence, data.geofence_radius_m, has_point=given)
    problems += fence_problems
    values: dict[str, Any] = {
        "lon": data.lon,
        "lat": data.lat,
        "geofence": fence,
        "geofence_radius_m": data.geofence_radius_m if fence is None else None,
    }
    if lon is None or lat is None:
        values |= {"grid_id": None, "unit_id": None}
        if scope is not None and scope.unit_path is not None and not problems:
            problems.append(
                InvalidInput(
                    "Give the subject's location: it decides which squad's grid the subject "
                    "belongs to.",
                    detail={"field": "lon"},
                )
            )
    elif existing is None or (existing.lon, existing.lat) != point:
        located, scope_problems = _grid_and_unit(session, district_code, scope, lon, lat)
        values |= located
        problems += scope_problems
    return values, problems


def check(
    session: Session,
    *,
    district_code: str,
    scope: DataScope | None,
    data: SubjectIn,
    keys: IdCardKeys,
    existing: Subject | None = None,
    keep_id_card: bool = False,
) -> tuple[dict[str, Any], list[AppError]]:
    """The row values for ``data`` and every problem with it (empty when it may be saved).
    ``scope`` None is the demo loader (no actor); ``existing`` is the row being changed, and
    ``keep_id_card`` keeps its stored number when ``data`` has none."""
    uscc, problems = _uscc(data)
    id_values, id_problems = _id_card(data, keys, existing, keep=keep_id_card)
    place, place_problems = _place(session, district_code, scope, data, existing)
    problems += id_problems + _subject_type(session, district_code, data.subject_type)
    problems += place_problems
    values: dict[str, Any] = {
        "kind": data.kind,
        "name": data.name.strip(),
        "uscc": uscc,
        "representative": data.representative.strip(),
        "phone": data.phone.strip(),
        "address": data.address.strip(),
        "subject_type_code": data.subject_type,
        "risk_level": data.risk_level,
        "licences": [lic.model_dump(mode="json") for lic in data.licences],
        "note": data.note,
        **id_values,
        **place,
    }
    if not values["name"]:
        problems.insert(0, InvalidInput("Fill in the name.", detail={"field": "name"}))
    return values, problems


def _visible(scope: DataScope | None, session: Session, row: Subject) -> bool:
    if scope is None or scope.unit_path is None:
        return scope is None or scope.allows_district(row.district_code)
    squad = repo.unit(session, row.unit_id) if row.unit_id else None
    return squad is not None and scope.allows_unit_path(squad.path)


def check_duplicates(
    session: Session,
    district_code: str,
    scope: DataScope | None,
    values: dict[str, Any],
    *,
    except_id: int | None = None,
) -> None:
    """409 when the USCC or the ID card number is already registered in the district; the other
    subject is named when the caller may see it."""
    uscc, digest = values.get("uscc"), values.get("id_card_digest")
    if uscc:
        other = repo.by_uscc_in_district(session, district_code, uscc, except_id=except_id)
        if other is not None:
            _duplicate(session, scope, other, "uscc", uscc)
    if digest:
        other = repo.by_id_digest_in_district(session, district_code, digest, except_id=except_id)
        if other is not None:
            _duplicate(session, scope, other, "id_card", values.get("id_card_masked") or "")


def _duplicate(
    session: Session, scope: DataScope | None, other: Subject, field: str, value: str
) -> None:
    detail: dict[str, Any] = {"field": field}
    if not _visible(scope, session, other):
        raise Conflict(
            "{value} is already registered in this district, for a subject outside your data "
            "scope.",
            detail=detail,
            value=value,
        )
    raise Conflict(
        "{value} is already registered for {name} (subject {id}).",
        detail=detail | {"existing_id": other.id},
        value=value,
        name=other.name,
        id=other.id,
    )


def register(
    session: Session,
    *,
    district_code: str,
    scope: DataScope | None,
    actor_id: int | None,
    data: SubjectIn,
    keys: IdCardKeys,
    via: str,
) -> Subject:
    """Create one subject (validated, unique, located, ledgered) or raise."""
    values, problems = check(
        session, district_code=district_code, scope=scope, data=data, keys=keys
    )
    refuse(problems)
    check_duplicates(session, district_code, scope, values)
    row = Subject(district_code=district_code, active=True, **values)
    session.add(row)
    session.flush()
    ledger.record(
        session,
        "subject.created",
        row,
        {"via": via},
        actor_id=actor_id,
        district_code=district_code,
    )
    return row


def _as_input(row: Subject, changes: SubjectUpdate) -> SubjectIn:
    """The subject as it would be after ``changes`` (the stored id card is kept unless sent)."""
    current: dict[str, Any] = {
        "kind": row.kind,
        "name": row.name,
        "uscc": row.uscc,
        "id_card": None,
        "representative": row.representative,
        "phone": row.phone,
        "address": row.address,
        "subject_type": row.subject_type_code,
        "risk_level": row.risk_level,
        "lon": row.lon,
        "lat": row.lat,
        "geofence": row.geofence,
        "geofence_radius_m": row.geofence_radius_m,
        "licences": row.licences,
        "note": row.note,
    }
    sent = changes.model_dump(include=changes.model_fields_set - {"active"})
    return SubjectIn.model_validate(current | sent)


def _ledgered_changes(changes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The before/after of each changed field, with the cipher text left out (only its fact)."""
    shown = {k: v for k, v in changes.items() if k != "id_card_cipher"}
    if "id_card_cipher" in changes:
        shown["id_card_cipher"] = {"changed": True}
    return shown


class SubjectService:
    def search(
        self,
        session: Session,
        actor: Actor,
        *,
        filters: repo.Filters,
        near: repo.Near | None,
        keys: IdCardKeys,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[builtins.list[tuple[Subject, float | None]], int]:
        if filters.q and looks_like_id_card(filters.q):
            digest = keys.digest(normalise_id_card(filters.q))
            filters = repo.Filters(**{**filters.__dict__, "id_digest": digest})
        if near is not None:
            pairs, total = repo.search_near(
                session, actor.scope, filters, near, limit=limit, offset=offset
            )
            return [(s, d) for s, d in pairs], total
        rows, total = repo.search(session, actor.scope, filters, limit=limit, offset=offset)
        return [(s, None) for s in rows], total

    def get(self, session: Session, actor: Actor, *, subject_id: int) -> Subject:
        row = repo.subject(session, actor.scope, subject_id)
        if row is None:
            raise NotFound(NOT_FOUND)
        return row

    def create(
        self, session: Session, actor: Actor, *, data: SubjectIn, keys: IdCardKeys, via: str = ""
    ) -> Subject:
        return register(
            session,
            district_code=actor.district_code,
            scope=actor.scope,
            actor_id=actor.officer_id,
            data=data,
            keys=keys,
            via=via or actor.via,
        )

    def update(
        self,
        session: Session,
        actor: Actor,
        *,
        subject_id: int,
        data: SubjectUpdate,
        keys: IdCardKeys,
    ) -> Subject:
        row = self.get(session, actor, subject_id=subject_id)
        draft = _as_input(row, data)
        values, problems = check(
            session,
            district_code=row.district_code,
            scope=actor.scope,
            data=draft,
            keys=keys,
            existing=row,
            keep_id_card="id_card" not in data.model_fields_set,
        )
        refuse(problems)
        check_duplicates(session, row.district_code, actor.scope, values, except_id=row.id)
        if data.active is not None:
            values["active"] = data.active
        changes = apply_changes(row, values)
        if changes:
            kind = "subject.deactivated" if data.active is False and "active" in changes else None
            session.flush()
            ledger.record(
                session,
                kind or "subject.updated",
                row,
                {"changes": _ledgered_changes(changes)},
                actor_id=actor.officer_id,
                district_code=row.district_code,
            )
        return row

    def deactivate(self, session: Session, actor: Actor, *, subject_id: int) -> Subject:
        row = self.get(session, actor, subject_id=subject_id)
        changes = apply_changes(row, {"active": False})
        if changes:
            ledger.record(
                session,
                "subject.deactivated",
                row,
                {"changes": changes},
                actor_id=actor.officer_id,
                district_code=row.district_code,
            )
        return row

    def reveal_id(
        self, session: Session, actor: Actor, *, subject_id: int, reason: str, keys: IdCardKeys
    ) -> str:
        """The full 居民身份证号, for a stated reason; the reveal (never the number) is ledgered."""
        if not actor.can(Permission.SUBJECTS_REVEAL):
            raise PermissionDenied(
                "Your role does not allow this action.",
                detail={"permission": str(Permission.SUBJECTS_REVEAL)},
            )
        row = self.get(session, actor, subject_id=subject_id)
        why = reason.strip()
        if len(why) < 2:
            raise InvalidInput(
                "Say why you need the full ID card number: the reason is kept on record.",
                detail={"field": "reason"},
            )
        if not row.id_card_cipher:
            raise NotFound("No ID card number is on record for this subject.")
        number = keys.decrypt(row.id_card_cipher)
        payload = {
            "reason": why,
            "subject_id": row.id,
            "subject_name": row.name,
            "id_card_masked": row.id_card_masked,
            "officer_id": actor.officer_id,
            "officer_name": actor.name,
        }
        ledger.record(
            session,
            "subject.id_revealed",
            ("subject", row.id),
            payload,
            actor_id=actor.officer_id,
            district_code=row.district_code,
        )
        return number

    def present(
        self,
        session: Session,
        rows: Sequence[Subject],
        *,
        locale: str,
        distances: Sequence[float | None] | None = None,
    ) -> builtins.list[SubjectRead]:
        """``SubjectRead`` of each row, labels in ``locale`` (the inspections' task bundle uses
        this too)."""
        names: dict[tuple[str, str], str] = {}
        for district in {r.district_code for r in rows}:
            for st in repo.subject_types(session, district):
                names[(district, st.code)] = st.name
        dists = list(distances) if distances is not None else [None] * len(rows)
        return [_read(r, names, locale, d) for r, d in zip(rows, dists, strict=True)]


def _read(
    row: Subject, names: dict[tuple[str, str], str], locale: str, distance: float | None
) -> SubjectRead:
    return SubjectRead(
        id=row.id,
        district_code=row.district_code,
        kind=row.kind,
        kind_label=translate(locale, SubjectKind(row.kind).label),
        name=row.name,
        uscc=row.uscc,
        id_card_masked=row.id_card_masked,
        representative=row.representative,
        phone=row.phone,
        address=row.address,
        subject_type=row.subject_type_code,
        subject_type_name=names.get((row.district_code, row.subject_type_code), ""),
        risk_level=row.risk_level,
        risk_label=translate(locale, RiskLevel(row.risk_level).label),
        lon=row.lon,
        lat=row.lat,
        geofence=row.geofence,
        geofence_radius_m=row.geofence_radius_m,
        grid_id=row.grid_id,
        unit_id=row.unit_id,
        licences=list(row.licences or []),
        note=row.note,
        active=row.active,
        distance_m=None if distance is None else round(distance, 1),
    )


subject_service = SubjectService()
