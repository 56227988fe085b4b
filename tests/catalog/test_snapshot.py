"""The catalog stamp and the in-memory snapshot: a committed catalog change (and only that) writes a
new stamp; a snapshot is reused while the stamp is unchanged and rebuilt after a change, so the
next evaluation or checklist sees the change; uncommitted, rolled-back and dry-run writes are seen
by nobody else; each district has its own snapshot."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.catalog.exchange.test_import_export import csv_files
from tests.catalog.helpers import (
    CAFE,
    PLANNING,
    actor_of,
    benchmark_in,
    cafe_power,
    check_item,
    checklist,
    per_minor_spec,
    world,
)
from zhifa.catalog import assembly, browse
from zhifa.catalog.checklists import check_item_service, checklist_service, subject_type_service
from zhifa.catalog.exchange.importer import import_files
from zhifa.catalog.schemas import SubjectTypeIn
from zhifa.catalog.service import Author, benchmark_service, power_service
from zhifa.catalog.snapshot import snapshot_for
from zhifa.db import Database
from zhifa.models.catalog import BenchmarkVersion, Power, PowerVersion, Provision
from zhifa.models.catalog_stamp import current_stamp
from zhifa.models.org import Department, Officer
from zhifa.org.officers.schemas import OfficerUpdate
from zhifa.org.officers.service import officer_service
from zhifa.org.roles import Role

CODE = "CF-WH-001"
URL = "/api/v1/discretion/evaluate"


def stamp(db: Database) -> str:
    with db.sessionmaker() as session:
        return current_stamp(session)


def cafe_catalog(session: Session, district: str = "510184") -> Author:
    """The café power with its per-minor benchmark (3,000 yuan a minor) in ``district``."""
    author = world(session, district, CAFE)
    power_service.put(session, author, code=CODE, data=cafe_power())
    benchmark_service.put(
        session, author, code=CODE, data=benchmark_in(per_minor_spec(), date(2022, 5, 1))
    )
    session.commit()
    return author


def evaluation(minors: int = 3) -> dict[str, Any]:
    return {
        "power_code": CODE,
        "act_date": "2024-03-01",
        "decision_date": "2024-04-15",
        "party_type": "organisation",
        "facts": {"minors": minors},
    }


def officer_headers(session: Session, district: str = "510184") -> dict[str, str]:
    row = factories.officer(session, district, f"officer-{district}", [Role.OFFICER])
    headers = factories.bearer(session, row)
    session.commit()
    return headers


class TestTheStamp:
    def test_a_database_without_catalog_changes_has_the_empty_stamp(self, db: Database) -> None:
        assert stamp(db) == ""

    def test_a_catalog_write_through_the_services_changes_the_stamp(
        self, db: Database, session: Session
    ) -> None:
        author = cafe_catalog(session)
        before = stamp(db)
        assert len(before) == 32
        subject_type_service.ensure(
            session, author, data=SubjectTypeIn(code="internet_cafe", name="网吧")
        )
        assert stamp(db) == before  # not committed yet
        session.commit()
        assert stamp(db) not in ("", before)

    def test_a_read_only_request_leaves_the_stamp(
        self, db: Database, session: Session, client: TestClient
    ) -> None:
        cafe_catalog(session)
        headers = officer_headers(session)
        before = stamp(db)
        assert client.get(f"/api/v1/powers/{CODE}", headers=headers).status_code == 200
        assert client.post(URL, json=evaluation(), headers=headers).status_code == 200
        assert stamp(db) == before

    def test_an_officer_update_leaves_the_stamp(self, db: Database, session: Session) -> None:
        cafe_catalog(session)
        admin = actor_of(session, "510184", Role.SYSTEM_ADMIN)
        row = factories.officer(session, "510184", "zhang", [Role.LEGAL_REVIEWER])
        session.commit()
        before = stamp(db)
        officer_service.update(session, admin, officer_id=row.id, data=OfficerUpdate(name="张三"))
        session.commit()
        assert session.get(Officer, row.id).name == "张三"  # type: ignore[union-attr]
        assert stamp(db) == before

    def test_a_department_change_changes_the_stamp(self, db: Database, session: Session) -> None:
        # The merged checklist shows department names, so they are part of the snapshot.
        cafe_catalog(session)
        before = stamp(db)
        department = session.query(Department).filter_by(code="wenhua").one()
        department.name = "文化市场综合执法"
        session.commit()
        assert stamp(db) != before

    def test_a_rolled_back_write_leaves_the_stamp(self, db: Database, session: Session) -> None:
        author = cafe_catalog(session)
        before = stamp(db)
        benchmark_service.put(
            session,
            author,
            code=CODE,
            data=benchmark_in(per_minor_spec(2000), date(2022, 5, 1), note="下调"),
        )
        session.rollback()
        session.commit()
        assert stamp(db) == before

    def test_a_dry_run_import_leaves_the_stamp_and_an_import_changes_it(
        self, db: Database, session: Session
    ) -> None:
        author = world(session, "510184", CAFE, PLANNING)
        session.commit()
        before = stamp(db)
        report = import_files(session, author, csv_files(), dry_run=True)
        assert report.as_dict()["counts"]["powers"]["created"] == 2
        session.commit()
        assert stamp(db) == before
        import_files(session, author, csv_files())
        session.commit()
        assert stamp(db) != before


class TestTheSnapshot:
    def test_it_is_reused_while_the_stamp_is_unchanged(
        self, db: Database, session: Session
    ) -> None:
        cafe_catalog(session)
        with db.sessionmaker() as first, db.sessionmaker() as second:
            assert snapshot_for(first, "510184") is snapshot_for(second, "510184")

    def test_it_is_rebuilt_after_a_committed_write(self, db: Database, session: Session) -> None:
        author = cafe_catalog(session)
        with db.sessionmaker() as reader:
            old = snapshot_for(reader, "510184")
        assert [b.version for b in old.powers[CODE].benchmarks] == [1]
        note = benchmark_in(per_minor_spec(2000), date(2022, 5, 1), note="下调")
        benchmark_service.put(session, author, code=CODE, data=note)
        session.commit()
        with db.sessionmaker() as reader:
            new = snapshot_for(reader, "510184")
        assert new is not old
        assert [b.version for b in new.powers[CODE].benchmarks] == [1, 2]

    def test_uncommitted_writes_are_seen_by_their_own_session_only(
        self, db: Database, session: Session
    ) -> None:
        author = cafe_catalog(session)
        with db.sessionmaker() as reader:
            cached = snapshot_for(reader, "510184")
        power_service.put(session, author, code="CF-WH-002", data=cafe_power(name="另一事项"))
        own = snapshot_for(session, "510184")
        assert "CF-WH-002" in own.powers
        assert own is not cached
        with db.sessionmaker() as reader:
            assert snapshot_for(reader, "510184") is cached
        session.rollback()
        assert snapshot_for(session, "510184") is cached
        assert "CF-WH-002" not in cached.powers

    def test_two_districts_do_not_see_each_others_snapshot(
        self, db: Database, session: Session
    ) -> None:
        cafe_catalog(session, "510184")
        other = world(session, "510104", CAFE)
        power_service.put(session, other, code="CF-WH-104", data=cafe_power())
        session.commit()
        with db.sessionmaker() as reader:
            home, away = snapshot_for(reader, "510184"), snapshot_for(reader, "510104")
        assert list(home.powers) == [CODE]
        assert list(away.powers) == ["CF-WH-104"]
        assert {d.code for d in home.departments.values()} == {
            d.code for d in away.departments.values()
        }
        assert not set(home.departments) & set(away.departments)


class TestReadersSeeChanges:
    def test_a_new_benchmark_version_is_used_by_the_next_evaluation(
        self, session: Session, client: TestClient
    ) -> None:
        author = cafe_catalog(session)
        headers = officer_headers(session)
        first = client.post(URL, json=evaluation(), headers=headers)
        assert first.json()["recommended_fen"] == 900_000  # 3 minors × 3,000 yuan
        benchmark_service.put(
            session,
            author,
            code=CODE,
            data=benchmark_in(per_minor_spec(2000), date(2022, 5, 1), note="下调"),
        )
        session.commit()
        second = client.post(URL, json=evaluation(), headers=headers)
        assert second.json()["recommended_fen"] == 600_000  # 3 minors × 2,000 yuan
        assert second.json()["benchmark"]["version"] == 2

    def test_an_evaluation_in_another_district_is_not_served_from_this_one(
        self, session: Session, client: TestClient
    ) -> None:
        cafe_catalog(session, "510184")
        world(session, "510104", CAFE)
        session.commit()
        home, away = officer_headers(session, "510184"), officer_headers(session, "510104")
        assert client.post(URL, json=evaluation(), headers=home).status_code == 200
        refused = client.post(URL, json=evaluation(), headers=away)
        assert refused.status_code == 404
        assert refused.json()["error"]["detail"]["field"] == "power_code"

    def test_a_new_checklist_is_served_after_it_is_committed(
        self, db: Database, session: Session
    ) -> None:
        author = cafe_catalog(session)
        subject_type_service.ensure(
            session, author, data=SubjectTypeIn(code="internet_cafe", name="网吧")
        )
        check_item_service.put(
            session, author, code="JCX-WH-001", data=check_item("是否接纳未成年人", "wenhua", CODE)
        )
        session.commit()
        on = date(2024, 6, 1)
        with db.sessionmaker() as reader:
            assert assembly.for_subject_type(reader, "510184", "internet_cafe", on=on).items == []
        checklist_service.put(
            session, author, code="QD-WB", data=checklist("网吧", "internet_cafe", "JCX-WH-001")
        )
        session.commit()
        with db.sessionmaker() as reader:
            merged = assembly.for_subject_type(reader, "510184", "internet_cafe", on=on)
        assert [i.code for i in merged.items] == ["JCX-WH-001"]


class TestCitationsInTheChecklist:
    def test_they_read_as_the_power_page_reads_them_on_every_date(
        self, db: Database, session: Session
    ) -> None:
        author = cafe_catalog(session)
        subject_type_service.ensure(
            session, author, data=SubjectTypeIn(code="internet_cafe", name="网吧")
        )
        check_item_service.put(
            session, author, code="JCX-WH-001", data=check_item("是否接纳未成年人", "wenhua", CODE)
        )
        checklist_service.put(
            session, author, code="QD-WB", data=checklist("网吧", "internet_cafe", "JCX-WH-001")
        )
        version = session.query(PowerVersion).one()
        cited = session.get(Provision, version.citations[1]["provision_id"])
        assert cited is not None
        session.add(  # a later wording of the cited article
            Provision(
                document_id=cited.document_id,
                article=cited.article,
                label=cited.label,
                text="（一）修订后的第一项；\n（二）修订后的接纳未成年人条款；",
                version=2,
                effective_on=date(2025, 1, 1),
            )
        )
        session.commit()
        for on in (date(2024, 6, 1), date(2025, 6, 1)):
            with db.sessionmaker() as reader:
                merged = assembly.for_subject_type(reader, "510184", "internet_cafe", on=on)
                expected = browse.citations_as_on(reader, version.citations, on)
            assert merged.items[0].powers[0].citations == expected
        assert "修订后的接纳未成年人条款" in expected[1].text


class TestAStoredBenchmarkThatIsNotValid:
    def test_only_its_own_power_is_refused(self, session: Session, client: TestClient) -> None:
        author = cafe_catalog(session)
        power_service.put(session, author, code="CF-WH-002", data=cafe_power(name="另一事项"))
        power = session.query(Power).filter_by(code="CF-WH-002").one()
        session.add(  # written behind the services' back: it never passed validation
            BenchmarkVersion(
                power_id=power.id,
                version=1,
                effective_from=date(2022, 5, 1),
                content_sha256="0" * 64,
                spec={"tiers": "none"},
            )
        )
        session.commit()
        headers = officer_headers(session)
        refused = client.post(URL, json=evaluation() | {"power_code": "CF-WH-002"}, headers=headers)
        assert refused.status_code == 409
        assert refused.json()["error"]["detail"] == {"field": "power_code", "code": "CF-WH-002"}
        assert client.post(URL, json=evaluation(), headers=headers).status_code == 200
