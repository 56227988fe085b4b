"""The merged checklist for a subject type (联合检查清单): what an officer must check on site.

Every active checklist template of the subject type, in code order, contributes its items in its
own order; an item in several templates appears once. Each item carries the powers that apply when
it fails, with their citations and the provision texts in force on the date asked for (the same
texts ``browse.citations_as_on`` shows). This is what the field-inspection run is built from, so it
is read from the district's in-memory catalog snapshot (``catalog.snapshot``): one query for the
catalog stamp while the snapshot is current.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from zhifa.catalog import versions
from zhifa.catalog.laws.citations import excerpt, format_citation
from zhifa.catalog.schemas import CitationRead
from zhifa.catalog.snapshot import CitationRef, Snapshot, snapshot_for
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
    snapshot = snapshot_for(session, district_code)
    kind = snapshot.subject_types.get(subject_type)
    if kind is None or not kind.active:
        raise NotFound(
            "Subject type {code} does not exist in this district.",
            detail={"field": "subject_type"},
            code=subject_type,
        )
    templates: list[dict[str, Any]] = []
    order: dict[int, list[str]] = {}  # item id → the templates it is in, in first-seen order
    for row in snapshot.checklists.get(kind.id, ()):
        version = versions.in_force(row.versions, on)
        if version is None or not version.active:
            continue
        templates.append(
            {
                "code": row.code,
                "name": version.name,
                "version": version.version,
                "effective_from": version.effective_from,
            }
        )
        for item_id in version.item_ids:
            order.setdefault(item_id, []).append(row.code)
    items, departments = _items(snapshot, order, on)
    # Plain data validated once: much cheaper than building every nested model one by one.
    return AssembledChecklist.model_validate(
        {
            "subject_type": kind.code,
            "subject_type_name": kind.name,
            "on": on,
            "templates": templates,
            "joint": len(departments) > 1,
            "departments": departments,
            "items": items,
        }
    )


def _items(
    snapshot: Snapshot, order: dict[int, list[str]], on: date
) -> tuple[list[dict[str, Any]], list[str]]:
    """The items in force on ``on`` with their powers, and their departments' names in order."""
    items: list[dict[str, Any]] = []
    names: list[str] = []
    for item_id, member_of in order.items():
        item = snapshot.check_items.get(item_id)
        version = versions.in_force(item.versions, on) if item is not None else None
        if item is None or version is None:
            continue
        dept = snapshot.departments.get(version.department_id)
        if dept is not None and dept.name not in names:
            names.append(dept.name)
        items.append(
            {
                "code": item.code,
                "version": version.version,
                "text": version.text,
                "guidance": version.guidance,
                "evidence": version.evidence,
                "department_code": dept.code if dept else "",
                "department_name": dept.name if dept else "",
                "checklists": member_of,
                "powers": [
                    power
                    for pid in version.power_ids
                    if (power := _power(snapshot, pid, on)) is not None
                ],
            }
        )
    return items, names


def _power(snapshot: Snapshot, power_id: int, on: date) -> dict[str, Any] | None:
    power = snapshot.powers_by_id.get(power_id)
    version = versions.in_force(power.versions, on) if power is not None else None
    if power is None or version is None:
        return None
    return {
        "code": power.code,
        "name": version.name,
        "kind": version.kind,
        "version": version.version,
        "penalty_text": version.penalty_text,
        "citations": _citations(snapshot, version.citations, on),
    }


def _citations(
    snapshot: Snapshot, citations: tuple[CitationRef, ...], on: date
) -> list[dict[str, Any]]:
    """The citations with the text of each provision version in force on ``on``, exactly as
    ``browse.citation_reads`` gives them."""
    result = []
    for citation in citations:
        found = snapshot.cited(citation.provision_id, on)
        if found is None:
            continue
        paragraph, item = citation.paragraph, citation.item
        label, text = _cited_part(found.document_title, found.article, found.text, paragraph, item)
        result.append(
            {
                "role": citation.role,
                "provision_id": found.provision_id,
                "paragraph": paragraph,
                "item": item,
                "title": found.document_title,
                "label": label,
                "text": text,
            }
        )
    return result


@lru_cache(maxsize=16_384)
def _cited_part(title: str, article: int, text: str, paragraph: int, item: int) -> tuple[str, str]:
    """The citation's label and the cited part, or the whole article when a later revision of
    it no longer has that part (the citation still names the part)."""
    label = format_citation(title, article, paragraph, item)
    try:
        return label, excerpt(text, paragraph, item)
    except ValueError:
        return label, text
