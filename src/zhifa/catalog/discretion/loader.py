"""The queries that fetch what the discretion engine needs, and the merged checklist of a subject
type; everything scoped to one district (laws and provisions are national).

For an evaluation: the power and each concurrent power (by code, in the actor's district), the
power and benchmark versions in force on the act date and on the decision date, the district's
policy on both dates (or the default), the text of every cited provision as in force on the act
date, and the articles of the 行政处罚法 the engine's steps rely on. Refusals: an unknown code is
404 naming it; no version in force on the act date is 422 ``act_date``; a power without any
benchmark is 409.

The SQL is in ``queries`` (prepared Core statements): it reads every version of a power up to the
decision date in one round trip, and this module picks the one in force on each date (a power has
a handful of versions). Parsed benchmark and policy specs are cached by their JSON text, so a
stored version is validated once per process.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhifa.catalog.discretion import queries
from zhifa.catalog.discretion.facts import check_dates
from zhifa.catalog.discretion.model import (
    BenchmarkView,
    Candidate,
    CitationView,
    EngineInput,
    PolicyView,
    PowerCandidates,
    PowerView,
)
from zhifa.catalog.discretion.schemas import EvaluationIn
from zhifa.catalog.laws.citations import excerpt, format_citation
from zhifa.catalog.policy import DEFAULT_POLICY, PolicySpec
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.errors import Conflict, InvalidInput, NotFound

PENALTY_LAW = "行政处罚法"
# The articles of the 行政处罚法 (2021) the engine's steps rely on.
PENALTY_LAW_ARTICLES = (28, 29, 30, 32, 33, 36, 37, 49, 51)


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...

    @property
    def effective_from(self) -> date: ...


V = TypeVar("V", bound=_Versioned)


def in_force(rows: Iterable[V], on: date) -> V | None:
    """The latest ``effective_from`` on or before ``on``; of equal dates the higher version."""
    best: V | None = None
    for row in rows:
        if row.effective_from <= on and (
            best is None or (row.effective_from, row.version) > (best.effective_from, best.version)
        ):
            best = row
    return best


# --- Evaluation ---


def load(session: Session, district_code: str, data: EvaluationIn, *, today: date) -> EngineInput:
    """The engine's input for an API request (the decision date defaults to ``today``)."""
    decision_date = data.decision_date or today
    check_dates(data.act_date, decision_date, data.discovered_on, data.continuing_until)
    others = [c for c in dict.fromkeys(data.concurrent_power_codes) if c != data.power_code]
    fields = {data.power_code: "power_code"} | dict.fromkeys(others, "concurrent_power_codes")
    rows = queries.powers(session, district_code, fields, decision_date)
    policies = [
        _PolicyRow(row.id, row.version, row.effective_from, row.spec)
        for row in queries.policies(session, district_code, decision_date)
    ]
    loaded = _candidates(session, rows, fields, data.act_date, decision_date, policies)
    return EngineInput(
        main=loaded[data.power_code],
        concurrent=tuple(loaded[code] for code in others),
        act_date=data.act_date,
        decision_date=decision_date,
        party_type=data.party_type,
        facts=data.facts,
        circumstances=tuple(data.circumstances),
        discovered_on=data.discovered_on,
        continuing_until=data.continuing_until,
        mitigation=data.mitigation,
        chosen_fen=data.chosen_fen,
        reason=data.reason,
        penalty_law=penalty_law(session, decision_date),
    )


@dataclass(frozen=True)
class _PowerRow:
    id: int
    version: int
    effective_from: date
    name: str
    party_types: list[str]
    citations: list[dict[str, Any]]


@dataclass(frozen=True)
class _BenchRow:
    id: int
    version: int
    effective_from: date
    spec: str  # JSON text


@dataclass(frozen=True)
class _PolicyRow:
    id: int
    version: int
    effective_from: date
    spec: str  # JSON text


@dataclass
class _Found:
    power_id: int
    versions: dict[int, _PowerRow]
    benchmarks: dict[int, _BenchRow]


def _found(rows: Sequence[Any]) -> dict[str, _Found]:
    found: dict[str, _Found] = {}
    for row in rows:
        entry = found.setdefault(row.code, _Found(row.power_id, {}, {}))
        if row.pv_id is not None:
            entry.versions[row.pv_id] = _PowerRow(
                row.pv_id, row.pv_version, row.pv_from, row.name, row.party_types, row.citations
            )
        if row.bv_id is not None:
            entry.benchmarks[row.bv_id] = _BenchRow(
                row.bv_id, row.bv_version, row.bv_from, row.spec
            )
    return found


def _candidates(
    session: Session,
    rows: Sequence[Any],
    fields: dict[str, str],
    act_date: date,
    decision_date: date,
    policies: list[_PolicyRow],
) -> dict[str, PowerCandidates]:
    found = _found(rows)
    chosen: dict[str, tuple[_PowerRow, _BenchRow, _PowerRow, _BenchRow]] = {}
    for code, field in fields.items():
        entry = found.get(code)
        if entry is None:
            raise NotFound(
                "There is no power item {code} in your district.",
                detail={"field": field, "code": code},
                code=code,
            )
        p_act = in_force(entry.versions.values(), act_date)
        if p_act is None:
            raise _not_in_force(code, act_date)
        b_act = in_force(entry.benchmarks.values(), act_date)
        if b_act is None:
            raise _no_benchmark(session, code, entry.power_id, act_date)
        p_dec = in_force(entry.versions.values(), decision_date) or p_act
        b_dec = in_force(entry.benchmarks.values(), decision_date) or b_act
        chosen[code] = (p_act, b_act, p_dec, b_dec)
    versions = [row for rows_ in chosen.values() for row in (rows_[0], rows_[2])]
    citations = citation_views(session, [r.citations for r in versions], act_date)
    policy_act = _policy_view(in_force(policies, act_date))
    policy_dec = _policy_view(in_force(policies, decision_date))
    result: dict[str, PowerCandidates] = {}
    for code, (p_act, b_act, p_dec, b_dec) in chosen.items():
        power_id = found[code].power_id
        at_act = _candidate(code, power_id, p_act, b_act, policy_act, citations)
        at_decision = _candidate(code, power_id, p_dec, b_dec, policy_dec, citations)
        result[code] = PowerCandidates(at_act, at_decision)
    return result


def _not_in_force(code: str, on: date) -> InvalidInput:
    return InvalidInput(
        "No version of {code} was in force on {date}.",
        detail={"field": "act_date"},
        code=code,
        date=on.isoformat(),
    )


def _no_benchmark(session: Session, code: str, power_id: int, on: date) -> Exception:
    if not queries.has_benchmark(session, power_id):
        return Conflict(
            "The power item {code} has no discretion benchmark, so no fine can be computed.",
            detail={"field": "power_code", "code": code},
            code=code,
        )
    return InvalidInput(
        "No discretion benchmark of {code} was in force on {date}.",
        detail={"field": "act_date"},
        code=code,
        date=on.isoformat(),
    )


def _candidate(
    code: str,
    power_id: int,
    power: _PowerRow,
    bench: _BenchRow,
    policy: PolicyView,
    citations: dict[int, CitationView],
) -> Candidate:
    view = PowerView(
        power_id=power_id,
        code=code,
        name=power.name,
        version_id=power.id,
        version=power.version,
        effective_from=power.effective_from,
        party_types=tuple(power.party_types),
        citations=_cited(power.citations, citations),
    )
    benchmark = BenchmarkView(bench.id, bench.version, bench.effective_from)
    return Candidate(view, benchmark_spec(bench.spec, code, bench.version), benchmark, policy)


def benchmark_spec(text: str, code: str, version: int) -> BenchmarkSpec:
    """The stored benchmark (JSON text), validated once per distinct text."""
    try:
        return _parsed_benchmark(text)
    except ValidationError as exc:
        raise Conflict(
            "Version {version} of the discretion benchmark of {code} is not valid: {problem}",
            detail={"field": "power_code", "code": code},
            code=code,
            version=version,
            problem=exc.errors()[0]["msg"],
        ) from None


@lru_cache(maxsize=4096)
def _parsed_benchmark(text: str) -> BenchmarkSpec:
    return BenchmarkSpec.model_validate_json(text)


@lru_cache(maxsize=256)
def _parsed_policy(text: str) -> PolicySpec:
    return PolicySpec.model_validate_json(text)


def _policy_view(row: _PolicyRow | None) -> PolicyView:
    if row is None:
        return PolicyView(DEFAULT_POLICY)
    return PolicyView(_parsed_policy(row.spec), row.id, row.version, row.effective_from)


# --- Citations ---


def citation_views(
    session: Session, lists: Iterable[list[dict[str, Any]]], on: date
) -> dict[int, CitationView]:
    """Every provision cited in ``lists`` by id, as its article reads on ``on`` (the cited
    version when the article was not in force yet): a view with the whole article's text."""
    ids = {int(c["provision_id"]) for citations in lists for c in citations}
    best: dict[int, Any] = {}
    for row in queries.cited(session, ids, on):
        held = best.get(row.cited_id)
        newer = held is None or (
            row.current_id is not None
            and (
                held.current_id is None
                or (row.effective_on, row.version) > (held.effective_on, held.version)
            )
        )
        if newer:
            best[row.cited_id] = row
    return {
        cited_id: CitationView(
            role="",
            document_title=row.title,
            label="",  # set per citation, with its paragraph and item (``_cited``)
            text=row.text,
            article=row.article,
            provision_id=row.current_id if row.current_id is not None else cited_id,
        )
        for cited_id, row in best.items()
    }


def _cited(
    citations: list[dict[str, Any]], views: dict[int, CitationView]
) -> tuple[CitationView, ...]:
    """The power version's citations in order, each narrowed to its paragraph and item."""
    out: list[CitationView] = []
    for citation in citations:
        whole = views.get(int(citation["provision_id"]))
        if whole is None:
            continue
        paragraph, item = int(citation.get("paragraph", 0)), int(citation.get("item", 0))
        try:
            text = excerpt(whole.text, paragraph, item)
        except ValueError:
            text = whole.text
        label = _label(whole.document_title, whole.article, paragraph, item)
        out.append(
            CitationView(
                role=str(citation.get("role", "")),
                document_title=whole.document_title,
                label=label,
                text=text,
                article=whole.article,
                provision_id=whole.provision_id,
                paragraph=paragraph,
                item=item,
            )
        )
    return tuple(out)


@lru_cache(maxsize=16_384)
def _label(title: str, article: int, paragraph: int, item: int) -> str:
    return format_citation(title, article, paragraph, item)


def penalty_law(session: Session, on: date) -> dict[int, CitationView]:
    """The 行政处罚法 articles the steps cite, from its revision in force on ``on`` (empty when
    that law is not loaded: the steps still name the articles)."""
    rows = queries.law_articles(session, PENALTY_LAW, PENALTY_LAW_ARTICLES, on)
    if not rows:
        return {}
    document = max(rows, key=lambda r: (r.document_from, r.revision_date, r.document_id))
    best: dict[int, Any] = {}
    for row in rows:
        if row.document_id != document.document_id:
            continue
        held = best.get(row.article)
        if held is None or (row.effective_on, row.version) > (held.effective_on, held.version):
            best[row.article] = row
    return {
        article: CitationView(
            role="rule",
            document_title=row.title,
            label=_label(row.title, article, 0, 0),
            text=row.text,
            article=article,
            provision_id=row.id,
        )
        for article, row in sorted(best.items())
    }


# --- The merged checklist of a subject type ---


@dataclass(frozen=True)
class PowerBasis:
    """A power that applies when a check item fails, with its legal basis."""

    power_id: int
    code: str
    name: str
    citations: tuple[CitationView, ...]


@dataclass(frozen=True)
class ChecklistEntry:
    checklist_code: str
    item_id: int
    item_code: str
    text: str
    guidance: str
    evidence: tuple[str, ...]
    department_id: int
    powers: tuple[PowerBasis, ...]


def checklist_for_subject_type(
    session: Session, district_code: str, subject_type_code: str, on: date
) -> list[ChecklistEntry]:
    """Every active checklist of the subject type in force on ``on``, merged: items in template
    order (templates by code), each once, with its version in force and its powers' names and
    citations."""
    rows = queries.checklists(session, district_code, subject_type_code, on)
    if not rows:
        raise NotFound(
            "There is no subject type {code} in your district.",
            detail={"field": "subject_type", "code": subject_type_code},
            code=subject_type_code,
        )
    order = _checklist_items(rows, on)
    items = _item_versions(session, [item_id for item_id, _ in order], on)
    powers = _power_bases(session, {pid for row in items.values() for pid in row.power_ids}, on)
    return [
        ChecklistEntry(
            checklist_code=checklist_code,
            item_id=item_id,
            item_code=items[item_id].code,
            text=items[item_id].text,
            guidance=items[item_id].guidance,
            evidence=tuple(items[item_id].evidence),
            department_id=items[item_id].department_id,
            powers=tuple(powers[p] for p in items[item_id].power_ids if p in powers),
        )
        for item_id, checklist_code in order
        if item_id in items
    ]


def _checklist_items(rows: Sequence[Any], on: date) -> list[tuple[int, str]]:
    by_checklist: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        if row.code is not None and row.version is not None:
            by_checklist[row.code].append(row)
    order: dict[int, str] = {}
    for code in sorted(by_checklist):
        current = in_force(by_checklist[code], on)
        if current is not None and current.active:
            for item_id in current.item_ids:
                order.setdefault(int(item_id), code)
    return list(order.items())


def _item_versions(session: Session, item_ids: list[int], on: date) -> dict[int, Any]:
    by_item: dict[int, list[Any]] = defaultdict(list)
    for row in queries.item_versions(session, item_ids, on):
        by_item[row.check_item_id].append(row)
    found = {item_id: in_force(rows, on) for item_id, rows in by_item.items()}
    return {item_id: row for item_id, row in found.items() if row is not None}


def _power_bases(session: Session, power_ids: set[int], on: date) -> dict[int, PowerBasis]:
    by_power: dict[int, list[Any]] = defaultdict(list)
    for row in queries.power_versions(session, power_ids, on):
        by_power[row.power_id].append(row)
    current = {pid: in_force(rows, on) for pid, rows in by_power.items()}
    rows = {pid: row for pid, row in current.items() if row is not None}
    views = citation_views(session, [row.citations for row in rows.values()], on)
    return {
        pid: PowerBasis(pid, row.code, row.name, _cited(row.citations, views))
        for pid, row in rows.items()
    }
