"""The discretion engine and checklist assembly against a catalog of 1,394 powers.

Usage: ``python bench/bench_discretion.py [--quick]`` (``--quick``: fewer operations, SQLite only).

A catalog the size of Chongzhou's power list is generated in a temporary database (SQLite, then
PostgreSQL when ``ZHIFA_BENCH_PG_URL`` is set or a ``zhifa_bench_discretion`` database can be
made on the local test server): 1,394 powers of every formula family (fixed, ≤ max, per unit,
multiple, percentage, no fine; a third with bands; every fifth with a second power and benchmark
version), each citing two articles of statutes loaded from the sample texts (and the
行政处罚法), 40 subject types with checklists of about 17 items.

Both reads are served from the district's in-memory catalog snapshot (``catalog.snapshot``),
checked against the catalog stamp on every call. First the cold build of that snapshot is timed
once (the first read after a catalog change pays it). Then each operation runs in its own session,
as a request would, and is timed on its own, with the snapshot warm:
- baseline: ``session.get`` of one power by primary key (a fresh read);
- checklist assembly for a random subject type (``assembly.for_subject_type``: the checklist
  versions in force, their items' versions, each item's powers' names and citations);
- evaluation of a random power: ``loader.load`` + ``engine.evaluate`` (load and compute), and the
  same plus the API shape with Chinese texts (``schemas.present``);
- and the floor under both: the catalog stamp read alone, in its own session.
It prints p50 and p99 in ms and whether p99 ≤ 1 ms (the goal; nothing is asserted).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from zhifa import migrate
from zhifa.catalog import assembly, snapshot
from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.engine import evaluate
from zhifa.catalog.discretion.schemas import EvaluationIn, present
from zhifa.catalog.laws.markdown import parse
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.db import Database
from zhifa.models.catalog import (
    BenchmarkVersion,
    CheckItem,
    CheckItemVersion,
    Checklist,
    ChecklistVersion,
    LawKind,
    LegalDocument,
    Power,
    PowerKind,
    PowerVersion,
    Provision,
    SubjectType,
)
from zhifa.models.catalog_stamp import current_stamp
from zhifa.models.org import Department, District

QUICK = "--quick" in sys.argv
OPS = 300 if QUICK else 3000
POWERS = 1_394
SUBJECT_TYPES = 40
ITEMS_PER_CHECKLIST = 17
GOAL_MS = 1.0
DISTRICT = "510184"
ON = date(2024, 6, 1)
LOCAL_PG = "postgresql+psycopg://zhifa:zhifa@127.0.0.1:5432/"
PG_NAME = "zhifa_bench_discretion"
LAWS = Path(__file__).resolve().parents[1] / "src" / "zhifa" / "catalog" / "sample" / "laws"
STATUTES = {
    "行政处罚法(2021-01-22).md": ("行政处罚法", date(2021, 7, 15)),
    "大气污染防治法(2018-10-26).md": ("大气污染防治法", date(2018, 10, 26)),
    "城乡规划法(2019-04-23).md": ("城乡规划法", date(2019, 4, 23)),
    "水法(2016-07-02).md": ("水法", date(2016, 7, 2)),
    "土地管理法实施条例(2021-07-02).md": ("土地管理法实施条例", date(2021, 9, 1)),
    "互联网上网服务营业场所管理条例(2022-03-29).md": (
        "互联网上网服务营业场所管理条例",
        date(2022, 3, 29),
    ),
}
DIGEST = "0" * 64


# --- The catalog ---


@dataclass(frozen=True)
class Catalog:
    powers: list[tuple[str, str, dict[str, object]]]  # (code, party type, facts)
    subject_types: list[str]
    second_versions: int  # powers with a second power and benchmark version


def _fen_formula(kind: str, lo: int, hi: int, fact: str | None = None) -> dict[str, Any]:
    if kind == "up_to":
        return {"kind": "up_to", "max_fen": hi}
    formula: dict[str, Any] = {"kind": kind, "min_fen": lo, "max_fen": hi}
    return formula | ({"fact": fact} if fact else {})


def _factor_formula(kind: str, lo: Decimal, hi: Decimal) -> dict[str, Any]:
    return {"kind": kind, "fact": "base", "min_factor": str(lo), "max_factor": str(hi)}


def spec_for(
    index: int, rng: random.Random, shift: int = 0
) -> tuple[dict[str, Any], dict[str, object]]:
    """A benchmark of family ``index % 6`` and the facts an evaluation of it needs."""
    family = ("fixed", "up_to", "per_unit", "multiple", "percent", "none")[index % 6]
    banded = index % 3 == 0 and family != "none"
    facts: list[dict[str, str]] = []
    values: dict[str, object] = {}
    if family in ("multiple", "percent"):
        facts.append({"key": "base", "label": "违法所得", "unit": "元", "kind": "money"})
        values["base"] = rng.randrange(100_000, 50_000_000)
    if family == "per_unit" or banded:
        facts.append({"key": "units", "label": "面积", "unit": "㎡", "kind": "quantity"})
        values["units"] = str(rng.randrange(1, 400))
    s_lo = rng.choice([0, 20_000, 50_000, 100_000]) if family != "up_to" else 0
    s_hi = s_lo + rng.choice([100_000, 1_000_000, 5_000_000])
    if family in ("multiple", "percent"):
        top = Decimal(5) if family == "multiple" else Decimal(10)
        statutory = _factor_formula(family, top / 5, top)
        step = ((top - top / 5) / 3).quantize(Decimal("0.01"))
        cuts = [top / 5 + step * k for k in range(3)] + [top]
        tier = [_factor_formula(family, cuts[k], cuts[k + 1]) for k in range(3)]
    elif family == "none":
        statutory = {"kind": "none"}
        tier = [{"kind": "none"}] * 3
    else:
        kind = "fixed" if family == "up_to" else family
        fact = "units" if family == "per_unit" else None
        statutory = _fen_formula(family, s_lo, s_hi, fact)
        span = (s_hi - s_lo) // 3
        cuts = [s_lo, s_lo + span, s_lo + 2 * span, s_hi]
        moved = [min(max(c - shift, s_lo), s_hi) for c in cuts]
        tier = [_fen_formula(kind, moved[k], moved[k + 1], fact) for k in range(3)]
    parties = [["person"], ["organisation"], ["person", "organisation"]][index % 3]
    band_keys: list[str | None] = ["small", "large"] if banded else [None]
    tiers = [
        {"level": level, "band": band} | dict.fromkeys(parties, tier[k])
        for band in band_keys
        for k, level in enumerate(("lighter", "ordinary", "heavier"))
    ]
    bands = (
        [
            {
                "key": "small",
                "label": "面积50平方米以下",
                "when": [{"fact": "units", "op": "le", "value": "50"}],
            },
            {"key": "large", "label": "面积50平方米以上", "when": []},
        ]
        if banded
        else []
    )
    data = {
        "facts": facts,
        "statutory": dict.fromkeys(parties, statutory),
        "measures": ["confiscate_income"] if index % 4 == 0 else [],
        "bands": bands,
        "tiers": tiers,
    }
    BenchmarkSpec.model_validate(data)  # the catalog holds only valid benchmarks
    return data, values | {"_party": parties[-1]}


def build(db: Database, seed: int = 7) -> Catalog:
    rng = random.Random(seed)
    with db.unit_of_work() as session:
        session.add(District(code=DISTRICT, name="崇州市（基准测试）", city_code="510100"))
        session.flush()
        departments = [
            Department(district_code=DISTRICT, code=f"d{i}", name=f"部门{i}") for i in range(8)
        ]
        session.add_all(departments)
        session.flush()
        provisions = _laws(session)
        catalog = _powers(session, rng, [d.id for d in departments], provisions)
        subject_types = _checklists(session, rng, [d.id for d in departments], catalog)
    versions = sum(1 for i in range(POWERS) if i % 5 == 0)
    return Catalog([(c, p, f) for c, p, f, _ in catalog], subject_types, versions)


def _laws(session: Session) -> list[int]:
    """Load the statutes; return the ids of their legal-liability articles (the ones cited)."""
    cited: list[int] = []
    for file_name, (short, effective) in STATUTES.items():
        statute = parse((LAWS / file_name).read_text(encoding="utf-8"))
        document = LegalDocument(
            title=statute.title,
            short_title=short,
            kind=LawKind.LAW,
            revision_date=effective,
            effective_on=effective,
            content_sha256=DIGEST,
        )
        session.add(document)
        session.flush()
        rows = [
            {
                "document_id": document.id,
                "article": a.number,
                "label": a.label,
                "chapter": a.chapter,
                "text": a.text,
                "version": 1,
                "effective_on": effective,
                "note": "",
            }
            for a in statute.articles
        ]
        ids = session.scalars(insert(Provision).returning(Provision.id), rows).all()
        cited += list(ids)[-20:]
    return cited


def _powers(
    session: Session, rng: random.Random, departments: list[int], provisions: list[int]
) -> list[tuple[str, str, dict[str, object], int]]:
    out: list[tuple[str, str, dict[str, object], int]] = []
    for index in range(POWERS):
        code = f"CF-{index % 8}-{index:04d}"
        power = Power(district_code=DISTRICT, code=code)
        session.add(power)
        session.flush()
        data, facts = spec_for(index, rng)
        party = str(facts.pop("_party"))
        parties = ["person", "organisation"] if index % 3 == 2 else [party]
        citations = [
            {"role": role, "provision_id": rng.choice(provisions), "paragraph": 0, "item": 0}
            for role in ("violated", "penalty")
        ]
        versions = [(1, date(2022, 1, 1))] + ([(2, date(2024, 1, 1))] if index % 5 == 0 else [])
        for number, effective in versions:
            session.add(
                PowerVersion(
                    power_id=power.id,
                    version=number,
                    effective_from=effective,
                    content_sha256=DIGEST,
                    name=f"对违法行为{index}的处罚（第{number}版）",
                    kind=PowerKind.PENALTY,
                    department_id=departments[index % len(departments)],
                    party_types=parties,
                    citations=citations,
                )
            )
            spec = (
                data
                if number == 1
                else spec_for(index, random.Random(index), shift=rng.randrange(1, 5000))[0]
            )
            session.add(
                BenchmarkVersion(
                    power_id=power.id,
                    version=number,
                    effective_from=effective,
                    content_sha256=DIGEST,
                    spec=spec,
                )
            )
        out.append((code, party, facts, power.id))
    session.flush()
    return out


def _checklists(
    session: Session,
    rng: random.Random,
    departments: list[int],
    powers: list[tuple[str, str, dict[str, object], int]],
) -> list[str]:
    items: list[int] = []
    for index in range(SUBJECT_TYPES * 10):
        item = CheckItem(district_code=DISTRICT, code=f"JC-{index:04d}")
        session.add(item)
        session.flush()
        session.add(
            CheckItemVersion(
                check_item_id=item.id,
                version=1,
                effective_from=date(2022, 1, 1),
                content_sha256=DIGEST,
                text=f"检查事项{index}：是否符合规定",
                department_id=departments[index % len(departments)],
                power_ids=[p[3] for p in rng.sample(powers, rng.randint(1, 2))],
                evidence=["photo"],
            )
        )
        items.append(item.id)
    codes: list[str] = []
    for index in range(SUBJECT_TYPES):
        subject_type = SubjectType(
            district_code=DISTRICT, code=f"type_{index:02d}", name=f"对象类型{index}"
        )
        session.add(subject_type)
        session.flush()
        chosen = rng.sample(items, ITEMS_PER_CHECKLIST)
        halves = [chosen[:10], chosen[10:]] if index % 2 else [chosen]
        for number, part in enumerate(halves):
            checklist = Checklist(
                district_code=DISTRICT,
                code=f"QD-{index:02d}-{number}",
                subject_type_id=subject_type.id,
            )
            session.add(checklist)
            session.flush()
            session.add(
                ChecklistVersion(
                    checklist_id=checklist.id,
                    version=1,
                    effective_from=date(2022, 1, 1),
                    content_sha256=DIGEST,
                    name=f"巡查清单{index}-{number}",
                    item_ids=part,
                )
            )
        codes.append(subject_type.code)
    return codes


# --- Timing ---


@dataclass(frozen=True)
class Timing:
    name: str
    p50: float
    p99: float


def timed(name: str, operation: Callable[[], object]) -> Timing:
    for _ in range(min(50, OPS)):
        operation()
    samples = []
    for _ in range(OPS):
        start = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - start)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return Timing(name, statistics.median(samples) * 1000, p99 * 1000)


def measure(label: str, db: Database, catalog: Catalog) -> None:
    rng = random.Random(11)
    power_ids = list(range(1, POWERS + 1))

    def baseline() -> None:
        with db.sessionmaker() as session:
            session.get(Power, rng.choice(power_ids), populate_existing=True)

    def stamp() -> None:
        with db.sessionmaker() as session:
            current_stamp(session)

    def checklist() -> None:
        with db.sessionmaker() as session:
            code = rng.choice(catalog.subject_types)
            assembly.for_subject_type(session, DISTRICT, code, on=ON)

    def request() -> EvaluationIn:
        code, party, facts = rng.choice(catalog.powers)
        return EvaluationIn(
            power_code=code,
            act_date=date(2023, 9, 1),
            decision_date=ON,
            party_type=party,
            facts=facts,
            circumstances=rng.choice([[], ["cooperative"], ["repeated_within_12_months"]]),
        )

    def compute() -> None:
        with db.sessionmaker() as session:
            evaluate(loader.load(session, DISTRICT, request(), today=ON))

    def full() -> None:
        with db.sessionmaker() as session:
            present(evaluate(loader.load(session, DISTRICT, request(), today=ON)), "zh_CN")

    cold = cold_build(db)
    base = timed("session.get(Power) (baseline)", baseline)
    cases = [
        timed("catalog stamp read alone (the floor)", stamp),
        timed("checklist for a subject type", checklist),
        timed("evaluate a power (load + compute)", compute),
        timed("  … + API shape, Chinese steps", full),
    ]
    title = (
        f"discretion, {label}: {POWERS:,} powers ({catalog.second_versions:,} with two versions), "
        f"{SUBJECT_TYPES} subject types × {ITEMS_PER_CHECKLIST} items, {OPS:,} operations each"
    )
    print_table(title, base, cases)
    print(f"snapshot: cold build {cold:.1f} ms; rebuild after a change {rebuild(db):.1f} ms")


def cold_build(db: Database) -> float:
    """The first read's cost: the stamp, then the district's snapshot built (ms)."""
    with db.sessionmaker() as session:
        start = time.perf_counter()
        built = snapshot.snapshot_for(session, DISTRICT)
        elapsed = time.perf_counter() - start
    assert len(built.powers) == POWERS
    return elapsed * 1000


def rebuild(db: Database) -> float:
    """The first read after a new benchmark version is committed (ms): the snapshot is rebuilt,
    reusing the parsed benchmarks whose stored text did not change."""
    with db.unit_of_work() as session:
        data, _ = spec_for(0, random.Random(0), shift=1_000)
        session.add(
            BenchmarkVersion(
                power_id=1,
                version=3,
                effective_from=date(2025, 1, 1),
                content_sha256=DIGEST,
                spec=data,
            )
        )
    with db.sessionmaker() as session:
        start = time.perf_counter()
        built = snapshot.snapshot_for(session, DISTRICT)
        elapsed = time.perf_counter() - start
    assert len(built.powers_by_id[1].benchmarks) == 3
    return elapsed * 1000


def print_table(title: str, baseline: Timing, cases: list[Timing]) -> None:
    width = max(len(t.name) for t in [baseline, *cases])
    print(f"\n{title}")
    print(f"{'case':<{width}}  {'p50 ms':>8}  {'p99 ms':>8}  {'× baseline':>10}  goal p99 ≤ 1 ms")
    for timing in [baseline, *cases]:
        ratio = timing.p50 / baseline.p50
        goal = "" if timing is baseline else ("met" if timing.p99 <= GOAL_MS else "NOT met")
        figures = f"{timing.p50:>8.3f}  {timing.p99:>8.3f}  {ratio:>10.2f}"
        print(f"{timing.name:<{width}}  {figures}  {goal}")


def postgres_url() -> tuple[str | None, str]:
    """A PostgreSQL database this benchmark may empty, or None and the reason."""
    url = os.environ.get("ZHIFA_BENCH_PG_URL") or LOCAL_PG + PG_NAME
    try:
        if "ZHIFA_BENCH_PG_URL" not in os.environ:
            admin = Database(LOCAL_PG + "postgres")
            with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                exists = conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_NAME}
                )
                if not exists:
                    conn.execute(text(f"CREATE DATABASE {PG_NAME}"))
            admin.dispose()
        db = Database(url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.dispose()
    except Exception as error:  # any failure means: no PostgreSQL for this run
        return None, f"{type(error).__name__}: {str(error).splitlines()[0]}"
    return url, ""


def run(label: str, url: str) -> None:
    db = Database(url)
    migrate.upgrade(db.engine)
    start = time.perf_counter()
    catalog = build(db)
    print(f"\n({label}: catalog generated in {time.perf_counter() - start:.1f} s)")
    measure(label, db, catalog)
    db.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{Path(tmp) / 'catalog.db'}")
    if QUICK:
        print("\ndiscretion, PostgreSQL: skipped (--quick)")
        return
    url, reason = postgres_url()
    if url is None:
        print(f"\ndiscretion, PostgreSQL: skipped ({reason})")
        return
    run("PostgreSQL", url)


if __name__ == "__main__":
    main()
