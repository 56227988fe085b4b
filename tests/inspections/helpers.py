"""Helpers for the field-inspection tests: actors, fixes, check-ins and submissions through the API.

Everything goes through the real app and the real database; the world is ``tests.field``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.field import CAFE_LAT, CAFE_LON, FieldWorld, field_world
from zhifa.kit.clock import utcnow
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.actor import Actor
from zhifa.org.credentials import actor_for

# About 111 m per 0.001° of latitude here; the fence's half side is 0.0005° (≈ 55 m north-south).
METRES_PER_DEGREE_LAT = 111_195.0


def new_uuid() -> str:
    return str(uuid.uuid4())


def actor(session: Session, officer: Officer) -> Actor:
    return actor_for(session, officer, via="session")


def headers(session: Session, officer: Officer) -> dict[str, str]:
    """Bearer-token headers for ``officer`` (committed, so the app sees them)."""
    value = factories.bearer(session, officer)
    session.commit()
    return value


def fix(
    *,
    lon: float = CAFE_LON,
    lat: float = CAFE_LAT,
    accuracy_m: float = 10.0,
    device_time: datetime | None = None,
    offline: bool = False,
    exception_reason: str | None = None,
    client_uuid: str | None = None,
) -> dict[str, Any]:
    return {
        "client_uuid": client_uuid or new_uuid(),
        "lon": lon,
        "lat": lat,
        "accuracy_m": accuracy_m,
        "device_time": (device_time or utcnow()).isoformat(),
        "offline": offline,
        "exception_reason": exception_reason,
    }


def north_of_fence(metres: float) -> float:
    """The latitude ``metres`` north of the café fence's northern edge."""
    return CAFE_LAT + 0.0005 + metres / METRES_PER_DEGREE_LAT


def check_in(client: TestClient, auth: dict[str, str], task_id: int, **fix_args: Any) -> Any:
    return client.post(f"/api/v1/tasks/{task_id}/check-ins", json=fix(**fix_args), headers=auth)


def bundle(client: TestClient, auth: dict[str, str], task_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/tasks/{task_id}", headers=auth)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def all_pass(checklist: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"item_code": i["code"], "result": "pass"} for i in checklist["items"]]


def submission(
    checklist_sha256: str,
    answers: list[dict[str, Any]],
    *,
    client_uuid: str | None = None,
    evidence_uuids: list[str] | None = None,
    summary: str = "现场检查情况正常",
) -> dict[str, Any]:
    return {
        "client_uuid": client_uuid or new_uuid(),
        "checklist_sha256": checklist_sha256,
        "device_time": utcnow().isoformat(),
        "summary": summary,
        "answers": answers,
        "evidence_uuids": evidence_uuids or [],
    }


def replace(answers: list[dict[str, Any]], code: str, **fields: Any) -> list[dict[str, Any]]:
    return [({"item_code": code, **fields} if a["item_code"] == code else a) for a in answers]


class OnSite:
    """The field world with both officers checked in on the café's task, through the API."""

    def __init__(self, client: TestClient, session: Session) -> None:
        self.client = client
        self.session = session
        self.w: FieldWorld = field_world(session)
        session.commit()
        self.lead = headers(session, self.w.officer)
        self.second = headers(session, self.w.second)
        self.leader = headers(session, self.w.leader)

    @property
    def task_id(self) -> int:
        return self.w.task.id

    def arrive(self) -> OnSite:
        for auth in (self.lead, self.second):
            response = check_in(self.client, auth, self.task_id)
            assert response.status_code == 201, response.text
        return self

    def bundle(self, auth: dict[str, str] | None = None) -> dict[str, Any]:
        return bundle(self.client, auth or self.lead, self.task_id)

    def submit(self, body: dict[str, Any], auth: dict[str, str] | None = None) -> Any:
        return self.client.post(
            f"/api/v1/tasks/{self.task_id}/inspection/submit", json=body, headers=auth or self.lead
        )

    def answers(self) -> tuple[str, list[dict[str, Any]]]:
        data = self.bundle()
        return data["checklist_sha256"], all_pass(data["checklist"])


def events(session: Session, kind: str, subject_type: str | None = None) -> list[LedgerEvent]:
    session.expire_all()
    stmt = select(LedgerEvent).where(LedgerEvent.kind == kind)
    if subject_type is not None:
        stmt = stmt.where(LedgerEvent.subject_type == subject_type)
    return list(session.scalars(stmt.order_by(LedgerEvent.seq)))
