"""The SQL the loader runs, built once (Core statements with bound parameters) so a request pays
only for execution: an evaluation is four round trips (powers with their power and benchmark
versions, the policy versions, the cited provisions, the 行政处罚法 articles), a checklist four.

Rows come back as they are stored; choosing the version in force is the loader's job. Benchmark
and policy specs come back as their JSON text (the loader caches the parsed spec by that text).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Row, Text, and_, bindparam, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

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

# Powers by code with every power version and benchmark version up to a date. Outer joins: a code
# with no row is unknown; a row without versions says which kind is missing.
POWERS = (
    select(
        _power.c.id.label("power_id"),
        _power.c.code,
        _pv.c.id.label("pv_id"),
        _pv.c.version.label("pv_version"),
        _pv.c.effective_from.label("pv_from"),
        _pv.c.name,
        _pv.c.party_types,
        _pv.c.citations,
        _bv.c.id.label("bv_id"),
        _bv.c.version.label("bv_version"),
        _bv.c.effective_from.label("bv_from"),
        cast(_bv.c.spec, Text).label("spec"),
    )
    .select_from(
        _power.outerjoin(
            _pv, and_(_pv.c.power_id == _power.c.id, _pv.c.effective_from <= bindparam("until"))
        ).outerjoin(
            _bv, and_(_bv.c.power_id == _power.c.id, _bv.c.effective_from <= bindparam("until"))
        )
    )
    .where(
        _power.c.district_code == bindparam("district"),
        _power.c.code.in_(bindparam("codes", expanding=True)),
    )
)
ANY_BENCHMARK = select(_bv.c.id).where(_bv.c.power_id == bindparam("power_id")).limit(1)
POLICIES = select(
    _policy.c.id,
    _policy.c.version,
    _policy.c.effective_from,
    cast(_policy.c.spec, Text).label("spec"),
).where(
    _policy.c.district_code == bindparam("district"), _policy.c.effective_from <= bindparam("on")
)

# Each cited provision with every version of its article up to a date (none: the cited row only).
_current = aliased(_provision, name="current")
CITED = (
    select(
        _provision.c.id.label("cited_id"),
        _provision.c.article,
        _document.c.title,
        _current.c.id.label("current_id"),
        func.coalesce(_current.c.text, _provision.c.text).label("text"),
        _current.c.effective_on,
        _current.c.version,
    )
    .select_from(
        _provision.join(_document, _document.c.id == _provision.c.document_id).outerjoin(
            _current,
            and_(
                _current.c.document_id == _provision.c.document_id,
                _current.c.article == _provision.c.article,
                _current.c.effective_on <= bindparam("on"),
            ),
        )
    )
    .where(_provision.c.id.in_(bindparam("ids", expanding=True)))
)
# Articles of a law (by title or short title) from its revisions in force on a date.
LAW_ARTICLES = (
    select(
        _document.c.id.label("document_id"),
        _document.c.title,
        _document.c.effective_on.label("document_from"),
        _document.c.revision_date,
        _provision.c.id,
        _provision.c.article,
        _provision.c.text,
        _provision.c.effective_on,
        _provision.c.version,
    )
    .select_from(_document.join(_provision, _provision.c.document_id == _document.c.id))
    .where(
        or_(_document.c.title == bindparam("title"), _document.c.short_title == bindparam("title")),
        _document.c.effective_on <= bindparam("on"),
        or_(_document.c.repealed_on.is_(None), _document.c.repealed_on > bindparam("on")),
        _provision.c.article.in_(bindparam("articles", expanding=True)),
        _provision.c.effective_on <= bindparam("on"),
    )
)
# A subject type with its checklists and their versions up to a date.
CHECKLISTS = (
    select(
        _subject_type.c.id.label("subject_type_id"),
        _checklist.c.code,
        _cv.c.version,
        _cv.c.effective_from,
        _cv.c.item_ids,
        _cv.c.active,
    )
    .select_from(
        _subject_type.outerjoin(
            _checklist, _checklist.c.subject_type_id == _subject_type.c.id
        ).outerjoin(
            _cv,
            and_(_cv.c.checklist_id == _checklist.c.id, _cv.c.effective_from <= bindparam("on")),
        )
    )
    .where(
        _subject_type.c.district_code == bindparam("district"),
        _subject_type.c.code == bindparam("code"),
    )
)
ITEMS = (
    select(
        _item.c.code,
        _iv.c.check_item_id,
        _iv.c.version,
        _iv.c.effective_from,
        _iv.c.text,
        _iv.c.guidance,
        _iv.c.evidence,
        _iv.c.department_id,
        _iv.c.power_ids,
    )
    .select_from(_iv.join(_item, _item.c.id == _iv.c.check_item_id))
    .where(
        _iv.c.check_item_id.in_(bindparam("ids", expanding=True)),
        _iv.c.effective_from <= bindparam("on"),
    )
)
POWER_VERSIONS = (
    select(
        _power.c.code,
        _pv.c.power_id,
        _pv.c.version,
        _pv.c.effective_from,
        _pv.c.name,
        _pv.c.citations,
    )
    .select_from(_pv.join(_power, _power.c.id == _pv.c.power_id))
    .where(
        _pv.c.power_id.in_(bindparam("ids", expanding=True)),
        _pv.c.effective_from <= bindparam("on"),
    )
)


def run(session: Session, statement: Any, **params: Any) -> Sequence[Row[Any]]:
    """Execute a prepared Core statement on the session's connection (no ORM layer)."""
    return session.connection().execute(statement, params).all()


def powers(
    session: Session, district_code: str, codes: Iterable[str], until: date
) -> Sequence[Row[Any]]:
    return run(session, POWERS, district=district_code, codes=list(codes), until=until)


def has_benchmark(session: Session, power_id: int) -> bool:
    return bool(run(session, ANY_BENCHMARK, power_id=power_id))


def policies(session: Session, district_code: str, until: date) -> Sequence[Row[Any]]:
    return run(session, POLICIES, district=district_code, on=until)


def cited(session: Session, provision_ids: Iterable[int], on: date) -> Sequence[Row[Any]]:
    ids = sorted(set(provision_ids))
    return run(session, CITED, ids=ids, on=on) if ids else []


def law_articles(
    session: Session, title: str, articles: Iterable[int], on: date
) -> Sequence[Row[Any]]:
    return run(session, LAW_ARTICLES, title=title, articles=list(articles), on=on)


def checklists(
    session: Session, district_code: str, subject_type_code: str, on: date
) -> Sequence[Row[Any]]:
    return run(session, CHECKLISTS, district=district_code, code=subject_type_code, on=on)


def item_versions(session: Session, item_ids: Iterable[int], on: date) -> Sequence[Row[Any]]:
    ids = sorted(set(item_ids))
    return run(session, ITEMS, ids=ids, on=on) if ids else []


def power_versions(session: Session, power_ids: Iterable[int], on: date) -> Sequence[Row[Any]]:
    ids = sorted(set(power_ids))
    return run(session, POWER_VERSIONS, ids=ids, on=on) if ids else []
