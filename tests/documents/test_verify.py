"""The public verify page: who issued what and when, proved against the latest signed checkpoint
(signed on demand when none covers the document yet); an uploaded copy is compared byte for byte."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests import factories
from tests.documents.helpers import DocWorld, body, submitted_world
from zhifa.config import Settings
from zhifa.ledger import checkpoints, merkle, note
from zhifa.models.documents import Document
from zhifa.models.subjects import Subject, SubjectKind


def issue(client: TestClient, session: Session, w: DocWorld, **changes: Any) -> dict[str, Any]:
    headers = factories.bearer(session, w.field.officer)
    session.commit()
    answer = client.post(
        "/api/v1/documents", json=body(w, "inspection_record", **changes), headers=headers
    )
    assert answer.status_code == 201, answer.json()
    result: dict[str, Any] = answer.json()
    result["pdf"] = client.get(result["pdf_url"], headers=headers).content
    client.headers.pop("Authorization", None)
    return result


@pytest.fixture
def keyed(client: TestClient, settings: Settings) -> Settings:
    """A log key made after the app started: no scheduler, so the page signs on demand."""
    checkpoints.keygen(settings.ledger_key_path, settings.ledger_origin)
    return settings


@pytest.fixture
def doc(client: TestClient, session: Session, world: DocWorld, keyed: Settings) -> dict[str, Any]:
    return issue(client, session, world)


class TestThePage:
    def test_an_issued_document_is_shown_as_verified(
        self, client: TestClient, doc: dict[str, Any]
    ) -> None:
        page = client.get(f"/verify/{doc['public_id']}")

        assert page.status_code == 200
        assert 'data-verdict="verified"' in page.text
        assert "验证通过" in page.text
        assert doc["number_text"] in page.text
        assert "崇州市（演示）综合行政执法局" in page.text
        assert "现场检查（勘验）笔录" in page.text
        assert doc["pdf_sha256"] in page.text
        assert "崇州市星际网络会所有限公司" in page.text

    def test_the_page_needs_no_login(self, client: TestClient, doc: dict[str, Any]) -> None:
        client.cookies.clear()
        assert client.get(f"/verify/{doc['public_id']}").status_code == 200

    def test_an_unknown_code_is_a_404_page(self, client: TestClient, doc: dict[str, Any]) -> None:
        page = client.get("/verify/AAAAAAAAAAAAAAAAAAAAAA")

        assert page.status_code == 404
        assert "没有与此核验码对应的文书" in page.text
        assert client.get("/verify/not%20a%20code").status_code == 404

    def test_a_persons_name_is_masked_to_the_surname(
        self, client: TestClient, session: Session, keyed: Settings
    ) -> None:
        w = submitted_world(session)
        session.execute(update(Subject).values(kind=SubjectKind.PERSON, name="张三丰", uscc=None))
        session.commit()
        issued = issue(client, session, w)

        page = client.get(f"/verify/{issued['public_id']}")

        assert "张*" in page.text
        assert "张三丰" not in page.text

    def test_without_a_log_key_the_proof_is_pending(
        self, client: TestClient, session: Session, world: DocWorld
    ) -> None:
        issued = issue(client, session, world)

        page = client.get(f"/verify/{issued['public_id']}")

        assert 'data-verdict="pending"' in page.text
        assert "尚无已签名的检查点" in page.text

    def test_a_document_row_edited_behind_the_ledger_fails(
        self, client: TestClient, session: Session, doc: dict[str, Any]
    ) -> None:
        session.execute(update(Document).values(number_text="崇综执检字〔2026〕第999号"))
        session.commit()

        page = client.get(f"/verify/{doc['public_id']}")

        assert 'data-verdict="failed"' in page.text
        assert "不一致" in page.text
        assert doc["number_text"] in page.text  # what the ledger says, not the edited row

    def test_a_checkpoint_signed_by_another_key_fails(
        self, client: TestClient, settings: Settings, doc: dict[str, Any]
    ) -> None:
        assert 'data-verdict="verified"' in client.get(f"/verify/{doc['public_id']}").text
        settings.ledger_key_path.unlink()
        checkpoints.keygen(settings.ledger_key_path, settings.ledger_origin)

        page = client.get(f"/verify/{doc['public_id']}")

        assert 'data-verdict="failed"' in page.text
        assert "does not verify" in page.text or "no known key" in page.text


class TestTheJson:
    def test_the_proof_checks_out_with_the_public_ledger_alone(
        self, client: TestClient, doc: dict[str, Any]
    ) -> None:
        answer = client.get(f"/api/v1/verify/{doc['public_id']}").json()
        proof = answer["proof"]
        entry = client.get(f"/api/v1/ledger/entries/{proof['index']}").json()
        signed = client.get("/api/v1/ledger/checkpoint").text
        key = client.get("/api/v1/ledger/verifier-key").text

        body_bytes = base64.b64decode(entry["body"])
        checkpoint = note.Checkpoint.parse_body(note.open_note(signed, [key])[0])
        merkle.verify_inclusion(
            merkle.leaf_hash(body_bytes),
            proof["index"],
            checkpoint.size,
            [base64.b64decode(h) for h in proof["proof"]],
            checkpoint.root,
        )
        assert proof["status"] == "verified"
        assert base64.b64decode(proof["root"]) == checkpoint.root
        assert answer["pdf_sha256"] == doc["pdf_sha256"]
        assert entry["envelope"]["payload"]["state"]["pdf_sha256"] == doc["pdf_sha256"]
        assert doc["pdf_sha256"] in entry["envelope"]["evidence"]

    def test_an_unknown_code_is_a_404(self, client: TestClient, doc: dict[str, Any]) -> None:
        answer = client.get("/api/v1/verify/AAAAAAAAAAAAAAAAAAAAAA")
        assert answer.status_code == 404
        assert answer.json()["error"]["code"] == "not_found"


class TestUpload:
    def test_the_issued_pdf_is_byte_identical(
        self, client: TestClient, doc: dict[str, Any]
    ) -> None:
        page = client.post(
            f"/verify/{doc['public_id']}",
            files={"file": ("doc.pdf", doc["pdf"], "application/pdf")},
        )

        assert page.status_code == 200
        assert 'data-compare="identical"' in page.text
        assert "逐字节完全一致" in page.text

    def test_a_tampered_pdf_is_not_identical(self, client: TestClient, doc: dict[str, Any]) -> None:
        tampered = doc["pdf"].replace("贰".encode(), "叁".encode()) + b"\n% edited\n"

        page = client.post(
            f"/verify/{doc['public_id']}",
            files={"file": ("doc.pdf", tampered, "application/pdf")},
        )

        assert page.status_code == 200
        assert 'data-compare="different"' in page.text
        assert hashlib.sha256(tampered).hexdigest() in page.text

    def test_a_raw_pdf_body_is_compared_too(self, client: TestClient, doc: dict[str, Any]) -> None:
        page = client.post(
            f"/verify/{doc['public_id']}",
            content=doc["pdf"],
            headers={"Content-Type": "application/pdf"},
        )
        assert 'data-compare="identical"' in page.text

    def test_a_file_that_is_not_a_pdf_is_said_to_be_so(
        self, client: TestClient, doc: dict[str, Any]
    ) -> None:
        page = client.post(
            f"/verify/{doc['public_id']}", files={"file": ("a.txt", b"hello", "text/plain")}
        )
        assert "该文件不是 PDF 文件" in page.text

    def test_an_empty_upload_is_refused(self, client: TestClient, doc: dict[str, Any]) -> None:
        page = client.post(
            f"/verify/{doc['public_id']}", files={"file": ("a.pdf", b"", "application/pdf")}
        )
        assert page.status_code == 422

    def test_an_upload_above_20_mb_is_refused(
        self, client: TestClient, doc: dict[str, Any]
    ) -> None:
        page = client.post(
            f"/verify/{doc['public_id']}",
            content=b"%PDF-" + b"0" * 20_000_000,
            headers={"Content-Type": "application/pdf"},
        )
        assert page.status_code == 413
