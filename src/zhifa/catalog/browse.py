"""Reading the catalog as people need it: the power list with search, a power with its legal
texts and version history, check items, checklists, and the merged checklist for a subject type.

Everything is read "as on" a date (default today): the versions in force then, and the provision
texts in force then. Queries are batched (one per table, not one per row).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from zhifa.catalog import repository as repo
from zhifa.catalog import versions
from zhifa.catalog.laws.citations import excerpt, format_citation
from zhifa.catalog.schemas import (
    BenchmarkVersionRead,
    CheckItemRead,
    ChecklistRead,
    ChecklistSummary,
    CitationRead,
    PowerDetail,
    PowerPage,
    PowerSummary,
    PowerVersionRead,
    VersionInfo,
)
from zhifa.catalog.service import power_service
from zhifa.catalog.spec import PartyType
from zhifa.errors import NotFound
from zhifa.models.catalog import (
    CheckItemVersion,
    ChecklistVersion,
    CitationRole,
    LegalDocument,
    Power,
    PowerKind,
    PowerStatus,
    PowerVersion,
    Provision,
)
from zhifa.models.org import Department


def _terms(q: str | None) -> list[str]:
    return [t.casefold() for t in (q or "").split() if t]


def _matches(terms: list[str], *texts: str) -> bool:
    haystack = " ".join(texts).casefold()
    return all(term in haystack for term in terms)


def _departments(session: Session, district_code: str) -> dict[int, Department]:
    return {d.id: d for d in repo.departments(session, district_code)}


def _summary(
    power: Power, version: PowerVersion, department: Department | None, has_benchmark: bool
) -> PowerSummary:
    return PowerSummary(
        code=power.code,
        name=version.name,
        kind=PowerKind(version.kind),
        department_code=department.code if department else "",
        department_name=department.name if department else "",
        party_types=[PartyType(p) for p in version.party_types],
        status=PowerStatus(version.status),
        version=version.version,
        effective_from=version.effective_from,
        has_benchmark=has_benchmark,
    )


def power_page(
    session: Session,
    district_code: str,
    *,
    on: date,
    q: str | None = None,
    department: str | None = None,
    kind: PowerKind | None = None,
    limit: int = 50,
    offset: int = 0,
) -> PowerPage:
    """The district's powers in force on ``on``, filtered; every search term must appear in the
    code, name or published penalty text."""
    departments = _departments(session, district_code)
    terms = _terms(q)
    rows = []
    for power, version in repo.power_versions_in_force(session, district_code, on):
        dept = departments.get(version.department_id)
        if kind is not None and version.kind != kind:
            continue
        if department and (dept is None or department not in (dept.code, dept.name)):
            continue
        if terms and not _matches(terms, power.code, version.name, version.penalty_text):
            continue
        rows.append((power, version, dept))
    page = rows[offset : offset + limit]
    with_benchmark = repo.powers_with_benchmark(session, [p.id for p, _, _ in page])
    items = [_summary(p, v, d, p.id in with_benchmark) for p, v, d in page]
    return PowerPage(items=items, total=len(rows))


@dataclass
class Texts:
    """Provision versions and documents needed to show citations, loaded in two queries."""

    provisions: dict[int, Provision] = field(default_factory=dict)
    by_article: dict[tuple[int, int], list[Provision]] = field(default_factory=dict)
    documents: dict[int, LegalDocument] = field(default_factory=dict)


def load_texts(session: Session, provision_ids: Iterable[int]) -> Texts:
    wanted = sorted(set(provision_ids))
    texts = Texts()
    if not wanted:
        return texts
    cited = list(session.scalars(select(Provision).where(Provision.id.in_(wanted))))
    keys = sorted({(p.document_id, p.article) for p in cited})
    stmt = select(Provision).where(tuple_(Provision.document_id, Provision.article).in_(keys))
    grouped: dict[tuple[int, int], list[Provision]] = defaultdict(list)
    for row in session.scalars(stmt):
        grouped[(row.document_id, row.article)].append(row)
        texts.provisions[row.id] = row
    texts.by_article = dict(grouped)
    doc_ids = sorted({p.document_id for p in cited})
    texts.documents = {
        d.id: d for d in session.scalars(select(LegalDocument).where(LegalDocument.id.in_(doc_ids)))
    }
    return texts


def _in_force_text(texts: Texts, provision_id: int, on: date) -> Provision | None:
    cited = texts.provisions.get(provision_id)
    if cited is None:
        return None
    found = versions.provision_in_force(texts.by_article[(cited.document_id, cited.article)], on)
    return found or cited


def citations_as_on(
    session: Session, citations: list[dict[str, Any]], on: date
) -> list[CitationRead]:
    """A power version's citations with the text of each provision version in force on ``on``."""
    return citation_reads(
        load_texts(session, (c["provision_id"] for c in citations)), citations, on
    )


def citation_reads(texts: Texts, citations: list[dict[str, Any]], on: date) -> list[CitationRead]:
    result = []
    for citation in citations:
        provision = _in_force_text(texts, citation["provision_id"], on)
        if provision is None:
            continue
        document = texts.documents[provision.document_id]
        paragraph, item = citation.get("paragraph", 0), citation.get("item", 0)
        result.append(
            CitationRead(
                role=CitationRole(citation["role"]),
                provision_id=provision.id,
                paragraph=paragraph,
                item=item,
                title=document.title,
                label=format_citation(document.title, provision.article, paragraph, item),
                text=_excerpt_or_whole(provision.text, paragraph, item),
            )
        )
    return result


def _excerpt_or_whole(text: str, paragraph: int, item: int) -> str:
    """The cited part, or the whole article when a later revision of it no longer has that part
    (the citation still names the part; the reader sees what the article says now)."""
    try:
        return excerpt(text, paragraph, item)
    except ValueError:
        return text


def power_detail(session: Session, district_code: str, code: str, *, on: date) -> PowerDetail:
    power = power_service.get_power(session, district_code, code)
    all_versions = repo.power_versions(session, power.id)
    current = versions.in_force(all_versions, on)
    benchmarks = repo.benchmark_versions(session, power.id)
    benchmark = versions.in_force(benchmarks, on)
    department = (
        _departments(session, district_code).get(current.department_id) if current else None
    )
    return PowerDetail(
        code=power.code,
        district_code=district_code,
        on=on,
        current=_summary(power, current, department, bool(benchmarks)) if current else None,
        citations=citations_as_on(session, current.citations, on) if current else [],
        responsibility=current.responsibility if current else {},
        penalty_text=current.penalty_text if current else "",
        versions=[PowerVersionRead.model_validate(v, from_attributes=True) for v in all_versions],
        benchmark=BenchmarkVersionRead.model_validate(benchmark, from_attributes=True)
        if benchmark
        else None,
        benchmark_versions=[
            BenchmarkVersionRead.model_validate(b, from_attributes=True) for b in benchmarks
        ],
    )


# ---- check items and checklists -----------------------------------------------------------


def _item_read(
    code: str,
    version: CheckItemVersion,
    departments: dict[int, Department],
    power_codes: dict[int, str],
) -> CheckItemRead:
    dept = departments.get(version.department_id)
    return CheckItemRead(
        code=code,
        version=version.version,
        effective_from=version.effective_from,
        text=version.text,
        guidance=version.guidance,
        evidence=list(version.evidence),
        department_code=dept.code if dept else "",
        department_name=dept.name if dept else "",
        power_codes=[power_codes[i] for i in version.power_ids if i in power_codes],
    )


def check_items(
    session: Session, district_code: str, *, on: date, q: str | None = None
) -> list[CheckItemRead]:
    items = repo.check_items(session, district_code)
    all_versions = repo.check_item_versions(session, [i.id for i in items])
    departments = _departments(session, district_code)
    chosen = [(i, versions.in_force(all_versions[i.id], on)) for i in items]
    power_ids = {pid for _, v in chosen if v is not None for pid in v.power_ids}
    power_codes = {pid: p.code for pid, p in repo.powers_by_ids(session, power_ids).items()}
    terms = _terms(q)
    return [
        _item_read(i.code, v, departments, power_codes)
        for i, v in chosen
        if v is not None and _matches(terms, i.code, v.text, v.guidance)
    ]


def _checklist_summary(
    session: Session, district_code: str, *, on: date, subject_type: str | None = None
) -> list[tuple[ChecklistSummary, ChecklistVersion, list[ChecklistVersion]]]:
    types = {t.id: t for t in repo.subject_types(session, district_code)}
    type_id = None
    if subject_type is not None:
        type_id = next((t.id for t in types.values() if t.code == subject_type), -1)
    lists = repo.checklists(session, district_code, subject_type_id=type_id)
    all_versions = repo.checklist_versions(session, [c.id for c in lists])
    items = repo.check_items_by_ids(
        session, {i for vs in all_versions.values() for v in vs for i in v.item_ids}
    )
    item_versions = repo.check_item_versions(session, items)
    departments = _departments(session, district_code)
    result = []
    for row in lists:
        version = versions.in_force(all_versions[row.id], on)
        if version is None:
            continue
        depts = []
        for item_id in version.item_ids:
            iv = versions.in_force(item_versions.get(item_id, []), on)
            dept = departments.get(iv.department_id) if iv else None
            if dept is not None and dept.name not in depts:
                depts.append(dept.name)
        kind = types[row.subject_type_id]
        summary = ChecklistSummary(
            code=row.code,
            name=version.name,
            subject_type=kind.code,
            subject_type_name=kind.name,
            version=version.version,
            effective_from=version.effective_from,
            items=len(version.item_ids),
            departments=depts,
        )
        result.append((summary, version, all_versions[row.id]))
    return result


def checklists(
    session: Session, district_code: str, *, on: date, subject_type: str | None = None
) -> list[ChecklistSummary]:
    return [
        s
        for s, _, _ in _checklist_summary(session, district_code, on=on, subject_type=subject_type)
    ]


def checklist_detail(session: Session, district_code: str, code: str, *, on: date) -> ChecklistRead:
    found = [
        entry
        for entry in _checklist_summary(session, district_code, on=on)
        if entry[0].code == code
    ]
    if not found:
        raise NotFound(
            "Checklist {code} does not exist in this district or is not in force on {date}.",
            code=code,
            date=on.isoformat(),
        )
    summary, version, history = found[0]
    codes = repo.check_items_by_ids(session, version.item_ids)
    return ChecklistRead(
        **summary.model_dump(),
        item_codes=[codes[i].code for i in version.item_ids if i in codes],
        versions=[VersionInfo.model_validate(v, from_attributes=True) for v in history],
    )


@dataclass(frozen=True)
class CatalogSummary:
    """What a catalog admin's home page counts, as on a date."""

    powers: int
    penalty_powers: int
    without_benchmark: list[str]
    check_items: int
    checklists: int
    subject_types: int


def catalog_summary(session: Session, district_code: str, *, on: date) -> CatalogSummary:
    pairs = repo.power_versions_in_force(session, district_code, on)
    penalties = [p for p, v in pairs if v.kind == PowerKind.PENALTY]
    with_benchmark = repo.powers_with_benchmark(session, [p.id for p in penalties])
    return CatalogSummary(
        powers=len(pairs),
        penalty_powers=len(penalties),
        without_benchmark=[p.code for p in penalties if p.id not in with_benchmark],
        check_items=len(check_items(session, district_code, on=on)),
        checklists=len(checklists(session, district_code, on=on)),
        subject_types=len(repo.subject_types(session, district_code)),
    )
