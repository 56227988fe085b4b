"""The home page: anonymous visitors go to the login page; each role lands on its own page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.catalog.exchange.test_import_export import csv_files
from zhifa import ledger
from zhifa.catalog.exchange.importer import import_files
from zhifa.catalog.laws.service import law_service
from zhifa.catalog.service import Author
from zhifa.demo.accounts import DEMO_PASSWORD
from zhifa.demo.loader import load_demo
from zhifa.kit.clock import utcnow
from zhifa.models.org import Officer, OfficerStatus
from zhifa.models.security import WebSession
from zhifa.org.credentials import SESSION_COOKIE, digest, new_secret
from zhifa.org.roles import Role
from zhifa.web.home import primary_role


@pytest.fixture
def demo(session: Session) -> Session:
    load_demo(session)
    session.commit()
    return session


def log_in(client: TestClient, session: Session, username: str) -> Officer:
    """Open a web session for ``username`` the way the login form does: a row and a cookie."""
    officer = session.scalar(select(Officer).where(Officer.username == username))
    assert officer is not None
    secret = new_secret()
    session.add(
        WebSession(
            district_code=officer.district_code,
            officer_id=officer.id,
            token_hash=digest(secret),
            csrf_token=new_secret(),
            expires_at=utcnow() + timedelta(hours=1),
        )
    )
    session.commit()
    client.cookies.set(SESSION_COOKIE, secret)
    return officer


def home_role(html: str) -> str:
    match = re.search(r'<h1 data-home-role="([a-z_]+)"', html)
    assert match is not None, html
    return match.group(1)


def names_of(session: Session, *usernames: str) -> list[str]:
    stmt = select(Officer.name).where(Officer.username.in_(usernames))
    return list(session.scalars(stmt))


class TestAnonymous:
    def test_the_home_page_redirects_to_the_login_page(self, client: TestClient) -> None:
        response = client.get("/", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


class TestAfterLoggingInThroughTheForm:
    def test_the_dispatcher_lands_on_the_dispatcher_page(
        self, client: TestClient, demo: Session
    ) -> None:
        form = client.get("/login?next=/")
        match = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert match is not None
        response = client.post(
            "/login",
            data={
                "username": "dispatcher",
                "password": DEMO_PASSWORD,
                "csrf_token": match.group(1),
                "next": "/",
            },
        )
        assert response.status_code == 200
        assert str(response.url).endswith("/")
        assert home_role(response.text) == "dispatcher"


class TestPrimaryRole:
    def test_the_most_senior_role_wins(self) -> None:
        roles = frozenset({Role.OFFICER, Role.SQUAD_LEADER, Role.LEGAL_REVIEWER})
        assert primary_role(roles) is Role.LEGAL_REVIEWER
        assert primary_role(frozenset({Role.AUDITOR, Role.LEADER})) is Role.LEADER
        assert primary_role(frozenset(Role)) is Role.SYSTEM_ADMIN

    def test_an_account_without_roles_gets_the_officer_page(self) -> None:
        assert primary_role(frozenset()) is Role.OFFICER


class TestEachRoleLandsOnItsPage:
    @pytest.mark.parametrize(
        ("username", "role"),
        [
            ("officer", "officer"),
            ("squadleader", "squad_leader"),
            ("dispatcher", "dispatcher"),
            ("legal", "legal_reviewer"),
            ("leader", "leader"),
            ("catalog", "catalog_admin"),
            ("auditor", "auditor"),
            ("admin", "system_admin"),
        ],
    )
    def test_the_role_marker(
        self, client: TestClient, demo: Session, username: str, role: str
    ) -> None:
        log_in(client, demo, username)
        response = client.get("/")
        assert response.status_code == 200
        assert home_role(response.text) == role
        assert "演示区县" in response.text  # the fictional-data banner

    def test_the_page_speaks_english_when_asked(self, client: TestClient, demo: Session) -> None:
        log_in(client, demo, "officer")
        response = client.get("/?lang=en")
        assert "My squad colleagues" in response.text
        assert "我的中队同事" not in response.text


class TestOfficerHome:
    def test_it_shows_my_certificate_squad_and_grid(
        self, client: TestClient, demo: Session
    ) -> None:
        me = log_in(client, demo, "officer")
        html = client.get("/").text
        assert me.name in html
        assert f'data-cert="{me.cert_no}"' in html
        assert "有效" in html
        assert 'data-squad="ZD01"' in html
        assert "第一中队" in html
        assert 'data-grid="WG01"' in html
        assert 'data-grid="WG02"' not in html

    def test_it_lists_squad_colleagues_with_tel_links(
        self, client: TestClient, demo: Session
    ) -> None:
        log_in(client, demo, "officer")
        html = client.get("/").text
        colleague = demo.scalar(select(Officer).where(Officer.username == "squadleader"))
        assert colleague is not None
        assert f'href="tel:{colleague.phone}"' in html
        assert 'data-officer="officer05"' in html
        assert 'data-officer="officer"' not in html  # not myself

    def test_it_does_not_show_another_squads_officers(
        self, client: TestClient, demo: Session
    ) -> None:
        log_in(client, demo, "officer")
        html = client.get("/").text
        # officer06 … serve in the second squad; the dispatcher sits in the bureau.
        for name in names_of(demo, "officer06", "officer07", "officer33", "dispatcher"):
            assert name not in html
        assert "tel:13800000040" not in html

    def test_an_expiring_certificate_is_flagged(self, client: TestClient, demo: Session) -> None:
        log_in(client, demo, "officer04")
        html = client.get("/").text
        assert home_role(html) == "officer"
        assert "即将到期" in html


class TestSquadLeaderHome:
    def test_it_shows_the_roster_with_certificate_status_and_grids(
        self, client: TestClient, demo: Session
    ) -> None:
        log_in(client, demo, "squadleader")
        html = client.get("/").text
        roster = re.findall(r'data-officer="([a-z0-9]+)"', html)
        assert sorted(roster) == sorted(
            ["squadleader", "officer", "officer02", "officer03", "officer04", "officer05"]
        )
        assert "即将到期" in html  # officer04
        assert 'data-grid="WG01"' in html
        assert 'data-grid="WG04"' not in html


class TestDispatcherHome:
    def test_it_shows_units_grids_and_officers_per_squad(
        self, client: TestClient, demo: Session
    ) -> None:
        log_in(client, demo, "dispatcher")
        html = client.get("/").text
        assert len(re.findall(r'data-unit="', html)) == 9
        assert len(re.findall(r'data-grid="', html)) == 6
        row = re.search(r'data-unit="ZD05">(.*?)</tr>', html, re.S)
        assert row is not None
        assert re.search(r"<td>5</td>", row.group(1))


class TestLegalReviewerHome:
    def test_it_shows_district_departments_and_expiring_certificates(
        self, client: TestClient, demo: Session
    ) -> None:
        log_in(client, demo, "legal")
        html = client.get("/").text
        assert 'data-district="510184"' in html
        assert len(re.findall(r'data-department="', html)) == 7
        expiring = re.findall(r'data-officer="([a-z0-9]+)"', html)
        assert expiring == ["officer09", "officer04", "officer20"]  # soonest first
        assert "已过期" in html


class TestCatalogAdminHome:
    def test_it_shows_district_and_departments(self, client: TestClient, demo: Session) -> None:
        log_in(client, demo, "catalog")
        html = client.get("/").text
        assert 'data-department="chengguan"' in html
        assert "自然资源（国土）" in html
        assert "data-officer=" not in html

    def test_it_counts_the_catalog_and_lists_its_changes(
        self, client: TestClient, demo: Session
    ) -> None:
        author = Author(officer_id=None, district_code="510184", via="test")
        law_service.load_sample(demo)
        import_files(demo, author, csv_files())
        demo.commit()
        log_in(client, demo, "catalog")
        html = client.get("/").text
        values = re.findall(r'<span class="stat-value">(\d+)</span>', html)
        assert values == ["2", "2", "2", "2"]  # powers, penalty powers, items, templates
        assert "尚无裁量基准" not in html
        assert "权力事项新版本" in html  # the latest catalog events, by label


class TestLeaderHome:
    def test_it_shows_counts_and_expiring_certificates(
        self, client: TestClient, demo: Session
    ) -> None:
        suspended = demo.scalar(select(Officer).where(Officer.username == "officer30"))
        assert suspended is not None
        suspended.status = OfficerStatus.SUSPENDED
        demo.commit()
        log_in(client, demo, "leader")
        html = client.get("/").text
        values = re.findall(r'<span class="stat-value">(\d+)</span>', html)
        assert values == ["9", "39", "1", "6", "7"]
        assert re.findall(r'data-officer="([a-z0-9]+)"', html) == [
            "officer09",
            "officer04",
            "officer20",
        ]


class TestAuditorHome:
    def test_it_shows_the_newest_twenty_events_of_its_district(
        self, client: TestClient, demo: Session
    ) -> None:
        other = factories.district(demo, code="510183", name="邛崃市（演示）")
        ledger.record(demo, "org.district.created", ("district", other.code), {}, actor_id=None,
                      district_code=other.code)  # fmt: skip
        demo.commit()
        auditor = log_in(client, demo, "auditor")
        html = client.get("/").text
        rows = re.findall(r'data-event="(\d+)"', html)
        assert len(rows) == 20
        assert rows == sorted(rows, key=int, reverse=True)
        assert "510183" not in html
        assert "org.officer.created" in html
        assert auditor.name in html  # the page header; events were by the system
        assert "系统" in html


class TestSystemAdminHome:
    def test_it_shows_counts_admin_links_and_security_events(
        self, client: TestClient, demo: Session
    ) -> None:
        officer = demo.scalar(select(Officer).where(Officer.username == "officer"))
        assert officer is not None
        ledger.record(demo, "security.login_failed", ("officer", officer.id), {"ip": "x"},
                      actor_id=officer.id, district_code="510184")  # fmt: skip
        demo.commit()
        log_in(client, demo, "admin")
        html = client.get("/").text
        assert home_role(html) == "system_admin"
        for href in ("/admin/units", "/admin/officers", "/admin/grids", "/admin/districts"):
            assert f'href="{href}"' in html
        assert "security.login_failed" in html
        assert "org.officer.created" not in html
        assert officer.name in html
