"""The command centre page (/command, command:view): the complaint queue, the live map's data
(grids with their squad, officers with their last fix, open complaints), the panel, this month's
indicators, and today's inspections in scope with subject, officers, 不合格 count and documents,
the latest documents and the map of today's task subjects; per role and scope."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, IN_WG02, VENDING, ComplaintWorld, complaint_world
from tests.org.helpers import web_login
from tests.subjects.helpers import World, inspected_cafe, subjects_world
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.dispatch import live
from zhifa.dispatch.schemas import FixIn
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintSource
from zhifa.models.dispatch import DutyStatus
from zhifa.models.inspections import TaskStatus
from zhifa.models.org import Officer
from zhifa.org.credentials import actor_for
from zhifa.org.roles import Role


@pytest.fixture
def world(session: Session) -> World:
    w = subjects_world(session)
    session.commit()
    return w


def _officer(session: Session, world: World, role: Role, squad: bool = True) -> Officer:
    unit = world.field.other_squad if squad else world.field.bureau
    row = factories.officer(session, "510184", f"x-{role.value}", [role], unit=unit, name="旁观者")
    session.commit()
    return row


def _map(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="command-subjects">(.*?)</script>', html)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


class TestCommandPage:
    def test_shows_todays_submitted_inspection_with_failures_and_documents(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        done = inspected_cafe(session, world)
        session.commit()
        web_login(client, session, world.field.leader)

        response = client.get("/command")

        assert response.status_code == 200
        html = response.text
        assert f'data-task-id="{world.field.task.id}"' in html
        assert world.field.cafe.name in html
        assert "李明" in html and "王芳" in html  # noqa: PT018
        assert 'data-failed="3"' in html
        assert done.document.number_text in html
        assert f"/verify/{done.document.public_id}" in html
        assert 'data-stream="/command/stream"' in html
        assert "/static/js/command.js" in html

    def test_the_map_holds_todays_task_subjects_with_their_fence(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.leader)

        data = _map(client.get("/command").text)

        (feature,) = data["features"]  # type: ignore[misc]
        assert feature["properties"]["name"] == world.field.cafe.name
        assert feature["properties"]["fence"] == world.field.cafe.geofence
        assert feature["properties"]["colour"] == "grey"  # planned, not started

    def test_a_planned_task_is_counted_but_not_listed(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.leader)

        html = client.get("/command").text

        assert f'data-task-id="{world.field.task.id}"' not in html
        assert "今天还没有正在进行或已提交的检查" in html

    def test_an_in_progress_task_is_listed(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        world.field.task.status = TaskStatus.IN_PROGRESS
        session.commit()
        web_login(client, session, world.field.leader)

        html = client.get("/command").text

        assert f'data-task-id="{world.field.task.id}"' in html
        assert "检查中" in html

    def test_another_squads_leader_sees_nothing_of_this_squad(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        done = inspected_cafe(session, world)
        session.commit()
        web_login(client, session, _officer(session, world, Role.SQUAD_LEADER))

        html = client.get("/command").text

        assert world.field.cafe.name not in html
        assert done.document.number_text not in html

    def test_a_dispatcher_with_district_scope_sees_it(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        inspected_cafe(session, world)
        session.commit()
        web_login(client, session, _officer(session, world, Role.DISPATCHER, squad=False))

        html = client.get("/command").text

        assert f'data-task-id="{world.field.task.id}"' in html

    def test_a_field_officer_may_not_open_it(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.officer)

        response = client.get("/command")

        assert response.status_code == 403

    def test_the_today_fragment_is_the_lists_alone(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        inspected_cafe(session, world)
        session.commit()
        web_login(client, session, world.field.leader)

        response = client.get("/command/today")

        assert response.status_code == 200
        assert f'data-task-id="{world.field.task.id}"' in response.text
        assert "<html" not in response.text


def _json(html: str, element_id: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert found is not None, element_id
    return json.loads(found.group(1))


@pytest.fixture
def cworld(session: Session) -> ComplaintWorld:
    w = complaint_world(session)
    session.commit()
    return w


def _take_in(session: Session, world: ComplaintWorld, point: tuple[float, float]) -> Complaint:
    data = ComplaintIn(
        category_code=VENDING,
        description="流动摊贩占道经营",
        lon=point[0],
        lat=point[1],
        address="蜀州中路 88 号",
        attributes={"blocking": "yes"},
    )
    result = create_complaint(
        session,
        district_code=world.district_code,
        data=data,
        source=ComplaintSource.HOTLINE,
        actor_id=world.dispatcher.id,
    )
    session.commit()
    return result.complaint


def _on_duty(session: Session, officer: Officer, point: tuple[float, float], age_s: int) -> None:
    fix = FixIn(
        lon=point[0], lat=point[1], accuracy_m=8, fix_at=utcnow() - timedelta(seconds=age_s)
    )
    live.record_fixes(session, actor_for(session, officer, via="token"), [fix])
    live.set_status(
        session, officer_id=officer.id, status=DutyStatus.AVAILABLE, actor_id=officer.id
    )
    session.commit()


class TestCommandCentrePage:
    def test_the_dispatcher_sees_the_queue_the_map_data_and_the_panel(
        self, client: TestClient, session: Session, cworld: ComplaintWorld
    ) -> None:
        complaint = _take_in(session, cworld, IN_WG01)
        _on_duty(session, cworld.officer, IN_WG01, age_s=30)
        web_login(client, session, cworld.dispatcher)

        response = client.get("/command")

        assert response.status_code == 200
        html = response.text
        assert f'data-complaint-id="{complaint.id}"' in html
        assert complaint.tracking_no in html
        assert 'id="cc-panel"' in html and "一键派遣" in html  # noqa: PT018
        assert 'data-can-dispatch="1"' in html
        for script in ("command-map.js", "command-panel.js", "command.js", "leaflet.js"):
            assert f"/static/js/{script}" in html or f"/static/vendor/leaflet/{script}" in html
        (officer,) = _json(html, "command-officers")
        assert officer["name"] == "李明"
        assert (officer["status"], officer["stale_after"]) == ("available", 300)
        assert (officer["lon"], officer["lat"]) == IN_WG01
        assert officer["fix_at"] is not None

    def test_the_grids_carry_their_squad_and_the_labels_are_chinese(
        self, client: TestClient, session: Session, cworld: ComplaintWorld
    ) -> None:
        web_login(client, session, cworld.dispatcher)

        html = client.get("/command").text

        grids = {
            f["properties"]["code"]: f["properties"]
            for f in _json(html, "command-grids")["features"]
        }
        assert grids["WG01"]["unit"] == "一中队"
        assert grids["WG02"]["unit"] == "二中队"
        labels = _json(html, "command-labels")
        assert labels["duty"]["available"] == {"label": "在岗可派", "colour": "green"}
        assert labels["sla"]["overdue"]["colour"] == "red"
        text = _json(html, "command-text")
        assert text["overdue"] == "超时 {time}"
        assert text["minutes"] == "{n} 分钟"

    def test_this_months_indicators_are_on_the_page(
        self, client: TestClient, session: Session, cworld: ComplaintWorld
    ) -> None:
        web_login(client, session, cworld.bureau_leader)

        response = client.get("/command")

        assert response.status_code == 200
        assert "data-kpi-strip" in response.text
        assert "按期处置率" in response.text and "返工率" in response.text  # noqa: PT018
        assert 'href="/analytics"' in response.text

    def test_a_squad_leader_sees_only_their_squads_complaints_and_officers(
        self, client: TestClient, session: Session, cworld: ComplaintWorld
    ) -> None:
        own = _take_in(session, cworld, IN_WG01)
        other = _take_in(session, cworld, IN_WG02)
        _on_duty(session, cworld.officer, IN_WG01, age_s=30)
        _on_duty(session, cworld.field.outsider, IN_WG02, age_s=30)
        web_login(client, session, cworld.field.leader)

        html = client.get("/command").text

        assert f'data-complaint-id="{own.id}"' in html
        assert f'data-complaint-id="{other.id}"' not in html
        assert [o["name"] for o in _json(html, "command-officers")] == ["李明"]
        grids = [f["properties"]["code"] for f in _json(html, "command-grids")["features"]]
        assert grids == ["WG01"]

    def test_a_stale_fix_is_sent_with_its_time_for_the_page_to_grey_it(
        self, client: TestClient, session: Session, cworld: ComplaintWorld
    ) -> None:
        _on_duty(session, cworld.second, IN_WG01, age_s=900)
        web_login(client, session, cworld.dispatcher)

        (officer,) = _json(client.get("/command").text, "command-officers")

        age = utcnow() - datetime.fromisoformat(officer["fix_at"])
        assert age > timedelta(seconds=officer["stale_after"])

    def test_a_legal_reviewer_may_not_open_it(
        self, client: TestClient, session: Session, cworld: ComplaintWorld
    ) -> None:
        reviewer = factories.officer(
            session, "510184", "fa.zhi", [Role.LEGAL_REVIEWER], unit=cworld.field.bureau
        )
        session.commit()
        web_login(client, session, reviewer)

        for path in ("/command", "/command/queue", "/command/today"):
            assert client.get(path).status_code == 403, path
