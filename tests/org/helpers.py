"""Test helpers for the organisation tests: a two-district world, fast officers, web logins.

Officers built here have no password hash (argon2 is slow and these tests use tokens or a web
session row); the real login flow is tested by the accounts tests.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.factories import officer
from zhifa.kit.clock import utcnow
from zhifa.models.org import Department, Grid, Officer, Unit, UnitKind
from zhifa.models.security import WebSession
from zhifa.org.credentials import SESSION_COOKIE, digest, new_secret
from zhifa.org.roles import Role

HOME, OTHER = "510184", "510104"  # 崇州 and 锦江: same city (510100), two districts


def square(lon: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    """A closed, valid square Polygon with its south-west corner at (lon, lat)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def grid(session: Session, squad: Unit, code: str, lon: float, lat: float) -> Grid:
    geometry = square(lon, lat)
    ring = geometry["coordinates"][0]
    row = Grid(
        district_code=squad.district_code,
        code=code,
        name=code,
        unit_id=squad.id,
        geometry=geometry,
        min_lon=ring[0][0],
        min_lat=ring[0][1],
        max_lon=ring[2][0],
        max_lat=ring[2][1],
        area_m2=1.0,
    )
    session.add(row)
    session.flush()
    return row


@dataclass
class Side:
    """One district: bureau → brigade 1 → squad 1 (the squad-scoped actors' own squad),
    bureau → brigade 2 → squad 2 (a sibling squad in the same district)."""

    code: str
    bureau: Unit
    brigade1: Unit
    squad1: Unit
    brigade2: Unit
    squad2: Unit
    department: Department
    officer1: Officer
    officer2: Officer
    grid1: Grid
    grid2: Grid
    actors: dict[str, Officer] = field(default_factory=dict)


def build_side(session: Session, code: str, lon: float) -> Side:
    factories.district(session, code, f"测试区{code}")
    bureau = factories.unit(session, code, UnitKind.BUREAU, "执法局", f"B{code}")
    b1 = factories.unit(session, code, UnitKind.BRIGADE, "一大队", f"D1-{code}", bureau)
    s1 = factories.unit(session, code, UnitKind.SQUAD, "一中队", f"S1-{code}", b1)
    b2 = factories.unit(session, code, UnitKind.BRIGADE, "二大队", f"D2-{code}", bureau)
    s2 = factories.unit(session, code, UnitKind.SQUAD, "二中队", f"S2-{code}", b2)
    dept = factories.department(session, code, "chengguan", "城管")
    o1 = officer(session, code, f"member1-{code}", [Role.OFFICER], unit=s1, cert_no=f"C1-{code}")
    o2 = officer(session, code, f"member2-{code}", [Role.OFFICER], unit=s2, cert_no=f"C2-{code}")
    g1 = grid(session, s1, f"G1-{code}", lon, 30.60)
    g2 = grid(session, s2, f"G2-{code}", lon + 0.02, 30.60)
    return Side(code, bureau, b1, s1, b2, s2, dept, o1, o2, g1, g2)


def web_login(client: TestClient, session: Session, who: Officer) -> str:
    """Sign ``who`` in: a web session row plus its cookie. Returns the CSRF token."""
    secret, csrf = new_secret(), secrets.token_urlsafe(24)
    session.add(
        WebSession(
            district_code=who.district_code,
            token_hash=digest(secret),
            officer_id=who.id,
            csrf_token=csrf,
            expires_at=utcnow() + timedelta(hours=2),
        )
    )
    session.commit()
    client.cookies.set(SESSION_COOKIE, secret)
    return csrf
