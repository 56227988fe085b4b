"""Builders for the discretion tests: catalog rows written directly with the models (a district,
a department, statutes and their articles, powers with versions, benchmarks and policies), the
formulas of the worked examples in yuan, and engine inputs built in memory.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from tests import factories
from zhifa.catalog.discretion.model import (
    BenchmarkView,
    Candidate,
    CitationView,
    EngineInput,
    PolicyView,
    PowerCandidates,
    PowerView,
)
from zhifa.catalog.laws.markdown import parse
from zhifa.catalog.policy import DEFAULT_POLICY, PolicySpec
from zhifa.catalog.spec import BenchmarkSpec, Formula, FormulaKind
from zhifa.models.catalog import (
    BenchmarkVersion,
    DiscretionPolicyVersion,
    LawKind,
    LegalDocument,
    Power,
    PowerKind,
    PowerVersion,
    Provision,
)
from zhifa.models.org import Department, Officer
from zhifa.org.roles import Role

LAWS = Path(__file__).resolve().parents[3] / "src" / "zhifa" / "catalog" / "sample" / "laws"
HOME, OTHER = "510184", "510104"
CAFE_LAW = "互联网上网服务营业场所管理条例(2022-03-29).md"
PENALTY_LAW = "行政处罚法(2021-01-22).md"


# --- Formulas, in yuan as the statutes write them ---


def fixed(lo_yuan: int, hi_yuan: int) -> Formula:
    return Formula(kind=FormulaKind.FIXED, min_fen=lo_yuan * 100, max_fen=hi_yuan * 100)


def up_to(hi_yuan: int) -> Formula:
    return Formula(kind=FormulaKind.UP_TO, max_fen=hi_yuan * 100)


def per_unit(fact: str, lo_yuan: int, hi_yuan: int, cap_yuan: int | None = None) -> Formula:
    cap = cap_yuan * 100 if cap_yuan is not None else None
    return Formula(
        kind=FormulaKind.PER_UNIT,
        fact=fact,
        min_fen=lo_yuan * 100,
        max_fen=hi_yuan * 100,
        cap_fen=cap,
    )


def multiple(fact: str, lo: str, hi: str, cap_yuan: int | None = None) -> Formula:
    cap = cap_yuan * 100 if cap_yuan is not None else None
    return Formula(
        kind=FormulaKind.MULTIPLE,
        fact=fact,
        min_factor=Decimal(lo),
        max_factor=Decimal(hi),
        cap_fen=cap,
    )


def percent(fact: str, lo: str, hi: str) -> Formula:
    return Formula(
        kind=FormulaKind.PERCENT, fact=fact, min_factor=Decimal(lo), max_factor=Decimal(hi)
    )


def no_fine() -> Formula:
    return Formula(kind=FormulaKind.NONE)


def spec(**data: Any) -> BenchmarkSpec:
    """A benchmark from keyword parts (formulas may be ``Formula`` objects)."""
    return BenchmarkSpec.model_validate(json.loads(json.dumps(data, default=_plain)))


def _plain(value: object) -> object:
    if isinstance(value, Formula):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value))


# --- Engine inputs in memory (no database) ---


def candidate(
    benchmark: BenchmarkSpec,
    *,
    code: str = "CF-TEST-001",
    name: str = "测试事项",
    party_types: tuple[str, ...] = ("person", "organisation"),
    power_version: int = 1,
    benchmark_version: int = 1,
    effective_from: date = date(2020, 1, 1),
    benchmark_from: date | None = None,
    policy: PolicySpec | None = None,
    citations: tuple[CitationView, ...] = (),
) -> Candidate:
    ids = sum(ord(c) for c in code) * 1000
    power = PowerView(
        power_id=ids,
        code=code,
        name=name,
        version_id=ids + power_version,
        version=power_version,
        effective_from=effective_from,
        party_types=party_types,
        citations=citations,
    )
    bench = BenchmarkView(
        version_id=ids + 100 + benchmark_version,
        version=benchmark_version,
        effective_from=benchmark_from or effective_from,
    )
    policy_view = PolicyView(policy) if policy is not None else PolicyView(DEFAULT_POLICY)
    return Candidate(power, benchmark, bench, policy_view)


def single(c: Candidate) -> PowerCandidates:
    return PowerCandidates(c, c)


def engine_input(
    main: Candidate | PowerCandidates,
    *,
    party: str = "organisation",
    facts: dict[str, object] | None = None,
    circumstances: tuple[str, ...] = (),
    act_date: date = date(2024, 3, 1),
    decision_date: date = date(2024, 5, 10),
    **changes: Any,
) -> EngineInput:
    power = main if isinstance(main, PowerCandidates) else single(main)
    return EngineInput(
        main=power,
        act_date=act_date,
        decision_date=decision_date,
        party_type=party,
        facts=facts or {},
        circumstances=circumstances,
        **changes,
    )


# --- Rows in the database ---


@dataclass
class World:
    district_code: str
    department: Department
    officer: Officer
    headers: dict[str, str]


def world(session: Session, code: str = HOME) -> World:
    factories.district(session, code, f"测试区{code}")
    department = factories.department(session, code, "wenhua", "文化市场")
    officer = factories.officer(session, code, f"officer-{code}", [Role.OFFICER])
    headers = factories.bearer(session, officer)
    session.flush()
    return World(code, department, officer, headers)


def law(session: Session, file_name: str, *, short_title: str, effective_on: date) -> LegalDocument:
    """A statute from the sample texts: the document row and one provision row per article."""
    statute = parse((LAWS / file_name).read_text(encoding="utf-8"))
    revision = date.fromisoformat(file_name.rsplit("(", 1)[1].removesuffix(").md"))
    document = LegalDocument(
        title=statute.title,
        short_title=short_title,
        kind=LawKind.LAW,
        revision_date=revision,
        effective_on=effective_on,
        content_sha256=_digest(statute.title),
    )
    session.add(document)
    session.flush()
    for article in statute.articles:
        session.add(
            Provision(
                document_id=document.id,
                article=article.number,
                label=article.label,
                chapter=article.chapter,
                text=article.text,
                effective_on=effective_on,
            )
        )
    session.flush()
    return document


def provision(session: Session, document: LegalDocument, article: int) -> Provision:
    row = session.query(Provision).filter_by(document_id=document.id, article=article).one()
    assert isinstance(row, Provision)
    return row


def power(
    session: Session,
    place: World,
    code: str,
    *,
    name: str = "测试事项",
    party_types: tuple[str, ...] = ("person", "organisation"),
    effective_from: date = date(2020, 1, 1),
    citations: list[dict[str, Any]] | None = None,
) -> Power:
    row = Power(district_code=place.district_code, code=code)
    session.add(row)
    session.flush()
    power_version(
        session,
        row,
        place,
        1,
        effective_from,
        name=name,
        party_types=party_types,
        citations=citations or [],
    )
    return row


def power_version(
    session: Session,
    row: Power,
    place: World,
    version: int,
    effective_from: date,
    *,
    name: str,
    party_types: tuple[str, ...] = ("person", "organisation"),
    citations: list[dict[str, Any]] | None = None,
) -> PowerVersion:
    version_row = PowerVersion(
        power_id=row.id,
        version=version,
        effective_from=effective_from,
        content_sha256=_digest(f"{row.code}/{version}"),
        name=name,
        kind=PowerKind.PENALTY,
        department_id=place.department.id,
        party_types=list(party_types),
        citations=citations or [],
    )
    session.add(version_row)
    session.flush()
    return version_row


def benchmark(
    session: Session, row: Power, benchmark_spec: BenchmarkSpec, version: int, effective_from: date
) -> BenchmarkVersion:
    data = benchmark_spec.model_dump(mode="json", exclude_none=True)
    version_row = BenchmarkVersion(
        power_id=row.id,
        version=version,
        effective_from=effective_from,
        content_sha256=_digest(json.dumps(data, sort_keys=True)),
        spec=data,
    )
    session.add(version_row)
    session.flush()
    return version_row


def policy(
    session: Session, place: World, policy_spec: PolicySpec, version: int, effective_from: date
) -> DiscretionPolicyVersion:
    data = policy_spec.model_dump(mode="json")
    row = DiscretionPolicyVersion(
        district_code=place.district_code,
        version=version,
        effective_from=effective_from,
        content_sha256=_digest(json.dumps(data, sort_keys=True)),
        spec=data,
    )
    session.add(row)
    session.flush()
    return row


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
