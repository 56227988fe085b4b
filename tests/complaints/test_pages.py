"""The desk's complaint pages: the list in scope, the hotline entry with possible duplicates, the
detail page and its action forms, the reporter reveal.

Everything through the real app with a web session (cookie + CSRF token) on the world of
``tests.complaints.world``; complaints are taken in through ``complaints.intake``.
"""

from __future__ import annotations

import io
import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.complaints.world import (
    CONSULT,
    GARBAGE,
    IN_WG01,
    IN_WG02,
    VENDING,
    ComplaintWorld,
    complaint_world,
)
from tests.org.helpers import web_login
from zhifa.complaints import handling, intake, media
from zhifa.complaints.schemas import ComplaintIn
from zhifa.config import Settings
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintSource, DisposalMeasure, MediaRole
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.credentials import actor_for
from zhifa.web.i18n import translate

NAME, PHONE = "李四光", "13987654321"


def zh(message: str, **params: Any) -> str:
    return str(escape(translate("zh_CN", message, **params)))


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def take_in(
    session: Session,
    settings: Settings,
    *,
    category: str = GARBAGE,
    point: tuple[float, float] | None = IN_WG01,
    description: str = "路边堆放大量生活垃圾",
    name: str | None = None,
    phone: str | None = None,
    attributes: dict[str, Any] | None = None,
) -> Complaint:
    data = ComplaintIn(
        category_code=category,
        description=description,
        lon=point[0] if point else None,
        lat=point[1] if point else None,
        address="" if point else "崇州市某路口",
        reporter_name=name,
        reporter_phone=phone,
        attributes=attributes or {},
    )
    result = intake.create_complaint(
        session,
        district_code="510184",
        data=data,
        source=ComplaintSource.HOTLINE,
        actor_id=None,
        settings=settings,
    )
    session.commit()
    return result.complaint


def login(client: TestClient, session: Session, officer: Officer) -> str:
    return web_login(client, session, officer)


def ledger_count(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(LedgerEvent)) or 0)


def refresh(session: Session, complaint: Complaint) -> Complaint:
    session.expire_all()
    row = session.get(Complaint, complaint.id)
    assert row is not None
    return row


class TestList:
    def test_an_officer_sees_the_complaints_of_his_squad_only(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        own = take_in(session, settings, point=IN_WG01)
        other = take_in(session, settings, point=IN_WG02)
        login(client, session, world.officer)

        page = client.get("/complaints")

        assert page.status_code == 200
        assert f'data-complaint-id="{own.id}"' in page.text
        assert f'data-complaint-id="{other.id}"' not in page.text
        assert own.tracking_no in page.text
        assert "暴露垃圾" in page.text

    def test_the_dispatcher_sees_the_district_and_can_filter(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        garbage = take_in(session, settings, point=IN_WG01)
        consult = take_in(session, settings, category=CONSULT, point=IN_WG02, description="咨询")
        login(client, session, world.dispatcher)

        everything = client.get("/complaints")
        filtered = client.get(f"/complaints?category={CONSULT}")
        searched = client.get(f"/complaints?q={garbage.tracking_no}")

        assert f'data-complaint-id="{garbage.id}"' in everything.text
        assert f'data-complaint-id="{consult.id}"' in everything.text
        assert f'data-complaint-id="{garbage.id}"' not in filtered.text
        assert f'data-complaint-id="{consult.id}"' in filtered.text
        assert re.findall(r'data-complaint-id="(\d+)"', searched.text) == [str(garbage.id)]

    def test_the_reporter_is_masked_and_the_deadline_state_is_shown(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        take_in(session, settings, name=NAME, phone=PHONE)
        login(client, session, world.dispatcher)

        page = client.get("/complaints")

        assert NAME not in page.text
        assert PHONE not in page.text
        assert "李**" in page.text
        assert 'data-sla="ok"' in page.text

    def test_a_long_list_is_paged(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        rows = [take_in(session, settings, description=f"第 {n} 处垃圾") for n in range(51)]
        login(client, session, world.dispatcher)

        first = client.get("/complaints")
        second = client.get("/complaints?open=1&offset=50")

        assert len(re.findall(r'data-complaint-id="', first.text)) == 50
        assert re.findall(r'data-complaint-id="(\d+)"', second.text) == [str(rows[0].id)]
        assert "offset=50" in first.text

    def test_an_htmx_search_answers_with_the_results_only(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        take_in(session, settings)
        login(client, session, world.dispatcher)

        fragment = client.get(
            "/complaints?q=垃圾", headers={"HX-Request": "true", "HX-Target": "complaint-results"}
        )

        assert 'id="complaint-total" data-total="1"' in fragment.text
        assert "<html" not in fragment.text


class TestHotlineEntry:
    def test_an_officer_without_intake_permission_is_refused(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        login(client, session, world.officer)

        assert client.get("/complaints/new").status_code == 403

    def test_the_form_offers_the_categories_the_map_and_the_caller(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        login(client, session, world.dispatcher)

        page = client.get("/complaints/new")

        assert page.status_code == 200
        assert f'<option value="{VENDING}"' in page.text
        assert "data-desk-map" in page.text
        assert '"WG01"' in page.text
        assert 'name="reporter_phone"' in page.text
        assert 'name="anonymous"' in page.text

    def test_choosing_a_category_brings_its_questions(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        login(client, session, world.dispatcher)

        fields = client.get(f"/complaints/new/fields?category={VENDING}")

        assert f'name="attr-{VENDING}-blocking"' in fields.text
        assert "是否阻碍通行" in fields.text

    def test_possible_duplicates_near_the_pin_are_shown_before_saving(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        earlier = take_in(session, settings, point=IN_WG01)
        login(client, session, world.dispatcher)
        near = (IN_WG01[0] + 0.0003, IN_WG01[1])  # about 30 m east
        far = (IN_WG01[0] + 0.005, IN_WG01[1])  # about 480 m east

        found = client.get(
            f"/complaints/new/duplicates?category={GARBAGE}&lon={near[0]}&lat={near[1]}"
        )
        none = client.get(
            f"/complaints/new/duplicates?category={GARBAGE}&lon={far[0]}&lat={far[1]}"
        )
        other = client.get(
            f"/complaints/new/duplicates?category={VENDING}&lon={near[0]}&lat={near[1]}"
        )

        assert f'data-duplicate="{earlier.tracking_no}"' in found.text
        assert 'data-count="1"' in found.text
        assert 'data-count="0"' in none.text
        assert 'data-count="0"' in other.text

    def test_saving_creates_a_hotline_complaint_with_the_caller_sealed(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        csrf = login(client, session, world.dispatcher)

        response = client.post(
            "/complaints/new",
            data={
                "csrf_token": csrf,
                "category": VENDING,
                f"attr-{VENDING}-blocking": "yes",
                f"attr-{VENDING}-stall_count": "2",
                "description": "早高峰有人在人行道上摆摊卖菜",
                "lon": str(IN_WG01[0]),
                "lat": str(IN_WG01[1]),
                "reporter_name": NAME,
                "reporter_phone": PHONE,
                "priority": "urgent",
            },
            follow_redirects=False,
        )

        assert response.status_code == 303
        complaint_id = int(response.headers["location"].rsplit("/", 1)[1])
        session.expire_all()
        row = session.get(Complaint, complaint_id)
        assert row is not None
        assert row.source == ComplaintSource.HOTLINE
        assert row.priority == "urgent"
        assert row.attributes == {"blocking": "yes", "stall_count": 2}
        assert not row.anonymous
        assert row.reporter_phone_cipher
        assert PHONE not in (row.reporter_phone_cipher or "")
        detail = client.get(response.headers["location"])
        assert NAME not in detail.text
        assert PHONE not in detail.text

    def test_a_refused_entry_keeps_what_was_typed_and_writes_nothing(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        csrf = login(client, session, world.dispatcher)
        before = ledger_count(session)

        response = client.post(
            "/complaints/new",
            data={
                "csrf_token": csrf,
                "category": GARBAGE,
                "description": "有人乱倒建筑垃圾",
                "reporter_phone": "12345",
            },
        )

        assert response.status_code == 422
        assert 'data-error-for="address"' in response.text
        assert "有人乱倒建筑垃圾" in response.text
        assert session.scalar(select(func.count()).select_from(Complaint)) == 0
        assert ledger_count(session) == before


def detail(client: TestClient, complaint: Complaint) -> str:
    page = client.get(f"/complaints/{complaint.id}")
    assert page.status_code == 200, page.text
    return page.text


class TestDetail:
    def test_everything_about_the_complaint_is_shown(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(
            session, settings, category=VENDING, attributes={"blocking": "no"}, name=NAME
        )
        login(client, session, world.dispatcher)

        text = detail(client, complaint)

        assert complaint.tracking_no in text
        assert "占道经营" in text
        assert "是否阻碍通行" in text
        assert "否" in text
        assert "WG01" in text  # the grid
        assert 'data-stage="dispatch"' in text
        assert "data-countdown" in text
        assert 'data-kind="received"' in text
        assert zh("Visible to the citizen") in text
        assert "李**" in text
        assert NAME not in text
        assert 'data-action="dispatch"' in text
        assert 'data-action="file"' in text

    def test_a_complaint_outside_the_scope_does_not_exist(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        other = take_in(session, settings, point=IN_WG02)
        login(client, session, world.officer)

        assert client.get(f"/complaints/{other.id}").status_code == 404

    def test_a_field_officer_gets_no_command_actions(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings)
        login(client, session, world.officer)

        text = detail(client, complaint)

        assert 'data-action="dispatch"' not in text
        assert 'data-action="file"' not in text
        assert 'id="reveal-form"' not in text

    def test_a_nearby_duplicate_can_be_merged(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        first = take_in(session, settings)
        second = take_in(session, settings, point=(IN_WG01[0] + 0.0002, IN_WG01[1]))
        csrf = login(client, session, world.dispatcher)

        text = detail(client, second)
        merged = client.post(
            f"/complaints/{second.id}/merge",
            data={"csrf_token": csrf, "into_id": str(first.id)},
            headers={"HX-Request": "true"},
        )

        assert f'data-duplicate="{first.tracking_no}"' in text
        assert merged.status_code == 200
        assert merged.headers["HX-Redirect"] == f"/complaints/{second.id}"
        row = refresh(session, second)
        assert (row.status, row.duplicate_of_id) == ("merged", first.id)
        assert second.tracking_no in detail(client, first)


class TestActions:
    def post(
        self, client: TestClient, csrf: str, complaint: Complaint, action: str, **data: str
    ) -> Any:
        return client.post(
            f"/complaints/{complaint.id}/{action}",
            data={"csrf_token": csrf, **data},
            follow_redirects=False,
        )

    def test_filing_then_dispatching_the_recommended_pair(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings)
        csrf = login(client, session, world.dispatcher)

        filed = self.post(client, csrf, complaint, "file", note="核实属实")
        page = detail(client, complaint)
        lead, second = world.officer.id, world.second.id
        dispatched = self.post(
            client, csrf, complaint, "dispatch", lead=str(lead), second=str(second), note=""
        )

        assert filed.status_code == 303
        assert filed.headers["location"] == f"/complaints/{complaint.id}"
        assert f'<option value="{lead}"' in page
        assert "李明" in page
        assert dispatched.status_code == 303
        row = refresh(session, complaint)
        assert row.status == "dispatched"
        assert row.officer_ids == [lead, second]

    def test_a_step_the_status_does_not_allow_is_refused_and_changes_nothing(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings)
        csrf = login(client, session, world.dispatcher)
        before = ledger_count(session)

        refused = self.post(client, csrf, complaint, "close", answer="已处理")

        assert refused.status_code == 409
        assert (
            zh(
                "This complaint's current status does not allow this step. Reload the page to "
                "see where it stands now."
            )
            in refused.text
        )
        assert refresh(session, complaint).status == "received"
        assert ledger_count(session) == before

    def test_rejecting_without_a_reason_is_refused_in_the_flash(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings)
        csrf = login(client, session, world.dispatcher)
        before = ledger_count(session)

        refused = client.post(
            f"/complaints/{complaint.id}/reject",
            data={"csrf_token": csrf, "reason": " "},
            headers={"HX-Request": "true"},
        )

        assert refused.status_code == 422
        assert refused.headers["HX-Retarget"] == "#flash"
        assert zh("Give the reason for not accepting the complaint.") in refused.text
        assert refresh(session, complaint).status == "received"
        assert ledger_count(session) == before

    def test_a_field_officer_may_not_dispatch(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings)
        csrf = login(client, session, world.officer)

        refused = self.post(client, csrf, complaint, "dispatch", lead=str(world.officer.id))

        assert refused.status_code == 403
        assert refresh(session, complaint).status == "received"

    def test_a_consultation_is_answered_directly(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings, category=CONSULT, description="办证流程？")
        csrf = login(client, session, world.dispatcher)

        assert 'data-action="answer"' in detail(client, complaint)
        answered = self.post(client, csrf, complaint, "answer", answer="请到政务中心三楼办理。")

        assert answered.status_code == 303
        row = refresh(session, complaint)
        assert (row.status, row.answer) == ("closed", "请到政务中心三楼办理。")

    def test_verify_and_close_after_the_officers_report_back(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = fed_back(session, world, settings)
        csrf = login(client, session, world.dispatcher)

        page = detail(client, complaint)
        verified = self.post(client, csrf, complaint, "verify", passed="1", note="")
        closing = detail(client, complaint)
        closed = self.post(client, csrf, complaint, "close", answer="摊贩已劝离，道路已恢复通行。")

        assert 'data-action="verify"' in page
        assert verified.status_code == 303
        assert 'data-action="close"' in closing
        assert "已劝离" in closing
        assert closed.status_code == 303
        row = refresh(session, complaint)
        assert row.status == "closed"
        assert row.answer == "摊贩已劝离，道路已恢复通行。"

    def test_a_failed_verification_sends_it_back_for_rework(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = fed_back(session, world, settings)
        csrf = login(client, session, world.dispatcher)

        sent_back = self.post(client, csrf, complaint, "verify", passed="0", note="摊贩又回来了")

        assert sent_back.status_code == 303
        row = refresh(session, complaint)
        assert (row.status, row.rework_count) == ("dispatched", 1)

    def test_pausing_and_resuming_the_clocks(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings)
        csrf = login(client, session, world.dispatcher)

        paused = self.post(client, csrf, complaint, "pause", reason="等待当事人到场")
        page = detail(client, complaint)
        resumed = self.post(client, csrf, complaint, "resume")

        assert paused.status_code == 303
        assert 'id="paused"' in page
        assert 'data-action="resume"' in page
        assert resumed.status_code == 303
        assert refresh(session, complaint).paused_at is None

    def test_an_officer_asks_for_an_extension(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings)
        csrf = login(client, session, world.officer)

        asked = self.post(
            client,
            csrf,
            complaint,
            "extensions",
            stage="feedback",
            amount="30",
            unit="minutes",
            reason="需协调环卫部门",
        )

        assert asked.status_code == 303
        assert 'data-extension="' in detail(client, complaint)


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (90, 120, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def fed_back(session: Session, world: ComplaintWorld, settings: Settings) -> Complaint:
    """A complaint dispatched, handled on site and reported back, through the real steps."""
    complaint = take_in(session, settings)
    command = actor_for(session, world.dispatcher, via="session")
    officer = actor_for(session, world.officer, via="session")
    cid = complaint.id
    handling.dispatch(
        session, command, complaint_id=cid, officer_ids=[world.officer.id, world.second.id]
    )
    handling.take(session, officer, complaint_id=cid, client_uuid=str(uuid.uuid4()))
    handling.arrive(
        session,
        officer,
        complaint_id=cid,
        client_uuid=str(uuid.uuid4()),
        lon=IN_WG01[0],
        lat=IN_WG01[1],
        accuracy_m=10.0,
        device_time=utcnow(),
    )
    photo = media.add_media(
        session,
        complaint=refresh_in(session, cid),
        role=MediaRole.AFTER,
        content=jpeg(),
        officer_id=world.officer.id,
        client_uuid=str(uuid.uuid4()),
        settings=settings,
    )
    handling.dispose(
        session,
        officer,
        complaint_id=cid,
        client_uuid=str(uuid.uuid4()),
        measure=DisposalMeasure.PERSUADED,
        media_ids=[photo.id],
    )
    handling.feed_back(
        session, officer, complaint_id=cid, client_uuid=str(uuid.uuid4()), result="摊贩已劝离"
    )
    session.commit()
    return refresh(session, complaint)


def refresh_in(session: Session, complaint_id: int) -> Complaint:
    row = session.get(Complaint, complaint_id)
    assert row is not None
    return row


class TestReveal:
    def test_the_reporter_is_revealed_for_a_reason_and_the_reveal_is_ledgered(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings, name=NAME, phone=PHONE)
        csrf = login(client, session, world.dispatcher)

        assert 'id="reveal-form"' in detail(client, complaint)
        shown = client.post(
            f"/complaints/{complaint.id}/reveal",
            data={"csrf_token": csrf, "reason": "需回访核实现场情况"},
            headers={"HX-Request": "true"},
        )

        assert shown.status_code == 200
        assert NAME in shown.text
        assert PHONE in shown.text
        entry = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "complaint.reporter_revealed")
        ).one()
        assert NAME not in str(entry.payload)
        assert PHONE not in str(entry.payload)
        assert NAME not in detail(client, complaint)  # shown once, not kept on the page

    def test_a_reveal_without_a_reason_is_refused_and_not_ledgered(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings, name=NAME, phone=PHONE)
        csrf = login(client, session, world.dispatcher)
        before = ledger_count(session)

        refused = client.post(
            f"/complaints/{complaint.id}/reveal",
            data={"csrf_token": csrf, "reason": ""},
            headers={"HX-Request": "true"},
        )

        assert refused.status_code == 422
        assert NAME not in refused.text
        assert PHONE not in refused.text
        assert ledger_count(session) == before

    def test_an_officer_may_not_reveal(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        complaint = take_in(session, settings, name=NAME, phone=PHONE)
        csrf = login(client, session, world.officer)

        refused = client.post(
            f"/complaints/{complaint.id}/reveal", data={"csrf_token": csrf, "reason": "好奇"}
        )

        assert refused.status_code == 403
        assert NAME not in refused.text
