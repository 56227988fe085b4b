"""In a real phone-sized browser (390×844, headless Debian Chromium through Playwright): a citizen
files a complaint on the public page, with the phone's position and a photo, and reads the
tracking page. The app runs in uvicorn on a free 127.0.0.1 port, on the complaint test world.
"""

from __future__ import annotations

import io
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.complaints.world import GARBAGE, IN_WG01, complaint_world
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, LiveServer, _free_port
from zhifa.config import Settings
from zhifa.models.complaints import Complaint, ComplaintMedia

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing in CI: install the Debian chromium package")
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium); browser tests need it")


def camera_photo() -> bytes:
    """A 2,400 × 1,800 JPEG of noise: big enough (over 600 kB) for the page to shrink it."""
    rng = random.Random(6)
    image = Image.frombytes("RGB", (2400, 1800), rng.randbytes(2400 * 1800 * 3))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


@pytest.fixture
def live_server(app: FastAPI, session: Session) -> Iterator[LiveServer]:
    complaint_world(session)
    session.commit()
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 20 s"
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}")
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


class TestCitizenFilesFromAPhone:
    def test_filing_with_the_phones_position_and_a_photo_then_reading_the_tracking_page(
        self,
        browser: Browser,
        live_server: LiveServer,
        session: Session,
        settings: Settings,
        tmp_path: Path,
    ) -> None:
        context = browser.new_context(
            viewport=PHONE,
            locale="zh-CN",
            is_mobile=True,
            has_touch=True,
            geolocation={"longitude": IN_WG01[0], "latitude": IN_WG01[1], "accuracy": 8},
            permissions=["geolocation"],
        )
        page = context.new_page()
        page.goto(f"{live_server.url}/c/")

        page.click(f"label.tile:has(input[value='{GARBAGE}'])")
        page.click("[data-locate]")
        page.wait_for_function("document.querySelector('input[name=lon]').value !== ''")
        page.fill("#f-description", "小区门口的垃圾桶满了，垃圾堆到路上。")
        page.set_input_files(
            "#f-photos",
            files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": camera_photo()}],
        )
        page.wait_for_selector("[data-thumbs] img")
        assert page.is_checked("input[name=anonymous]")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / "public-form.png"), full_page=True)
        page.click("[data-submit]")

        page.wait_for_url("**/c/filed/**", timeout=20_000)
        tracking_no = page.inner_text("#tracking-no").strip()
        page.click("#status-link")
        page.wait_for_url(f"**/c/t/{tracking_no}")

        assert "暴露垃圾" in page.inner_text("#category")
        assert page.get_attribute("[data-status]", "data-status") == "received"
        assert page.locator(".photos-public img").count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / "public-status.png"), full_page=True)
        context.close()

        complaint = session.scalars(
            select(Complaint).where(Complaint.tracking_no == tracking_no)
        ).one()
        assert complaint.lon == pytest.approx(IN_WG01[0], abs=1e-6)
        assert complaint.lat == pytest.approx(IN_WG01[1], abs=1e-6)
        assert complaint.source == "web"
        assert complaint.anonymous
        photo = session.scalars(
            select(ComplaintMedia).where(ComplaintMedia.complaint_id == complaint.id)
        ).one()
        path = settings.blob_dir / photo.sha256[:2] / photo.sha256[2:4] / photo.sha256
        with Image.open(path) as stored:
            assert max(stored.size) <= 1600  # shrunk in the browser before upload
        assert photo.media_type == "image/jpeg"
