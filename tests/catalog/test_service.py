"""Powers, benchmarks and the policy are versioned: a change is a new version with an effective
date, the same content records nothing, old versions stay readable, and each version is a ledger
event. Version rows cannot be updated or deleted, even in SQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tests.catalog.helpers import actor_of, benchmark_in, cafe_power, per_minor_spec, world
from zhifa.catalog import browse
from zhifa.catalog.policy import PolicySpec
from zhifa.catalog.schemas import PolicyVersionIn
from zhifa.catalog.service import benchmark_service, policy_service, power_service
from zhifa.db import Database
from zhifa.errors import Conflict, InvalidInput, NotFound
from zhifa.ledger import store
from zhifa.models.catalog import BenchmarkVersion, PowerVersion
from zhifa.models.ledger import LedgerEvent

CODE = "CF-WH-001"


def kinds(session: Session) -> list[str]:
    """Events recorded in this (uncommitted) session, in order."""
    return [p.kind for p in store.pending_events(session)]


def events_of(session: Session, prefix: str) -> list[str]:
    return [k for k in kinds(session) if k.startswith(prefix)]


class TestRecordingAPower:
    def test_the_first_version_resolves_citations_down_to_the_item(self, session: Session) -> None:
        author = world(session)
        written = power_service.put(session, author, code=CODE, data=cafe_power())
        assert (written.version, written.created) == (1, True)
        detail = browse.power_detail(session, author.district_code, CODE, on=date(2024, 1, 1))
        penalty = [c for c in detail.citations if c.role == "penalty"]
        assert penalty[0].label == "《互联网上网服务营业场所管理条例》第三十一条第（二）项"
        assert penalty[0].text.startswith("（二）接纳未成年人进入营业场所")
        violated = [c for c in detail.citations if c.role == "violated"][0]
        assert "不得接纳未成年人进入营业场所" in violated.text

    def test_creating_and_versioning_are_ledgered(self, db: Database) -> None:
        with db.unit_of_work() as session:
            author = world(session)
            power_service.put(session, author, code=CODE, data=cafe_power())
            assert events_of(session, "catalog.power") == [
                "catalog.power.created",
                "catalog.power.versioned",
            ]
        with db.unit_of_work() as session:
            event = session.scalars(
                select(LedgerEvent).where(LedgerEvent.kind == "catalog.power.versioned")
            ).one()
            assert event.payload["state"]["name"] == cafe_power().name
            assert event.payload["state"]["citations"][1]["item"] == 2

    def test_the_same_content_again_records_nothing(self, session: Session) -> None:
        author = world(session)
        power_service.put(session, author, code=CODE, data=cafe_power())
        before = len(kinds(session))
        again = power_service.put(session, author, code=CODE, data=cafe_power())
        assert (again.version, again.created) == (1, False)
        assert len(kinds(session)) == before

    def test_a_change_is_a_new_version_and_the_old_one_still_applies_before_its_date(
        self, session: Session
    ) -> None:
        author = world(session)
        power_service.put(session, author, code=CODE, data=cafe_power())
        renamed = cafe_power(
            name="对网吧接纳未成年人的处罚", effective_from=date(2025, 1, 1), note="名称规范"
        )
        written = power_service.put(session, author, code=CODE, data=renamed)
        assert (written.version, written.created) == (2, True)
        old = browse.power_detail(session, author.district_code, CODE, on=date(2024, 6, 1))
        new = browse.power_detail(session, author.district_code, CODE, on=date(2025, 6, 1))
        assert old.current is not None
        assert old.current.name == cafe_power().name
        assert new.current is not None
        assert new.current.name == "对网吧接纳未成年人的处罚"
        assert [v.version for v in new.versions] == [1, 2]

    def test_a_second_version_needs_a_note(self, session: Session) -> None:
        author = world(session)
        power_service.put(session, author, code=CODE, data=cafe_power())
        with pytest.raises(InvalidInput) as caught:
            power_service.put(session, author, code=CODE, data=cafe_power(name="改名"))
        assert caught.value.detail == {"field": "note"}

    def test_a_citation_that_does_not_exist_is_refused_naming_the_field(
        self, session: Session
    ) -> None:
        author = world(session)
        bad = cafe_power(penalty="《互联网上网服务营业场所管理条例》第九十九条")
        with pytest.raises(InvalidInput) as caught:
            power_service.put(session, author, code=CODE, data=bad)
        assert caught.value.detail == {"field": "penalty"}
        assert session.scalars(select(PowerVersion)).first() is None

    def test_an_unknown_department_is_refused(self, session: Session) -> None:
        author = world(session)
        with pytest.raises(InvalidInput) as caught:
            power_service.put(session, author, code=CODE, data=cafe_power(department="公安"))
        assert caught.value.detail == {"field": "department"}

    def test_a_penalty_power_needs_its_legal_basis(self, session: Session) -> None:
        author = world(session)
        with pytest.raises(InvalidInput) as caught:
            power_service.put(session, author, code=CODE, data=cafe_power(violated=""))
        assert caught.value.detail == {"field": "violated"}

    def test_an_unknown_responsible_unit_is_refused(self, session: Session) -> None:
        author = world(session)
        data = cafe_power(responsibility={"unit_code": "ZD99"})
        with pytest.raises(InvalidInput) as caught:
            power_service.put(session, author, code=CODE, data=data)
        assert caught.value.detail == {"field": "responsibility.unit_code"}


class TestRecordingABenchmark:
    def test_a_benchmark_version_is_recorded_and_ledgered(self, session: Session) -> None:
        author = world(session)
        power_service.put(session, author, code=CODE, data=cafe_power())
        written = benchmark_service.put(
            session, author, code=CODE, data=benchmark_in(per_minor_spec(), date(2022, 5, 1))
        )
        assert (written.version, written.created) == (1, True)
        row = session.scalars(select(BenchmarkVersion)).one()
        assert row.spec["tiers"][0]["organisation"]["min_fen"] == 300_000
        assert events_of(session, "catalog.benchmark") == ["catalog.benchmark.versioned"]

    def test_editing_a_benchmark_keeps_the_old_version_readable(self, session: Session) -> None:
        author = world(session)
        power_service.put(session, author, code=CODE, data=cafe_power())
        first = benchmark_in(per_minor_spec(3000), date(2022, 5, 1))
        second = benchmark_in(per_minor_spec(2000), date(2025, 1, 1), note="下调")
        benchmark_service.put(session, author, code=CODE, data=first)
        benchmark_service.put(session, author, code=CODE, data=second)
        old = browse.power_detail(session, author.district_code, CODE, on=date(2024, 1, 1))
        new = browse.power_detail(session, author.district_code, CODE, on=date(2025, 1, 1))
        assert old.benchmark is not None
        assert old.benchmark.version == 1
        assert new.benchmark is not None
        assert new.benchmark.version == 2
        assert [b.note for b in new.benchmark_versions] == ["", "下调"]

    def test_a_power_that_is_not_a_penalty_has_no_benchmark(self, session: Session) -> None:
        author = world(session)
        inspection = cafe_power(kind="inspection", violated="", penalty="")
        power_service.put(session, author, code="JC-WH-001", data=inspection)
        with pytest.raises(Conflict):
            benchmark_service.put(
                session,
                author,
                code="JC-WH-001",
                data=benchmark_in(per_minor_spec(), date(2022, 5, 1)),
            )

    def test_every_party_type_of_the_power_needs_a_statutory_range(self, session: Session) -> None:
        author = world(session)
        both = cafe_power(party_types=["person", "organisation"])
        power_service.put(session, author, code=CODE, data=both)
        with pytest.raises(InvalidInput) as caught:
            benchmark_service.put(
                session, author, code=CODE, data=benchmark_in(per_minor_spec(), date(2022, 5, 1))
            )
        assert caught.value.detail == {"field": "spec.statutory.person"}

    def test_a_benchmark_before_the_power_exists_on_that_date_is_refused(
        self, session: Session
    ) -> None:
        author = world(session)
        power_service.put(session, author, code=CODE, data=cafe_power())
        with pytest.raises(InvalidInput) as caught:
            benchmark_service.put(
                session, author, code=CODE, data=benchmark_in(per_minor_spec(), date(2021, 1, 1))
            )
        assert caught.value.detail == {"field": "effective_from"}

    def test_an_unknown_power_is_not_found(self, session: Session) -> None:
        author = world(session)
        with pytest.raises(NotFound):
            benchmark_service.put(
                session, author, code="NOPE", data=benchmark_in(per_minor_spec(), date(2022, 5, 1))
            )


class TestVersionRowsAreImmutable:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE benchmark_version SET spec = '{}'",
            "DELETE FROM benchmark_version",
            "UPDATE power_version SET name = 'x'",
            "DELETE FROM provision",
        ],
    )
    def test_the_database_refuses_updates_and_deletes(self, db: Database, statement: str) -> None:
        with db.unit_of_work() as session:
            author = world(session)
            power_service.put(session, author, code=CODE, data=cafe_power())
            benchmark_service.put(
                session, author, code=CODE, data=benchmark_in(per_minor_spec(), date(2022, 5, 1))
            )
        with pytest.raises(DBAPIError), db.engine.begin() as conn:
            conn.execute(text(statement))


class TestPolicy:
    def test_without_a_recorded_policy_the_defaults_apply(self, session: Session) -> None:
        world(session)
        current = policy_service.current(session, "510184", date(2025, 1, 1))
        assert current.version is None
        assert current.spec.limitation_years == 2

    def test_a_policy_version_applies_from_its_date(self, session: Session) -> None:
        world(session)
        actor = actor_of(session, "510184")
        data = PolicyVersionIn(
            spec=PolicySpec(simple_procedure_person_yuan=50),
            effective_from=date(2025, 1, 1),
            note="按本地规定",
        )
        policy_service.revise(session, actor, data=data)
        assert policy_service.current(session, "510184", date(2024, 12, 31)).version is None
        now = policy_service.current(session, "510184", date(2025, 1, 1))
        assert now.version == 1
        assert now.spec.simple_procedure_person_yuan == 50
        assert events_of(session, "catalog.policy") == ["catalog.policy.versioned"]
