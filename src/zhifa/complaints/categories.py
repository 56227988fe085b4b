"""Complaint categories (the Open311 services): create and change them, check their attribute
definitions, and check a complaint's answers against them.

Invariants:
- A category's code is unique in its district. It is handled by a department of the district, or
  by none — then ``transfer_to`` names the agency its complaints are transferred to.
- Its power codes are powers of the district's catalog; its deadline profile is one of the
  district's SLA profiles.
- Its attributes follow Open311's service definition: a code (unique), a datatype among
  ``string, number, datetime, text, singlevaluelist, multivaluelist``, the question, and for the
  two list types a non-empty list of ``{key, name}`` values (other types have none).
- Every creation and change is one ledger event (``complaint.category.created`` / ``.updated``).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.complaints import repository as repo
from zhifa.complaints.schemas import (
    CategoryAttributeIn,
    CategoryIn,
    CategoryRead,
    CategoryUpdate,
)
from zhifa.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zhifa.models.catalog import Power
from zhifa.models.complaints import ComplaintCategory, SlaProfile
from zhifa.models.org import Department
from zhifa.org.actor import Actor
from zhifa.org.changes import apply_changes, record, snapshot
from zhifa.org.roles import Permission

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = frozenset({"singlevaluelist", "multivaluelist"})
ATTRIBUTE_CODE = re.compile(r"[A-Za-z0-9_\-]{1,40}")
STRING_MAX = 200
TEXT_MAX = 4000
FIELDS: tuple[str, ...] = ComplaintCategory.__ledger_fields__


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


# ---- attribute definitions -------------------------------------------------------------------


def _attribute_error(message: str, index: int, **params: Any) -> InvalidInput:
    where = {"field": f"attributes[{index}]"}
    return InvalidInput(message, detail=where, index=index + 1, **params)


def _values(attr: CategoryAttributeIn, index: int) -> list[dict[str, str]]:
    if attr.datatype not in LIST_TYPES:
        if attr.values:
            raise _attribute_error(
                N_(
                    "Attribute {index}: only the list types (singlevaluelist, multivaluelist) have "
                    "values."
                ),
                index,
            )
        return []
    values: list[dict[str, str]] = []
    for raw in attr.values:
        key = str(raw.get("key", "")).strip()
        name = str(raw.get("name", "")).strip()
        if not key or not name:
            raise _attribute_error(
                N_("Attribute {index}: every value needs a key and a name."), index
            )
        if any(v["key"] == key for v in values):
            raise _attribute_error(
                N_("Attribute {index}: the value key {key} appears twice."), index, key=key
            )
        values.append({"key": key, "name": name})
    if not values:
        raise _attribute_error(
            N_("Attribute {index} is a list ({datatype}): give the values to choose from."),
            index,
            datatype=attr.datatype,
        )
    return values


def _attribute(attr: CategoryAttributeIn, index: int) -> dict[str, Any]:
    code = attr.code.strip()
    if not ATTRIBUTE_CODE.fullmatch(code):
        raise _attribute_error(
            N_("Attribute {index}: the code must be 1–40 letters, digits, _ or -."), index
        )
    if attr.datatype not in DATATYPES:
        raise _attribute_error(
            N_(
                "Attribute {index}: the datatype {datatype} is not an Open311 datatype (string, "
                "number, datetime, text, singlevaluelist, multivaluelist)."
            ),
            index,
            datatype=attr.datatype,
        )
    description = attr.description.strip()
    if not description or len(description) > 500:
        raise _attribute_error(
            N_("Attribute {index}: give the question to ask (at most 500 characters)."), index
        )
    return {
        "code": code,
        "datatype": attr.datatype,
        "required": attr.required,
        "variable": attr.variable,
        "order": attr.order if attr.order is not None else index + 1,
        "description": description,
        "datatype_description": attr.datatype_description.strip(),
        "values": _values(attr, index),
    }


def attribute_definitions(attributes: Sequence[CategoryAttributeIn]) -> list[dict[str, Any]]:
    """Checked and normalised attribute definitions (as stored on the category)."""
    checked = [_attribute(a, i) for i, a in enumerate(attributes)]
    codes = [a["code"] for a in checked]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            raise _attribute_error(
                N_("Attribute {index}: the code {code} appears twice."), i, code=code
            )
    return sorted(checked, key=lambda a: (a["order"], a["code"]))


# ---- answers to the attributes ----------------------------------------------------------------


def _answer_error(message: str, attr: dict[str, Any], **params: Any) -> InvalidInput:
    where = {"field": answer_field(attr["code"])}
    question = attr.get("description") or attr["code"]
    return InvalidInput(message, detail=where, question=question, **params)


def answer_field(code: str) -> str:
    """The ``detail.field`` of the answer to attribute ``code``."""
    return f"attributes.{code}"


def _blank(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def _number(attr: dict[str, Any], value: Any) -> int | float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        number: float = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            raise _answer_error(N_("「{question}」 needs a number."), attr) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise _answer_error(N_("「{question}」 needs a number."), attr)
    return int(number) if number.is_integer() else number


def _datetime(attr: dict[str, Any], value: Any) -> str:
    try:
        return datetime.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise _answer_error(
            N_("「{question}」 needs a date and time such as 2026-05-01T09:30:00+08:00."), attr
        ) from None


def _text(attr: dict[str, Any], value: Any, limit: int) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise _answer_error(N_("「{question}」 needs a text answer."), attr)
    text = str(value).strip()
    if len(text) > limit:
        raise _answer_error(
            N_("「{question}」 allows at most {limit} characters."), attr, limit=limit
        )
    return text


def _choices(attr: dict[str, Any], value: Any) -> list[str]:
    given = value if isinstance(value, list) else [value]
    keys = {str(v["key"]) for v in attr.get("values", [])}
    chosen: list[str] = []
    for item in given:
        key = str(item).strip()
        if key not in keys:
            raise _answer_error(
                N_("「{question}」 has no choice {value}; choose one of: {choices}."),
                attr,
                value=key,
                choices=", ".join(str(v["key"]) for v in attr.get("values", [])),
            )
        if key not in chosen:
            chosen.append(key)
    if attr["datatype"] == "singlevaluelist" and len(chosen) > 1:
        raise _answer_error(N_("「{question}」 takes one choice only."), attr)
    return chosen


def _answer(attr: dict[str, Any], value: Any) -> Any:
    datatype = attr["datatype"]
    if datatype == "number":
        return _number(attr, value)
    if datatype == "datetime":
        return _datetime(attr, value)
    if datatype == "singlevaluelist":
        return _choices(attr, value)[0]
    if datatype == "multivaluelist":
        return _choices(attr, value)
    return _text(attr, value, TEXT_MAX if datatype == "text" else STRING_MAX)


def check_answers(
    category: ComplaintCategory, given: dict[str, Any], *, require: bool = True
) -> dict[str, Any]:
    """The complaint's answers checked against the category's attributes (required ones given
    unless ``require`` is off, types right, list values among the choices, no unknown keys),
    normalised."""
    asked = {a["code"]: a for a in category.attributes or [] if a.get("variable", True)}
    for code in given:
        if code not in asked:
            where = {"field": answer_field(code)}
            raise InvalidInput(
                "The category {category} asks no question {code}.",
                detail=where,
                category=category.name,
                code=code,
            )
    answers: dict[str, Any] = {}
    for code, attr in asked.items():
        value = given.get(code)
        if _blank(value):
            if require and attr.get("required"):
                raise _answer_error(N_("「{question}」 must be answered."), attr)
            continue
        answers[code] = _answer(attr, value)
    return answers


# ---- the service ------------------------------------------------------------------------------


def _check_configure(actor: Actor) -> None:
    if not actor.can(Permission.COMPLAINTS_CONFIGURE):
        raise PermissionDenied(
            "Your role does not allow this action.",
            detail={"permission": str(Permission.COMPLAINTS_CONFIGURE)},
        )


def _department(session: Session, district_code: str, code: str | None) -> Department | None:
    if code is None or not code.strip():
        return None
    row = session.scalar(
        select(Department).where(
            Department.district_code == district_code, Department.code == code.strip()
        )
    )
    if row is None or not row.active:
        raise InvalidInput(
            "No active department with code {code} in this district.",
            detail={"field": "department_code"},
            code=code.strip(),
        )
    return row


def _power_codes(session: Session, district_code: str, codes: Sequence[str]) -> list[str]:
    wanted = list(dict.fromkeys(c.strip() for c in codes if c.strip()))
    if not wanted:
        return []
    known = set(
        session.scalars(
            select(Power.code).where(Power.district_code == district_code, Power.code.in_(wanted))
        )
    )
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise InvalidInput(
            "These power codes are not in this district's power list: {codes}.",
            detail={"field": "power_codes", "unknown": unknown},
            codes=", ".join(unknown),
        )
    return wanted


def _sla_profile(session: Session, district_code: str, code: str) -> str:
    code = code.strip()
    exists = session.scalar(
        select(SlaProfile.id).where(
            SlaProfile.district_code == district_code, SlaProfile.code == code
        )
    )
    if exists is None:
        raise InvalidInput(
            "There is no deadline profile {code} in this district; create it first.",
            detail={"field": "sla_profile"},
            code=code,
        )
    return code


def _keywords(words: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(w.strip()[:40] for w in words if w.strip()))


def _check_transfer(department_id: int | None, transfer_to: str) -> None:
    if department_id is None and not transfer_to.strip():
        raise InvalidInput(
            "A category no department of the bureau handles needs the agency its complaints are "
            "transferred to.",
            detail={"field": "transfer_to"},
        )


def category_reads(session: Session, rows: Sequence[ComplaintCategory]) -> list[CategoryRead]:
    ids = {r.department_id for r in rows if r.department_id is not None}
    departments = (
        {d.id: d for d in session.scalars(select(Department).where(Department.id.in_(ids)))}
        if ids
        else {}
    )
    reads = []
    for row in rows:
        read = CategoryRead.model_validate(row)
        department = departments.get(row.department_id) if row.department_id else None
        if department is not None:
            read.department_code = department.code
            read.department_name = department.name
        reads.append(read)
    return reads


class CategoryService:
    def list(
        self, session: Session, actor: Actor, *, active: bool | None = None
    ) -> builtins.list[ComplaintCategory]:
        return repo.categories(session, actor.district_code, active=active)

    def get(self, session: Session, actor: Actor, *, category_id: int) -> ComplaintCategory:
        row = repo.category(session, actor.district_code, category_id)
        if row is None:
            raise NotFound(
                "Complaint category {category_id} does not exist in your district.",
                category_id=category_id,
            )
        return row

    def create(self, session: Session, actor: Actor, *, data: CategoryIn) -> ComplaintCategory:
        _check_configure(actor)
        district = actor.district_code
        if repo.category_by_code(session, district, data.code) is not None:
            raise Conflict(
                "Category code {code} is already used in this district.",
                detail={"field": "code"},
                code=data.code,
            )
        department = _department(session, district, data.department_code)
        _check_transfer(department.id if department else None, data.transfer_to)
        row = ComplaintCategory(
            district_code=district,
            code=data.code,
            name=data.name.strip(),
            description=data.description.strip(),
            group=data.group.strip(),
            keywords=_keywords(data.keywords),
            hotline_type=data.hotline_type,
            department_id=department.id if department else None,
            power_codes=_power_codes(session, district, data.power_codes),
            transfer_to=data.transfer_to.strip(),
            sla_profile=_sla_profile(session, district, data.sla_profile),
            priority=data.priority,
            auto_dispatch=data.auto_dispatch,
            attributes=attribute_definitions(data.attributes),
            subject_type_code=data.subject_type_code.strip(),
            sort_order=data.sort_order,
            active=data.active,
        )
        session.add(row)
        session.flush()
        record(
            session,
            actor,
            "complaint.category.created",
            row,
            snapshot(row, FIELDS),
            district_code=district,
        )
        return row

    def update(
        self, session: Session, actor: Actor, *, category_id: int, data: CategoryUpdate
    ) -> ComplaintCategory:
        _check_configure(actor)
        row = self.get(session, actor, category_id=category_id)
        values = self._values(session, row, data)
        department_id = values.get("department_id", row.department_id)
        _check_transfer(department_id, values.get("transfer_to", row.transfer_to))
        changes = apply_changes(row, values)
        if changes:
            session.flush()
            record(
                session,
                actor,
                "complaint.category.updated",
                row,
                {"changes": changes},
                district_code=row.district_code,
            )
        return row

    def _values(
        self, session: Session, row: ComplaintCategory, data: CategoryUpdate
    ) -> dict[str, Any]:
        sent = data.model_dump(exclude_unset=True)
        district = row.district_code
        values: dict[str, Any] = {}
        for name in ("name", "description", "group", "transfer_to", "subject_type_code"):
            if sent.get(name) is not None:
                values[name] = str(sent[name]).strip()
        for name in ("hotline_type", "priority", "auto_dispatch", "sort_order", "active"):
            if sent.get(name) is not None:
                values[name] = getattr(data, name)
        if "department_code" in sent:
            department = _department(session, district, data.department_code)
            values["department_id"] = department.id if department else None
        if data.keywords is not None:
            values["keywords"] = _keywords(data.keywords)
        if data.power_codes is not None:
            values["power_codes"] = _power_codes(session, district, data.power_codes)
        if data.sla_profile is not None:
            values["sla_profile"] = _sla_profile(session, district, data.sla_profile)
        if data.attributes is not None:
            values["attributes"] = attribute_definitions(data.attributes)
        return values


category_service = CategoryService()
