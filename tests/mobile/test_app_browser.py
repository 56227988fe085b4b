"""The officer app in a real browser, on a phone: a whole inspection of the demo construction site
with its 17-item joint checklist, online and with the network gone in the middle.

Headless Debian Chromium (``/usr/bin/chromium``) driven by Playwright, 390×844, geolocation
granted and moved through the browser context; a real uvicorn server on a free 127.0.0.1 port, on
a database migrated and loaded with the demo district, the sample catalog and the demo field data
(``zhifa demo load``). The second officer checks in from their own device (the API, with their
bearer token). Screenshots go to the test's temporary folder.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS, _require_chromium
from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.config import Settings
from zhifa.demo.accounts import DEMO_PASSWORD
from zhifa.demo.field import load_field_demo
from zhifa.demo.loader import load_demo
from zhifa.kit.clock import today_local
from zhifa.ledger import checkpoints
from zhifa.models.documents import Document
from zhifa.models.inspections import (
    Evidence,
    EvidenceKind,
    Inspection,
    InspectionAnswer,
    InspectionTask,
)
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.models.subjects import Subject

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SITE_TYPE = "construction_site"
# The item found wanting: 建设用地是否取得批准手续 — 非法占用土地 (CF-ZR-001), fined per square
# metre: 1 m² gives a fine below the simple-procedure cap of an organisation (3,000 yuan).
FAIL_ITEM, FAIL_POWER, FACT = "JCX-ZR-001", "CF-ZR-001", "area_m2"
NOT_APPLICABLE_ITEM = "JCX-ST-202"
WAIT = 20_000


@dataclass(frozen=True)
class Site:
    url: str
    task_id: int
    lon: float
    lat: float
    second_officer: dict[str, str]  # the second officer's bearer header (their own device)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _demo_site_task(session: Session) -> tuple[InspectionTask, Subject]:
    """Today's task of the demo ``officer`` on the demo construction site."""
    lead = session.scalars(select(Officer).where(Officer.username == "officer")).one()
    stmt = (
        select(InspectionTask, Subject)
        .join(Subject, Subject.id == InspectionTask.subject_id)
        .where(InspectionTask.lead_officer_id == lead.id, Subject.subject_type_code == SITE_TYPE)
    )
    row = session.execute(stmt).first()
    assert row is not None, "zhifa demo load plans a task on the demo construction site"
    return row[0], row[1]


@pytest.fixture
def site(app: FastAPI, session: Session) -> Iterator[Site]:
    """``zhifa demo load`` (its Python functions), served by uvicorn in a thread."""
    summary = load_demo(session)
    session.commit()
    load_sample_catalog(session, summary.district_code)
    session.commit()
    load_field_demo(session, summary.district_code, today=today_local())
    session.commit()
    task, subject = _demo_site_task(session)
    second = session.get(Officer, task.officer_ids[1])
    assert second is not None
    headers = factories.bearer(session, second)
    session.commit()
    assert subject.lon is not None
    assert subject.lat is not None
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
    yield Site(f"http://127.0.0.1:{port}", task.id, subject.lon, subject.lat, headers)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """With the ledger's signing key, so that checkpoints are signed as the log grows and the
    verify page can prove a document (as after ``zhifa ledger keygen`` in ``make run``)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    checkpoints.keygen(settings.ledger_key_path, settings.ledger_origin)
    return settings


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
    path = tmp_path / "现场照片.jpg"
    image = Image.new("RGB", (640, 480), (180, 140, 90))
    for x in range(0, 640, 40):
        for y in range(480):
            image.putpixel((x, y), (30, 30, 30))
    image.save(path, format="JPEG", quality=85)
    return path


# --- steps of the officer's day --------------------------------------------------------------


def _phone(browser: Browser, site: Site) -> tuple[BrowserContext, Page]:
    outside = {"latitude": site.lat + 0.005, "longitude": site.lon, "accuracy": 10}  # ~550 m north
    context = browser.new_context(
        viewport=PHONE,
        locale="zh-CN",
        is_mobile=True,
        has_touch=True,
        geolocation=outside,
        permissions=["geolocation"],
    )
    page = context.new_page()
    # Shown by pytest when a test fails: what the app said in the browser's console.
    page.on("console", lambda message: print(f"console {message.type}: {message.text}"))  # noqa: T201
    page.on("pageerror", lambda error: print(f"page error: {error}"))  # noqa: T201
    return context, page


def _second_officer_checks_in(site: Site) -> None:
    body = {
        "client_uuid": "0b5e4c1e-7d8a-4f0e-9a51-5d0a1c2b3e4f",
        "lon": site.lon,
        "lat": site.lat,
        "accuracy_m": 8,
        "device_time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "offline": False,
    }
    response = httpx2.post(
        f"{site.url}/api/v1/tasks/{site.task_id}/check-ins",
        json=body,
        headers=site.second_officer,
        timeout=30,
    )
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "accepted"


def _log_in(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/login?next=/m/")
    page.fill("input[name=username]", "officer")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("#login-submit")
    page.wait_for_selector("body[data-ready=true]", timeout=WAIT)
    # The worker controls the page, and the phone holds pre-numbered forms, before going offline.
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT)
    page.wait_for_function("Number(document.body.dataset.serials || 0) >= 5", timeout=WAIT)


def _check_in_outside_then_inside(context: BrowserContext, page: Page, site: Site) -> None:
    page.click(f'a[data-task-id="{site.task_id}"]', timeout=WAIT)
    page.click("#check-in", timeout=WAIT)
    refusal = page.wait_for_selector(
        '#check-in-result [data-refusal="outside_fence"]', timeout=WAIT
    )
    assert refusal is not None
    assert "电子围栏" in refusal.inner_text()
    assert page.locator("#check-in-exception").is_visible()

    context.set_geolocation({"latitude": site.lat, "longitude": site.lon, "accuracy": 8})
    page.click("#check-in")
    page.wait_for_selector('#check-in-result [data-outcome="accepted"]', timeout=WAIT)


def _open_checklist(page: Page) -> None:
    page.click('[data-tab="checklist"]')
    page.wait_for_selector('[data-screen="checklist"] [data-item]', timeout=WAIT)


def _answer(page: Page, code: str, result: str) -> None:
    page.click(f'[data-item="{code}"] [data-answer="{result}"]')


def _fail_with_fine(page: Page) -> None:
    item = f'[data-item="{FAIL_ITEM}"]'
    _answer(page, FAIL_ITEM, "fail")
    page.fill(
        f'{item} textarea[data-field="finding"]',
        "施工单位未取得用地批准，擅自占用土地约 1 平方米堆放建材",
    )
    page.select_option(f'{item} select[data-field="power"]', FAIL_POWER)
    page.click(f'{item} [data-measure="on_spot_penalty"]')
    page.fill(f'{item} input[data-fact="{FACT}"]', "1")


def _compute(page: Page) -> str:
    item = f'[data-item="{FAIL_ITEM}"]'
    page.click(f"{item} [data-compute]")
    fine = page.wait_for_selector(f"{item} .fine", timeout=WAIT)
    assert fine is not None
    assert page.locator(f"{item} [data-not-allowed]").count() == 0
    return fine.inner_text()


def _answer_the_rest(page: Page) -> None:
    codes = page.eval_on_selector_all("[data-item]", "els => els.map(e => e.dataset.item)")
    assert len(codes) == 17  # the joint checklist of the demo construction site
    for code in codes:
        if code == NOT_APPLICABLE_ITEM:
            _answer(page, code, "not_applicable")
            page.fill(f'[data-item="{code}"] textarea[data-field="reason"]', "白天检查，无夜间施工")
        elif code != FAIL_ITEM:
            _answer(page, code, "pass")


def _attach_photo(page: Page, photo: Path) -> None:
    page.click('[data-tab="evidence"]')
    page.select_option("#evidence-item", FAIL_ITEM)
    page.set_input_files("#evidence-photo", str(photo))
    page.wait_for_selector("#evidence-list [data-evidence] img", timeout=WAIT)


def _sign(page: Page) -> int:
    pads = page.locator("canvas[data-signature]")
    for n in range(pads.count()):
        pad = pads.nth(n)
        pad.evaluate("el => el.scrollIntoView({block: 'center'})")  # clear of the sticky bar
        box = pad.bounding_box()
        assert box is not None
        x, y = box["x"], box["y"]
        page.mouse.move(x + 30, y + 120)
        page.mouse.down()
        for step, (dx, dy) in enumerate([(80, 40), (140, 110), (200, 50), (260, 120)]):
            page.mouse.move(x + dx, y + dy, steps=5 + step)
        page.mouse.up()
    return pads.count()


def _issue_the_penalty_decision(page: Page) -> str:
    page.click('[data-tab="documents"]')
    page.click(f'[data-issue="on_spot_penalty:{FAIL_ITEM}"]', timeout=WAIT)
    number = page.wait_for_selector("#doc-number", timeout=WAIT)
    assert number is not None
    preview = page.inner_text("#doc-preview")
    assert "当场行政处罚决定书" in preview
    assert "六十日" in preview
    assert "六个月" in preview
    assert _sign(page) >= 3  # the party and the two officers present
    page.click("#confirm-doc")
    page.wait_for_selector(f'[data-doc="on_spot_penalty:{FAIL_ITEM}"] .ok-text', timeout=WAIT)
    return number.inner_text() if number else ""


def _submit(page: Page) -> None:
    page.click('[data-tab="submit"]')
    page.click("#submit", timeout=WAIT)
    page.click("[data-dialog-ok]")
    page.wait_for_selector("#results", timeout=WAIT)


def _wait_uploaded(page: Page) -> None:
    page.wait_for_selector('#outbox-badge[data-pending="0"]', timeout=60_000)
    page.wait_for_selector(
        '[data-result-kind="document"][data-state="done"] [data-verify-link]', timeout=60_000
    )


def _verified(page: Page) -> bool:
    """The verify page says 验证通过 once a signed checkpoint covers the document's event (the
    scheduler signs within a second or two of the append); until then it asks to refresh."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "验证通过" in page.inner_text("body"):
            return True
        page.wait_for_timeout(1000)
        page.reload()
    return False


def _rows(session: Session, model: Any, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _events(session: Session, kind: str, subject_type: str) -> int:
    """Ledger events of ``kind`` about rows of ``subject_type`` (``inspection.submitted`` is also
    written for the task, each answer and each linked piece of evidence)."""
    where = (LedgerEvent.kind == kind, LedgerEvent.subject_type == subject_type)
    return _rows(session, LedgerEvent, *where)


# --- the flows --------------------------------------------------------------------------------


class TestAnInspectionOnline:
    def test_the_officer_inspects_the_site_issues_a_fine_and_the_document_verifies(
        self, browser: Browser, site: Site, photo: Path, tmp_path: Path
    ) -> None:
        _second_officer_checks_in(site)
        context, page = _phone(browser, site)
        _log_in(page, site)
        _check_in_outside_then_inside(context, page, site)

        _open_checklist(page)
        assert page.inner_text("#progress") == "已答 0/17"
        _answer_the_rest(page)
        _fail_with_fine(page)
        fine = _compute(page)
        assert page.inner_text("#progress") == "已答 17/17"
        page.screenshot(path=str(tmp_path / "checklist.png"), full_page=True)
        _attach_photo(page, photo)
        number = _issue_the_penalty_decision(page)
        _submit(page)
        _wait_uploaded(page)
        page.screenshot(path=str(tmp_path / "submitted.png"), full_page=True)

        assert fine.startswith("罚款 ")
        assert fine.endswith(" 元")
        issued = page.inner_text('[data-result-kind="document"] .doc-number')
        assert issued == number  # the pre-numbered serial the party saw is the one issued
        verify = page.get_attribute('[data-result-kind="document"] [data-verify-link]', "href")
        assert verify is not None
        page.goto(f"{site.url}{verify}")
        assert _verified(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(tmp_path / "verified.png"), full_page=True)
        context.close()


class TestAnInspectionWithTheNetworkGone:
    def test_everything_done_offline_lands_exactly_once_when_the_network_returns(
        self, browser: Browser, site: Site, session: Session, photo: Path, tmp_path: Path
    ) -> None:
        _second_officer_checks_in(site)
        context, page = _phone(browser, site)
        _log_in(page, site)
        _check_in_outside_then_inside(context, page, site)

        context.set_offline(True)
        _open_checklist(page)
        _answer_the_rest(page)
        _fail_with_fine(page)
        # The fine is computed on the phone (fine.js), marked for the server to check.
        fine = _compute(page)
        penalty = page.inner_text(f'[data-item="{FAIL_ITEM}"] .penalty')
        offline_fen = int(
            page.get_attribute(f'[data-item="{FAIL_ITEM}"] [data-fine-fen]', "data-fine-fen") or ""
        )
        assert "离线计算，联网后由服务器复核" in penalty
        assert fine.startswith("罚款 ")
        page.wait_for_selector("#offline-banner:not([hidden])", timeout=WAIT)
        _attach_photo(page, photo)
        _issue_the_penalty_decision(page)
        _submit(page)
        badge = page.inner_text("#outbox-badge")
        page.screenshot(path=str(tmp_path / "offline-queued.png"), full_page=True)
        task_inspections = Inspection.task_id == site.task_id
        assert (
            _rows(session, Inspection, task_inspections, Inspection.submitted_at.is_not(None)) == 0
        )

        context.set_offline(False)
        _wait_uploaded(page)

        assert badge.startswith("待上传 ")
        assert page.inner_text("#outbox-badge") == "已全部上传"
        session.expire_all()
        assert _rows(session, Inspection, task_inspections) == 1
        assert _rows(session, Document, Document.task_id == site.task_id) == 1
        photos = (Evidence.task_id == site.task_id, Evidence.kind == EvidenceKind.PHOTO)
        assert _rows(session, Evidence, *photos) == 1
        assert _events(session, "inspection.submitted", "inspection") == 1
        assert _events(session, "document.issued", "document") == 1
        assert _events(session, "inspection.evidence.added", "evidence") >= 1
        answer = session.scalars(
            select(InspectionAnswer).where(InspectionAnswer.item_code == FAIL_ITEM)
        ).one()
        assert answer.penalty is not None
        assert answer.penalty["amount_fen"] == offline_fen  # the server agrees with the phone
        context.close()


class TestAReloadWhileOffline:
    def test_the_task_and_the_answers_given_so_far_are_still_there(
        self, browser: Browser, site: Site, tmp_path: Path
    ) -> None:
        _second_officer_checks_in(site)
        context, page = _phone(browser, site)
        _log_in(page, site)
        _check_in_outside_then_inside(context, page, site)
        context.set_offline(True)
        _open_checklist(page)
        codes = page.eval_on_selector_all("[data-item]", "els => els.map(e => e.dataset.item)")
        for code in codes[:3]:
            _answer(page, code, "pass")
        _answer(page, NOT_APPLICABLE_ITEM, "not_applicable")
        page.fill(
            f'[data-item="{NOT_APPLICABLE_ITEM}"] textarea[data-field="reason"]', "无夜间施工"
        )
        page.click("#progress")  # the typed reason is saved when the field is left
        page.wait_for_timeout(500)

        page.reload()
        page.wait_for_selector("body[data-ready=true]", timeout=WAIT)

        page.wait_for_selector("[data-item]", timeout=WAIT)
        assert page.inner_text("#progress") == "已答 4/17"
        for code in codes[:3]:
            pressed = page.get_attribute(
                f'[data-item="{code}"] [data-answer="pass"]', "aria-pressed"
            )
            assert pressed == "true"
        reason = page.input_value(
            f'[data-item="{NOT_APPLICABLE_ITEM}"] textarea[data-field="reason"]'
        )
        assert reason == "无夜间施工"
        assert page.locator("#offline-banner").is_visible()
        page.click('[data-tab="overview"]')
        page.wait_for_selector('#check-in-result [data-outcome="accepted"]', timeout=WAIT)
        page.screenshot(path=str(tmp_path / "reloaded-offline.png"), full_page=True)
        context.close()
