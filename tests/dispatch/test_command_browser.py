"""The command centre in a real browser (headless Debian Chromium through Playwright, uvicorn on
127.0.0.1): an officer's dot tells name, squad, status and the age of the fix; a complaint taken
in by the intake service in another thread appears in the queue and on the map without a reload;
the panel shows the recommended pair with distances; one click dispatches and the page shows the
new status; a refused step shows the server's Chinese message and changes nothing. Two officers
of the owning squad are on duty near the complaint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from tests.complaints.world import IN_WG01, VENDING, ComplaintWorld, complaint_world
from tests.factories import PASSWORD
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _require_chromium
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.db import Database
from zhifa.dispatch import live
from zhifa.dispatch.schemas import FixIn
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintSource, ComplaintStatus
from zhifa.models.dispatch import DutyStatus
from zhifa.models.org import Officer
from zhifa.org.credentials import actor_for

pytestmark = pytest.mark.browser

WAIT_MS = 15_000


@dataclass(frozen=True)
class Served:
    url: str
    world: ComplaintWorld


def _on_duty(session: Session, officer: Officer, east_m: float) -> None:
    """``officer`` available, with a fresh fix ``east_m`` metres east of the complaint's point."""
    lon, lat = IN_WG01[0] + east_m / 96_000, IN_WG01[1]
    fix = FixIn(lon=lon, lat=lat, accuracy_m=8, fix_at=utcnow())
    live.record_fixes(session, actor_for(session, officer, via="token"), [fix])
    live.set_status(
        session, officer_id=officer.id, status=DutyStatus.AVAILABLE, actor_id=officer.id
    )


@pytest.fixture
def served(app: FastAPI, session: Session) -> Iterator[Served]:
    world = complaint_world(session)
    session.commit()
    _on_duty(session, world.officer, 120)
    _on_duty(session, world.second, 300)
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


def _command_page(browser: Browser, served: Served) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{served.url}/login")
    page.fill("input[name=username]", served.world.dispatcher.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("h1[data-home-role]", timeout=WAIT_MS)
    page.goto(f"{served.url}/command")
    page.wait_for_selector('#live-state[data-state="live"]', timeout=WAIT_MS)
    page.wait_for_selector("#command-map.leaflet-container", timeout=WAIT_MS)
    return page, errors


def _take_in_elsewhere(db: Database, world: ComplaintWorld) -> Complaint:
    """The hotline's intake, in its own thread and transaction (as another request would)."""
    found: list[Complaint] = []

    def run() -> None:
        with db.sessionmaker(expire_on_commit=False) as s:
            data = ComplaintIn(
                category_code=VENDING,
                description="蜀州中路人行道上有三个流动摊贩占道经营",
                lon=IN_WG01[0],
                lat=IN_WG01[1],
                address="崇州市蜀州中路 88 号门前",
                attributes={"blocking": "yes"},
            )
            result = create_complaint(
                s,
                district_code=world.district_code,
                data=data,
                source=ComplaintSource.HOTLINE,
                actor_id=world.dispatcher.id,
            )
            s.commit()
            found.append(result.complaint)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=20)
    assert found, "the intake did not finish"
    return found[0]


def _status(db: Database, complaint_id: int) -> tuple[str, list[int]]:
    with db.sessionmaker() as s:
        row = s.get(Complaint, complaint_id)
        assert row is not None
        return str(row.status), list(row.officer_ids)


class TestCommandCentreInTheBrowser:
    def test_a_new_complaint_appears_and_is_dispatched_in_one_click(
        self, browser: Browser, served: Served, db: Database
    ) -> None:
        page, errors = _command_page(browser, served)
        lee, wang = served.world.officer, served.world.second
        officer = page.locator(f"#command-map path.cc-officer-{lee.id}")
        assert officer.count() == 1
        officer.dispatch_event("click")
        popup = page.wait_for_selector(".leaflet-popup-content", timeout=WAIT_MS)
        assert popup is not None
        assert popup.inner_text().split("\n") == ["李明", "一中队", "在岗可派", "<1 分钟前定位"]
        page.click(".leaflet-popup-close-button")

        complaint = _take_in_elsewhere(db, served.world)

        item = f'#cc-queue-list .cc-item[data-complaint-id="{complaint.id}"]'
        page.wait_for_selector(item, timeout=WAIT_MS)
        assert "fresh" in (page.get_attribute(item, "class") or "")
        assert complaint.tracking_no in page.inner_text(item)
        page.wait_for_selector(
            f'#command-map .cc-pin[data-complaint-id="{complaint.id}"]', timeout=WAIT_MS
        )
        page.wait_for_function(
            "sel => /剩余/.test(document.querySelector(sel).innerText)", arg=item, timeout=WAIT_MS
        )

        page.click(f'#command-map .cc-pin[data-complaint-id="{complaint.id}"]')
        page.wait_for_selector('[data-f="pair"] li[data-officer-id]', timeout=WAIT_MS)
        pair = page.locator('[data-f="pair"] li[data-officer-id]')
        assert pair.count() == 2
        assert pair.nth(0).get_attribute("data-officer-id") == str(lee.id)
        assert "李明" in pair.nth(0).inner_text() and "米" in pair.nth(0).inner_text()  # noqa: PT018
        assert "王芳" in pair.nth(1).inner_text()
        assert page.get_attribute(item, "aria-pressed") == "true"

        page.click('[data-action="dispatch-pair"]')

        page.wait_for_selector('[data-panel][data-status="dispatched"]', timeout=WAIT_MS)
        page.wait_for_selector(f'{item}[data-status="dispatched"]', timeout=WAIT_MS)
        assert page.is_visible('[data-f="notice"]')
        assert "已派遣" in page.inner_text(f"{item} .cc-item-head")
        assert _status(db, complaint.id) == ("dispatched", [lee.id, wang.id])
        assert errors == []
        page.close()

    def test_a_refused_step_shows_the_servers_message_and_changes_nothing(
        self, browser: Browser, served: Served, db: Database
    ) -> None:
        complaint = _take_in_elsewhere(db, served.world)
        page, errors = _command_page(browser, served)

        page.click(f'#cc-queue-list .cc-item[data-complaint-id="{complaint.id}"]')
        page.wait_for_selector('[data-panel][data-status="received"]', timeout=WAIT_MS)
        page.click('[data-step="reject"]')
        page.click('[data-f="form"] button[type="submit"]')

        error = page.wait_for_selector('[data-f="error"]:not([hidden])', timeout=WAIT_MS)
        assert error is not None
        assert error.inner_text() == "请填写不予受理的理由。"
        assert _status(db, complaint.id) == (ComplaintStatus.RECEIVED.value, [])
        assert errors == []
        page.close()
