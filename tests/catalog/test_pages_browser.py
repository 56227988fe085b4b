"""In a real browser, on a phone: a field officer logs in, opens the fine calculator, picks the
internet-café power, enters how many minors were inside and reads the fine.

Headless Debian Chromium (``/usr/bin/chromium``) driven by Playwright, against a real uvicorn
server on a free 127.0.0.1 port, on a database with the demo district and a small catalog built
through the services. A screenshot of the result is written to the test's temporary folder.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, sync_playwright
from sqlalchemy.orm import Session

from tests.catalog.test_pages import CODE, add_catalog, cafe_power
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, PHONE, _require_chromium
from zhifa.catalog.service import Author
from zhifa.demo import data as demo
from zhifa.demo.accounts import DEMO_PASSWORD, ROLE_USERNAMES
from zhifa.demo.loader import load_demo
from zhifa.org.roles import Role

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def live_url(app: FastAPI, session: Session) -> Iterator[str]:
    """The app with the demo district and the 网吧 power, served by uvicorn in a thread."""
    load_demo(session)
    author = Author(officer_id=None, district_code=demo.DISTRICT_CODE, via="test")
    add_catalog(session, author, power=cafe_power(responsibility={"act_within_days": 90}))
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
    yield f"http://127.0.0.1:{port}"
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


class TestTheFineCalculatorOnAPhone:
    def test_an_officer_computes_the_fine_for_minors_in_an_internet_cafe(
        self, browser: Browser, live_url: str, tmp_path: Path
    ) -> None:
        page = browser.new_page(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
        page.goto(f"{live_url}/login")
        page.fill("input[name=username]", ROLE_USERNAMES[Role.OFFICER])
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("h1[data-home-role]", timeout=15_000)

        page.click('nav.mainnav a[href="/catalog/calculator"]')
        page.fill("#f-q", "网吧")
        page.click(f'[data-choose-power="{CODE}"]', timeout=15_000)
        page.wait_for_selector(f'[data-chosen-power="{CODE}"]', timeout=15_000)
        page.fill("#f-fact-minors", "2")
        page.click("#calc-submit")

        result = page.wait_for_selector("#calc-result", timeout=15_000)
        assert result is not None
        assert result.get_attribute("data-recommended-fen") == "600000"
        assert "6,000" in page.inner_text("#recommended-amount")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / "calculator-phone.png"), full_page=True)
        page.close()


class TestTheBenchmarkEditorOnADesktop:
    def test_the_catalog_admin_adds_and_deletes_rows_and_saves_a_new_version(
        self, browser: Browser, live_url: str, tmp_path: Path
    ) -> None:
        page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="zh-CN")
        page.goto(f"{live_url}/login")
        page.fill("input[name=username]", ROLE_USERNAMES[Role.CATALOG_ADMIN])
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("h1[data-home-role]", timeout=15_000)
        page.goto(f"{live_url}/catalog/powers/{CODE}/benchmark/edit")
        rows = "table[data-bench-editor] tr.bench-row"
        assert page.locator(rows).count() == 6  # three rows of the benchmark, three blank
        page.screenshot(path=str(tmp_path / "benchmark-editor.png"))
        page.evaluate("window.stayed = true")  # gone if a button posted the form

        page.click("button[data-add-row]")
        page.click('tr.bench-row[data-row="4"] button[data-delete-row]')
        page.click('tr.bench-row[data-row="4"] button[data-delete-row]')

        assert page.locator(rows).count() == 5
        assert page.evaluate("window.stayed === true")  # the script did it in the page
        names = page.eval_on_selector_all(
            f"{rows} [name$='-行类型']", "els => els.map(e => e.name)"
        )
        assert names == [f"rows-{n}-行类型" for n in range(1, 6)]  # renumbered in page order
        page.fill("input[name='rows-3-下限']", "2000")
        page.fill("input[name='rows-3-上限']", "2000")
        page.fill("#f-effective_from", "2024-01-01")
        page.fill("#f-note", "下调每人罚款")
        page.click("button.btn-primary[name=mode][value=rows]")
        page.wait_for_url(f"{live_url}/catalog/powers/{CODE}", timeout=15_000)
        page.screenshot(path=str(tmp_path / "benchmark-saved.png"), full_page=True)
        page.close()
