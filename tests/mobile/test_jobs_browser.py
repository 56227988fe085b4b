"""The officer app's complaint jobs (派单) in a real browser, on a phone: on duty with positions
reported, a complaint dispatched from the command centre pushed to the phone without a reload,
then 接单, 到场 (refused far away, accepted near), 处置 with a photo after the handling and 反馈 —
online, and with the network cut after arrival and restored.

Headless Debian Chromium (``/usr/bin/chromium``) driven by Playwright, 390×844, geolocation granted
and moved through the browser context; a real uvicorn server on a free 127.0.0.1 port, on the
complaint test world (``tests.complaints.world``). The dispatcher acts through the service from the
test (the command centre's page is not the thing under test); the second officer is put on duty
the same way.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.complaints.test_handling_helpers import actor, on_duty, take_in
from tests.complaints.world import IN_WG01, ComplaintWorld, complaint_world
from tests.factories import PASSWORD
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from zhifa.blobs import path_for
from zhifa.complaints import handling
from zhifa.complaints.handling_device import about
from zhifa.config import Settings
from zhifa.kit.geo import haversine_m
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintMedia, ComplaintStatus
from zhifa.models.dispatch import DutyStatus, OfficerLive, PositionFix
from zhifa.models.ledger import LedgerEvent

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WAIT = 20_000
# About 600 m north of the complaint: too far to arrive (150 m plus the fix's accuracy).
FAR = {"latitude": IN_WG01[1] + 0.0054, "longitude": IN_WG01[0], "accuracy": 10}
NEAR = {"latitude": IN_WG01[1] + 0.0002, "longitude": IN_WG01[0], "accuracy": 8}
STEPS = ("taken", "arrived", "disposed", "fed_back")


@dataclass(frozen=True)
class Served:
    url: str
    world: ComplaintWorld


@pytest.fixture
def served(app: FastAPI, session: Session) -> Iterator[Served]:
    world = complaint_world(session)
    session.commit()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 20 s"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield Served(f"http://127.0.0.1:{port}", world)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Browser]:
    _require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    """A real JPEG, as a phone camera would hand it over."""
    path = tmp_path / "处置后.jpg"
    image = Image.new("RGB", (640, 480), (90, 140, 180))
    for x in range(0, 640, 32):
        for y in range(480):
            image.putpixel((x, y), (20, 20, 20))
    image.save(path, format="JPEG", quality=85)
    return path


# --- helpers -----------------------------------------------------------------------------------


def _eventually(check: Callable[[], Any], seconds: float = 20) -> Any:
    """Polls ``check`` until it returns something true (the server works in its own thread)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def _count(session: Session, model: Any, *where: Any) -> int:
    session.rollback()  # a fresh snapshot of what the server wrote
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _phone(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        geolocation=FAR,
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.on("console", lambda message: print(f"console {message.type}: {message.text}"))  # noqa: T201
    page.on("pageerror", lambda error: print(f"page error: {error}"))  # noqa: T201
    return context, page


def _log_in(page: Page, served: Served) -> None:
    page.goto(f"{served.url}/login?next=/m/")
    page.fill("input[name=username]", served.world.officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT)
    page.wait_for_selector("body[data-stream=open]", timeout=WAIT)


def _go_on_duty(page: Page, session: Session, served: Served) -> None:
    assert page.inner_text("#duty-toggle") == "上岗（可派单）"
    page.click("#duty-toggle")
    page.wait_for_selector('#duty-toggle[data-duty="on"]', timeout=WAIT)
    assert page.inner_text("#duty-toggle") == "离岗"
    officer_id = served.world.officer.id
    fixes = _eventually(lambda: _count(session, PositionFix, PositionFix.officer_id == officer_id))
    assert fixes >= 1  # the first fix is sent at once, the next ones every 15 s
    session.expire_all()
    live = session.get(OfficerLive, officer_id)
    assert live is not None
    assert live.status == DutyStatus.AVAILABLE
    assert live.lat == pytest.approx(FAR["latitude"])


def _dispatch(session: Session, served: Served) -> Complaint:
    """The command centre sends a new complaint to the officer and the second officer."""
    world = served.world
    complaint = take_in(session, world)
    on_duty(session, world.second)
    handling.dispatch(
        session,
        actor(session, world.dispatcher),
        complaint_id=complaint.id,
        officer_ids=[world.officer.id, world.second.id],
    )
    session.commit()
    return complaint


def _banner_and_list(page: Page, complaint: Complaint) -> None:
    banner = page.wait_for_selector(f'#alerts [data-new-job="{complaint.id}"]', timeout=WAIT)
    assert banner is not None
    text = banner.inner_text()
    assert "新派单" in text
    assert "占道经营" in text
    assert complaint.address in text
    page.click('[data-tab="jobs"]')
    first = page.wait_for_selector("#job-list li:first-child [data-job-id]", timeout=WAIT)
    assert first is not None
    assert first.get_attribute("data-job-id") == str(complaint.id)
    assert "剩余" in page.inner_text(f'[data-job-id="{complaint.id}"] [data-due]')
    assert page.inner_text("#jobs-count") == "1"


# True once the phone's outbox holds nothing waiting to be sent.
OUTBOX_EMPTY = """async () => {
  const store = await import("/static/m/store.js");
  return (await store.outboxInOrder()).every((entry) => entry.state !== "pending");
}"""


def _uploaded(page: Page) -> None:
    page.wait_for_function(OUTBOX_EMPTY, timeout=60_000, polling=250)
    page.wait_for_selector('#outbox-badge[data-pending="0"]', timeout=WAIT)


def _status(page: Page, status: str) -> None:
    page.wait_for_selector(f'#job-status[data-status="{status}"]', timeout=WAIT)


def _take(page: Page, complaint: Complaint) -> None:
    page.click(f'#job-list [data-job-id="{complaint.id}"]')
    page.click("#job-take", timeout=WAIT)
    _status(page, "taken")
    _uploaded(page)
    assert page.locator("#job-map.leaflet-container").count() == 1
    assert page.inner_text("#job-facts").count("王芳") == 1  # the other officer sent


def _off_duty_refused_while_handling(page: Page, complaint: Complaint) -> None:
    page.click("a.home")
    page.click("#duty-toggle", timeout=WAIT)
    refusal = page.wait_for_selector("#duty-note .refusal", timeout=WAIT)
    assert refusal is not None
    assert complaint.tracking_no in refusal.inner_text()
    assert page.inner_text("#duty-toggle") == "离岗"  # still on duty
    page.click('[data-tab="jobs"]')
    page.click(f'#job-list [data-job-id="{complaint.id}"]', timeout=WAIT)
    _status(page, "taken")


def _arrive_far_then_near(context: BrowserContext, page: Page, complaint: Complaint) -> None:
    page.click("#job-arrive")
    refusal = page.wait_for_selector('#arrive-result [data-refusal="not_on_scene"]', timeout=WAIT)
    assert refusal is not None
    assert complaint.lon is not None
    assert complaint.lat is not None
    far = haversine_m(FAR["longitude"], FAR["latitude"], complaint.lon, complaint.lat)
    assert f"{about(far)} 米" in refusal.inner_text()
    _arrive_near(context, page)


def _arrive_near(context: BrowserContext, page: Page) -> None:
    context.set_geolocation(NEAR)
    page.click("#job-arrive")
    _status(page, "on_scene")


def _dispose_and_feed_back(page: Page, photo: Path) -> str:
    page.click('[data-measure="persuaded"]')
    page.fill("#dispose-note", "三名摊贩已劝离，人行道已恢复通行。")
    page.set_input_files("#photo-after", str(photo))
    page.wait_for_selector('#job-photos [data-photo][data-role="after"] img', timeout=WAIT)
    page.click("#job-dispose")
    _status(page, "disposed")
    prefilled = page.input_value("#feedback-text")
    assert prefilled == "现场处置：劝离。三名摊贩已劝离，人行道已恢复通行。"
    page.click("#job-feedback")
    _status(page, "fed_back")
    assert page.inner_text("#job-done") == "待核查"
    return prefilled


def _exactly_once(
    session: Session, served: Served, complaint: Complaint, photo: Path, answer: str
) -> None:
    def status() -> str:
        session.rollback()
        return str(session.scalar(select(Complaint.status).where(Complaint.id == complaint.id)))

    assert _eventually(lambda: status() == ComplaintStatus.FED_BACK)
    session.expire_all()
    row = session.get(Complaint, complaint.id)
    assert row is not None
    assert row.answer == answer
    of_it = ComplaintEvent.complaint_id == complaint.id
    counts = {k: _count(session, ComplaintEvent, of_it, ComplaintEvent.kind == k) for k in STEPS}
    assert counts == dict.fromkeys(STEPS, 1)
    media = session.scalars(
        select(ComplaintMedia).where(ComplaintMedia.complaint_id == complaint.id)
    ).all()
    assert [(m.role, m.officer_id) for m in media] == [("after", served.world.officer.id)]
    assert media[0].sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    disposed = session.scalars(
        select(ComplaintEvent).where(of_it, ComplaintEvent.kind == "disposed")
    ).one()
    assert disposed.data["measure"] == "persuaded"
    assert disposed.data["media_ids"] == [media[0].id]
    ledger = _count(session, LedgerEvent, LedgerEvent.kind == "complaint.fed_back")
    assert ledger == 1


# --- the flows ---------------------------------------------------------------------------------


class TestAComplaintJobOnline:
    def test_a_pushed_job_is_taken_reached_handled_with_a_photo_and_reported_back(
        self,
        browser: Browser,
        served: Served,
        session: Session,
        settings: Settings,
        photo: Path,
        tmp_path: Path,
    ) -> None:
        context, page = _phone(browser)
        _log_in(page, served)
        _go_on_duty(page, session, served)

        complaint = _dispatch(session, served)
        _banner_and_list(page, complaint)
        page.screenshot(path=str(tmp_path / "pushed.png"), full_page=True)
        _take(page, complaint)
        _off_duty_refused_while_handling(page, complaint)
        _arrive_far_then_near(context, page, complaint)
        answer = _dispose_and_feed_back(page, photo)
        _uploaded(page)
        page.screenshot(path=str(tmp_path / "fed-back.png"), full_page=True)

        _exactly_once(session, served, complaint, photo, answer)
        media = session.scalars(
            select(ComplaintMedia).where(ComplaintMedia.complaint_id == complaint.id)
        ).one()
        assert path_for(settings.blob_dir, media.sha256).read_bytes() == photo.read_bytes()
        page.goto(f"{served.url}/m/#/jobs")
        page.wait_for_selector(f'#jobs-finished [data-job-id="{complaint.id}"]', timeout=WAIT)
        assert "待核查" in page.inner_text("#jobs-finished")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        context.close()


class TestAComplaintJobWithTheNetworkGone:
    def test_the_steps_taken_offline_land_exactly_once_when_the_network_returns(
        self, browser: Browser, served: Served, session: Session, photo: Path, tmp_path: Path
    ) -> None:
        context, page = _phone(browser)
        _log_in(page, served)
        _go_on_duty(page, session, served)
        complaint = _dispatch(session, served)
        _banner_and_list(page, complaint)
        _take(page, complaint)
        _arrive_near(context, page)
        _uploaded(page)

        context.set_offline(True)
        page.wait_for_selector("#offline-banner:not([hidden])", timeout=WAIT)
        answer = _dispose_and_feed_back(page, photo)
        assert page.locator("#job-status [data-pending]").count() == 1
        badge = page.inner_text("#outbox-badge")
        page.screenshot(path=str(tmp_path / "offline-queued.png"), full_page=True)
        of_it = ComplaintMedia.complaint_id == complaint.id
        assert _count(session, ComplaintMedia, of_it) == 0
        session.expire_all()
        row = session.get(Complaint, complaint.id)
        assert row is not None
        assert row.status == ComplaintStatus.ON_SCENE

        context.set_offline(False)
        _uploaded(page)

        assert badge == "待上传 3 项"  # the photo, the disposal and the report
        assert page.inner_text("#outbox-badge") == "已全部上传"
        _exactly_once(session, served, complaint, photo, answer)
        context.close()


class TestAJobDeclinedOrTakenAway:
    def test_a_declined_job_goes_back_with_its_reason_and_a_re_dispatched_one_leaves_a_notice(
        self, browser: Browser, served: Served, session: Session
    ) -> None:
        context, page = _phone(browser)
        _log_in(page, served)
        _go_on_duty(page, session, served)
        declined = _dispatch(session, served)
        _banner_and_list(page, declined)
        page.click(f'#job-list [data-job-id="{declined.id}"]')
        page.click("#job-decline", timeout=WAIT)
        page.click('[data-reason="Not in my area"]')
        assert page.input_value("#decline-reason") == "不在本人责任区"
        page.click("#decline-send")
        page.wait_for_selector("#job-declined", timeout=WAIT)
        _uploaded(page)

        world = served.world
        moved = _dispatch(session, served)
        page.click('a[href="#/jobs"]')
        page.wait_for_selector(f'#job-list [data-job-id="{moved.id}"]', timeout=WAIT)
        on_duty(session, world.third, world.field.leader)
        handling.dispatch(
            session,
            actor(session, world.dispatcher),
            complaint_id=moved.id,
            officer_ids=[world.third.id, world.field.leader.id],
        )
        session.commit()

        notice = page.wait_for_selector(f'#alerts [data-notice="removed-{moved.id}"]', timeout=WAIT)
        assert notice is not None
        assert moved.tracking_no in notice.inner_text()
        assert "已改派或收回" in notice.inner_text()
        page.wait_for_selector(f'#job-list [data-job-id="{moved.id}"]', state="detached")
        assert page.locator(f'#job-list [data-job-id="{declined.id}"]').count() == 0
        assert page.locator(f'#alerts [data-notice="removed-{declined.id}"]').count() == 0
        session.expire_all()
        back = session.get(Complaint, declined.id)
        assert back is not None
        assert back.status == ComplaintStatus.FILED
        event = session.scalars(
            select(ComplaintEvent).where(
                ComplaintEvent.complaint_id == declined.id, ComplaintEvent.kind == "declined"
            )
        ).one()
        assert event.data["reason"] == "不在本人责任区"
        context.close()
