"""The complaint settings pages (/admin/complaints): what a system admin sees, each form saving
through its service (rows and ledger events), refusals that change nothing, and who may not come
in."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_sla_helpers import ledger_kinds, sla_world
from tests.complaints.world import BOUNDARY, VENDING, ComplaintWorld
from tests.org.helpers import web_login
from zhifa.models.complaints import (
    ComplaintCategory,
    ComplaintSettings,
    SlaProfile,
    WorkdayOverride,
)
from zhifa.models.org import Officer
from zhifa.org.roles import Role


def admin(session: Session, world: ComplaintWorld) -> Officer:
    row = factories.officer(session, world.district_code, "sys.admin", [Role.SYSTEM_ADMIN])
    session.commit()
    return row


def street_form(csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "code": "street",
        "priority": "normal",
        "name": "街面即时处置",
        "warn_percent": "75",
        "dispatch_amount": "15",
        "dispatch_unit": "minutes",
        "arrive_amount": "20",
        "arrive_unit": "minutes",
        "handle_amount": "1",
        "handle_unit": "workdays",
        "feedback_amount": "",
        "feedback_unit": "minutes",
    } | changes


def profile(session: Session, code: str = "street", priority: str = "normal") -> SlaProfile:
    session.expire_all()
    return session.scalars(
        select(SlaProfile).where(SlaProfile.code == code, SlaProfile.priority == priority)
    ).one()


class TestThePage:
    def test_the_admin_sees_categories_profiles_working_days_and_settings(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        session.add(
            WorkdayOverride(
                district_code=world.district_code,
                day=date(2026, 12, 31),
                is_workday=False,
                note="区级假日",
            )
        )
        web_login(client, session, admin(session, world))

        page = client.get("/admin/complaints")

        assert page.status_code == 200
        for text in (VENDING, "占道经营", "转办至崇州市市场监督管理局", "街面即时处置（紧急）"):
            assert text in page.text
        assert 'data-override="2026-12-31"' in page.text
        assert "区级假日" in page.text
        assert 'name="tracking_prefix" type="text" value="TS"' in page.text

    @pytest.mark.parametrize("role", [Role.DISPATCHER, Role.LEADER, Role.OFFICER])
    def test_other_roles_may_not_open_it(
        self, session: Session, client: TestClient, role: Role
    ) -> None:
        world = sla_world(session)
        who = factories.officer(session, world.district_code, f"u-{role.value}", [role])
        session.commit()
        web_login(client, session, who)
        assert client.get("/admin/complaints").status_code == 403
        assert client.get("/admin/complaints/categories/new").status_code == 403


class TestProfileForm:
    def test_the_form_saves_minutes_working_days_and_an_empty_stage(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))

        saved = client.post(
            "/admin/complaints/profiles", data=street_form(csrf), follow_redirects=False
        )

        assert saved.status_code == 303
        assert saved.headers["location"].startswith("/admin/complaints?saved=profile")
        row = profile(session)
        assert row.limits == {
            "dispatch": {"minutes": 15},
            "arrive": {"minutes": 20},
            "handle": {"workdays": 1},
        }
        assert row.warn_ratio == pytest.approx(0.75)
        assert ledger_kinds(session, "complaint.sla_profile") == ["complaint.sla_profile.saved"]

    def test_with_htmx_the_answer_redirects_by_header(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        saved = client.post(
            "/admin/complaints/profiles", data=street_form(csrf), headers={"HX-Request": "true"}
        )
        assert saved.status_code == 200
        assert saved.headers["HX-Redirect"].startswith("/admin/complaints?saved=profile")

    @pytest.mark.parametrize(
        "changes",
        [{"dispatch_amount": "abc"}, {"dispatch_amount": "0"}, {"warn_percent": "x"}],
    )
    def test_a_bad_value_is_refused_and_nothing_changes(
        self, session: Session, client: TestClient, changes: dict[str, str]
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        answer = client.post("/admin/complaints/profiles", data=street_form(csrf, **changes))
        assert answer.status_code == 422
        assert profile(session).limits["dispatch"] == {"minutes": 10}
        assert ledger_kinds(session, "complaint.sla_profile") == []

    def test_without_the_csrf_token_nothing_is_saved(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        web_login(client, session, admin(session, world))
        answer = client.post("/admin/complaints/profiles", data=street_form(""))
        assert answer.status_code == 403
        assert profile(session).limits["dispatch"] == {"minutes": 10}


class TestWorkdayForm:
    def test_a_day_is_added_and_removed(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))

        added = client.post(
            "/admin/complaints/workdays",
            data={"csrf_token": csrf, "day": "2027-01-01", "is_workday": "false", "note": "元旦"},
            follow_redirects=False,
        )
        assert added.status_code == 303
        rows = session.scalars(select(WorkdayOverride)).all()
        assert [(r.day, r.is_workday, r.note) for r in rows] == [(date(2027, 1, 1), False, "元旦")]

        removed = client.post(
            "/admin/complaints/workdays/2027-01-01/remove",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )
        assert removed.status_code == 303
        session.expire_all()
        assert session.scalars(select(WorkdayOverride)).all() == []
        assert ledger_kinds(session, "complaint.workday") == ["complaint.workday.saved"] * 2

    def test_a_date_that_is_not_one_is_refused(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        answer = client.post(
            "/admin/complaints/workdays",
            data={"csrf_token": csrf, "day": "2027-02-30", "is_workday": "false"},
        )
        assert answer.status_code == 422
        assert session.scalars(select(WorkdayOverride)).all() == []


def settings_form(csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "duplicate_radius_m": "120",
        "duplicate_window_hours": "24",
        "position_stale_seconds": "180",
        "tracking_prefix": "CZ",
        "default_unit_id": "",
    } | changes


def settings_row(session: Session) -> ComplaintSettings:
    session.expire_all()
    return session.scalars(select(ComplaintSettings)).one()


class TestSettingsForm:
    def test_the_form_keeps_the_boundary_when_no_new_one_is_given(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        answer = client.post(
            "/admin/complaints/settings", data=settings_form(csrf), follow_redirects=False
        )
        assert answer.status_code == 303
        row = settings_row(session)
        assert (row.duplicate_radius_m, row.position_stale_seconds) == (120.0, 180)
        assert (row.tracking_prefix, row.default_unit_id) == ("CZ", None)
        assert row.boundary == BOUNDARY
        assert ledger_kinds(session, "complaint.settings") == ["complaint.settings.changed"]

    def test_a_boundary_file_is_uploaded(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        ring = [[103.5, 30.5], [103.8, 30.5], [103.8, 30.8], [103.5, 30.8], [103.5, 30.5]]
        feature: dict[str, Any] = {
            "type": "Feature",
            "properties": {"name": "崇州市"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        }
        answer = client.post(
            "/admin/complaints/settings",
            data=settings_form(csrf),
            files={"boundary_file": ("chongzhou.geojson", json.dumps(feature), "application/json")},
            follow_redirects=False,
        )
        assert answer.status_code == 303
        assert settings_row(session).boundary == {"type": "Polygon", "coordinates": [ring]}

    def test_the_boundary_can_be_removed(self, session: Session, client: TestClient) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        client.post("/admin/complaints/settings", data=settings_form(csrf, clear_boundary="1"))
        assert settings_row(session).boundary is None

    def test_pasted_text_that_is_not_json_is_refused(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        answer = client.post(
            "/admin/complaints/settings",
            data=settings_form(csrf, boundary_text="{not json", tracking_prefix="XX"),
        )
        assert answer.status_code == 422
        assert "boundary" in answer.text
        row = settings_row(session)
        assert (row.tracking_prefix, row.boundary) == ("TS", BOUNDARY)


def category_form(csrf: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "code": "JMZX-WZGG",
        "name": "违规户外广告",
        "description": "未经批准设置户外广告",
        "group": "宣传广告",
        "hotline_type": "complaint",
        "department_code": "chengguan",
        "transfer_to": "",
        "power_codes": "",
        "keywords": "广告，招牌, 横幅",
        "sla_profile": "street",
        "priority": "normal",
        "sort_order": "5",
        "active": "1",
        "attributes": "",
    } | changes


class TestCategoryForms:
    def test_a_new_category_is_created_through_the_category_service(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        assert client.get("/admin/complaints/categories/new").status_code == 200

        answer = client.post(
            "/admin/complaints/categories", data=category_form(csrf), follow_redirects=False
        )

        assert answer.status_code == 303, answer.text
        row = session.scalars(
            select(ComplaintCategory).where(ComplaintCategory.code == "JMZX-WZGG")
        ).one()
        assert row.keywords == ["广告", "招牌", "横幅"]
        assert (row.department_id, row.auto_dispatch, row.active) == (
            world.chengguan.id,
            False,
            True,
        )
        assert ledger_kinds(session, "complaint.category") == ["complaint.category.created"]

    def test_a_category_is_changed_and_can_be_sent_elsewhere(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        garbage = world.categories["SRHJ-BLLJ"]
        form_page = client.get(f"/admin/complaints/categories/{garbage.id}")
        assert form_page.status_code == 200
        assert "暴露垃圾" in form_page.text

        answer = client.post(
            f"/admin/complaints/categories/{garbage.id}",
            data=category_form(
                csrf,
                name="暴露垃圾（转办）",
                department_code="",
                transfer_to="崇州市环境卫生管理所",
                auto_dispatch="1",
                active="",
            ),
            follow_redirects=False,
        )

        assert answer.status_code == 303, answer.text
        session.expire_all()
        row = session.get(ComplaintCategory, garbage.id)
        assert row is not None
        assert (row.name, row.department_id, row.transfer_to) == (
            "暴露垃圾（转办）",
            None,
            "崇州市环境卫生管理所",
        )
        assert (row.code, row.auto_dispatch, row.active) == ("SRHJ-BLLJ", True, False)

    def test_attributes_that_are_not_json_are_refused(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        answer = client.post(
            "/admin/complaints/categories", data=category_form(csrf, attributes="[{oops")
        )
        assert answer.status_code == 422
        assert (
            session.scalars(
                select(ComplaintCategory).where(ComplaintCategory.code == "JMZX-WZGG")
            ).all()
            == []
        )

    def test_a_category_with_no_department_and_no_agency_is_refused(
        self, session: Session, client: TestClient
    ) -> None:
        world = sla_world(session)
        csrf = web_login(client, session, admin(session, world))
        answer = client.post(
            "/admin/complaints/categories", data=category_form(csrf, department_code="")
        )
        assert answer.status_code == 422
        assert ledger_kinds(session, "complaint.category") == []
