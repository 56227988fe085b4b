"""Organisation pages: Chinese text, controls only for org:manage, forms with and without htmx."""

from __future__ import annotations

import json
from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.org.helpers import HOME, Side, build_side, officer, square, web_login
from zhifa.models.org import Department, Grid, Officer, Unit
from zhifa.org.roles import Role


def admin_login(client: TestClient, session: Session) -> tuple[Side, str]:
    side = build_side(session, HOME, 103.60)
    admin = officer(session, HOME, "admin", [Role.SYSTEM_ADMIN])
    return side, web_login(client, session, admin)


class TestListPages:
    def test_the_unit_tree_shows_the_hierarchy_with_officer_counts(
        self, client: TestClient, session: Session
    ) -> None:
        side, _ = admin_login(client, session)
        page = client.get("/admin/units")
        assert page.status_code == 200
        assert "执法局" in page.text
        assert "一中队" in page.text
        assert "执法人员: 1" in page.text
        assert 'action="/admin/units"' in page.text  # the new-unit form

    def test_a_field_officer_sees_no_edit_controls(
        self, client: TestClient, session: Session
    ) -> None:
        side = build_side(session, HOME, 103.60)
        web_login(client, session, side.officer1)
        for url in ("/admin/units", "/admin/officers", "/admin/grids", "/admin/departments"):
            page = client.get(url)
            assert page.status_code == 200, url
            main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
            assert 'method="post"' not in main, url
            assert "/admin/officers/new" not in main, url
        assert client.get("/admin/officers/new").status_code == 403

    def test_officers_list_filters_and_flags_expired_certificates(
        self, client: TestClient, session: Session
    ) -> None:
        side, _ = admin_login(client, session)

        side.officer1.cert_valid_until = date(2020, 1, 1)
        session.commit()
        page = client.get("/admin/officers", params={"q": side.officer1.cert_no})
        assert f'data-officer-id="{side.officer1.id}"' in page.text
        assert f'data-officer-id="{side.officer2.id}"' not in page.text
        assert "cert-expired" in page.text

    def test_the_grid_page_draws_leaflet_from_the_app_without_tiles(
        self, client: TestClient, session: Session
    ) -> None:
        side, _ = admin_login(client, session)
        page = client.get("/admin/grids")
        assert "/static/vendor/leaflet/leaflet.js" in page.text
        assert 'data-tile-url=""' in page.text
        assert side.grid1.code in page.text
        assert "unpkg" not in page.text
        assert "cdn" not in page.text.lower()

    def test_another_districts_officer_page_is_not_found(
        self, client: TestClient, session: Session
    ) -> None:
        _, _ = admin_login(client, session)
        other = build_side(session, "510104", 104.05)
        session.commit()
        assert client.get(f"/admin/officers/{other.officer1.id}").status_code == 404


class TestForms:
    def test_a_plain_form_post_creates_a_department_and_redirects(
        self, client: TestClient, session: Session
    ) -> None:
        _, csrf = admin_login(client, session)
        response = client.post(
            "/admin/departments",
            follow_redirects=False,
            data={"csrf_token": csrf, "code": "shuiwu", "name": "水务"},
        )
        assert (response.status_code, response.headers["location"]) == (303, "/admin/departments")
        assert session.scalar(select(Department).where(Department.code == "shuiwu")) is not None

    def test_an_htmx_post_gets_an_hx_redirect(self, client: TestClient, session: Session) -> None:
        side, csrf = admin_login(client, session)
        response = client.post(
            "/admin/units",
            headers={"HX-Request": "true", "X-CSRF-Token": csrf},
            data={
                "kind": "squad",
                "code": "S9",
                "name": "九中队",
                "parent_id": str(side.brigade1.id),
            },
        )
        unit = session.scalar(select(Unit).where(Unit.code == "S9"))
        assert unit is not None
        assert response.headers["HX-Redirect"] == f"/admin/units/{unit.id}"

    def test_a_form_without_the_csrf_token_is_refused(
        self, client: TestClient, session: Session
    ) -> None:
        admin_login(client, session)
        response = client.post("/admin/departments", data={"code": "x", "name": "x"})
        assert response.status_code == 403

    def test_an_officer_form_with_a_duplicate_certificate_shows_the_chinese_error(
        self, client: TestClient, session: Session
    ) -> None:
        side, csrf = admin_login(client, session)
        data = {
            "csrf_token": csrf,
            "username": "li",
            "password": "Strong-Pass-2026",
            "name": "李四",
            "unit_id": str(side.squad1.id),
            "cert_no": side.officer1.cert_no,
            "roles": ["officer"],
            "scope": "squad",
            "status": "active",
        }
        response = client.post("/admin/officers", data=data, headers={"HX-Request": "true"})
        assert response.status_code == 409
        assert response.headers["HX-Retarget"] == "#flash"
        assert "已登记在另一名执法人员名下" in response.text
        assert session.scalar(select(Officer).where(Officer.username == "li")) is None

    def test_the_officer_edit_form_updates_unit_and_roles(
        self, client: TestClient, session: Session
    ) -> None:
        side, csrf = admin_login(client, session)
        data = {
            "csrf_token": csrf,
            "name": "队员一",
            "unit_id": str(side.squad2.id),
            "roles": ["officer", "dispatcher"],
            "scope": "squad",
            "status": "active",
        }
        response = client.post(
            f"/admin/officers/{side.officer1.id}", data=data, follow_redirects=False
        )
        assert response.status_code == 303
        session.refresh(side.officer1)
        assert (side.officer1.unit_id, side.officer1.roles) == (
            side.squad2.id,
            ["officer", "dispatcher"],
        )

    def test_a_pasted_import_with_a_bad_feature_lists_the_reasons_in_chinese(
        self, client: TestClient, session: Session
    ) -> None:
        side, csrf = admin_login(client, session)
        paris = {
            "type": "Polygon",
            "coordinates": [[[2.3, 48.8], [2.4, 48.8], [2.4, 48.9], [2.3, 48.8]]],
        }
        fc = {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"code": "P1", "name": "一", "unit_code": side.squad1.code},
                    "geometry": square(103.7, 30.6),
                },
                {
                    "type": "Feature",
                    "properties": {"code": "P2", "name": "二", "unit_code": side.squad1.code},
                    "geometry": paris,
                },
            ],
        }
        response = client.post(
            "/admin/grids/import",
            data={"csrf_token": csrf, "geojson": json.dumps(fc)},
            headers={"HX-Request": "true"},
        )
        assert response.status_code == 422
        assert "features[1]" in response.text
        assert "中国范围之外" in response.text
        assert session.scalar(select(Grid).where(Grid.code == "P1")) is None
