"""An in-memory snapshot of one district's catalog, for the reads that must answer in a millisecond:
the discretion engine's input (``discretion.loader``) and the merged checklist of a subject type
(``assembly``).

A snapshot holds everything those two read, for every date: each power with all its versions and
all its benchmark versions (the ``BenchmarkSpec`` parsed once), the district's policy versions
(the ``PolicySpec`` parsed once), every provision a power version cites with every version of its
article, the articles of the 行政处罚法 the engine cites (every revision and version), subject
types, checklists and check items with all their versions, and the departments. Choosing the
version in force on a date is the reader's job, in memory.

Invariants:
- A snapshot is immutable: frozen dataclasses, tuples, and dicts never changed after the build.
- It is built in one query per table and labelled with the catalog stamp read before the build
  (``models.catalog_stamp``); a cached snapshot is used only while the stamp read by the current
  session equals its label, so a committed catalog change is seen by the next read.
- A session with catalog writes of its own not yet committed gets a snapshot built for it alone
  (never cached): it sees its own writes, and nobody else sees them.
- The cache is process-wide, keyed by (database URL without password, district code), guarded by
  a lock, and holds at most ``MAX_SNAPSHOTS`` districts (the least recently used is dropped).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import BindParameter, Row, Text, and_, bindparam, cast, or_, select
from sqlalchemy.orm import Session, aliased

from zhifa.catalog.policy import PolicySpec
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.catalog.versions import provision_in_force
from zhifa.models.catalog import (
    BenchmarkVersion,
    CheckItem,
    CheckItemVersion,
    Checklist,
    ChecklistVersion,
    DiscretionPolicyVersion,
    LegalDocument,
    Power,
    PowerVersion,
    Provision,
    SubjectType,
)
from zhifa.models.catalog_stamp import current_stamp, has_uncommitted_changes
from zhifa.models.org import Department

PENALTY_LAW = "行政处罚法"
# The articles of the 行政处罚法 (2021) the engine's steps rely on.
PENALTY_LAW_ARTICLES = (28, 29, 30, 32, 33, 36, 37, 49, 51)
MAX_SNAPSHOTS = 64
# Provision ids per statement (well under every driver's limit on bound values).
IDS_PER_QUERY = 500


# --- What a snapshot holds ---


@dataclass(frozen=True)
class CitationRef:
    """One citation of a power version: ``paragraph`` and ``item`` 0 mean "the whole"."""

    role: str
    provision_id: int
    paragraph: int = 0
    item: int = 0


@dataclass(frozen=True)
class PowerVersionRow:
    id: int
    version: int
    effective_from: date
    name: str
    kind: str
    party_types: tuple[str, ...]
    citations: tuple[CitationRef, ...]
    department_id: int
    status: str
    penalty_text: str


@dataclass(frozen=True)
class BenchmarkRow:
    """A benchmark version; ``spec`` is None when the stored spec is not valid (``problem``)."""

    id: int
    version: int
    effective_from: date
    spec: BenchmarkSpec | None
    problem: str
    text: str  # the stored JSON: a rebuild reuses the parsed spec of the same text


@dataclass(frozen=True)
class PowerEntry:
    id: int
    code: str
    versions: tuple[PowerVersionRow, ...]
    benchmarks: tuple[BenchmarkRow, ...]


@dataclass(frozen=True)
class PolicyRow:
    """A policy version; ``spec`` is None when the stored ``text`` is not a valid policy."""

    id: int
    version: int
    effective_from: date
    spec: PolicySpec | None
    text: str


@dataclass(frozen=True)
class ArticleVersion:
    """One version of an article (条) of a legal document, with its full text."""

    provision_id: int
    version: int
    effective_on: date
    text: str
    document_title: str
    article: int


@dataclass(frozen=True)
class CitedProvision:
    """A provision some power version cites, with every version of its article."""

    own: ArticleVersion
    versions: tuple[ArticleVersion, ...]

    def as_on(self, on: date) -> ArticleVersion:
        """The article's version in force on ``on``, or the cited one when none was yet."""
        return provision_in_force(self.versions, on) or self.own


@dataclass(frozen=True)
class LawRevision:
    """A revision of the 行政处罚法 with the versions of the articles the engine cites."""

    document_id: int
    title: str
    effective_on: date
    revision_date: date
    repealed_on: date | None
    articles: Mapping[int, tuple[ArticleVersion, ...]]


@dataclass(frozen=True)
class SubjectTypeRow:
    id: int
    code: str
    name: str
    active: bool


@dataclass(frozen=True)
class ChecklistVersionRow:
    version: int
    effective_from: date
    name: str
    item_ids: tuple[int, ...]
    active: bool


@dataclass(frozen=True)
class ChecklistEntry:
    id: int
    code: str
    versions: tuple[ChecklistVersionRow, ...]


@dataclass(frozen=True)
class CheckItemVersionRow:
    version: int
    effective_from: date
    text: str
    guidance: str
    evidence: tuple[str, ...]
    department_id: int
    power_ids: tuple[int, ...]


@dataclass(frozen=True)
class CheckItemEntry:
    id: int
    code: str
    versions: tuple[CheckItemVersionRow, ...]


@dataclass(frozen=True)
class DepartmentRow:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class Snapshot:
    district_code: str
    stamp: str  # the catalog stamp it was built under
    powers: Mapping[str, PowerEntry]  # by code
    powers_by_id: Mapping[int, PowerEntry]
    policies: tuple[PolicyRow, ...]
    provisions: Mapping[int, CitedProvision]  # every provision a power version cites, by id
    penalty_law: tuple[LawRevision, ...]
    subject_types: Mapping[str, SubjectTypeRow]  # by code
    checklists: Mapping[int, tuple[ChecklistEntry, ...]]  # by subject type id, in code order
    check_items: Mapping[int, CheckItemEntry]
    departments: Mapping[int, DepartmentRow]

    def cited(self, provision_id: int, on: date) -> ArticleVersion | None:
        """A cited provision as it reads on ``on`` (None: no such provision)."""
        found = self.provisions.get(provision_id)
        return None if found is None else found.as_on(on)


# --- The cache ---

_cache: OrderedDict[tuple[str, str], Snapshot] = OrderedDict()
_lock = threading.Lock()


def snapshot_for(session: Session, district_code: str) -> Snapshot:
    """The district's snapshot as of the catalog stamp this session reads (cached, or built)."""
    session.flush()  # the session's own pending writes count as its catalog changes
    key = (_database(session), district_code)
    own_changes = has_uncommitted_changes(session)
    stamp = "" if own_changes else current_stamp(session)
    with _lock:
        cached = _cache.get(key)
        if cached is not None and cached.stamp == stamp and not own_changes:
            _cache.move_to_end(key)
            return cached
    fresh = build(session, district_code, stamp=stamp, previous=cached)
    if own_changes:
        return fresh  # this session's view, with its uncommitted writes: never shared
    with _lock:
        _cache[key] = fresh
        _cache.move_to_end(key)
        while len(_cache) > MAX_SNAPSHOTS:
            _cache.popitem(last=False)
    return fresh


def _database(session: Session) -> str:
    return session.get_bind().engine.url.render_as_string(hide_password=True)


# --- Building: one query per table ---

_power = Power.__table__
_pv = PowerVersion.__table__
_bv = BenchmarkVersion.__table__
_policy = DiscretionPolicyVersion.__table__
_provision = Provision.__table__
_document = LegalDocument.__table__
_subject_type = SubjectType.__table__
_checklist = Checklist.__table__
_cv = ChecklistVersion.__table__
_item = CheckItem.__table__
_iv = CheckItemVersion.__table__
_department = Department.__table__
_district: BindParameter[str] = bindparam("district")

POWERS = select(_power.c.id, _power.c.code).where(_power.c.district_code == _district)
POWER_VERSIONS = (
    select(
        _pv.c.id,
        _pv.c.power_id,
        _pv.c.version,
        _pv.c.effective_from,
        _pv.c.name,
        _pv.c.kind,
        _pv.c.party_types,
        _pv.c.citations,
        _pv.c.department_id,
        _pv.c.status,
        _pv.c.penalty_text,
    )
    .join(_power, _power.c.id == _pv.c.power_id)
    .where(_power.c.district_code == _district)
)
BENCHMARKS = (
    select(
        _bv.c.id,
        _bv.c.power_id,
        _bv.c.version,
        _bv.c.effective_from,
        cast(_bv.c.spec, Text).label("spec"),  # JSON text: parsed by the spec's own parser
    )
    .join(_power, _power.c.id == _bv.c.power_id)
    .where(_power.c.district_code == _district)
)
POLICIES = select(
    _policy.c.id,
    _policy.c.version,
    _policy.c.effective_from,
    cast(_policy.c.spec, Text).label("spec"),
).where(_policy.c.district_code == _district)
# Each cited provision with every version of its article (the cited row is one of them).
_version = aliased(_provision, name="article_version")
ARTICLES = (
    select(
        _provision.c.id.label("cited_id"),
        _document.c.title,
        _version.c.id,
        _version.c.article,
        _version.c.version,
        _version.c.effective_on,
        _version.c.text,
    )
    .select_from(_provision)
    .join(_document, _document.c.id == _provision.c.document_id)
    .join(
        _version,
        and_(
            _version.c.document_id == _provision.c.document_id,
            _version.c.article == _provision.c.article,
        ),
    )
    .where(_provision.c.id.in_(bindparam("ids", expanding=True)))
)
PENALTY_LAW_TEXTS = (
    select(
        _document.c.id.label("document_id"),
        _document.c.title,
        _document.c.effective_on.label("document_from"),
        _document.c.revision_date,
        _document.c.repealed_on,
        _provision.c.id,
        _provision.c.article,
        _provision.c.version,
        _provision.c.effective_on,
        _provision.c.text,
    )
    .join(_provision, _provision.c.document_id == _document.c.id)
    .where(
        or_(_document.c.title == PENALTY_LAW, _document.c.short_title == PENALTY_LAW),
        _provision.c.article.in_(PENALTY_LAW_ARTICLES),
    )
)
SUBJECT_TYPES = select(
    _subject_type.c.id, _subject_type.c.code, _subject_type.c.name, _subject_type.c.active
).where(_subject_type.c.district_code == _district)
# In the database's code order, as the checklist templates are listed everywhere else.
CHECKLISTS = (
    select(_checklist.c.id, _checklist.c.code, _checklist.c.subject_type_id)
    .where(_checklist.c.district_code == _district)
    .order_by(_checklist.c.code)
)
CHECKLIST_VERSIONS = (
    select(
        _cv.c.checklist_id,
        _cv.c.version,
        _cv.c.effective_from,
        _cv.c.name,
        _cv.c.item_ids,
        _cv.c.active,
    )
    .join(_checklist, _checklist.c.id == _cv.c.checklist_id)
    .where(_checklist.c.district_code == _district)
)
CHECK_ITEMS = select(_item.c.id, _item.c.code).where(_item.c.district_code == _district)
CHECK_ITEM_VERSIONS = (
    select(
        _iv.c.check_item_id,
        _iv.c.version,
        _iv.c.effective_from,
        _iv.c.text,
        _iv.c.guidance,
        _iv.c.evidence,
        _iv.c.department_id,
        _iv.c.power_ids,
    )
    .join(_item, _item.c.id == _iv.c.check_item_id)
    .where(_item.c.district_code == _district)
)
DEPARTMENTS = select(_department.c.id, _department.c.code, _department.c.name).where(
    _department.c.district_code == _district
)


def _run(session: Session, statement: Any, **params: Any) -> Sequence[Row[Any]]:
    return session.connection().execute(statement, params).all()


def build(
    session: Session, district_code: str, *, stamp: str, previous: Snapshot | None = None
) -> Snapshot:
    """Read the district's catalog (one query per table) into a new snapshot. Benchmarks whose
    stored text is unchanged since ``previous`` keep their parsed spec (parsing is most of the
    cost of a build)."""
    parsed = {
        b.text: b for p in (previous.powers.values() if previous else ()) for b in p.benchmarks
    }
    powers = _powers(session, district_code, parsed)
    cited = {c.provision_id for p in powers for v in p.versions for c in v.citations}
    checklists, subject_types = _checklists(session, district_code)
    return Snapshot(
        district_code=district_code,
        stamp=stamp,
        powers={p.code: p for p in powers},
        powers_by_id={p.id: p for p in powers},
        policies=tuple(_policy_row(r) for r in _run(session, POLICIES, district=district_code)),
        provisions=_provisions(session, cited),
        penalty_law=_penalty_law(session),
        subject_types=subject_types,
        checklists=checklists,
        check_items=_check_items(session, district_code),
        departments={
            r.id: DepartmentRow(r.id, r.code, r.name)
            for r in _run(session, DEPARTMENTS, district=district_code)
        },
    )


def _powers(
    session: Session, district_code: str, parsed: Mapping[str, BenchmarkRow]
) -> list[PowerEntry]:
    versions: dict[int, list[PowerVersionRow]] = defaultdict(list)
    for r in _run(session, POWER_VERSIONS, district=district_code):
        versions[r.power_id].append(
            PowerVersionRow(
                id=r.id,
                version=r.version,
                effective_from=r.effective_from,
                name=r.name,
                kind=r.kind,
                party_types=tuple(r.party_types),
                citations=tuple(_citation(c) for c in r.citations),
                department_id=r.department_id,
                status=r.status,
                penalty_text=r.penalty_text,
            )
        )
    benchmarks: dict[int, list[BenchmarkRow]] = defaultdict(list)
    for r in _run(session, BENCHMARKS, district=district_code):
        benchmarks[r.power_id].append(_benchmark_row(r, parsed.get(r.spec)))
    return [
        PowerEntry(r.id, r.code, _ordered(versions[r.id]), _ordered(benchmarks[r.id]))
        for r in _run(session, POWERS, district=district_code)
    ]


def _citation(data: dict[str, Any]) -> CitationRef:
    return CitationRef(
        role=str(data.get("role", "")),
        provision_id=int(data["provision_id"]),
        paragraph=int(data.get("paragraph", 0)),
        item=int(data.get("item", 0)),
    )


def _ordered(rows: list[Any]) -> tuple[Any, ...]:
    return tuple(sorted(rows, key=lambda v: (v.effective_from, v.version)))


def _benchmark_row(r: Row[Any], same_text: BenchmarkRow | None) -> BenchmarkRow:
    if same_text is not None:
        spec, problem = same_text.spec, same_text.problem
    else:
        try:
            spec, problem = BenchmarkSpec.model_validate_json(r.spec), ""
        except ValidationError as exc:
            spec, problem = None, str(exc.errors()[0]["msg"])
    return BenchmarkRow(r.id, r.version, r.effective_from, spec, problem, r.spec)


def _policy_row(r: Row[Any]) -> PolicyRow:
    try:
        spec: PolicySpec | None = PolicySpec.model_validate_json(r.spec)
    except ValidationError:
        spec = None
    return PolicyRow(r.id, r.version, r.effective_from, spec, r.spec)


def _chunks(ids: Iterable[int]) -> Iterator[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), IDS_PER_QUERY):
        yield ordered[start : start + IDS_PER_QUERY]


def _provisions(session: Session, ids: set[int]) -> dict[int, CitedProvision]:
    versions: dict[int, list[ArticleVersion]] = defaultdict(list)
    for chunk in _chunks(ids):
        for r in _run(session, ARTICLES, ids=chunk):
            versions[r.cited_id].append(
                ArticleVersion(r.id, r.version, r.effective_on, r.text, r.title, r.article)
            )
    return {
        cited_id: CitedProvision(
            own=next(v for v in found if v.provision_id == cited_id), versions=tuple(found)
        )
        for cited_id, found in versions.items()
    }


def _penalty_law(session: Session) -> tuple[LawRevision, ...]:
    documents: dict[int, Row[Any]] = {}
    articles: dict[int, dict[int, list[ArticleVersion]]] = defaultdict(lambda: defaultdict(list))
    for r in _run(session, PENALTY_LAW_TEXTS):
        documents[r.document_id] = r
        articles[r.document_id][r.article].append(
            ArticleVersion(r.id, r.version, r.effective_on, r.text, r.title, r.article)
        )
    return tuple(
        LawRevision(
            document_id=document_id,
            title=r.title,
            effective_on=r.document_from,
            revision_date=r.revision_date,
            repealed_on=r.repealed_on,
            articles={number: tuple(rows) for number, rows in articles[document_id].items()},
        )
        for document_id, r in documents.items()
    )


def _checklists(
    session: Session, district_code: str
) -> tuple[dict[int, tuple[ChecklistEntry, ...]], dict[str, SubjectTypeRow]]:
    subject_types = {
        r.code: SubjectTypeRow(r.id, r.code, r.name, bool(r.active))
        for r in _run(session, SUBJECT_TYPES, district=district_code)
    }
    versions: dict[int, list[ChecklistVersionRow]] = defaultdict(list)
    for r in _run(session, CHECKLIST_VERSIONS, district=district_code):
        versions[r.checklist_id].append(
            ChecklistVersionRow(
                r.version, r.effective_from, r.name, tuple(int(i) for i in r.item_ids), r.active
            )
        )
    by_type: dict[int, list[ChecklistEntry]] = defaultdict(list)
    for r in _run(session, CHECKLISTS, district=district_code):
        entry = ChecklistEntry(r.id, r.code, _ordered(versions[r.id]))
        by_type[r.subject_type_id].append(entry)
    return {k: tuple(v) for k, v in by_type.items()}, subject_types


def _check_items(session: Session, district_code: str) -> dict[int, CheckItemEntry]:
    versions: dict[int, list[CheckItemVersionRow]] = defaultdict(list)
    for r in _run(session, CHECK_ITEM_VERSIONS, district=district_code):
        versions[r.check_item_id].append(
            CheckItemVersionRow(
                version=r.version,
                effective_from=r.effective_from,
                text=r.text,
                guidance=r.guidance,
                evidence=tuple(r.evidence),
                department_id=r.department_id,
                power_ids=tuple(int(p) for p in r.power_ids),
            )
        )
    return {
        r.id: CheckItemEntry(r.id, r.code, _ordered(versions[r.id]))
        for r in _run(session, CHECK_ITEMS, district=district_code)
    }
