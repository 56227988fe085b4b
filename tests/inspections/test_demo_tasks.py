"""The demo's inspection tasks for today: the demo ``officer`` with a partner of the same squad, on
the demo construction site and other subjects of squad ZD01, for the whole local day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.demo import inspections
from zhifa.demo.field import load_field_demo
from zhifa.demo.loader import load_demo
from zhifa.kit.clock import SHANGHAI
from zhifa.models.inspections import InspectionTask, TaskKind
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer, Unit
from zhifa.models.subjects import Subject, SubjectKind

TODAY = date(2026, 11, 29)


def officer(session: Session, username: str) -> Officer:
    return session.scalars(select(Officer).where(Officer.username == username)).one()


def demo_tasks(session: Session) -> list[InspectionTask]:
    session.expire_all()
    return list(session.scalars(select(InspectionTask).order_by(InspectionTask.id)))


def subject(session: Session, district: str, unit: Unit, name: str, subject_type: str) -> Subject:
    row = Subject(
        district_code=district,
        kind=SubjectKind.ENTERPRISE,
        name=name,
        subject_type_code=subject_type,
        lon=103.65,
        lat=30.64,
        geofence_radius_m=80.0,
        unit_id=unit.id,
    )
    session.add(row)
    session.flush()
    return row


def light_demo(session: Session) -> tuple[str, Unit]:
    """The demo district with hand-made subjects (no catalog: tasks do not need one)."""
    district = load_demo(session, today=TODAY).district_code
    squads = {u.code: u for u in session.scalars(select(Unit))}
    subject(session, district, squads["ZD01"], "演示饭店", "restaurant")
    subject(session, district, squads["ZD01"], "演示工地", "construction_site")
    subject(session, district, squads["ZD01"], "演示网吧", "internet_cafe")
    subject(session, district, squads["ZD01"], "演示超市", "supermarket")
    subject(session, district, squads["ZD02"], "别队工地", "construction_site")
    session.commit()
    return district, squads["ZD01"]


class TestDemoTasks:
    def test_make_run_gives_the_demo_officer_a_task_on_the_construction_site(
        self, session: Session
    ) -> None:
        district = load_demo(session, today=TODAY).district_code
        load_sample_catalog(session, district)
        summary = load_field_demo(session, district, today=TODAY)
        session.commit()

        rows = demo_tasks(session)
        assert summary.tasks == len(rows) == 3
        site = session.get(Subject, rows[0].subject_id)
        assert site is not None
        assert site.subject_type_code == "construction_site"
        lead, partner = officer(session, "officer"), officer(session, "officer02")
        assert all(t.officer_ids == [lead.id, partner.id] for t in rows)
        assert partner.unit_id == lead.unit_id
        start = rows[0].window_start.astimezone(SHANGHAI)
        end = rows[0].window_end.astimezone(SHANGHAI)
        assert (start.date(), start.hour, start.minute) == (TODAY, 0, 0)
        assert (end.date(), end.hour, end.minute) == (TODAY, 23, 59)

    def test_the_site_comes_first_then_two_other_subjects_of_the_squad(
        self, session: Session
    ) -> None:
        district, squad = light_demo(session)

        created = inspections.load(session, district, today=TODAY)

        names = [session.get(Subject, t.subject_id).name for t in demo_tasks(session)]  # type: ignore[union-attr]
        assert created == 3
        assert names == ["演示工地", "演示饭店", "演示网吧"]
        assert all(
            t.kind == TaskKind.PLANNED and t.unit_id == squad.id for t in demo_tasks(session)
        )

    def test_each_task_is_ledgered_as_demo_data(self, session: Session) -> None:
        district, _ = light_demo(session)

        inspections.load(session, district, today=TODAY)
        session.commit()

        created = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "inspection.task.created")
        ).all()
        assert len(created) == 3
        assert all(e.payload["via"] == "demo" and e.actor_id is None for e in created)

    def test_a_second_run_the_same_day_adds_nothing(self, session: Session) -> None:
        district, _ = light_demo(session)
        inspections.load(session, district, today=TODAY)

        assert inspections.load(session, district, today=TODAY) == 0
        assert len(demo_tasks(session)) == 3

    def test_a_new_day_adds_that_days_tasks(self, session: Session) -> None:
        district, _ = light_demo(session)
        inspections.load(session, district, today=TODAY)

        assert inspections.load(session, district, today=TODAY + timedelta(days=1)) == 3
        assert len(demo_tasks(session)) == 6

    def test_without_demo_subjects_nothing_is_planned(self, session: Session) -> None:
        district = load_demo(session, today=TODAY).district_code

        assert inspections.load(session, district, today=TODAY) == 0
        assert demo_tasks(session) == []

    def test_an_unknown_district_is_skipped_quietly(self, session: Session) -> None:
        assert inspections.load(session, "999999", today=TODAY) == 0
