"""The subject pages (htmx, large type): list with live search and filters, detail with map,
history and the ID-card reveal, the new/edit form with errors at their field, the map page and
the import page. Pages answer 200 with the data; scope and permissions as for the API."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.field import CAFE_USCC
from tests.org.helpers import web_login
from tests.subjects.helpers import (
    IN_OTHER,
    IN_OWN,
    World,
    events,
    inspected_cafe,
    make_ric,
    make_uscc,
    subjects_world,
)
from zhifa.models.subjects import Subject
from zhifa.subjects.idcard import keys_for
from zhifa.subjects.workbook import COLUMNS


@pytest.fixture
def world(session: Session) -> World:
    w = subjects_world(session)
    session.commit()
    return w


def _count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Subject)) or 0)


def _json(html: str, element_id: str) -> Any:
    found = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert found is not None, element_id
    return json.loads(found.group(1))


def form(**changes: str) -> dict[str, str]:
    lon, lat = IN_OWN
    values = {
        "kind": "enterprise",
        "name": "崇州市页面示例茶馆",
        "uscc": make_uscc(50),
        "representative": "吴六",
        "phone": "028-88888888",
        "address": "崇州市页面路 1 号",
        "subject_type": "restaurant",
        "risk_level": "low",
        "lon": str(lon),
        "lat": str(lat),
        "fence": "radius",
        "geofence_radius_m": "40",
        "geofence": "",
        "licences": "食品经营许可证 | JY0001 | 崇州市市场监管局 | 2027-12-31",
        "note": "",
    }
    return values | changes


def _person(session: Session, world: World) -> Subject:
    row = Subject(
        district_code="510184",
        kind="person",
        name="钱某",
        subject_type_code="street_vendor",
        lon=IN_OWN[0],
        lat=IN_OWN[1],
        geofence_radius_m=30,
        grid_id=world.field.grid.id,
        unit_id=world.field.squad.id,
    )
    keys = keys_for("test-secret-not-for-production")
    number = make_ric(11)
    row.id_card_cipher = keys.encrypt(number)
    row.id_card_masked = number[:4] + "*" * 10 + number[-4:]
    row.id_card_digest = keys.digest(number)
    session.add(row)
    session.commit()
    return row


class TestList:
    def test_lists_the_subjects_in_scope(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.officer)

        response = client.get("/subjects")

        assert response.status_code == 200
        assert f'data-subject-id="{world.field.cafe.id}"' in response.text
        assert CAFE_USCC in response.text
        assert "中风险" in response.text
        assert 'hx-get="/subjects"' in response.text

    def test_live_search_answers_the_results_fragment_only(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.officer)
        headers = {"HX-Request": "true", "HX-Target": "subject-results"}

        hit = client.get("/subjects", params={"q": "星际"}, headers=headers)
        miss = client.get("/subjects", params={"q": "不存在的名字"}, headers=headers)

        assert "<html" not in hit.text
        assert f'data-subject-id="{world.field.cafe.id}"' in hit.text
        assert 'data-total="1"' in hit.text
        assert 'data-total="0"' in miss.text

    def test_filters_by_type_kind_and_risk(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.officer)

        by_type = client.get("/subjects", params={"subject_type": "restaurant"}).text
        by_kind = client.get("/subjects", params={"kind": "enterprise"}).text
        by_risk = client.get("/subjects", params={"risk_level": "high"}).text

        assert 'data-total="0"' in by_type
        assert 'data-total="1"' in by_kind
        assert 'data-total="0"' in by_risk

    def test_another_squad_does_not_see_the_cafe(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.outsider)

        response = client.get("/subjects")

        assert world.field.cafe.name not in response.text


class TestDetail:
    def test_shows_details_licences_map_and_history(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        world.field.cafe.licences = [{"name": "网络文化经营许可证", "number": "WW-1"}]
        done = inspected_cafe(session, world)
        session.commit()
        web_login(client, session, world.field.officer)

        response = client.get(f"/subjects/{world.field.cafe.id}")

        assert response.status_code == 200
        html = response.text
        assert world.field.cafe.name in html
        assert "网络文化经营许可证" in html
        shape = _json(html, "subject-shape")
        assert shape["features"][0]["properties"]["fence"] == world.field.cafe.geofence
        assert "/static/vendor/leaflet/leaflet.js" in html
        assert f'data-inspection-id="{done.inspection.id}"' in html
        assert 'data-failed="3"' in html
        assert "门前堆放杂物（已核实）" in html
        assert 'data-penalty="200000"' in html
        assert done.document.number_text in html
        assert f"/verify/{done.document.public_id}" in html
        assert f'data-case-lead-id="{done.case_lead.id}"' in html

    def test_another_squads_subject_is_a_404_page(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.outsider)

        response = client.get(f"/subjects/{world.field.cafe.id}")

        assert response.status_code == 404
        assert world.field.cafe.name not in response.text

    def test_a_person_shows_the_masked_number_and_a_leader_the_reveal_form(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        someone = _person(session, world)
        web_login(client, session, world.field.leader)

        html = client.get(f"/subjects/{someone.id}").text

        assert someone.id_card_masked in html  # type: ignore[operator]
        assert make_ric(11) not in html
        assert 'id="reveal-form"' in html

    def test_a_field_officer_gets_no_reveal_form(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        someone = _person(session, world)
        web_login(client, session, world.field.officer)

        html = client.get(f"/subjects/{someone.id}").text

        assert 'id="reveal-form"' not in html

    def test_the_reveal_shows_the_number_in_place_and_is_ledgered(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        someone = _person(session, world)
        csrf = web_login(client, session, world.field.leader)

        response = client.post(
            f"/subjects/{someone.id}/reveal-id",
            data={"reason": "核对当事人身份", "csrf_token": csrf},
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 200
        assert make_ric(11) in response.text
        (event,) = events(session, "subject.id_revealed")
        assert event.payload["reason"] == "核对当事人身份"

    def test_a_reveal_without_a_reason_is_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        someone = _person(session, world)
        csrf = web_login(client, session, world.field.leader)

        response = client.post(
            f"/subjects/{someone.id}/reveal-id",
            data={"reason": "", "csrf_token": csrf},
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 422
        assert make_ric(11) not in response.text
        assert "请说明查看完整身份证号的理由" in response.text
        assert events(session, "subject.id_revealed") == []


class TestNewSubjectForm:
    def test_the_form_renders(self, client: TestClient, session: Session, world: World) -> None:
        web_login(client, session, world.field.officer)

        response = client.get("/subjects/new")

        assert response.status_code == 200
        assert 'name="uscc"' in response.text
        assert "餐饮店" in response.text
        assert _json(response.text, "form-grids")["features"][0]["properties"]["code"] == "WG01"

    def test_a_valid_form_creates_the_subject_and_redirects_to_it(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post("/subjects/new", data=form(csrf_token=csrf), follow_redirects=False)

        assert response.status_code == 303
        row = session.scalars(select(Subject).where(Subject.name == "崇州市页面示例茶馆")).one()
        assert response.headers["location"] == f"/subjects/{row.id}"
        assert row.geofence_radius_m == 40
        assert row.licences == [
            {
                "name": "食品经营许可证",
                "number": "JY0001",
                "issuer": "崇州市市场监管局",
                "valid_until": "2027-12-31",
            }
        ]

    def test_with_htmx_the_page_is_told_where_to_go(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post(
            "/subjects/new", data=form(csrf_token=csrf), headers={"HX-Request": "true"}
        )

        assert response.status_code == 200
        assert response.headers["HX-Redirect"].startswith("/subjects/")

    def test_errors_show_at_their_field_with_what_was_typed_and_nothing_is_saved(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)
        before = _count(session)

        response = client.post(
            "/subjects/new",
            data=form(csrf_token=csrf, uscc="91510184MA6C", geofence_radius_m="5", lat=""),
        )

        assert response.status_code == 422
        html = response.text
        assert 'data-error-for="uscc"' in html
        assert "统一社会信用代码 91510184MA6C 应为18位" in html
        assert 'data-error-for="geofence_radius_m"' in html
        assert 'data-error-for="lon"' in html
        assert 'value="崇州市页面示例茶馆"' in html
        assert "未保存任何内容" in html
        assert _count(session) == before

    def test_a_fence_that_is_not_json_is_shown_at_the_fence(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post(
            "/subjects/new",
            data=form(csrf_token=csrf, fence="polygon", geofence="{not json"),
        )

        assert response.status_code == 422
        assert 'data-error-for="geofence"' in response.text
        assert "{not json" in response.text

    def test_a_bad_licence_line_is_shown_at_the_licences(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post(
            "/subjects/new", data=form(csrf_token=csrf, licences="许可证 | 1 | 局 | 明年")
        )

        assert response.status_code == 422
        assert 'data-error-for="licences"' in response.text
        assert "许可证第1行" in response.text

    def test_a_duplicate_code_is_shown_at_the_code_naming_the_subject(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post("/subjects/new", data=form(csrf_token=csrf, uscc=CAFE_USCC))

        assert response.status_code == 409
        assert 'data-error-for="uscc"' in response.text
        assert world.field.cafe.name in response.text

    def test_a_role_without_subjects_manage_gets_403(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.leader)

        assert client.get("/subjects/new").status_code == 403


class TestEditForm:
    def test_the_form_is_filled_in_with_the_subject(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.officer)

        html = client.get(f"/subjects/{world.field.cafe.id}/edit").text

        assert f'value="{CAFE_USCC}"' in html
        assert '<option value="polygon" selected>' in html
        assert "&#34;Polygon&#34;" in html

    def test_saving_changes_and_ledgers_them(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)
        values = client.get(f"/subjects/{world.field.cafe.id}/edit").text
        assert "崇州市星际网络会所有限公司" in values
        cafe = world.field.cafe
        data = form(
            csrf_token=csrf,
            kind="enterprise",
            name=cafe.name,
            uscc=CAFE_USCC,
            representative=cafe.representative,
            phone="13911112222",
            address=cafe.address,
            subject_type="internet_cafe",
            risk_level="medium",
            lon=str(cafe.lon),
            lat=str(cafe.lat),
            fence="polygon",
            geofence=json.dumps(cafe.geofence),
            geofence_radius_m="",
            licences="",
        )

        response = client.post(f"/subjects/{cafe.id}/edit", data=data, follow_redirects=False)

        assert response.status_code == 303
        (event,) = events(session, "subject.updated")
        assert set(event.payload["changes"]) == {"phone"}

    def test_an_invalid_change_is_shown_at_its_field_and_not_saved(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)
        lon, lat = IN_OTHER

        response = client.post(
            f"/subjects/{world.field.cafe.id}/edit",
            data=form(csrf_token=csrf, uscc=CAFE_USCC, lon=str(lon), lat=str(lat)),
        )

        assert response.status_code == 422
        assert 'data-error-for="lon"' in response.text
        session.expire_all()
        assert session.get(Subject, world.field.cafe.id).unit_id == world.field.squad.id  # type: ignore[union-attr]

    def test_deactivating(self, client: TestClient, session: Session, world: World) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post(
            f"/subjects/{world.field.cafe.id}/deactivate",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )

        assert response.status_code == 303
        session.expire_all()
        assert session.get(Subject, world.field.cafe.id).active is False  # type: ignore[union-attr]
        assert len(events(session, "subject.deactivated")) == 1


class TestMap:
    def test_draws_the_subjects_with_their_fences_over_the_grids(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.officer)

        response = client.get("/subjects/map")

        assert response.status_code == 200
        subjects = _json(response.text, "map-subjects")
        grids = _json(response.text, "map-grids")
        assert [f["properties"]["name"] for f in subjects["features"]] == [world.field.cafe.name]
        assert [f["properties"]["code"] for f in grids["features"]] == ["WG01"]
        assert 'data-count="1"' in response.text


class TestImportPage:
    def _file(self, rows: list[list[Any]]) -> bytes:
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(COLUMNS))
        for r in rows:
            sheet.append(r)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def _row(self, n: int, kind: str = "企业") -> list[Any]:
        lon, lat = IN_OWN
        return [
            f"导入页面示例{n}",
            kind,
            make_uscc(200 + n),
            None,
            "",
            "",
            f"导入页面路{n}号",
            "restaurant",
            "低",
            lon,
            lat,
            30,
            "",
        ]

    def test_the_page_lists_the_columns(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        web_login(client, session, world.field.officer)

        response = client.get("/subjects/import")

        assert response.status_code == 200
        for column in COLUMNS:
            assert column in response.text

    def test_a_dry_run_reports_and_saves_nothing(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post(
            "/subjects/import",
            data={"csrf_token": csrf, "mode": "dry_run"},
            files={"file": ("a.xlsx", self._file([self._row(1), self._row(2)]))},
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 200
        assert 'data-dry-run="true"' in response.text
        assert 'data-created="2"' in response.text
        assert _count(session) == 1

    def test_an_import_saves_every_row(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post(
            "/subjects/import",
            data={"csrf_token": csrf, "mode": "import"},
            files={"file": ("a.xlsx", self._file([self._row(1), self._row(2)]))},
        )

        assert response.status_code == 200
        assert 'data-dry-run="false"' in response.text
        assert _count(session) == 3

    def test_problems_are_listed_by_row_and_column_in_chinese(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post(
            "/subjects/import",
            data={"csrf_token": csrf, "mode": "import"},
            files={"file": ("a.xlsx", self._file([self._row(1), self._row(2, kind="公司")]))},
            headers={"HX-Request": "true"},
        )

        assert response.status_code == 422
        assert 'data-problem-row="3" data-problem-column="类别"' in response.text
        assert "无法识别的类别“公司”" in response.text
        assert _count(session) == 1

    def test_no_file_is_refused(self, client: TestClient, session: Session, world: World) -> None:
        csrf = web_login(client, session, world.field.officer)

        response = client.post("/subjects/import", data={"csrf_token": csrf, "mode": "import"})

        assert response.status_code == 422
        assert "请选择要导入的文件" in response.text
