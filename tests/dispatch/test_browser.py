"""In a real browser (headless Debian Chromium through Playwright, uvicorn on 127.0.0.1): the
command centre opens its event stream and adds a row when an inspection is submitted; the subject
pages draw their Leaflet maps (no tiles) and the form shows the fence fields of the chosen kind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.factories import PASSWORD
from tests.subjects.helpers import World, subjects_world
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, _require_chromium
from zhifa.db import Database
from zhifa.kit.events import publish_after_commit
from zhifa.models.org import Officer

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Served:
    url: str
    world: World


@pytest.fixture
def served(app: FastAPI, session: Session) -> Iterator[Served]:
    world = subjects_world(session)
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


def _page(browser: Browser, served: Served, who: Officer) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{served.url}/login")
    page.fill("input[name=username]", who.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("h1[data-home-role]", timeout=15_000)
    return page, errors


class TestCommandCentreLive:
    def test_a_submitted_inspection_appears_without_a_reload(
        self, browser: Browser, served: Served, db: Database
    ) -> None:
        page, errors = _page(browser, served, served.world.field.leader)
        page.goto(f"{served.url}/command")
        page.wait_for_selector('#live-state[data-state="live"]', timeout=15_000)
        assert page.locator("#command-map.leaflet-container").count() == 1

        with db.sessionmaker() as s:
            s.execute(select(1))
            data = {"task_id": served.world.field.task.id, "subject_name": "崇州市星际网络会所"}
            publish_after_commit(s, "inspection.submitted", data, district_code="510184")
            s.commit()

        row = page.wait_for_selector(
            '#live-feed li[data-topic="inspection.submitted"]', timeout=15_000
        )
        assert row is not None
        assert "崇州市星际网络会所" in row.inner_text()
        assert errors == []
        page.close()


class TestSubjectPagesInTheBrowser:
    def test_the_detail_map_and_the_form_fence_fields(
        self, browser: Browser, served: Served
    ) -> None:
        page, errors = _page(browser, served, served.world.field.officer)
        page.goto(f"{served.url}/subjects/{served.world.field.cafe.id}")
        page.wait_for_selector("#subject-map.leaflet-container", timeout=15_000)
        assert page.locator("#subject-map path.leaflet-interactive").count() >= 2  # fence + point

        page.goto(f"{served.url}/subjects/new")
        page.wait_for_selector("[data-subject-map].leaflet-container", timeout=15_000)
        assert page.locator('[data-fence-part="radius"]').is_hidden()
        page.select_option("#f-fence", "radius")
        assert page.locator('[data-fence-part="radius"]').is_visible()
        assert page.locator('[data-fence-part="polygon"]').is_hidden()
        page.locator("[data-subject-map]").click()
        assert page.input_value("#f-lon") != ""
        assert errors == []
        page.close()
