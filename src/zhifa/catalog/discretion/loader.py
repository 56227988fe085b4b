"""What the discretion engine needs for one evaluation, read from the district's catalog snapshot
(``catalog.snapshot``): the power and each concurrent power (by code, in the actor's district),
the power and benchmark versions in force on the act date and on the decision date, the
district's policy on both dates (or the default), the text of every cited provision as in force
on the act date, and the articles of the 行政处罚法 the engine's steps rely on.

Refusals: an unknown code is 404 naming its field; no version in force on the act date is 422
``act_date``; a power without any benchmark is 409; a stored benchmark that is not valid is 409.

The snapshot is read once per request (one query for the catalog stamp while it is current) and
everything else is chosen in memory.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from sqlalchemy.orm import Session

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
from zhifa.catalog.snapshot import (
    PENALTY_LAW,
    PENALTY_LAW_ARTICLES,
    BenchmarkRow,
    CitationRef,
    LawRevision,
    PolicyRow,
    PowerEntry,
    PowerVersionRow,
    Snapshot,
    snapshot_for,
)
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.catalog.versions import in_force, provision_in_force
from zhifa.errors import Conflict, InvalidInput, NotFound

__all__ = ["PENALTY_LAW", "PENALTY_LAW_ARTICLES", "load", "penalty_law"]

_Chosen = tuple[PowerEntry, PowerVersionRow, BenchmarkRow, PowerVersionRow, BenchmarkRow]


def load(session: Session, district_code: str, data: EvaluationIn, *, today: date) -> EngineInput:
    """The engine's input for an API request (the decision date defaults to ``today``)."""
    decision_date = data.decision_date or today
    check_dates(data.act_date, decision_date, data.discovered_on, data.continuing_until)
    others = [c for c in dict.fromkeys(data.concurrent_power_codes) if c != data.power_code]
    fields = {data.power_code: "power_code"} | dict.fromkeys(others, "concurrent_power_codes")
    snapshot = snapshot_for(session, district_code)
    loaded = _candidates(snapshot, fields, data.act_date, decision_date)
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
        penalty_law=penalty_law(snapshot, decision_date),
    )


def _candidates(
    snapshot: Snapshot, fields: dict[str, str], act_date: date, decision_date: date
) -> dict[str, PowerCandidates]:
    chosen = {
        code: _chosen(snapshot, code, field, act_date, decision_date)
        for code, field in fields.items()
    }
    policy_act = _policy_view(in_force(snapshot.policies, act_date))
    policy_dec = _policy_view(in_force(snapshot.policies, decision_date))
    result: dict[str, PowerCandidates] = {}
    for code, (power, p_act, b_act, p_dec, b_dec) in chosen.items():
        at_act = _candidate(snapshot, power, p_act, b_act, policy_act, act_date)
        at_decision = _candidate(snapshot, power, p_dec, b_dec, policy_dec, act_date)
        result[code] = PowerCandidates(at_act, at_decision)
    return result


def _chosen(
    snapshot: Snapshot, code: str, field: str, act_date: date, decision_date: date
) -> _Chosen:
    """The power's versions in force on the act and decision dates, or the refusal."""
    power = snapshot.powers.get(code)
    if power is None:
        raise NotFound(
            "There is no power item {code} in your district.",
            detail={"field": field, "code": code},
            code=code,
        )
    p_act = in_force(power.versions, act_date)
    if p_act is None:
        raise _not_in_force(code, act_date)
    b_act = in_force(power.benchmarks, act_date)
    if b_act is None:
        raise _no_benchmark(code, power, act_date)
    p_dec = in_force(power.versions, decision_date) or p_act
    b_dec = in_force(power.benchmarks, decision_date) or b_act
    return power, p_act, b_act, p_dec, b_dec


def _not_in_force(code: str, on: date) -> InvalidInput:
    return InvalidInput(
        "No version of {code} was in force on {date}.",
        detail={"field": "act_date"},
        code=code,
        date=on.isoformat(),
    )


def _no_benchmark(code: str, power: PowerEntry, on: date) -> Exception:
    if not power.benchmarks:
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
    snapshot: Snapshot,
    power: PowerEntry,
    version: PowerVersionRow,
    bench: BenchmarkRow,
    policy: PolicyView,
    act_date: date,
) -> Candidate:
    view = PowerView(
        power_id=power.id,
        code=power.code,
        name=version.name,
        version_id=version.id,
        version=version.version,
        effective_from=version.effective_from,
        party_types=version.party_types,
        citations=citation_views(snapshot, version.citations, act_date),
    )
    benchmark = BenchmarkView(bench.id, bench.version, bench.effective_from)
    return Candidate(view, _benchmark_spec(bench, power.code), benchmark, policy)


def _benchmark_spec(bench: BenchmarkRow, code: str) -> BenchmarkSpec:
    """The benchmark parsed when the snapshot was built; a stored one that is not valid is 409."""
    if bench.spec is None:
        raise Conflict(
            "Version {version} of the discretion benchmark of {code} is not valid: {problem}",
            detail={"field": "power_code", "code": code},
            code=code,
            version=bench.version,
            problem=bench.problem,
        )
    return bench.spec


def _policy_view(row: PolicyRow | None) -> PolicyView:
    if row is None:
        return PolicyView(DEFAULT_POLICY)
    # A stored policy that is not valid fails here, as it always has (it is checked when written).
    spec = row.spec if row.spec is not None else PolicySpec.model_validate_json(row.text)
    return PolicyView(spec, row.id, row.version, row.effective_from)


# --- Citations ---


def citation_views(
    snapshot: Snapshot, citations: tuple[CitationRef, ...], on: date
) -> tuple[CitationView, ...]:
    """A power version's citations in order, each as its article reads on ``on`` (the cited
    version when the article was not in force yet), narrowed to its paragraph and item."""
    out: list[CitationView] = []
    for citation in citations:
        found = snapshot.cited(citation.provision_id, on)
        if found is None:
            continue
        out.append(
            _view(
                citation.role,
                found.document_title,
                found.article,
                found.provision_id,
                found.text,
                citation.paragraph,
                citation.item,
            )
        )
    return tuple(out)


@lru_cache(maxsize=16_384)
def _view(
    role: str, title: str, article: int, provision_id: int, text: str, paragraph: int, item: int
) -> CitationView:
    try:
        part = excerpt(text, paragraph, item)
    except ValueError:
        part = text
    return CitationView(
        role=role,
        document_title=title,
        label=_label(title, article, paragraph, item),
        text=part,
        article=article,
        provision_id=provision_id,
        paragraph=paragraph,
        item=item,
    )


@lru_cache(maxsize=16_384)
def _label(title: str, article: int, paragraph: int, item: int) -> str:
    return format_citation(title, article, paragraph, item)


def penalty_law(snapshot: Snapshot, on: date) -> dict[int, CitationView]:
    """The 行政处罚法 articles the steps cite, from its revision in force on ``on`` (empty when
    that law is not loaded: the steps still name the articles)."""
    revision = _penalty_law_revision(snapshot.penalty_law, on)
    if revision is None:
        return {}
    views: dict[int, CitationView] = {}
    for article in sorted(revision.articles):
        version = provision_in_force(revision.articles[article], on)
        if version is not None:
            views[article] = CitationView(
                role="rule",
                document_title=revision.title,
                label=_label(revision.title, article, 0, 0),
                text=version.text,
                article=article,
                provision_id=version.provision_id,
            )
    return views


def _penalty_law_revision(revisions: tuple[LawRevision, ...], on: date) -> LawRevision | None:
    """The latest revision in force on ``on`` with one of the articles in force by then."""
    best: LawRevision | None = None
    for revision in revisions:
        if revision.effective_on > on or (
            revision.repealed_on is not None and revision.repealed_on <= on
        ):
            continue
        if not any(v.effective_on <= on for vs in revision.articles.values() for v in vs):
            continue
        key = (revision.effective_on, revision.revision_date, revision.document_id)
        if best is None or key > (best.effective_on, best.revision_date, best.document_id):
            best = revision
    return best
