"""The officer app's own routes under /m/: the shell, the service worker, the manifest, the session
and the strings. (The app's behaviour in a browser is in ``test_app_browser.py``.)"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.org.helpers import web_login
from zhifa.config import Settings
from zhifa.dispatch import live
from zhifa.kit.clock import utcnow
from zhifa.mobile import pages
from zhifa.mobile.strings import MESSAGES
from zhifa.models.dispatch import DutyStatus
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer, Unit, UnitKind
from zhifa.org.roles import Permission, Role
from zhifa.web.i18n import catalog

DISTRICT = "510184"


@dataclass
class World:
    squad: Unit
    officer: Officer
    catalog_admin: Officer


@pytest.fixture
def world(session: Session) -> World:
    factories.district(session, DISTRICT)
    bureau = factories.unit(session, DISTRICT, UnitKind.BUREAU, "执法局", "JU")
    squad = factories.unit(session, DISTRICT, UnitKind.SQUAD, "一中队", "ZD01", bureau)
    officer = factories.officer(
        session, DISTRICT, "li.ming", [Role.OFFICER], unit=squad, cert_no="51018400001", name="李明"
    )
    admin = factories.officer(session, DISTRICT, "qing.dan", [Role.CATALOG_ADMIN], name="清单")
    session.commit()
    return World(squad, officer, admin)


def _denials(session: Session) -> list[LedgerEvent]:
    stmt = select(LedgerEvent).where(LedgerEvent.kind == "security.permission_denied")
    return list(session.scalars(stmt))


class TestTheShell:
    def test_an_anonymous_visitor_is_sent_to_the_login_page_and_back(
        self, client: TestClient, world: World
    ) -> None:
        response = client.get("/m/", follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/m/"

    def test_an_officer_gets_the_app_shell(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        web_login(client, session, world.officer)

        response = client.get("/m/")

        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"
        html = response.text
        assert '<script type="module" src="/static/m/app.js">' in html
        assert 'href="/m/manifest.webmanifest"' in html
        assert "/static/vendor/signature_pad/signature_pad.umd.min.js" in html
        assert '<script src="/static/vendor/leaflet/leaflet.js" defer>' in html
        assert 'href="/static/vendor/leaflet/leaflet.css"' in html
        assert "<title>现场执法</title>" in html
        assert f'content="{pages.cache_version()}"' in html

    def test_a_role_that_does_not_inspect_gets_a_chinese_403_page_and_a_ledger_entry(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        web_login(client, session, world.catalog_admin)

        response = client.get("/m/")

        assert response.status_code == 403
        assert "执法终端仅供承担检查任务的执法人员使用。" in response.text
        assert "/static/m/app.js" not in response.text
        denials = _denials(session)
        assert [d.payload["path"] for d in denials] == ["/m/"]
        assert denials[0].payload["permission"] == "inspections:inspect"


class TestTheServiceWorker:
    def test_it_is_public_with_its_scope_and_no_http_caching(self, client: TestClient) -> None:
        response = client.get("/m/sw.js")

        assert response.status_code == 200
        assert response.headers["service-worker-allowed"] == "/m/"
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["content-type"].startswith("text/javascript")

    def test_it_carries_the_version_and_the_precache_list(self, client: TestClient) -> None:
        source = client.get("/m/sw.js").text

        assert f'const VERSION = "{pages.cache_version()}";' in source
        assert "__PRECACHE__" not in source
        match = re.search(r"const PRECACHE = (\[.*?\]);", source)
        assert match is not None
        urls = json.loads(match.group(1))
        for url in ("/m/", "/m/i18n.json", "/m/manifest.webmanifest", "/static/m/app.js"):
            assert url in urls
        assert "/static/vendor/signature_pad/signature_pad.umd.min.js" in urls
        for url in (
            "/static/m/jobs.js",
            "/static/m/job.js",
            "/static/m/duty.js",
            "/static/m/push.js",
        ):
            assert url in urls
        assert "/static/vendor/leaflet/leaflet.js" in urls
        assert "/static/vendor/leaflet/leaflet.css" in urls
        assert "/static/m/sw.js" not in urls

    def test_every_precached_url_answers_for_a_logged_in_officer(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        web_login(client, session, world.officer)
        urls = pages.precache_urls()

        statuses = {url: client.get(url, follow_redirects=False).status_code for url in urls}

        assert statuses == dict.fromkeys(urls, 200)

    def test_the_version_is_the_digest_of_what_it_precaches(self) -> None:
        assert re.fullmatch(r"[0-9a-f]{16}", pages.cache_version())
        assert pages.cache_version() == pages.cache_version()


class TestTheManifest:
    def test_it_opens_the_app_standalone_with_its_icons(self, client: TestClient) -> None:
        response = client.get("/m/manifest.webmanifest")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/manifest+json")
        manifest = response.json()
        assert manifest["start_url"] == "/m/"
        assert manifest["scope"] == "/m/"
        assert manifest["display"] == "standalone"
        assert manifest["short_name"] == "现场执法"
        for icon in manifest["icons"]:
            assert client.get(icon["src"]).status_code == 200

    @pytest.mark.parametrize("size", [192, 512])
    def test_the_png_icons_have_their_stated_size(self, client: TestClient, size: int) -> None:
        image = Image.open(BytesIO(client.get(f"/static/m/icon-{size}.png").content))

        assert image.size == (size, size)


class TestTheSession:
    def test_it_says_who_is_using_the_device_and_gives_the_csrf_token(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        csrf = web_login(client, session, world.officer)

        response = client.get("/m/session")

        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["officer_id"] == world.officer.id
        assert body["name"] == "李明"
        assert body["cert_no"] == "51018400001"
        assert body["unit"] == {"id": world.squad.id, "name": "一中队"}
        assert body["district"]["code"] == DISTRICT
        assert body["district"]["bureau_name"] == "崇州市（演示）综合行政执法局"
        assert body["csrf_token"] == csrf
        server_time = datetime.fromisoformat(body["server_time"])
        assert abs(server_time - utcnow()) < timedelta(minutes=1)

    def test_it_says_the_officer_is_off_duty_before_going_on_duty_and_draws_no_tiles(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        web_login(client, session, world.officer)

        body = client.get("/m/session").json()

        assert body["complaints"] is True
        assert body["duty"] == {
            "status": "off_duty",
            "status_label": "离岗",
            "on_duty": False,
            "complaint_id": None,
        }
        assert body["map"] == {"tile_url": "", "attribution": ""}

    def test_it_gives_the_duty_status_the_server_holds(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        live.set_status(
            session,
            officer_id=world.officer.id,
            status=DutyStatus.AVAILABLE,
            actor_id=world.officer.id,
        )
        session.commit()
        web_login(client, session, world.officer)

        duty = client.get("/m/session").json()["duty"]

        assert duty["status"] == "available"
        assert duty["status_label"] == "在岗可派"
        assert duty["on_duty"] is True

    def test_it_names_the_configured_map_tiles(
        self, client: TestClient, world: World, session: Session, settings: Settings
    ) -> None:
        settings.map_tile_url = "https://tiles.example.gov.cn/{z}/{x}/{y}.png"
        settings.map_tile_attribution = "天地图"
        web_login(client, session, world.officer)

        body = client.get("/m/session").json()

        assert body["map"] == {
            "tile_url": "https://tiles.example.gov.cn/{z}/{x}/{y}.png",
            "attribution": "天地图",
        }

    def test_a_login_that_may_not_handle_complaints_gets_no_duty_status(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        headers = factories.bearer(session, world.officer, scopes=[Permission.INSPECT])
        session.commit()

        body = client.get("/m/session", headers=headers).json()

        assert body["officer_id"] == world.officer.id
        assert body["complaints"] is False
        assert body["duty"] is None

    def test_an_anonymous_request_is_sent_to_the_login_page(
        self, client: TestClient, world: World
    ) -> None:
        response = client.get("/m/session", follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")

    def test_a_role_that_does_not_inspect_is_refused(
        self, client: TestClient, world: World, session: Session
    ) -> None:
        web_login(client, session, world.catalog_admin)

        response = client.get("/m/session")

        assert response.status_code == 403
        assert "officer_id" not in response.text
        assert [d.payload["path"] for d in _denials(session)] == ["/m/session"]


def _script_messages() -> set[str]:
    found: set[str] = set()
    for path in sorted(pages.APP_DIR.glob("*.js")):
        for match in re.finditer(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', path.read_text(encoding="utf-8")):
            found.add(json.loads(f'"{match.group(1)}"'))
    return found


class TestTheStrings:
    def test_every_string_of_the_scripts_is_served(self) -> None:
        assert _script_messages() - set(MESSAGES) == set()

    def test_they_are_chinese_by_default(self, client: TestClient) -> None:
        body = client.get("/m/i18n.json").json()

        assert body["locale"] == "zh_CN"
        assert set(body["messages"]) == set(MESSAGES)
        assert body["messages"]["Check in"] == "签到"
        assert body["messages"]["{n} items to upload"] == "待上传 {n} 项"
        assert body["messages"]["Everything uploaded"] == "已全部上传"
        assert body["messages"]["Go on duty (available for dispatch)"] == "上岗（可派单）"
        assert body["messages"]["Go off duty"] == "离岗"
        assert body["messages"]["New job"] == "新派单"
        assert body["messages"]["Awaiting verification"] == "待核查"
        assert body["messages"]["Persuaded to leave"] == "劝离"
        zh = catalog("zh_CN")
        assert all(body["messages"][m] == zh[m] for m in MESSAGES)

    def test_english_is_served_when_asked_for(self, client: TestClient) -> None:
        body = client.get("/m/i18n.json?lang=en").json()

        assert body["locale"] == "en"
        assert body["messages"]["Check in"] == "Check in"

    def test_every_string_has_a_chinese_translation(self) -> None:
        zh = catalog("zh_CN")

        assert [m for m in MESSAGES if m not in zh] == []
