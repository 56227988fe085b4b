"""The JSON API of ``zhifa.dispatch.endpoints`` over HTTP: who may call each route (every role, and
a squad leader of another squad for the scoped reads), and the recommendation as the command
centre reads it, from positions and duty status sent by the officers' own devices."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, VENDING, ComplaintWorld, complaint_world
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintSource, HotlineType
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.roles import DEFAULT_SCOPE, Permission, Role, ScopeLevel, permissions_for

HANDLE, COMMAND = Permission.COMPLAINTS_HANDLE, Permission.COMMAND_VIEW
DISPATCH = Permission.COMPLAINTS_DISPATCH


def fix(minutes_ago: float = 1.0, east_deg: float = 0.0) -> dict[str, Any]:
    return {
        "lon": IN_WG01[0] + east_deg,
        "lat": IN_WG01[1],
        "accuracy_m": 6.0,
        "fix_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat(),
    }


@dataclass(frozen=True)
class Call:
    permission: Permission
    body: dict[str, Any] | None = None
    scoped: bool = False  # names a row of 一中队: a squad leader of 二中队 gets 404


ROUTES: dict[tuple[str, str], Call] = {
    ("POST", "/api/v1/positions"): Call(HANDLE, {"fixes": [fix()]}),
    ("PUT", "/api/v1/me/status"): Call(HANDLE, {"status": "available"}),
    ("GET", "/api/v1/officers/live"): Call(COMMAND),
    ("GET", "/api/v1/officers/{officer_id}/track"): Call(COMMAND, scoped=True),
    ("GET", "/api/v1/complaints/{complaint_id}/recommendation"): Call(DISPATCH, scoped=True),
}
ACTORS = [*(role.value for role in Role), "squad_leader@other"]


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    w = complaint_world(session)
    session.commit()
    return w


def complaint(session: Session, world: ComplaintWorld) -> Complaint:
    row = Complaint(
        district_code=world.district_code,
        tracking_no="TS-API-1",
        token=str(uuid.uuid4()),
        source=ComplaintSource.HOTLINE,
        category_id=world.categories[VENDING].id,
        hotline_type=HotlineType.COMPLAINT,
        lon=IN_WG01[0],
        lat=IN_WG01[1],
        unit_id=world.field.squad.id,
        received_at=utcnow(),
    )
    session.add(row)
    session.commit()
    return row


def headers(session: Session, officer: Officer) -> dict[str, str]:
    value = factories.bearer(session, officer)
    session.commit()
    return value


def dispatch_routes(app: FastAPI) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for route in iter_route_contexts(app.routes):
        if (
            getattr(getattr(route, "endpoint", None), "__module__", "")
            == "zhifa.dispatch.endpoints"
        ):
            path = getattr(route, "path", "")
            found |= {(m, path) for m in getattr(route, "methods", set()) - {"HEAD"}}
    return found


def test_every_route_has_an_expected_access(app: FastAPI) -> None:
    assert dispatch_routes(app) == set(ROUTES)


def _actors(session: Session, world: ComplaintWorld) -> dict[str, Officer]:
    f = world.field
    found = {}
    for role in Role:
        narrow = DEFAULT_SCOPE[role] is ScopeLevel.SQUAD
        found[role.value] = factories.officer(
            session, "510184", f"m-{role.value}", [role], unit=f.squad if narrow else f.bureau
        )
    found["squad_leader@other"] = factories.officer(
        session, "510184", "m-other", [Role.SQUAD_LEADER], unit=f.other_squad
    )
    session.commit()
    return found


def expected(call: Call, actor: str) -> int:
    role = Role(actor.split("@")[0])
    if call.permission not in permissions_for(frozenset({role})):
        return 403
    return 404 if actor.endswith("@other") and call.scoped else 200


@pytest.mark.parametrize("key", sorted(ROUTES), ids=lambda k: f"{k[0]} {k[1]}")
def test_each_role_gets_the_expected_answer(
    key: tuple[str, str], client: TestClient, session: Session, world: ComplaintWorld
) -> None:
    call = ROUTES[key]
    target = complaint(session, world)
    path = key[1].format(officer_id=world.officer.id, complaint_id=target.id)
    actors = _actors(session, world)
    tokens = {name: factories.bearer(session, officer) for name, officer in actors.items()}
    session.commit()
    answers = {
        actor: client.request(key[0], path, json=call.body, headers=tokens[actor]).status_code
        for actor in ACTORS
    }
    assert answers == {actor: expected(call, actor) for actor in ACTORS}


def test_an_anonymous_caller_is_asked_to_log_in(client: TestClient, world: ComplaintWorld) -> None:
    for method, path in ROUTES:
        concrete = path.format(officer_id=world.officer.id, complaint_id=1)
        assert client.request(method, concrete, json=ROUTES[(method, path)].body).status_code == 401


class TestTheRecommendationOverHttp:
    def test_officers_on_duty_nearby_are_recommended_from_their_own_reports(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        for officer, east in ((world.officer, 0.002), (world.second, 0.004), (world.third, 0.001)):
            h = headers(session, officer)
            sent = client.post("/api/v1/positions", json={"fixes": [fix(1, east)]}, headers=h)
            assert sent.status_code == 200
            if officer is not world.third:  # 吴强 stays off duty
                client.put("/api/v1/me/status", json={"status": "available"}, headers=h)
        response = client.get(
            f"/api/v1/complaints/{c.id}/recommendation", headers=headers(session, world.dispatcher)
        )
        assert response.status_code == 200
        body = response.json()
        assert [p["name"] for p in body["pair"]] == ["李明", "王芳"]
        assert body["tracking_no"] == "TS-API-1"
        assert body["owning_unit_name"] == "一中队"
        assert body["has_point"] is True
        assert body["stale_after_seconds"] == 300
        lead = body["pair"][0]
        assert isinstance(lead["distance_m"], int)
        assert 180 <= lead["distance_m"] <= 200  # 0.002° of longitude at 30.6° N
        assert (lead["status"], lead["status_label"], lead["eligible"]) == (
            "available",
            "在岗可派",
            True,
        )
        skipped = body["candidates"][0]
        assert (skipped["name"], skipped["eligible"], skipped["reason"]) == ("吴强", False, "离岗")
        assert body["explanation"][0] == "该投诉由一中队管辖：优先推荐该中队距离最近的可派人员。"
        assert any(line.startswith("未推荐吴强") for line in body["explanation"])

    def test_the_explanation_follows_the_requested_language(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        response = client.get(
            f"/api/v1/complaints/{c.id}/recommendation?lang=en",
            headers=headers(session, world.dispatcher),
        )
        assert response.json()["explanation"] == [
            "The complaint belongs to 一中队: its nearest available officers go first.",
            "No available officer was found: choose the officers by hand.",
        ]

    def test_reading_a_recommendation_changes_nothing(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        before = session.scalar(select(func.count()).select_from(LedgerEvent))
        client.get(
            f"/api/v1/complaints/{c.id}/recommendation", headers=headers(session, world.dispatcher)
        )
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(LedgerEvent)) == before

    @pytest.mark.parametrize("limit", [0, 51])
    def test_a_limit_out_of_range_is_refused(
        self, client: TestClient, session: Session, world: ComplaintWorld, limit: int
    ) -> None:
        c = complaint(session, world)
        response = client.get(
            f"/api/v1/complaints/{c.id}/recommendation?limit={limit}",
            headers=headers(session, world.dispatcher),
        )
        assert response.status_code == 422
        assert "limit" in response.json()["error"]["message"]

    def test_an_unknown_complaint_is_not_found(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        response = client.get(
            "/api/v1/complaints/424242/recommendation", headers=headers(session, world.dispatcher)
        )
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_a_complaint_of_another_squad_is_not_found_for_a_squad_leader(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        c = complaint(session, world)
        other = factories.officer(
            session, "510184", "zd02.leader", [Role.SQUAD_LEADER], unit=world.field.other_squad
        )
        response = client.get(
            f"/api/v1/complaints/{c.id}/recommendation", headers=headers(session, other)
        )
        assert response.status_code == 404
        assert "pair" not in response.json()
