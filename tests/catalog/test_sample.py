"""The sample catalog shipped with zhifa meets what the issue asks of it, and every citation in it
resolves against the statutes shipped beside it (the import refuses any that does not)."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import PG_URL
from zhifa.catalog import assembly, browse
from zhifa.catalog.discretion import loader
from zhifa.catalog.discretion.engine import evaluate as evaluate_input
from zhifa.catalog.discretion.schemas import EvaluationIn, EvaluationRead, present
from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.catalog.spec import BenchmarkSpec, FormulaKind
from zhifa.db import Database
from zhifa.demo.loader import load_demo
from zhifa.models.catalog import BenchmarkVersion, PowerKind

ON = date(2025, 6, 1)


def _load(db: Database) -> Database:
    with db.unit_of_work() as session:
        load_demo(session)
    with db.unit_of_work() as session:
        load_sample_catalog(session, "510184")
    return db


@pytest.fixture(scope="module")
def sqlite_sample(
    tmp_path_factory: pytest.TempPathFactory, schema_template: str
) -> Iterator[Database | None]:
    """On SQLite, one loaded copy shared by the module (loading takes seconds); on PostgreSQL,
    whose tables are emptied after every test, None (each test loads its own)."""
    if PG_URL:
        yield None
        return
    path = tmp_path_factory.mktemp("sample") / "sample.db"
    shutil.copyfile(schema_template, path)
    db = _load(Database(f"sqlite:///{path}"))
    yield db
    db.dispose()


@pytest.fixture
def sample(request: pytest.FixtureRequest, sqlite_sample: Database | None) -> Iterator[Session]:
    db = sqlite_sample or _load(request.getfixturevalue("db"))
    with db.sessionmaker() as session:
        yield session


class TestSampleCatalog:
    def test_at_least_80_powers_from_at_least_7_departments(self, sample: Session) -> None:
        page = browse.power_page(sample, "510184", on=ON, limit=1000)
        assert page.total >= 80
        assert len({p.department_code for p in page.items}) >= 7

    def test_every_penalty_power_has_a_benchmark(self, sample: Session) -> None:
        page = browse.power_page(sample, "510184", on=ON, kind=PowerKind.PENALTY, limit=1000)
        missing = [p.code for p in page.items if not p.has_benchmark]
        assert missing == []

    def test_benchmarks_cover_every_formula_family(self, sample: Session) -> None:
        kinds: Counter[FormulaKind] = Counter()
        for row in sample.scalars(select(BenchmarkVersion)):
            spec = BenchmarkSpec.model_validate(row.spec)
            for tier in spec.tiers:
                for formula in (tier.person, tier.organisation):
                    if formula is not None:
                        kinds[formula.kind] += 1
            for formula in (spec.statutory.person, spec.statutory.organisation):
                if formula is not None:
                    kinds[formula.kind] += 1
        assert set(kinds) == set(FormulaKind)

    def test_at_least_8_templates_and_a_joint_construction_site_list(self, sample: Session) -> None:
        assert len(browse.checklists(sample, "510184", on=ON)) >= 8
        site = assembly.for_subject_type(sample, "510184", "construction_site", on=ON)
        assert 15 <= len(site.items) <= 20
        assert site.joint
        wanted = {"住房和城乡建设", "水务", "自然资源（国土）", "生态环境"}
        assert wanted <= set(site.departments)
        assert all(item.powers for item in site.items[:3])

    def test_the_internet_cafe_power_cites_the_regulation(self, sample: Session) -> None:
        detail = browse.power_detail(sample, "510184", "CF-WH-001", on=ON)
        assert any("接纳未成年人" in c.text for c in detail.citations)
        assert detail.benchmark is not None


def evaluate(sample: Session, **body: object) -> EvaluationRead:
    data = EvaluationIn.model_validate({"act_date": "2025-03-01", **body})
    return present(evaluate_input(loader.load(sample, "510184", data, today=ON)), "zh_CN")


class TestTheIssuesCasesOnTheSampleCatalog:
    def test_the_internet_cafe_fine_is_per_minor_and_clamped_to_the_statutory_maximum(
        self, sample: Session
    ) -> None:
        two = evaluate(
            sample, power_code="CF-WH-001", party_type="organisation", facts={"minors": 2}
        )
        assert two.recommended_fen == 600_000  # 2 × 3,000 yuan
        six = evaluate(
            sample, power_code="CF-WH-001", party_type="organisation", facts={"minors": 6}
        )
        # 6 × 3,000 = 18,000 yuan > the regulation's 15,000 maximum (art. 31): 15,000.
        assert six.recommended_fen == 1_500_000
        assert six.statutory_range is not None
        assert six.statutory_range.max_fen == 1_500_000
        assert any("15,000" in step.text for step in six.steps)

    def test_the_illegal_construction_fine_is_a_share_of_the_project_cost(
        self, sample: Session
    ) -> None:
        result = evaluate(
            sample,
            power_code="CF-GH-001",
            party_type="organisation",
            facts={"project_cost": 100_000_000, "area_m2": 100},  # 1,000,000 yuan; 100 m²
        )
        # 城乡规划法 art. 64: 5%–10% of 工程造价 = 50,000–100,000 yuan; the sample's 一般 tier for
        # 50–200 m² is 7.17%–7.83% = 71,700–78,300 yuan, recommended at its middle: 75,000 yuan.
        assert result.statutory_range is not None
        assert (result.statutory_range.min_fen, result.statutory_range.max_fen) == (
            5_000_000,
            10_000_000,
        )
        assert result.tier_range is not None
        assert (result.tier_range.min_fen, result.tier_range.max_fen) == (7_170_000, 7_830_000)
        assert result.recommended_fen == 7_500_000
        assert result.band is not None
        assert result.band.key == "medium"
