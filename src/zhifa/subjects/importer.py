"""Excel import of subjects: every row checked by the registry's own rules, all rows imported or
none, each problem reported by row and column.

Re-importing a file changes nothing: a row naming a subject already registered in the district
(same 统一社会信用代码, else same 身份证号, else same 名称 and 地址) is counted as existing and
left as it is. New rows are created through ``service.register`` (one ``subject.created`` each),
and the import as a whole is one ``subject.imported`` event. A dry run checks and counts, then
rolls back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.errors import AppError, InvalidInput
from zhifa.models.subjects import Subject
from zhifa.org.actor import Actor
from zhifa.subjects import repository as repo
from zhifa.subjects import workbook as wb
from zhifa.subjects.idcard import IdCardKeys
from zhifa.subjects.schemas import ImportReport, SubjectIn
from zhifa.subjects.service import check, field_of, register

MAX_LISTED = 500


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


@dataclass(frozen=True)
class Issue:
    row: int
    column: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    row: wb.SheetRow
    data: SubjectIn
    keys: tuple[str, ...]  # what identifies the subject: ("uscc", …) / ("id", …) / ("name", …)


@dataclass
class Plan:
    new: list[Parsed] = field(default_factory=list)
    existing: int = 0
    issues: list[Issue] = field(default_factory=list)


def _validation_issues(row: wb.SheetRow, exc: ValidationError) -> list[Issue]:
    issues = []
    for error in exc.errors():
        name = str(error["loc"][0]) if error["loc"] else ""
        column = wb.FIELD_COLUMNS.get(name, "")
        if error["type"] in ("missing", "string_too_short"):
            issues.append(Issue(row.number, column, N_("This cell must not be empty.")))
        elif error["type"] == "string_too_long":
            limit = (error.get("ctx") or {}).get("max_length", 0)
            message = N_("Too long: at most {limit} characters.")
            issues.append(Issue(row.number, column, message, {"limit": limit}))
        else:
            issues.append(Issue(row.number, column, N_("This value is not valid here.")))
    return issues


def _cells(row: wb.SheetRow, type_names: dict[str, str]) -> tuple[dict[str, Any], list[Issue]]:
    values: dict[str, Any] = {}
    issues: list[Issue] = []

    def subject_type(text: str) -> str:
        return wb.subject_type_of(text, type_names)

    readers: dict[str, Callable[[str], Any]] = {
        "kind": wb.kind_of,
        "risk_level": wb.risk_of,
        "lon": wb.number_of,
        "lat": wb.number_of,
        "geofence_radius_m": wb.number_of,
        "subject_type": subject_type,
    }
    for column, name in wb.COLUMNS.items():
        text = row.text(column)
        try:
            values[name] = readers[name](text) if name in readers else (text or None)
        except wb.CellError as exc:
            issues.append(Issue(row.number, column, exc.message, exc.params))
    for name in ("representative", "phone", "address", "note"):
        values[name] = values.get(name) or ""
    return values, issues


def _problem_issues(row: wb.SheetRow, problems: list[AppError]) -> list[Issue]:
    return [
        Issue(row.number, wb.FIELD_COLUMNS.get(field_of(p), ""), p.message, dict(p.params))
        for p in problems
    ]


class Planner:
    """Reads every row, checks it, and sorts it into new / existing / refused."""

    def __init__(self, session: Session, actor: Actor, keys: IdCardKeys) -> None:
        self.session, self.actor, self.keys = session, actor, keys
        self.types = {t.name: t.code for t in repo.subject_types(session, actor.district_code)}
        self.seen: dict[tuple[str, ...], int] = {}
        self.plan = Plan()

    def add(self, row: wb.SheetRow) -> None:
        values, issues = _cells(row, self.types)
        if issues:
            self.plan.issues += issues
            return
        try:
            data = SubjectIn.model_validate(values)
        except ValidationError as exc:
            self.plan.issues += _validation_issues(row, exc)
            return
        checked, problems = check(
            self.session,
            district_code=self.actor.district_code,
            scope=self.actor.scope,
            data=data,
            keys=self.keys,
        )
        key = _identity(checked)
        if self._registered(checked):
            self.plan.existing += 1
            return
        if problems:
            self.plan.issues += _problem_issues(row, problems)
            return
        self._add_new(Parsed(row, data, key))

    def _registered(self, values: dict[str, Any]) -> Subject | None:
        district = self.actor.district_code
        if values.get("uscc"):
            return repo.by_uscc_in_district(self.session, district, values["uscc"])
        if values.get("id_card_digest"):
            return repo.by_id_digest_in_district(self.session, district, values["id_card_digest"])
        return repo.by_name_address_in_district(
            self.session, district, values["name"], values["address"]
        )

    def _add_new(self, parsed: Parsed) -> None:
        first = self.seen.get(parsed.keys)
        if first is not None:
            column = {"uscc": "统一社会信用代码", "id": "身份证号"}.get(parsed.keys[0], "名称")
            self.plan.issues.append(
                Issue(
                    parsed.row.number,
                    column,
                    N_("The same subject is already in row {first}."),
                    {"first": first},
                )
            )
            return
        self.seen[parsed.keys] = parsed.row.number
        self.plan.new.append(parsed)


def _identity(values: dict[str, Any]) -> tuple[str, ...]:
    if values.get("uscc"):
        return ("uscc", str(values["uscc"]))
    if values.get("id_card_digest"):
        return ("id", str(values["id_card_digest"]))
    return ("name", str(values["name"]), str(values["address"]))


def refuse(name: str, issues: list[Issue]) -> None:
    if not issues:
        return
    listed = [
        {"row": i.row, "column": i.column, "message": i.message, "params": i.params}
        for i in issues[:MAX_LISTED]
    ]
    raise InvalidInput(
        "{count} problems in {file}; nothing was imported.",
        detail={"field": "file", "problems": listed, "total": len(issues)},
        count=len(issues),
        file=name,
    )


def import_workbook(
    session: Session,
    actor: Actor,
    *,
    name: str,
    content: bytes,
    keys: IdCardKeys,
    dry_run: bool,
) -> ImportReport:
    rows = wb.read_sheet(name, content)
    planner = Planner(session, actor, keys)
    for row in rows:
        planner.add(row)
    plan = planner.plan
    refuse(name, plan.issues)
    created: list[int] = []
    with ledger.savepoint(session, keep=not dry_run):
        for parsed in plan.new:
            created.append(_create(session, actor, parsed, keys).id)
        if created and not dry_run:
            _record_import(session, actor, name, content, len(rows), created, plan.existing)
    return ImportReport(
        dry_run=dry_run,
        file=name,
        rows=len(rows),
        created=len(created),
        existing=plan.existing,
        created_ids=[] if dry_run else created,
    )


def _create(session: Session, actor: Actor, parsed: Parsed, keys: IdCardKeys) -> Subject:
    return register(
        session,
        district_code=actor.district_code,
        scope=actor.scope,
        actor_id=actor.officer_id,
        data=parsed.data,
        keys=keys,
        via="import",
    )


def _record_import(
    session: Session,
    actor: Actor,
    name: str,
    content: bytes,
    rows: int,
    created: list[int],
    existing: int,
) -> None:
    ledger.record(
        session,
        "subject.imported",
        ("district", actor.district_code),
        {
            "file": name,
            "sha256": hashlib.sha256(content).hexdigest(),
            "rows": rows,
            "created": len(created),
            "existing": existing,
            "created_ids": created,
        },
        actor_id=actor.officer_id,
        district_code=actor.district_code,
    )
