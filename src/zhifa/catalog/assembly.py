"""The merged checklist for a subject type (联合检查清单): what an officer must check on site.

Every active checklist template of the subject type, in code order, contributes its items in its
own order; an item in several templates appears once. Each item carries the powers that apply when
it fails, with their citations and the provision texts in force on the date asked for. This is
what the field-inspection run is built from, so it is read in a fixed number of queries.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from sqlalchemy.orm import Session

from zhifa.catalog import browse, versions
from zhifa.catalog import repository as repo
from zhifa.catalog.schemas import CitationRead
from zhifa.errors import NotFound
from zhifa.models.catalog import PowerKind


class AssembledPower(BaseModel):
    code: str
    name: str
    kind: PowerKind
    version: int
    penalty_text: str
    citations: list[CitationRead]


class AssembledItem(BaseModel):
    code: str
    version: int
    text: str
    guidance: str
    evidence: list[str]
    department_code: str
    department_name: str
    checklists: list[str]
    powers: list[AssembledPower]


class TemplateRef(BaseModel):
    code: str
    name: str
    version: int
    effective_from: date


class AssembledChecklist(BaseModel):
    subject_type: str
    subject_type_name: str
    on: date
    templates: list[TemplateRef]
    joint: bool  # items from more than one department (联合检查)
    departments: list[str]
    items: list[AssembledItem]


def for_subject_type(
    session: Session, district_code: str, subject_type: str, *, on: date
) -> AssembledChecklist:
    kind = repo.subject_type(session, district_code, subject_type)
    if kind is None or not kind.active:
        raise NotFound(
            "Subject type {code} does not exist in this district.",
            detail={"field": "subject_type"},
            code=subject_type,
        )
    lists = repo.checklists(session, district_code, subject_type_id=kind.id)
    list_versions = repo.checklist_versions(session, [c.id for c in lists])
    templates: list[tuple[str, TemplateRef, list[int]]] = []
    for row in lists:
        version = versions.in_force(list_versions[row.id], on)
        if version is not None and version.active:
            ref = TemplateRef(
                code=row.code,
                name=version.name,
                version=version.version,
                effective_from=version.effective_from,
            )
            templates.append((row.code, ref, list(version.item_ids)))
    order: list[int] = []
    member_of: dict[int, list[str]] = {}
    for code, _, item_ids in templates:
        for item_id in item_ids:
            if item_id not in member_of:
                order.append(item_id)
                member_of[item_id] = []
            member_of[item_id].append(code)
    return _assemble(session, district_code, kind.code, kind.name, on, templates, order, member_of)


def _assemble(
    session: Session,
    district_code: str,
    type_code: str,
    type_name: str,
    on: date,
    templates: list[tuple[str, TemplateRef, list[int]]],
    order: list[int],
    member_of: dict[int, list[str]],
) -> AssembledChecklist:
    items = repo.check_items_by_ids(session, order)
    item_versions = repo.check_item_versions(session, order)
    chosen = {i: versions.in_force(item_versions.get(i, []), on) for i in order}
    power_ids = {p for v in chosen.values() if v is not None for p in v.power_ids}
    powers = repo.powers_by_ids(session, power_ids)
    power_versions = repo.power_versions_of(session, power_ids, on)
    texts = browse.load_texts(
        session, (c["provision_id"] for v in power_versions.values() for c in v.citations)
    )
    departments = {d.id: d for d in repo.departments(session, district_code)}
    assembled = []
    names: list[str] = []
    for item_id in order:
        version = chosen[item_id]
        if version is None:
            continue
        dept = departments.get(version.department_id)
        if dept is not None and dept.name not in names:
            names.append(dept.name)
        item_powers = []
        for pid in version.power_ids:
            pv = power_versions.get(pid)
            if pv is None:
                continue
            cited = browse.citation_reads(texts, pv.citations, on)
            item_powers.append(
                AssembledPower(
                    code=powers[pid].code,
                    name=pv.name,
                    kind=PowerKind(pv.kind),
                    version=pv.version,
                    penalty_text=pv.penalty_text,
                    citations=cited,
                )
            )
        assembled.append(
            AssembledItem(
                code=items[item_id].code,
                version=version.version,
                text=version.text,
                guidance=version.guidance,
                evidence=list(version.evidence),
                department_code=dept.code if dept else "",
                department_name=dept.name if dept else "",
                checklists=member_of[item_id],
                powers=item_powers,
            )
        )
    return AssembledChecklist(
        subject_type=type_code,
        subject_type_name=type_name,
        on=on,
        templates=[ref for _, ref, _ in templates],
        joint=len(names) > 1,
        departments=names,
        items=assembled,
    )
