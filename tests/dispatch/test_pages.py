"""The command centre page (/command, command:view): today's inspections in scope with subject,
officers, 不合格 count and documents, the latest documents and the map of today's task subjects."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.org.helpers import web_login
from tests.subjects.helpers import World, inspected_cafe, subjects_world
from zhifa.models.inspections import TaskStatus
from zhifa.models.org import Officer
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
