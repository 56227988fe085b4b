"""JSON API of organisation administration: outcomes, ledger events and the bad input of issue 2."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.org.helpers import HOME, OTHER, Side, build_side, officer, square
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import District, Grid, Officer
from zhifa.org.roles import Role


def events(session: Session, kind: str) -> list[LedgerEvent]:
    session.expire_all()
    return list(session.scalars(select(LedgerEvent).where(LedgerEvent.kind == kind)))


def grid_count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count(Grid.id))) or 0)


def setup(session: Session, scope: str = "district") -> tuple[Side, dict[str, str]]:
    side = build_side(session, HOME, 103.60)
    admin = officer(session, HOME, "admin", [Role.SYSTEM_ADMIN], scope=scope)
    headers = factories.bearer(session, admin)
    session.commit()
    return side, headers


def new_officer(side: Side, **extra: Any) -> dict[str, Any]:
    return {
        "username": "zhang",
        "name": "张三",
        "password": "Strong-Pass-2026",
        "roles": ["officer"],
        "unit_id": side.squad1.id,
    } | extra


class TestDistricts:
    def test_a_city_admin_creates_a_district_in_the_city_with_its_city_code(
        self, client: TestClient, session: Session
    ) -> None:
        _, headers = setup(session, scope="city")
        body = {
            "code": "510115",
            "name": "温江区（测试）",
            "center_lon": 103.85,
            "center_lat": 30.68,
        }
        response = client.post("/api/v1/districts", json=body, headers=headers)
        assert response.status_code == 201
        assert response.json()["city_code"] == "510100"
        assert [e.subject_id for e in events(session, "org.district.created")] == ["510115"]

    def test_an_invalid_district_code_is_refused_and_nothing_is_written(
        self, client: TestClient, session: Session
    ) -> None:
        _, headers = setup(session, scope="city")
        response = client.post(
            "/api/v1/districts", json={"code": "510100", "name": "x"}, headers=headers
        )
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_input"
        assert "GB/T 2260" in response.json()["error"]["message"]
        assert session.get(District, "510100") is None

    def test_a_district_scope_admin_cannot_create_districts(
        self, client: TestClient, session: Session
    ) -> None:
        _, headers = setup(session, scope="district")
        response = client.post(
            "/api/v1/districts", json={"code": "510115", "name": "x"}, headers=headers
        )
        assert response.status_code == 403

    def test_a_duplicate_district_is_a_conflict(self, client: TestClient, session: Session) -> None:
        _, headers = setup(session, scope="city")
        response = client.post(
            "/api/v1/districts", json={"code": HOME, "name": "x"}, headers=headers
        )
        assert response.status_code == 409


class TestUnits:
    def test_a_squad_is_created_under_a_brigade_with_its_path(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        body = {"kind": "squad", "code": "S9", "name": "九中队", "parent_id": side.brigade1.id}
        response = client.post("/api/v1/units", json=body, headers=headers)
        assert response.status_code == 201
        unit = response.json()
        assert unit["path"] == f"{side.brigade1.path}{unit['id']}/"
        assert len(events(session, "org.unit.created")) == 1

    def test_a_second_bureau_in_a_district_is_a_conflict(
        self, client: TestClient, session: Session
    ) -> None:
        _, headers = setup(session)
        body = {"kind": "bureau", "code": "B2", "name": "第二个局"}
        response = client.post("/api/v1/units", json=body, headers=headers)
        assert response.status_code == 409
        assert response.json()["error"]["message"] == f"区县 {HOME} 已有执法局。"

    def test_a_parent_in_another_district_is_a_conflict_for_a_city_admin(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session, scope="city")
        other = build_side(session, OTHER, 104.05)
        session.commit()
        body = {
            "kind": "squad",
            "code": "S9",
            "name": "九中队",
            "parent_id": other.brigade1.id,
            "district_code": HOME,
        }
        response = client.post("/api/v1/units", json=body, headers=headers)
        assert response.status_code == 409
        assert OTHER in response.json()["error"]["message"]
        assert not events(session, "org.unit.created")

    def test_list_reports_active_officer_counts(self, client: TestClient, session: Session) -> None:
        side, headers = setup(session)
        units = {u["id"]: u for u in client.get("/api/v1/units", headers=headers).json()}
        assert units[side.squad1.id]["officer_count"] == 1
        assert units[side.bureau.id]["officer_count"] == 0


class TestOfficers:
    def test_creating_an_officer_hashes_the_password_and_never_returns_it(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        response = client.post(
            "/api/v1/officers", json=new_officer(side, cert_no="川A-001"), headers=headers
        )
        assert response.status_code == 201
        assert "password" not in response.text
        assert "hash" not in response.text
        row = session.get(Officer, response.json()["id"])
        assert row is not None
        assert row.password_hash.startswith("$argon2id$")
        [event] = events(session, "org.officer.created")
        assert row.password_hash not in str(event.payload)
        assert new_officer(side)["password"] not in str(event.payload)
        assert event.payload["cert_no"] == "川A-001"

    def test_a_duplicate_enforcement_certificate_number_is_a_conflict(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        body = new_officer(side, cert_no=side.officer1.cert_no)
        response = client.post("/api/v1/officers", json=body, headers=headers)
        assert response.status_code == 409
        assert "执法证号" in response.json()["error"]["message"]
        assert not events(session, "org.officer.created")

    def test_a_unit_in_another_district_is_a_conflict(
        self, client: TestClient, session: Session
    ) -> None:
        _, headers = setup(session, scope="city")
        other = build_side(session, OTHER, 104.05)
        session.commit()
        body = new_officer(other, district_code=HOME)
        response = client.post("/api/v1/officers", json=body, headers=headers)
        assert response.status_code == 409
        assert response.json()["error"]["detail"]["field"] == "unit_id"

    def test_a_district_admin_cannot_grant_city_scope(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        body = new_officer(side, roles=["system_admin"], scope="city")
        response = client.post("/api/v1/officers", json=body, headers=headers)
        assert response.status_code == 403

    def test_unknown_roles_and_weak_passwords_are_refused(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        bad_role = client.post(
            "/api/v1/officers", json=new_officer(side, roles=["king"]), headers=headers
        )
        weak = client.post(
            "/api/v1/officers", json=new_officer(side, password="short"), headers=headers
        )
        assert (bad_role.status_code, weak.status_code) == (422, 422)

    def test_certificate_validity_must_not_end_before_it_starts(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        body = new_officer(side, cert_valid_from="2026-01-01", cert_valid_until="2025-12-31")
        assert client.post("/api/v1/officers", json=body, headers=headers).status_code == 422

    def test_an_update_records_the_changed_fields_before_and_after(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        body = {"phone": "13800001111", "unit_id": side.squad2.id, "cert_valid_until": "2020-01-01"}
        response = client.patch(f"/api/v1/officers/{side.officer1.id}", json=body, headers=headers)
        assert response.status_code == 200
        assert response.json()["cert_state"] == "expired"
        [event] = events(session, "org.officer.updated")
        assert event.payload["changes"]["unit_id"] == {
            "before": side.squad1.id,
            "after": side.squad2.id,
        }
        assert event.payload["changes"]["phone"]["after"] == "13800001111"

    def test_search_by_certificate_number_and_filter_by_role(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        found = client.get(f"/api/v1/officers?q={side.officer2.cert_no}", headers=headers).json()
        assert [o["id"] for o in found] == [side.officer2.id]
        admins = client.get("/api/v1/officers?role=system_admin", headers=headers).json()
        assert [o["username"] for o in admins] == ["admin"]


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def feature(code: str, unit_code: str, geometry: dict[str, Any]) -> dict[str, Any]:
    props = {"code": code, "name": f"网格{code}", "unit_code": unit_code}
    return {"type": "Feature", "properties": props, "geometry": geometry}


class TestGrids:
    def test_an_import_writes_every_feature_with_bbox_area_and_one_event_each(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        fc = collection(
            feature("A1", side.squad1.code, square(103.70, 30.60)),
            feature("A2", side.squad2.code, square(103.72, 30.60)),
        )
        response = client.post("/api/v1/grids/import", json=fc, headers=headers)
        assert response.status_code == 201
        assert response.json()["imported"] == 2
        first = response.json()["grids"][0]
        assert (first["min_lon"], first["max_lat"]) == pytest.approx((103.70, 30.61))
        assert first["area_m2"] > 1_000_000
        assert len(events(session, "org.grid.imported")) == 2

    def test_an_import_with_one_bad_feature_writes_nothing_and_names_each_bad_one(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        bow_tie = {
            "type": "Polygon",
            "coordinates": [
                [
                    [103.70, 30.60],
                    [103.71, 30.61],
                    [103.71, 30.60],
                    [103.70, 30.61],
                    [103.70, 30.60],
                ]
            ],
        }
        swapped = {
            "type": "Polygon",
            "coordinates": [[[lat, lon] for lon, lat in square(103.74, 30.60)["coordinates"][0]]],
        }
        fc = collection(
            feature("A1", side.squad1.code, square(103.70, 30.60)),
            feature("A2", side.squad1.code, bow_tie),
            feature("A3", side.squad1.code, swapped),
            feature("A4", side.brigade1.code, square(103.76, 30.60)),
        )
        before = grid_count(session)
        response = client.post("/api/v1/grids/import", json=fc, headers=headers)
        assert response.status_code == 422
        detail = response.json()["error"]["detail"]
        assert [d["index"] for d in detail] == [1, 2, 3]
        assert "Self-intersection" in detail[0]["reason"]
        assert (
            detail[1]["reason"] == "The coordinates look like [lat, lon]; GeoJSON wants [lon, lat]."
        )
        assert "纬度" in detail[1]["problem"]
        assert grid_count(session) == before
        assert not events(session, "org.grid.imported")

    def test_a_grid_must_be_owned_by_a_squad(self, client: TestClient, session: Session) -> None:
        side, headers = setup(session)
        body = {
            "code": "X",
            "name": "x",
            "unit_id": side.brigade1.id,
            "geometry": square(103.7, 30.6),
        }
        assert client.post("/api/v1/grids", json=body, headers=headers).status_code == 409

    def test_invalid_geojson_is_refused_with_422(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        point = {"type": "Point", "coordinates": [103.7, 30.6]}
        body = {"code": "X", "name": "x", "unit_id": side.squad1.id, "geometry": point}
        response = client.post("/api/v1/grids", json=body, headers=headers)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_geometry"

    def test_grids_containing_a_point_uses_the_polygon_not_only_the_bbox(
        self, client: TestClient, session: Session
    ) -> None:
        side, headers = setup(session)
        found = client.get("/api/v1/grids?lon=103.605&lat=30.605", headers=headers).json()
        assert [g["id"] for g in found] == [side.grid1.id]
        assert client.get("/api/v1/grids?lon=110&lat=30.605", headers=headers).json() == []
