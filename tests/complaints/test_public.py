"""The citizen's public page: the filing form, filing with photos, the guards (form token,
honeypot, rate limit, photo count and type), the status page and the rating.

Everything goes through the real app (no login) on the world of ``tests.complaints.world``.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from markupsafe import escape
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import (
    CONSULT,
    FOOD,
    GARBAGE,
    IN_WG01,
    VENDING,
    ComplaintWorld,
    complaint_world,
)
from zhifa.complaints import handling, public_guard
from zhifa.complaints.public import normalise_tracking_no
from zhifa.config import Settings
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintMedia, MediaRole
from zhifa.models.ledger import LedgerEvent
from zhifa.org.credentials import actor_for
from zhifa.web.i18n import translate

NAME, PHONE = "张三丰", "13812345678"


def zh(message: str, **params: Any) -> str:
    """``message`` as the page shows it: in Chinese, HTML-escaped."""
    return str(escape(translate("zh_CN", message, **params)))


def jpeg(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def token_of(html: str) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', html)
    assert found is not None, "the page has no form token"
    return found.group(1)


def submission_of(html: str) -> str:
    found = re.search(r'name="submission" value="([0-9a-f]*)"', html)
    assert found is not None
    return found.group(1)


@dataclass
class Counts:
    complaints: int
    media: int
    events: int
    ledger: int
    blobs: int


def counts(session: Session, settings: Settings) -> Counts:
    session.expire_all()

    def n(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    root = settings.blob_dir
    blobs = sum(1 for p in root.rglob("*") if p.is_file() and "tmp" not in p.parts)
    return Counts(n(Complaint), n(ComplaintMedia), n(ComplaintEvent), n(LedgerEvent), blobs)


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def form(client: TestClient, **overrides: Any) -> dict[str, Any]:
    """A complete, valid filing (anonymous, garbage near WG01) with a fresh token."""
    page = client.get("/c/")
    assert page.status_code == 200
    values: dict[str, Any] = {
        "district": "510184",
        "form_token": token_of(page.text),
        "submission": submission_of(page.text),
        "website": "",
        "category": GARBAGE,
        "lon": f"{IN_WG01[0]:.6f}",
        "lat": f"{IN_WG01[1]:.6f}",
        "address": "崇州市唐安西路 88 号旁",
        "description": "人行道上堆着一大堆垃圾，已经两天没人清理。",
        "anonymous": "1",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def photos(*contents: bytes) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (f"p{i}.jpg", c, "image/jpeg")) for i, c in enumerate(contents)]


def file_one(client: TestClient, *files: bytes, **overrides: Any) -> str:
    response = client.post(
        "/c/", data=form(client, **overrides), files=photos(*files), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/c/filed/")
    return location.rsplit("/", 1)[1]


def by_tracking(session: Session, tracking_no: str) -> Complaint:
    session.expire_all()
    row = session.scalar(select(Complaint).where(Complaint.tracking_no == tracking_no))
    assert row is not None
    return row


class TestFilingForm:
    def test_the_only_district_opens_its_form_with_category_tiles_and_a_signed_token(
        self, client: TestClient, world: ComplaintWorld, settings: Settings
    ) -> None:
        page = client.get("/c/")

        assert page.status_code == 200
        assert 'name="category" value="SRHJ-BLLJ"' in page.text
        assert "占道经营" in page.text
        assert "街面秩序" in page.text
        assert 'capture="environment"' in page.text
        assert 'accept="image/*"' in page.text
        assert "举报人信息严格保密" in page.text
        assert "使用我的位置" in page.text
        public_guard.check_token(settings, token_of(page.text))  # valid: no exception

    def test_a_category_with_questions_carries_them_under_its_own_names(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        page = client.get("/c/")

        assert f'data-attrs-for="{VENDING}"' in page.text
        assert f'name="attr-{VENDING}-blocking" value="yes"' in page.text
        assert f'name="attr-{VENDING}-stall_count"' in page.text

    def test_several_districts_are_offered_to_choose_from(
        self, client: TestClient, world: ComplaintWorld, session: Session
    ) -> None:
        factories.district(session, "510104", "锦江区（演示）")
        other = world.categories[GARBAGE]
        session.add(
            type(other)(district_code="510104", code="X-1", name="乱扔垃圾", group="市容环境")
        )
        session.commit()

        chooser = client.get("/c/")
        chosen = client.get("/c/?district=510104")

        assert chooser.status_code == 200
        assert 'href="/c/?district=510184"' in chooser.text
        assert 'href="/c/?district=510104"' in chooser.text
        assert 'name="category"' not in chooser.text
        assert 'value="X-1"' in chosen.text
        assert GARBAGE not in chosen.text

    def test_the_page_is_absent_when_switched_off(
        self, world: ComplaintWorld, settings: Settings, db: Any
    ) -> None:
        from zhifa.app import create_app

        off = settings.model_copy(update={"public_complaints_enabled": False})
        app: FastAPI = create_app(off, db)
        with TestClient(app, base_url="https://testserver") as client:
            assert client.get("/c/").status_code == 404
            assert client.get("/c/t/TS20260101-ABCDEF").status_code == 404


class TestFiling:
    def test_a_filing_with_photos_becomes_a_web_complaint_with_the_citizens_photos(
        self, client: TestClient, world: ComplaintWorld, session: Session
    ) -> None:
        tracking_no = file_one(client, jpeg(), jpeg((10, 120, 10)))

        complaint = by_tracking(session, tracking_no)
        media = session.scalars(
            select(ComplaintMedia).where(ComplaintMedia.complaint_id == complaint.id)
        ).all()
        assert complaint.source == "web"
        assert complaint.category_id == world.categories[GARBAGE].id
        assert complaint.unit_id == world.field.squad.id  # routed to WG01's squad
        assert complaint.anonymous
        assert complaint.reporter_masked == "匿名"
        assert [m.role for m in media] == [MediaRole.REPORT, MediaRole.REPORT]
        assert {m.media_type for m in media} == {"image/jpeg"}
        assert all(m.officer_id is None for m in media)

    def test_the_filed_page_shows_the_tracking_number_and_links_the_status_page(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        tracking_no = file_one(client, jpeg())

        page = client.get(f"/c/filed/{tracking_no}")
        status = client.get(f"/c/t/{tracking_no}")

        assert page.status_code == 200
        assert f'<p class="tracking" id="tracking-no">{tracking_no}</p>' in page.text
        assert f'href="/c/t/{tracking_no}"' in page.text
        assert status.status_code == 200
        assert "暴露垃圾" in status.text
        assert "崇州市唐安西路 88 号旁" in status.text
        assert re.search(rf"/c/media/{tracking_no}/\d+", status.text)

    def test_a_named_reporter_is_sealed_and_never_shown_on_the_public_page(
        self, client: TestClient, world: ComplaintWorld, session: Session
    ) -> None:
        tracking_no = file_one(client, reporter_name=NAME, reporter_phone=PHONE, anonymous=None)

        complaint = by_tracking(session, tracking_no)
        status = client.get(f"/c/t/{tracking_no}")
        assert not complaint.anonymous
        assert complaint.reporter_name_cipher
        assert NAME not in complaint.reporter_name_cipher
        assert complaint.reporter_masked.startswith("张")
        for secret in (NAME, PHONE, complaint.reporter_masked, "5678"):
            assert secret not in status.text

    def test_the_anonymous_box_wins_over_a_typed_name(
        self, client: TestClient, world: ComplaintWorld, session: Session
    ) -> None:
        tracking_no = file_one(client, reporter_name=NAME, reporter_phone=PHONE, anonymous="1")

        complaint = by_tracking(session, tracking_no)
        assert complaint.anonymous
        assert complaint.reporter_name_cipher is None

    def test_the_chosen_categorys_answers_go_with_the_complaint(
        self, client: TestClient, world: ComplaintWorld, session: Session
    ) -> None:
        extra = {f"attr-{VENDING}-blocking": "yes", f"attr-{VENDING}-stall_count": "3"}
        tracking_no = file_one(client, category=VENDING, **extra)

        complaint = by_tracking(session, tracking_no)
        assert complaint.attributes == {"blocking": "yes", "stall_count": 3}

    def test_a_second_tap_on_send_answers_the_first_complaint(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        values = form(client)
        first = client.post("/c/", data=values, files=photos(jpeg()), follow_redirects=False)
        before = counts(session, settings)
        again = client.post("/c/", data=values, files=photos(jpeg()), follow_redirects=False)

        assert again.status_code == 303
        assert again.headers["location"] == first.headers["location"]
        assert counts(session, settings) == before

    def test_a_place_outside_the_district_is_filed_and_shown_as_transferred(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        tracking_no = file_one(client, jpeg(), category=FOOD)

        status = client.get(f"/c/t/{tracking_no}")
        assert 'data-status="transferred"' in status.text
        assert "崇州市市场监督管理局" in status.text


class TestRefusals:
    """Every refusal: its status, its message beside the field, and nothing written."""

    def refused(
        self,
        client: TestClient,
        session: Session,
        settings: Settings,
        values: dict[str, Any],
        files: list[Any],
        status: int,
        message: str,
        field: str,
    ) -> str:
        before = counts(session, settings)
        response = client.post("/c/", data=values, files=files, follow_redirects=False)

        assert response.status_code == status, response.text
        assert message in response.text
        if field:
            assert f'data-error-for="{field}"' in response.text
        assert counts(session, settings) == before
        return response.text

    def test_a_forged_token_is_refused(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        values = form(client, form_token="1700000000.deadbeef")

        self.refused(
            client,
            session,
            settings,
            values,
            photos(jpeg()),
            422,
            "表单不是本网站发出的",
            "form_token",
        )

    def test_an_expired_token_is_refused(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        import time

        old = public_guard.issue_token(settings, now=time.time() - 2 * 3600 - 60)
        values = form(client, form_token=old)

        self.refused(client, session, settings, values, [], 422, "超过两小时", "form_token")

    def test_a_filled_honeypot_is_refused(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        values = form(client, website="http://spam.example")

        self.refused(client, session, settings, values, [], 422, "无法受理", "website")

    def test_more_photos_than_allowed_are_refused(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        values = form(client)
        many = photos(*[jpeg((i * 20, 0, 0)) for i in range(settings.complaint_photos_max + 1)])

        self.refused(client, session, settings, values, many, 422, "最多上传 9 张照片", "photos")

    def test_a_file_that_is_not_a_photo_is_refused(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        values = form(client)
        files = [*photos(jpeg()), ("photos", ("notes.jpg", b"%PDF-1.4 not a photo", "image/jpeg"))]

        self.refused(client, session, settings, values, files, 415, "application/pdf", "photos")

    def test_a_missing_description_is_refused_beside_its_field(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        values = form(client, description="  ")

        message = zh("Describe the problem: what is happening, and since when.")
        text = self.refused(client, session, settings, values, [], 422, message, "description")
        assert "崇州市唐安西路 88 号旁" in text  # what was typed is kept

    def test_a_missing_required_answer_is_refused_beside_its_question(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        values = form(client, category=VENDING)

        self.refused(
            client, session, settings, values, [], 422, "是否阻碍通行", f"attr-{VENDING}-blocking"
        )

    def test_no_place_at_all_is_refused(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        values = form(client, lon="", lat="", address="")

        message = zh("Say where the problem is: put a pin on the map or write the address.")
        self.refused(client, session, settings, values, [], 422, message, "address")

    def test_too_many_filings_from_one_address_are_throttled(
        self,
        client: TestClient,
        app: FastAPI,
        world: ComplaintWorld,
        session: Session,
        settings: Settings,
    ) -> None:
        app.state.public_complaint_limiter = public_guard.RateLimiter(limit=2)
        file_one(client)
        file_one(client)

        self.refused(client, session, settings, form(client), [], 429, "请稍后再试", "")


class TestStatusPage:
    def test_only_public_steps_are_shown(
        self, client: TestClient, world: ComplaintWorld, session: Session
    ) -> None:
        tracking_no = file_one(client, jpeg())  # also records a non-public media_added step

        page = client.get(f"/c/t/{tracking_no}")

        steps = re.findall(r'data-step="([a-z_]+)"', page.text)
        assert steps == ["received"]
        assert 'data-open="true"' in page.text
        assert "受理编号" in page.text  # the public note of the step

    def test_internal_steps_and_the_officers_stay_off_the_public_page(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        from zhifa.complaints import reporter

        tracking_no = file_one(
            client, jpeg(), reporter_name=NAME, reporter_phone=PHONE, anonymous=None
        )
        complaint = by_tracking(session, tracking_no)
        command = actor_for(session, world.dispatcher, via="session")
        reporter.reveal(
            session, command, complaint_id=complaint.id, reason="回访核实", settings=settings
        )
        handling.dispatch(
            session,
            command,
            complaint_id=complaint.id,
            officer_ids=[world.officer.id, world.second.id],
            note="注意避开早高峰",
        )
        session.commit()

        page = client.get(f"/c/t/{tracking_no}")

        steps = re.findall(r'data-step="([a-z_]+)"', page.text)
        assert steps == ["received", "filed", "dispatched"]
        assert 'data-status="dispatched"' in page.text
        for hidden in ("回访核实", "注意避开早高峰", "李明", "王芳", NAME, PHONE, "周敏"):
            assert hidden not in page.text

    def test_an_unknown_number_gets_a_friendly_not_found_page(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        page = client.get("/c/t/TS20260101-ZZZZZZ")

        assert page.status_code == 404
        assert 'id="not-found"' in page.text
        assert "TS20260101-ZZZZZZ" in page.text

    def test_the_look_up_form_leads_to_the_status_page_forgiving_case_and_lookalikes(
        self, client: TestClient, world: ComplaintWorld
    ) -> None:
        tracking_no = file_one(client)
        typed = tracking_no.lower().replace("1", "l").replace("0", "o")

        response = client.get(f"/c/t?no= {typed} ", follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == f"/c/t/{tracking_no}"
        assert normalise_tracking_no("ts20260101-oil1") == "TS20260101-0111"


def close_directly(session: Session, world: ComplaintWorld, tracking_no: str) -> None:
    complaint = by_tracking(session, tracking_no)
    actor = actor_for(session, world.dispatcher, via="session")
    handling.answer_directly(
        session, actor, complaint_id=complaint.id, answer="请携带身份证到政务中心办理。"
    )
    session.commit()


class TestRating:
    def test_a_closed_complaint_shows_the_answer_and_takes_one_rating(
        self, client: TestClient, world: ComplaintWorld, session: Session
    ) -> None:
        tracking_no = file_one(client, category=CONSULT, description="摆摊需要办什么手续？")
        close_directly(session, world, tracking_no)

        page = client.get(f"/c/t/{tracking_no}")
        rated = client.post(
            f"/c/t/{tracking_no}/rate",
            data={"form_token": token_of(page.text), "rating": "4", "comment": "回复很及时"},
            follow_redirects=False,
        )
        after = client.get(f"/c/t/{tracking_no}")

        assert 'data-open="false"' in page.text
        assert "请携带身份证到政务中心办理。" in page.text
        assert 'data-star="5"' in page.text
        assert rated.status_code == 303
        complaint = by_tracking(session, tracking_no)
        assert (complaint.rating, complaint.rating_comment) == (4, "回复很及时")
        assert 'data-rating="4"' in after.text
        assert 'data-star="' not in after.text
        assert "回复很及时" in after.text

    def test_a_second_rating_is_refused_and_changes_nothing(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        tracking_no = file_one(client, category=CONSULT, description="占道经营怎么投诉？")
        close_directly(session, world, tracking_no)
        token = token_of(client.get(f"/c/t/{tracking_no}").text)
        client.post(f"/c/t/{tracking_no}/rate", data={"form_token": token, "rating": "5"})
        before = counts(session, settings)

        again = client.post(f"/c/t/{tracking_no}/rate", data={"form_token": token, "rating": "1"})

        assert again.status_code == 409
        assert zh("This complaint has already been rated.") in again.text
        assert by_tracking(session, tracking_no).rating == 5
        assert counts(session, settings) == before

    def test_an_open_complaint_offers_no_rating_and_refuses_one(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        tracking_no = file_one(client)
        page = client.get(f"/c/t/{tracking_no}")
        before = counts(session, settings)

        token = public_guard.issue_token(settings)
        refused = client.post(f"/c/t/{tracking_no}/rate", data={"form_token": token, "rating": "5"})

        assert 'data-star="' not in page.text
        assert refused.status_code == 409
        assert zh("Only a closed complaint can be rated.") in refused.text
        assert counts(session, settings) == before

    def test_a_rating_without_a_valid_token_is_refused(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        tracking_no = file_one(client, category=CONSULT, description="如何申请占道许可？")
        close_directly(session, world, tracking_no)
        before = counts(session, settings)

        refused = client.post(f"/c/t/{tracking_no}/rate", data={"form_token": "x", "rating": "5"})

        assert refused.status_code == 422
        assert counts(session, settings) == before


class TestPublicPhotos:
    def test_the_citizens_photo_is_served_with_its_type(
        self, client: TestClient, world: ComplaintWorld, session: Session
    ) -> None:
        content = jpeg((1, 2, 3))
        tracking_no = file_one(client, content)
        complaint = by_tracking(session, tracking_no)
        media = session.scalars(
            select(ComplaintMedia).where(ComplaintMedia.complaint_id == complaint.id)
        ).one()

        response = client.get(f"/c/media/{tracking_no}/{media.id}")

        assert response.status_code == 200
        assert response.headers["content-type"] == "image/jpeg"
        assert response.content == content

    def test_an_officers_photo_and_another_complaints_photo_are_not_public(
        self, client: TestClient, world: ComplaintWorld, session: Session, settings: Settings
    ) -> None:
        from zhifa.complaints import media as complaint_media

        first = file_one(client, jpeg())
        second = file_one(client, jpeg((9, 9, 9)))
        complaint = by_tracking(session, first)
        officer_photo = complaint_media.add_media(
            session,
            complaint=complaint,
            role=MediaRole.BEFORE,
            content=jpeg((50, 60, 70)),
            officer_id=world.officer.id,
            client_uuid="1b4e28ba-2fa1-11d2-883f-0016d3cca427",
            settings=settings,
        )
        session.commit()
        own = session.scalars(
            select(ComplaintMedia).where(
                ComplaintMedia.complaint_id == complaint.id,
                ComplaintMedia.role == MediaRole.REPORT,
            )
        ).one()

        assert client.get(f"/c/media/{first}/{officer_photo.id}").status_code == 404
        assert client.get(f"/c/media/{second}/{own.id}").status_code == 404
        assert client.get(f"/c/media/{first}/{own.id}").status_code == 200
