"""The desk's 12345 import page: the dry run first (problems by row and column, or what would be
created), then the import of the same file, which only its uploader can confirm."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.complaints.world import GARBAGE, IN_WG01, ComplaintWorld, complaint_world
from tests.org.helpers import web_login
from zhifa.models.complaints import Complaint, ComplaintSource
from zhifa.models.ledger import LedgerEvent

HEADER = "工单编号,受理时间,诉求类型,事项分类,诉求内容,事发地址,经度,纬度\n"


def export(*rows: str) -> bytes:
    return (HEADER + "".join(row + "\n" for row in rows)).encode("utf-8")


GOOD = export(
    f"GD2026-0001,2026-05-06 09:55,投诉举报,{GARBAGE},路口垃圾堆积,唐安西路口,{IN_WG01[0]},"
    f"{IN_WG01[1]}",
    f"GD2026-0002,2026-05-06 10:20,投诉举报,{GARBAGE},小区门口垃圾未清运,蜀州中路 1 号,,",
)
BAD = export(
    "GD2026-0003,2026-05-06 09:55,投诉举报,没有这个分类,路口垃圾堆积,唐安西路口,,",
    "GD2026-0004,2026-05-06 10:20,投诉举报,SRHJ-BLLJ,,蜀州中路 1 号,,",
)


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def complaints(session: Session) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(Complaint)) or 0)


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found is not None, f"no hidden field {name}"
    return found.group(1)


def check(client: TestClient, csrf: str, content: bytes, name: str = "export.csv") -> Response:
    return client.post(
        "/complaints/import",
        data={"csrf_token": csrf},
        files={"file": (name, content, "text/csv")},
    )


class TestImportPage:
    def test_the_upload_form_is_for_intake_roles_only(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        web_login(client, session, world.officer)
        assert client.get("/complaints/import").status_code == 403

        web_login(client, session, world.dispatcher)
        page = client.get("/complaints/import")
        assert page.status_code == 200
        assert 'id="import-form"' in page.text

    def test_the_dry_run_shows_what_would_be_created_and_saves_nothing(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        csrf = web_login(client, session, world.dispatcher)

        checked = check(client, csrf, GOOD)

        assert checked.status_code == 200
        assert 'data-dry-run="true"' in checked.text
        assert 'id="confirm-import"' in checked.text
        assert "GD2026-0001" in checked.text
        assert "GD2026-0002" in checked.text
        assert complaints(session) == 0

    def test_problems_are_listed_by_row_and_column_and_nothing_is_imported(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        csrf = web_login(client, session, world.dispatcher)

        refused = check(client, csrf, BAD)

        assert refused.status_code == 422
        assert 'data-problem-row="2"' in refused.text
        assert 'data-problem-row="3"' in refused.text
        assert "事项分类" in refused.text
        assert "诉求内容" in refused.text
        assert 'id="confirm-import"' not in refused.text
        assert complaints(session) == 0

    def test_confirming_imports_the_checked_file_once(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        csrf = web_login(client, session, world.dispatcher)
        checked = check(client, csrf, GOOD)
        form = {
            "csrf_token": csrf,
            **{k: hidden(checked.text, k) for k in ("sha256", "filename", "signature")},
        }

        imported = client.post("/complaints/import/confirm", data=form)
        again = check(client, csrf, GOOD)

        assert imported.status_code == 200
        assert 'data-dry-run="false"' in imported.text
        rows = session.scalars(select(Complaint).order_by(Complaint.source_ref)).all()
        assert [(r.source, r.source_ref) for r in rows] == [
            (ComplaintSource.IMPORT, "GD2026-0001"),
            (ComplaintSource.IMPORT, "GD2026-0002"),
        ]
        assert rows[0].tracking_no in imported.text
        entry = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "complaint.imported")
        ).one()
        assert entry.payload["sha256"] == form["sha256"]
        assert 'id="nothing-to-import"' in again.text

    def test_a_confirmation_not_signed_for_this_operator_is_refused(
        self, client: TestClient, session: Session, world: ComplaintWorld
    ) -> None:
        csrf = web_login(client, session, world.dispatcher)
        checked = check(client, csrf, GOOD)
        leader_csrf = web_login(client, session, world.bureau_leader)
        form = {
            "csrf_token": leader_csrf,
            **{k: hidden(checked.text, k) for k in ("sha256", "filename", "signature")},
        }

        refused = client.post("/complaints/import/confirm", data=form)

        assert refused.status_code == 422
        assert complaints(session) == 0
