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
