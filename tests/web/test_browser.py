"""In a real browser: log in through the login form and land on the role's home page.

Headless Debian Chromium (``/usr/bin/chromium``) driven by Playwright, against a real uvicorn
server on a free 127.0.0.1 port, on a database migrated and loaded with the demo district. The
officer logs in on a phone (360×740), the system administrator on a desktop (1366×768). One
screenshot per viewport is written to the test's temporary folder.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from zhifa.demo.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD
from zhifa.demo.loader import load_demo

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1366, "height": 768}


@dataclass(frozen=True)
class LiveServer:
    url: str


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing in CI: install the Debian chromium package")
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium); browser tests need it")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _demo_username(role: str) -> str:
    return next(username for account_role, username in DEMO_ACCOUNTS if account_role == role)


@pytest.fixture
def live_server(app: FastAPI, session: Session) -> Iterator[LiveServer]:
    """The app, with the demo district loaded, served by uvicorn in a thread."""
    load_demo(session)
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


def _log_in(page: Page, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-submit")


class TestLogInToTheRoleHomePage:
    def test_the_field_officer_logs_in_on_a_phone(
        self, browser: Browser, live_server: LiveServer, tmp_path: Path
    ) -> None:
        page = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)

        _log_in(page, live_server, _demo_username("officer"))

        heading = page.wait_for_selector('h1[data-home-role="officer"]', timeout=15_000)
        assert heading is not None
        assert heading.is_visible()
        assert page.url.rstrip("/") == live_server.url
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / "officer-phone.png"), full_page=True)
        page.close()

    def test_the_system_admin_logs_in_on_a_desktop(
        self, browser: Browser, live_server: LiveServer, tmp_path: Path
    ) -> None:
        page = browser.new_page(viewport=DESKTOP, locale="zh-CN")

        _log_in(page, live_server, _demo_username("system_admin"))

        heading = page.wait_for_selector('h1[data-home-role="system_admin"]', timeout=15_000)
        assert heading is not None
        assert heading.is_visible()
        page.screenshot(path=str(tmp_path / "admin-desktop.png"), full_page=True)
        page.close()

    def test_a_wrong_password_keeps_the_visitor_on_the_login_page(
        self, browser: Browser, live_server: LiveServer
    ) -> None:
        page = browser.new_page(viewport=PHONE, locale="zh-CN")
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=username]", _demo_username("officer"))
        page.fill("input[name=password]", "not-the-password-1A")
        page.click("#login-submit")

        page.wait_for_load_state()
        assert page.locator("#login-submit").is_visible()
        assert page.locator("h1[data-home-role]").count() == 0
        page.close()
