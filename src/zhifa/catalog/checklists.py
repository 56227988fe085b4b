"""Rules for subject types (执法对象类型), check items (检查事项) and checklist templates
(巡查清单).

Invariants:
- A check item names its department and the powers that apply when it fails, by code, all in the
  same district; a checklist names a subject type and at least one check item, each once.
- Items and templates are versioned like powers: the same content already in force records nothing.
- A subject type is never deleted, only deactivated.
Services never commit; every change is a ledger event.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from zhifa.catalog import repository as repo
from zhifa.catalog.schemas import CheckItemVersionIn, ChecklistVersionIn, SubjectTypeIn
from zhifa.catalog.service import Author, Change, Written, _record, record_version
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.models.catalog import (
    CheckItem,
    CheckItemVersion,
    Checklist,
    ChecklistVersion,
    SubjectType,
)


class SubjectTypeService:
    def create(self, session: Session, author: Author, *, data: SubjectTypeIn) -> SubjectType:
        if repo.subject_type(session, author.district_code, data.code) is not None:
            raise Conflict("Subject type {code} already exists.", code=data.code)
        return self.ensure(session, author, data=data)

    def ensure(self, session: Session, author: Author, *, data: SubjectTypeIn) -> SubjectType:
        """The subject type with this code, created or brought up to date (name, active)."""
        row = repo.subject_type(session, author.district_code, data.code)
        if row is None:
            row = SubjectType(district_code=author.district_code, **data.model_dump())
            session.add(row)
            session.flush()
            _record(session, author, "catalog.subject_type.created", row, {"code": row.code})
            return row
        changes = {
            name: {"before": getattr(row, name), "after": value}
            for name, value in (("name", data.name), ("active", data.active))
            if getattr(row, name) != value
        }
        if changes:
            row.name, row.active = data.name, data.active
            session.flush()
            _record(
                session,
                author,
                "catalog.subject_type.updated",
                row,
                {"code": row.code, "changes": changes},
            )
        return row

    def get(self, session: Session, district_code: str, code: str) -> SubjectType:
        row = repo.subject_type(session, district_code, code)
        if row is None:
            raise NotFound(
                "Subject type {code} does not exist in this district.",
                detail={"field": "subject_type"},
                code=code,
            )
        return row


class CheckItemService:
    def put(
        self, session: Session, author: Author, *, code: str, data: CheckItemVersionIn
    ) -> Written:
        department = repo.department_named(session, author.district_code, data.department)
        if department is None:
            raise InvalidInput(
                "Department {department} does not exist in this district.",
                detail={"field": "department"},
                department=data.department,
            )
        powers = repo.powers_by_codes(session, author.district_code, data.power_codes)
        missing = [c for c in data.power_codes if c not in powers]
        if missing:
            raise InvalidInput(
                "Power {code} is not in the catalog of this district.",
                detail={"field": "power_codes"},
                code="、".join(missing),
            )
        content = {
            "text": data.text.strip(),
            "guidance": data.guidance.strip(),
            "evidence": list(data.evidence),
            "department_id": department.id,
            "power_ids": [powers[c].id for c in data.power_codes],
        }
        row = repo.check_item(session, author.district_code, code)
        return record_version(
            session,
            author,
            Change("check_item", code, content, data.effective_from, data.note),
            identity=row,
            existing=repo.check_item_versions(session, [row.id])[row.id] if row else [],
            new_identity=lambda: CheckItem(district_code=author.district_code, code=code),
            version_model=CheckItemVersion,
            parent_key="check_item_id",
        )


class ChecklistService:
    def put(
        self, session: Session, author: Author, *, code: str, data: ChecklistVersionIn
    ) -> Written:
        subject_type = subject_type_service.get(session, author.district_code, data.subject_type)
        items = repo.check_items_by_codes(session, author.district_code, data.item_codes)
        missing = [c for c in data.item_codes if c not in items]
        if missing:
            raise InvalidInput(
                "Check item {code} does not exist in this district.",
                detail={"field": "item_codes"},
                code="、".join(missing),
            )
        row = repo.checklist(session, author.district_code, code)
        if row is not None and row.subject_type_id != subject_type.id:
            raise Conflict(
                "Checklist {code} belongs to another subject type; use a new code.", code=code
            )
        content = {
            "name": data.name.strip(),
            "item_ids": [items[c].id for c in data.item_codes],
            "active": data.active,
        }
        return record_version(
            session,
            author,
            Change("checklist", code, content, data.effective_from, data.note),
            identity=row,
            existing=repo.checklist_versions(session, [row.id])[row.id] if row else [],
            new_identity=lambda: Checklist(
                district_code=author.district_code, code=code, subject_type_id=subject_type.id
            ),
            version_model=ChecklistVersion,
            parent_key="checklist_id",
        )


subject_type_service = SubjectTypeService()
check_item_service = CheckItemService()
checklist_service = ChecklistService()
