"""A small world for account tests: two districts, a brigade with two squads, and one officer per
kind of account the tests need."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer, Unit, UnitKind
from zhifa.org.roles import Role

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class World:
    squad_a: Unit
    squad_b: Unit
    officer: Officer  # field officer, squad A, squad scope
    neighbour: Officer  # field officer, squad B
    admin: Officer  # system admin, district scope (org:manage, tokens:manage)
    outsider: Officer  # field officer in another district
    outsider_admin: Officer  # system admin in another district


@pytest.fixture
def world(session: Session) -> World:
    factories.district(session, "510184", "崇州市（演示）")
    factories.district(session, "510181", "都江堰市（演示）")
    bureau = factories.unit(session, "510184", UnitKind.BUREAU, "综合行政执法局", "CZ")
    brigade = factories.unit(session, "510184", UnitKind.BRIGADE, "一大队", "CZ-1", bureau)
    squad_a = factories.unit(session, "510184", UnitKind.SQUAD, "崇阳中队", "CZ-1-1", brigade)
    squad_b = factories.unit(session, "510184", UnitKind.SQUAD, "羊马中队", "CZ-1-2", brigade)
    other = factories.unit(session, "510181", UnitKind.SQUAD, "灌口中队", "DJY-1")
    result = World(
        squad_a=squad_a,
        squad_b=squad_b,
        officer=factories.officer(
            session,
            "510184",
            "zhang.wei",
            [Role.OFFICER],
            unit=squad_a,
            name="张伟",
            cert_no="51018420260001",
        ),
        neighbour=factories.officer(session, "510184", "li.na", [Role.OFFICER], unit=squad_b),
        admin=factories.officer(session, "510184", "admin", [Role.SYSTEM_ADMIN], unit=bureau),
        outsider=factories.officer(session, "510181", "wang.fang", [Role.OFFICER], unit=other),
        outsider_admin=factories.officer(session, "510181", "djy.admin", [Role.SYSTEM_ADMIN]),
    )
    session.commit()
    return result


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match is not None, "the page has no csrf_token field"
    return match.group(1)


def login(
    client: TestClient, username: str, password: str = factories.PASSWORD, next_path: str = "/"
) -> Response:
    """Fill in and send the login form, as a browser does."""
    page = client.get("/login", params={"next": next_path})
    assert page.status_code == 200
    form = {
        "username": username,
        "password": password,
        "next": next_path,
        "csrf_token": csrf_from(page.text),
    }
    return client.post("/login", data=form, follow_redirects=False)


def events(session: Session, kind: str) -> list[LedgerEvent]:
    session.expire_all()
    stmt = select(LedgerEvent).where(LedgerEvent.kind == kind).order_by(LedgerEvent.id)
    return list(session.scalars(stmt))


def count(session: Session, model: type) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model)) or 0
