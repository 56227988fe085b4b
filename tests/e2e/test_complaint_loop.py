"""The issue's acceptance test: one complaint travels the whole loop in three browser windows.

A citizen on a phone files a street-vending complaint on the public page (/c/) with the phone's
position and a photo; the dispatcher, whose command centre (/command) was open before, sees it
arrive in the queue and on the map without a reload, reads the recommended pair (李明 and 王芳)
and dispatches them in one click; 李明's phone (the officer app, /m/, on duty) gets the job
pushed, and he takes it, arrives (the server checks the position), handles it with a photo after
the handling and reports back; the dispatcher sees 已反馈 live, passes the re-check and closes it
with an answer; the citizen's status page shows the answer and takes a five-star rating.

Headless Debian Chromium (``/usr/bin/chromium``) through Playwright: three browser contexts in one
browser (the citizen's and the officer's phones at 390×844 with geolocation granted and set
through the context, the dispatcher's desktop), against a real uvicorn server on a free
127.0.0.1 port, on the complaint test world (``tests.complaints.world``). 王芳 goes on duty
through the dispatch service from the test (one officer's phone is enough to drive). Finally the
database must hold the whole story: the status, the rating, every step in order with its time,
a ledger entry per step and the SLA deadlines; and no page raised a script error.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.complaints.world import IN_WG01, VENDING, ComplaintWorld, complaint_world
from tests.factories import PASSWORD
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _require_chromium
from zhifa.dispatch import live
from zhifa.dispatch.schemas import FixIn
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintMedia, ComplaintStatus
from zhifa.models.dispatch import DutyStatus, OfficerLive, PositionFix
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.credentials import actor_for

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WAIT = 20_000
# The citizen stands at the problem (inside grid WG01); 李明's phone is about 22 m north of it,
# 王芳 reports from about 300 m east.
CITIZEN_AT = {"longitude": IN_WG01[0], "latitude": IN_WG01[1], "accuracy": 8}
OFFICER_AT = {"longitude": IN_WG01[0], "latitude": IN_WG01[1] + 0.0002, "accuracy": 8}
SECOND_EAST_M = 300

ADDRESS = "崇州市蜀州中路 88 号门前"
DESCRIPTION = "蜀州中路人行道上有三个流动摊贩占道经营，行人只能走机动车道。"
NOTE = "三名摊贩已劝离，人行道已恢复通行。"
RESULT = "现场处置：劝离。三名摊贩已劝离，人行道已恢复通行，已告知其到夜市规定区域经营。"
ANSWER = "经核查，蜀州中路占道经营的摊贩已被劝离，人行道已恢复通行。感谢您的监督。"
COMMENT = "处理很快，半小时就解决了。"
# Every step of the loop, in order: the citizen's photo comes with the filing, the officer's
# photo before the disposal that names it.
LOOP = [
    "received",
    "media_added",
    "filed",
    "dispatched",
    "taken",
    "arrived",
    "media_added",
    "disposed",
    "fed_back",
    "verified",
    "closed",
    "rated",
]
TIME_COLUMNS = (
    "received_at",
    "filed_at",
    "dispatched_at",
    "taken_at",
    "arrived_at",
    "disposed_at",
    "fed_back_at",
    "verified_at",
    "closed_at",
    "rated_at",
)
# True once the officer's phone holds nothing waiting to be sent.
OUTBOX_EMPTY = """async () => {
  const store = await import("/static/m/store.js");
  return (await store.outboxInOrder()).every((entry) => entry.state !== "pending");
}"""
MARKER = "set before the complaint arrived"


@dataclass(frozen=True)
class Served:
    url: str
    world: ComplaintWorld


@dataclass
class Window:
    """One browser window: its context, its page and the script errors it raised."""

    name: str
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Photos:
    citizen: Path
    officer: Path


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


def _jpeg(path: Path, colour: tuple[int, int, int], label: str) -> Path:
    """A real JPEG, as a phone camera would hand it over (small: the page sends it as it is)."""
    image = Image.new("RGB", (640, 480), colour)
    draw = ImageDraw.Draw(image)
    for x in range(0, 640, 40):
        draw.line([(x, 0), (x, 479)], fill=(30, 30, 30), width=3)
    draw.text((20, 20), label, fill=(255, 255, 255))
    image.save(path, format="JPEG", quality=85)
    return path


@pytest.fixture
def photos(tmp_path: Path) -> Photos:
    return Photos(
        citizen=_jpeg(tmp_path / "IMG_0001.jpg", (150, 120, 90), "street stalls"),
        officer=_jpeg(tmp_path / "after.jpg", (90, 140, 180), "cleared"),
    )


# --- helpers -----------------------------------------------------------------------------------


def _window(browser: Browser, name: str, **options: Any) -> Window:
    context = browser.new_context(locale="zh-CN", **options)
    context.set_default_timeout(WAIT)  # every wait ends by itself
    window = Window(name, context, context.new_page())
    window.page.on("pageerror", lambda exc: window.errors.append(f"{name}: {exc}"))
    return window


def _phone(browser: Browser, name: str, position: dict[str, float]) -> Window:
    return _window(
        browser,
        name,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation=position,
        permissions=["geolocation"],
    )


def _eventually(check: Callable[[], Any], seconds: float = 20) -> Any:
    """Polls ``check`` until it returns something true (the server works in its own thread)."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def _log_in(page: Page, served: Served, officer: Officer, next_path: str = "") -> None:
    page.goto(f"{served.url}/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("input[name=username]", officer.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")


def _complaint(session: Session, tracking_no: str) -> Complaint:
    session.rollback()  # a fresh snapshot of what the server wrote
    return session.scalars(select(Complaint).where(Complaint.tracking_no == tracking_no)).one()


# --- 3. the officer goes on duty in the app ----------------------------------------------------


def _officer_on_duty(officer: Window, served: Served, session: Session) -> None:
    page = officer.page
    _log_in(page, served, served.world.officer, "/m/")
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT)
    page.wait_for_selector("body[data-stream=open]", timeout=WAIT)
    assert page.inner_text("#duty-toggle") == "上岗（可派单）"
    page.click("#duty-toggle")
    page.wait_for_selector('#duty-toggle[data-duty="on"]', timeout=WAIT)
    lee = served.world.officer.id

    def reported() -> bool:
        session.rollback()
        fix = session.scalars(select(PositionFix).where(PositionFix.officer_id == lee)).first()
        return fix is not None

    assert _eventually(reported), "the phone's first fix did not reach the server"
    row = session.get(OfficerLive, lee)
    assert row is not None
    assert row.status == DutyStatus.AVAILABLE
    assert row.lat == pytest.approx(OFFICER_AT["latitude"])
    page.evaluate("marker => { window.__marker = marker; }", MARKER)


def _second_officer_on_duty(session: Session, world: ComplaintWorld) -> None:
    """王芳 available, with a fresh fix about 300 m east of the problem."""
    wang = world.second
    fix = FixIn(
        lon=IN_WG01[0] + SECOND_EAST_M / 96_000, lat=IN_WG01[1], accuracy_m=8, fix_at=utcnow()
    )
    live.record_fixes(session, actor_for(session, wang, via="token"), [fix])
    live.set_status(session, officer_id=wang.id, status=DutyStatus.AVAILABLE, actor_id=wang.id)
    session.commit()


# --- 2. the dispatcher's command centre, open before the complaint ------------------------------


def _command_open(dispatcher: Window, served: Served) -> None:
    page = dispatcher.page
    _log_in(page, served, served.world.dispatcher)
    page.wait_for_selector("h1[data-home-role]", timeout=WAIT)
    page.goto(f"{served.url}/command")
    page.wait_for_selector('#live-state[data-state="live"]', timeout=WAIT)
    page.wait_for_selector("#command-map.leaflet-container", timeout=WAIT)
    assert page.locator("#cc-queue-list .cc-item").count() == 0
    page.evaluate("marker => { window.__marker = marker; }", MARKER)


# --- 1. the citizen files ----------------------------------------------------------------------


def _citizen_files(citizen: Window, served: Served, photo: Path) -> str:
    page = citizen.page
    page.goto(f"{served.url}/c/")
    page.click(f"label.tile:has(input[value='{VENDING}'])")
    page.wait_for_selector(f'[data-attrs-for="{VENDING}"]:not([hidden])', timeout=WAIT)
    page.fill(f"#f-attr-{VENDING}-stall_count", "3")
    page.check(f"input[name='attr-{VENDING}-blocking'][value='yes']")
    page.click("[data-locate]")
    page.wait_for_function("document.querySelector('input[name=lon]').value !== ''", timeout=WAIT)
    assert float(page.input_value("input[name=lon]")) == pytest.approx(IN_WG01[0], abs=1e-6)
    assert float(page.input_value("input[name=lat]")) == pytest.approx(IN_WG01[1], abs=1e-6)
    page.fill("#f-address", ADDRESS)
    page.fill("#f-description", DESCRIPTION)
    page.set_input_files("#f-photos", str(photo))
    page.wait_for_selector("[data-thumbs] img", timeout=WAIT)
    page.click("[data-submit]")

    page.wait_for_url("**/c/filed/**", timeout=WAIT)
    tracking_no = page.inner_text("#tracking-no").strip()
    assert tracking_no.startswith("TS")
    page.click("#status-link")
    page.wait_for_url(f"**/c/t/{tracking_no}", timeout=WAIT)
    assert page.get_attribute("#status [data-status]", "data-status") == "received"
    assert "占道经营" in page.inner_text("#category")
    assert page.locator(".photos-public img").count() == 1
    return tracking_no


# --- 2. the dispatcher sees it arrive and dispatches in one click -------------------------------


def _dispatcher_dispatches(dispatcher: Window, served: Served, complaint: Complaint) -> None:
    page = dispatcher.page
    item = f'#cc-queue-list .cc-item[data-complaint-id="{complaint.id}"]'
    page.wait_for_selector(item, timeout=WAIT)
    assert page.get_attribute(item, "data-tracking-no") == complaint.tracking_no
    assert "占道经营" in page.inner_text(item)
    pin = f'#command-map .cc-pin[data-complaint-id="{complaint.id}"]'
    page.wait_for_selector(pin, timeout=WAIT)
    feed = f'#live-feed li[data-topic="complaint"][data-complaint-id="{complaint.id}"]'
    assert complaint.tracking_no in page.inner_text(feed)

    page.click(pin)
    page.wait_for_selector(f'[data-panel][data-complaint-id="{complaint.id}"]', timeout=WAIT)
    page.wait_for_selector('[data-f="pair"] li[data-officer-id]', timeout=WAIT)
    pair = page.locator('[data-f="pair"] li[data-officer-id]')
    lee, wang = served.world.officer, served.world.second
    assert pair.count() == 2
    assert [pair.nth(i).get_attribute("data-officer-id") for i in (0, 1)] == [
        str(lee.id),
        str(wang.id),
    ]
    assert "李明" in pair.nth(0).inner_text()
    assert "王芳" in pair.nth(1).inner_text()
    assert page.inner_text('[data-f="description"]') == DESCRIPTION

    page.click('[data-action="dispatch-pair"]')
    page.wait_for_selector('[data-panel][data-status="dispatched"]', timeout=WAIT)
    page.wait_for_selector(f'{item}[data-status="dispatched"]', timeout=WAIT)
    assert page.is_visible('[data-f="notice"]')
    assert page.evaluate("window.__marker") == MARKER


# --- 3. the officer gets the job pushed and handles it -----------------------------------------


def _uploaded(page: Page) -> None:
    page.wait_for_function(OUTBOX_EMPTY, timeout=60_000, polling=250)
    page.wait_for_selector('#outbox-badge[data-pending="0"]', timeout=WAIT)


def _job_status(page: Page, status: str) -> None:
    page.wait_for_selector(f'#job-status[data-status="{status}"]', timeout=WAIT)


def _type_into_panel(page: Page, selector: str, text: str) -> None:
    """Types ``text`` into a field of the job's steps panel. The app draws the panel again once
    the server has answered the previous step (from the draft, which keeps what was typed): a
    fill that landed in the panel just replaced is typed again into the new one."""
    for _ in range(3):
        page.fill(selector, text)
        if page.input_value(selector) == text:
            return
    raise AssertionError(f"{selector} did not keep the text typed")


def _officer_handles(officer: Window, complaint: Complaint, photo: Path) -> None:
    page = officer.page
    banner = page.wait_for_selector(f'#alerts [data-new-job="{complaint.id}"]', timeout=WAIT)
    assert banner is not None
    words = banner.inner_text()
    assert "新派单" in words
    assert "占道经营" in words
    assert ADDRESS in words
    page.click(f'#alerts [data-new-job="{complaint.id}"] a.job-banner-body')

    page.click("#job-take", timeout=WAIT)
    _job_status(page, "taken")
    assert "王芳" in page.inner_text("#job-facts")  # the officer sent along
    _uploaded(page)

    page.click("#job-arrive", timeout=WAIT)
    _job_status(page, "on_scene")
    _uploaded(page)

    page.click('[data-measure="persuaded"]', timeout=WAIT)
    _type_into_panel(page, "#dispose-note", NOTE)
    page.set_input_files("#photo-after", str(photo))
    page.wait_for_selector('#job-photos [data-photo][data-role="after"] img', timeout=WAIT)
    page.click("#job-dispose")
    _job_status(page, "disposed")
    assert page.input_value("#feedback-text") == f"现场处置：劝离。{NOTE}"
    _uploaded(page)

    _type_into_panel(page, "#feedback-text", RESULT)
    page.click("#job-feedback")
    _job_status(page, "fed_back")
    _uploaded(page)
    assert page.inner_text("#job-done") == "待核查"
    assert page.evaluate("window.__marker") == MARKER


# --- 4. the dispatcher sees the report, passes the re-check and closes --------------------------


def _dispatcher_closes(dispatcher: Window, complaint: Complaint) -> None:
    page = dispatcher.page
    item = f'#cc-queue-list .cc-item[data-complaint-id="{complaint.id}"]'
    page.wait_for_selector(f'{item}[data-status="fed_back"]', timeout=WAIT)
    assert "已反馈" in page.inner_text(f"{item} .cc-item-head")
    page.wait_for_selector('[data-panel][data-status="fed_back"]', timeout=WAIT)
    page.wait_for_selector('[data-f="timeline"] li[data-kind="fed_back"]', timeout=WAIT)
    assert RESULT in page.inner_text('[data-f="timeline"]')

    verify = page.locator('[data-step="verify"]')
    verify.wait_for(state="visible", timeout=WAIT)
    assert verify.inner_text() == "核查通过"
    verify.click()
    close = page.locator('[data-step="close"]')
    close.wait_for(state="visible", timeout=WAIT)
    close.click()
    page.fill("#cc-text", ANSWER)
    page.click('[data-f="form"] button[type="submit"]')

    page.wait_for_selector('[data-panel][data-status="closed"]', timeout=WAIT)
    page.wait_for_selector(item, state="detached", timeout=WAIT)  # no longer open
    assert page.evaluate("window.__marker") == MARKER


# --- 5. the citizen reads the answer and rates it ----------------------------------------------


def _citizen_rates(citizen: Window) -> None:
    page = citizen.page
    page.reload()
    page.wait_for_selector('#status [data-status="closed"]', timeout=WAIT)
    assert page.get_attribute("#status .state", "data-open") == "false"
    assert page.inner_text("#answer") == ANSWER
    assert page.locator('#timeline li[data-step="closed"]').count() == 1

    page.fill("#f-comment", COMMENT)
    page.click('[data-star="5"]')
    rated = page.wait_for_selector('#rating [data-rating="5"]', timeout=WAIT)
    assert rated is not None
    assert rated.inner_text() == "★★★★★"
    assert COMMENT in page.inner_text("#rating")
    assert page.locator("form[data-rating]").count() == 0  # rated once


# --- what the database holds -------------------------------------------------------------------


def _the_record(session: Session, world: ComplaintWorld, tracking_no: str, photos: Photos) -> None:
    complaint = _complaint(session, tracking_no)
    assert complaint.status == ComplaintStatus.CLOSED
    assert complaint.rating == 5
    assert complaint.rating_comment == COMMENT
    assert complaint.answer == ANSWER
    assert complaint.officer_ids == [world.officer.id, world.second.id]
    assert complaint.dispatch_due is not None
    assert complaint.feedback_due is not None
    for column in TIME_COLUMNS:
        assert getattr(complaint, column) is not None, column

    events = session.scalars(
        select(ComplaintEvent)
        .where(ComplaintEvent.complaint_id == complaint.id)
        .order_by(ComplaintEvent.id)
    ).all()
    assert [e.kind for e in events] == LOOP
    times = [e.at for e in events]
    assert all(at is not None for at in times)
    assert times == sorted(times)
    desk, lee = world.dispatcher.id, world.officer.id
    assert [e.actor_id for e in events] == [
        None,  # the citizen, anonymous
        None,
        desk,
        desk,
        lee,
        lee,
        lee,
        lee,
        lee,
        desk,
        desk,
        None,
    ]
    arrived = next(e for e in events if e.kind == "arrived")
    assert arrived.data["lat"] == pytest.approx(OFFICER_AT["latitude"])
    assert 15 < arrived.data["distance_m"] < 30  # inside the arrival radius: accepted
    disposed = next(e for e in events if e.kind == "disposed")
    assert disposed.data["measure"] == "persuaded"

    ledger = {
        entry.payload["event_id"]: entry
        for entry in session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind.like("complaint.%"))
        ).all()
        if entry.payload.get("tracking_no") == tracking_no
    }
    for event in events:
        entry = ledger.get(event.id)
        assert entry is not None, f"no ledger entry for step {event.kind}"
        assert entry.kind == f"complaint.{event.kind}"

    media = session.scalars(
        select(ComplaintMedia)
        .where(ComplaintMedia.complaint_id == complaint.id)
        .order_by(ComplaintMedia.id)
    ).all()
    assert [(m.role, m.officer_id) for m in media] == [
        ("report", None),
        ("after", world.officer.id),
    ]
    assert [m.sha256 for m in media] == [
        hashlib.sha256(photos.citizen.read_bytes()).hexdigest(),
        hashlib.sha256(photos.officer.read_bytes()).hexdigest(),
    ]
    assert disposed.data["media_ids"] == [media[1].id]


# --- the loop ----------------------------------------------------------------------------------


class TestTheWholeLoopInThreeWindows:
    def test_a_citizens_complaint_is_dispatched_handled_closed_answered_and_rated(
        self,
        browser: Browser,
        served: Served,
        session: Session,
        photos: Photos,
        tmp_path: Path,
    ) -> None:
        citizen = _phone(browser, "citizen", CITIZEN_AT)
        officer = _phone(browser, "officer", OFFICER_AT)
        dispatcher = _window(browser, "dispatcher", viewport=DESKTOP)
        windows = (citizen, officer, dispatcher)
        try:
            _officer_on_duty(officer, served, session)
            _second_officer_on_duty(session, served.world)
            _command_open(dispatcher, served)

            tracking_no = _citizen_files(citizen, served, photos.citizen)
            complaint = _complaint(session, tracking_no)
            _dispatcher_dispatches(dispatcher, served, complaint)
            dispatcher.page.screenshot(path=str(tmp_path / "dispatched.png"), full_page=True)
            _officer_handles(officer, complaint, photos.officer)
            officer.page.screenshot(path=str(tmp_path / "fed-back.png"), full_page=True)
            _dispatcher_closes(dispatcher, complaint)
            _citizen_rates(citizen)
            citizen.page.screenshot(path=str(tmp_path / "rated.png"), full_page=True)
        finally:
            for window in windows:
                window.context.close()

        _the_record(session, served.world, tracking_no, photos)
        assert [error for window in windows for error in window.errors] == []
