"""The documents pages: the list in scope, one document, the number register (no gaps shown as
such) and the numbering rule's form for documents:configure."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests import factories
from tests.documents.helpers import DocWorld, body
from tests.org.helpers import web_login
from zhifa.models.documents import DocumentNumber, DocumentSettings, DocumentSignature
from zhifa.org.roles import Role


@pytest.fixture
def issued(client: TestClient, session: Session, world: DocWorld) -> dict[str, Any]:
    headers = factories.bearer(session, world.field.officer)
    session.commit()
    record = client.post(
        "/api/v1/documents", json=body(world, "inspection_record"), headers=headers
    )
    data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": 3}
    client.post("/api/v1/number-blocks", json=data, headers=headers)
    result: dict[str, Any] = record.json()
    return result


class TestList:
    def test_the_list_shows_type_number_party_and_links(
        self, client: TestClient, session: Session, world: DocWorld, issued: dict[str, Any]
    ) -> None:
        web_login(client, session, world.field.officer)

        page = client.get("/documents")

        assert page.status_code == 200
        assert issued["number_text"] in page.text
        assert "现场检查（勘验）笔录" in page.text
        assert "崇州市星际网络会所有限公司" in page.text
        assert f"/api/v1/documents/{issued['id']}/pdf" in page.text
        assert issued["verify_url"] in page.text

    def test_another_squad_sees_nothing(
        self, client: TestClient, session: Session, world: DocWorld, issued: dict[str, Any]
    ) -> None:
        web_login(client, session, world.field.outsider)

        page = client.get("/documents")

        assert issued["number_text"] not in page.text
        assert client.get(f"/documents/{issued['id']}").status_code == 404


class TestDetail:
    def test_a_document_page_shows_its_signatures_and_links(
        self, client: TestClient, session: Session, world: DocWorld, issued: dict[str, Any]
    ) -> None:
        web_login(client, session, world.field.officer)

        page = client.get(f"/documents/{issued['id']}")
        first = session.scalars(
            select(DocumentSignature).where(DocumentSignature.document_id == issued["id"])
        ).first()
        assert first is not None
        image = client.get(f"/documents/{issued['id']}/signatures/{first.id}.png")

        assert page.status_code == 200
        assert "陈强" in page.text
        assert "李明" in page.text
        assert issued["pdf_sha256"] in page.text
        assert issued["verify_url"] in page.text
        assert image.status_code == 200
        assert image.headers["content-type"] == "image/png"
        assert hashlib.sha256(image.content).hexdigest() == first.image_sha256


class TestRegister:
    def test_the_register_lists_every_number_and_says_there_is_no_gap(
        self, client: TestClient, session: Session, world: DocWorld, issued: dict[str, Any]
    ) -> None:
        web_login(client, session, world.field.officer)

        page = client.get("/documents/numbers", params={"doc_type": "on_spot_penalty"})
        records = client.get("/documents/numbers", params={"doc_type": "inspection_record"})

        assert page.status_code == 200
        assert 'data-gaps="0"' in page.text
        assert page.text.count("已预留") >= 3
        assert issued["number_text"] in records.text

    def test_the_register_api_answers_every_serial_with_its_status(
        self, client: TestClient, session: Session, world: DocWorld, issued: dict[str, Any]
    ) -> None:
        headers = factories.bearer(session, world.field.second)
        session.commit()

        answer = client.get(
            "/api/v1/documents/numbers", params={"doc_type": "on_spot_penalty"}, headers=headers
        ).json()

        assert [n["serial"] for n in answer["numbers"]] == [1, 2, 3]
        assert {n["status"] for n in answer["numbers"]} == {"reserved"}
        assert answer["gaps"] == []
        assert answer["next_serial"] == 4
        assert answer["counts"] == {"reserved": 3}


class TestSettingsForm:
    def test_a_system_admin_saves_the_rule_through_the_form(
        self, client: TestClient, session: Session, world: DocWorld
    ) -> None:
        admin = factories.officer(session, "510184", "admin", [Role.SYSTEM_ADMIN])
        session.commit()
        csrf = web_login(client, session, admin)

        form = client.get("/documents/settings")
        saved = client.post(
            "/documents/settings",
            data={
                "csrf_token": csrf,
                "agency_name": "崇州市综合行政执法局",
                "agency_short": "崇综执法",
                "code_inspection_record": "检字",
                "code_rectification_notice": "改字",
                "code_on_spot_penalty": "罚字",
                "code_service_receipt": "送字",
                "pattern": "{agency}{code}〔{year}〕{serial}号",
                "width": "3",
            },
            follow_redirects=False,
        )

        assert form.status_code == 200
        assert "崇综执" in form.text
        assert saved.status_code == 303
        row = session.scalars(select(DocumentSettings)).one()
        session.refresh(row)
        assert (row.agency_short, row.codes["rectification_notice"], row.width) == (
            "崇综执法",
            "改字",
            3,
        )

    def test_a_bad_form_is_refused_and_nothing_is_saved(
        self, client: TestClient, session: Session, world: DocWorld
    ) -> None:
        admin = factories.officer(session, "510184", "admin", [Role.SYSTEM_ADMIN])
        session.commit()
        csrf = web_login(client, session, admin)

        answer = client.post(
            "/documents/settings",
            data={
                "csrf_token": csrf,
                "agency_name": "x",
                "agency_short": "y",
                "pattern": "{agency}",
                "code_inspection_record": "检字",
                "code_rectification_notice": "改字",
                "code_on_spot_penalty": "罚字",
                "code_service_receipt": "送字",
            },
        )

        assert answer.status_code == 422
        row = session.scalars(select(DocumentSettings)).one()
        session.refresh(row)
        assert row.agency_short == "崇综执"

    def test_an_officer_cannot_open_the_form(
        self, client: TestClient, session: Session, world: DocWorld
    ) -> None:
        web_login(client, session, world.field.officer)
        assert client.get("/documents/settings").status_code == 403


class TestRegisterGap:
    def test_a_number_deleted_behind_the_application_shows_as_a_gap(
        self, client: TestClient, session: Session, world: DocWorld, issued: dict[str, Any]
    ) -> None:
        session.execute(delete(DocumentNumber).where(DocumentNumber.serial == 2))
        session.commit()
        headers = factories.bearer(session, world.field.officer)
        session.commit()

        answer = client.get(
            "/api/v1/documents/numbers", params={"doc_type": "on_spot_penalty"}, headers=headers
        ).json()
        web_login(client, session, world.field.officer)
        page = client.get("/documents/numbers", params={"doc_type": "on_spot_penalty"})

        assert answer["gaps"] == [2]
        assert [(n["serial"], n["status"]) for n in answer["numbers"]] == [
            (1, "reserved"),
            (2, "missing"),
            (3, "reserved"),
        ]
        assert 'data-gaps="1"' in page.text
        assert "缺号" in page.text
