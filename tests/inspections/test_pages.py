"""The desk pages: tasks of the day with the planning form, one task in full, exception check-ins
to decide, case leads."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.field import MINORS, FieldWorld
from tests.inspections.helpers import OnSite, check_in, headers, north_of_fence, replace, submission
from tests.org.helpers import web_login
from zhifa.kit.clock import today_local
from zhifa.models.inspections import CheckIn, CheckInOutcome, InspectionTask, TaskStatus


@pytest.fixture
def site(client: TestClient, session: Session) -> OnSite:
    return OnSite(client, session)


def login(client: TestClient, session: Session, officer: Any) -> str:
    return web_login(client, session, officer)


def tasks(session: Session) -> list[InspectionTask]:
    session.expire_all()
    return list(session.scalars(select(InspectionTask).order_by(InspectionTask.id)))


class TestTaskList:
    def test_the_day_shows_its_tasks_and_the_planning_form_for_a_squad_leader(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        login(client, session, site.w.leader)

        page = client.get("/inspections/tasks")

        assert page.status_code == 200
        assert f'data-task-id="{site.task_id}"' in page.text
        assert site.w.cafe.name in page.text
        assert "新建计划检查任务" in page.text
        assert "取消任务" in page.text

    def test_an_officer_sees_the_tasks_without_the_form(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        login(client, session, site.w.officer)

        page = client.get("/inspections/tasks")

        assert f'data-task-id="{site.task_id}"' in page.text
        assert "新建计划检查任务" not in page.text

    def test_another_day_is_empty(self, client: TestClient, session: Session, site: OnSite) -> None:
        login(client, session, site.w.leader)

        page = client.get("/inspections/tasks?on=2020-01-01")

        assert "当天没有检查任务" in page.text

    def test_the_subject_picker_finds_subjects_in_scope(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        login(client, session, site.w.leader)

        found = client.get("/inspections/subject-choices?q=星际")

        assert f'value="{site.w.cafe.id}"' in found.text


class TestPlanningForm:
    def form(self, w: FieldWorld, csrf: str, **changes: str) -> dict[str, str]:
        values = {
            "csrf_token": csrf,
            "subject_id": str(w.cafe.id),
            "lead_id": str(w.second.id),
            "second_id": str(w.officer.id),
            "day": today_local().isoformat(),
            "start": "14:00",
            "end": "16:30",
            "title": "下午复核",
            "note": "",
        }
        return values | changes

    def test_a_planned_task_is_created_and_the_browser_goes_to_it(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        csrf = login(client, session, site.w.leader)

        response = client.post(
            "/inspections/tasks", data=self.form(site.w, csrf), follow_redirects=False
        )

        assert response.status_code == 303
        created = tasks(session)[-1]
        assert response.headers["location"] == f"/inspections/tasks/{created.id}"
        assert created.officer_ids == [site.w.second.id, site.w.officer.id]
        assert created.title == "下午复核"

    def test_with_htmx_the_page_is_told_where_to_go(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        csrf = login(client, session, site.w.leader)

        response = client.post(
            "/inspections/tasks", data=self.form(site.w, csrf), headers={"HX-Request": "true"}
        )

        assert response.status_code == 200
        assert response.headers["HX-Redirect"].startswith("/inspections/tasks/")

    def test_one_officer_only_is_refused_with_a_message(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        csrf = login(client, session, site.w.leader)

        response = client.post(
            "/inspections/tasks",
            data=self.form(site.w, csrf, second_id=str(site.w.second.id)),
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 422
        assert "两名以上" in response.text
        assert len(tasks(session)) == 1

    def test_cancelling_from_the_list(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        csrf = login(client, session, site.w.leader)

        response = client.post(
            f"/inspections/tasks/{site.task_id}/cancel",
            data={"csrf_token": csrf, "reason": "当事人停业"},
            follow_redirects=False,
        )

        assert response.status_code == 303
        assert tasks(session)[0].status == TaskStatus.CANCELLED

    def test_an_officer_may_not_post_the_form(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        csrf = login(client, session, site.w.officer)

        response = client.post("/inspections/tasks", data=self.form(site.w, csrf))

        assert response.status_code == 403
        assert len(tasks(session)) == 1


class TestTaskPage:
    def test_it_shows_check_ins_answers_basis_and_measures(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        site.arrive()
        sha, answers = site.answers()
        answers = replace(
            answers,
            "WB-01",
            result="fail",
            reason="现场发现未成年人上网",
            measure="case_lead",
            power_code=MINORS,
        )
        site.submit(submission(sha, answers))
        login(client, session, site.w.leader)

        page = client.get(f"/inspections/tasks/{site.task_id}")

        assert page.status_code == 200
        assert page.text.count("data-check-in-id=") == 2
        assert 'data-item-code="WB-01"' in page.text
        assert "现场发现未成年人上网" in page.text
        assert "《互联网上网服务营业场所管理条例》第二十一条" in page.text
        assert "建议立案" in page.text
        assert "task-map-data" in page.text

    def test_another_squad_gets_404(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        login(client, session, site.w.outsider)

        assert client.get(f"/inspections/tasks/{site.task_id}").status_code == 404


class TestExceptionsPage:
    def ask(self, client: TestClient, session: Session, site: OnSite) -> int:
        response = check_in(
            client,
            headers(session, site.w.officer),
            site.task_id,
            lat=north_of_fence(150),
            exception_reason="门牌已搬迁",
        )
        assert response.status_code == 202
        return int(response.json()["id"])

    def test_the_squad_leader_sees_and_approves_an_exception(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        check_in_id = self.ask(client, session, site)
        csrf = login(client, session, site.w.leader)

        page = client.get("/inspections/exceptions")
        assert f'data-check-in-id="{check_in_id}"' in page.text
        assert "门牌已搬迁" in page.text

        response = client.post(
            f"/inspections/exceptions/{check_in_id}/decision",
            data={"csrf_token": csrf, "approve": "1", "note": ""},
            follow_redirects=False,
        )
        assert response.status_code == 303
        session.expire_all()
        row = session.get(CheckIn, check_in_id)
        assert row is not None
        assert row.outcome == CheckInOutcome.EXCEPTION_APPROVED

    def test_rejecting_without_a_reason_is_refused(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        check_in_id = self.ask(client, session, site)
        csrf = login(client, session, site.w.leader)

        response = client.post(
            f"/inspections/exceptions/{check_in_id}/decision",
            data={"csrf_token": csrf, "approve": "0", "note": ""},
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 422
        session.expire_all()
        assert session.get(CheckIn, check_in_id).outcome == CheckInOutcome.EXCEPTION_PENDING  # type: ignore[union-attr]

    def test_a_field_officer_may_not_open_it(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        login(client, session, site.w.officer)

        assert client.get("/inspections/exceptions").status_code == 403


class TestCaseLeadsPage:
    def test_it_lists_the_case_leads(
        self, client: TestClient, session: Session, site: OnSite
    ) -> None:
        site.arrive()
        sha, answers = site.answers()
        answers = replace(
            answers, "WB-01", result="fail", reason="接纳未成年人", measure="case_lead",
            power_code=MINORS,
        )  # fmt: skip
        site.submit(submission(sha, answers))
        login(client, session, site.w.leader)

        page = client.get("/inspections/case-leads")

        assert page.status_code == 200
        assert "data-case-lead-id=" in page.text
        assert "接纳未成年人" in page.text
        assert "接纳未成年人" not in client.get("/inspections/case-leads?status=dropped").text
