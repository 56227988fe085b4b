"""Issuing documents: what an issue writes (number, PDF, signatures, evidence, ledger, bus),
exactly once per UUID, and every refusal (status, message, and nothing changed)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests import factories
from tests.documents import helpers
from tests.documents.helpers import DocWorld, body, data_url, png, signatures, submitted_world
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.documents.schemas import DocumentIn
from zhifa.documents.service import document_service
from zhifa.documents.signatures import evidence_uuid
from zhifa.kit.clock import today_local
from zhifa.kit.events import BusEvent, broker
from zhifa.models.documents import Document, DocumentNumber, DocumentSignature
from zhifa.models.inspections import (
    Evidence,
    EvidenceKind,
    InspectionTask,
    SubmissionRecord,
    TaskStatus,
)
from zhifa.models.ledger import LedgerEvent
from zhifa.models.subjects import Subject, SubjectKind

DOCS = "/api/v1/documents"


def kinds(session: Session, prefix: str = "document.") -> list[str]:
    stmt = (
        select(LedgerEvent.kind)
        .where(LedgerEvent.kind.startswith(prefix))
        .order_by(LedgerEvent.seq)
    )
    return list(session.scalars(stmt))


def state(session: Session) -> dict[str, Any]:
    """What an issue may change: compared before and after a refusal."""
    session.expire_all()

    def n(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    return {
        "documents": n(Document),
        "numbers": n(DocumentNumber),
        "signatures": n(DocumentSignature),
        "signature_evidence": n(Evidence, Evidence.kind == EvidenceKind.SIGNATURE),
        "claims": n(SubmissionRecord),
        "events": len(kinds(session)) + len(kinds(session, "inspection.evidence")),
    }


@pytest.fixture
def lead(session: Session, world: DocWorld) -> dict[str, str]:
    headers = factories.bearer(session, world.field.officer)
    session.commit()
    return headers


def block(client: TestClient, headers: dict[str, str], count: int = 2) -> dict[str, Any]:
    data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": count}
    answer = client.post("/api/v1/number-blocks", json=data, headers=headers)
    assert answer.status_code == 201
    result: dict[str, Any] = answer.json()
    return result


class TestIssue:
    def test_an_inspection_record_is_numbered_rendered_signed_and_ledgered(
        self,
        client: TestClient,
        session: Session,
        settings: Settings,
        world: DocWorld,
        lead: dict[str, str],
    ) -> None:
        request = body(world, "inspection_record")
        answer = client.post(DOCS, json=request, headers=lead)

        assert answer.status_code == 201
        doc = answer.json()
        year = today_local().year
        assert doc["number_text"] == f"崇综执检字〔{year}〕第1号"
        assert doc["doc_type_label"] == "现场检查（勘验）笔录"
        assert [(s["role"], s["signer_name"]) for s in doc["signatures"]] == [
            ("party", "陈强"),
            ("officer", "李明"),
            ("officer", "王芳"),
        ]
        assert doc["verify_url"] == f"http://127.0.0.1:8000/verify/{doc['public_id']}"
        stored = (
            settings.blob_dir / doc["pdf_sha256"][:2] / doc["pdf_sha256"][2:4] / doc["pdf_sha256"]
        )
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == doc["pdf_sha256"]
        row = session.get_one(Document, doc["id"])
        assert [i["result"] for i in row.fields["items"]] == ["不合格", "不合格", "不适用"]
        evidence = session.scalars(
            select(Evidence).where(Evidence.kind == EvidenceKind.SIGNATURE)
        ).all()
        assert sorted(e.client_uuid for e in evidence) == sorted(
            evidence_uuid(request["client_uuid"], i) for i in range(3)
        )
        assert {e.sha256 for e in evidence} == {s["image_sha256"] for s in doc["signatures"]}
        assert kinds(session)[1:] == [
            "document.number.used",
            "document.signed",
            "document.signed",
            "document.signed",
            "document.issued",
        ]
        issued = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "document.issued")
        ).one()
        envelope_evidence = issued.body.decode()
        assert doc["pdf_sha256"] in envelope_evidence
        assert issued.payload["state"]["fields"]["number"] == doc["number_text"]

    def test_the_pdf_and_the_metadata_are_served_in_scope(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        doc = client.post(DOCS, json=body(world, "inspection_record"), headers=lead).json()

        pdf = client.get(doc["pdf_url"], headers=lead)
        detail = client.get(f"{DOCS}/{doc['id']}", headers=lead)
        listed = client.get(DOCS, params={"task_id": world.task_id}, headers=lead)
        outsider = factories.bearer(session, world.field.outsider)
        session.commit()

        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(pdf.content).hexdigest() == doc["pdf_sha256"]
        assert detail.json()["fields"]["party"]["name"] == "崇州市星际网络会所有限公司"
        assert [d["id"] for d in listed.json()] == [doc["id"]]
        assert client.get(doc["pdf_url"], headers=outsider).status_code == 404
        assert client.get(f"{DOCS}/{doc['id']}", headers=outsider).status_code == 404
        assert client.get(DOCS, headers=outsider).json() == []

    def test_an_order_to_rectify_carries_the_finding_the_provision_and_the_deadline(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        doc = client.post(DOCS, json=body(world, "rectification_notice"), headers=lead).json()

        fields = session.get_one(Document, doc["id"]).fields
        [finding] = fields["findings"]
        assert finding["finding"] == "现场发现两名未成年人在上网。"
        assert finding["violated"] == "《互联网上网服务营业场所管理条例》第二十一条"
        assert finding["order"].startswith("限于")
        assert finding["order"].endswith("前改正。")
        assert "六十日内" in fields["remedies"]
        assert "六个月内" in fields["remedies"]
        assert doc["number_text"].endswith("第1号")
        assert "责改字" in doc["number_text"]

    def test_a_proof_of_service_lists_the_documents_served(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        record = client.post(DOCS, json=body(world, "inspection_record"), headers=lead).json()
        notice = client.post(DOCS, json=body(world, "rectification_notice"), headers=lead).json()

        receipt = client.post(
            DOCS,
            json=body(world, "service_receipt", service={"method": "direct", "recipient": "陈强"}),
            headers=lead,
        ).json()

        fields = session.get_one(Document, receipt["id"]).fields
        assert fields["served"] == [
            {"title": "现场检查（勘验）笔录", "number": record["number_text"]},
            {"title": "责令（限期）改正通知书", "number": notice["number_text"]},
        ]
        assert (fields["recipient"], fields["method"]) == ("陈强", "直接送达")

    def test_a_refusal_to_sign_is_recorded_with_its_reason_and_witness(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        refusal = {
            "role": "party",
            "refused": True,
            "refusal_reason": "当事人拒绝签名",
            "witness_name": "李四",
        }
        witness = {"role": "witness", "name": "李四", "image_png": data_url(png(9))}
        request = body(world, "inspection_record")
        request["signatures"] = [*signatures(world, party=refusal), witness]

        doc = client.post(DOCS, json=request, headers=lead).json()

        party = doc["signatures"][0]
        assert (party["refused"], party["refusal_reason"], party["witness_name"]) == (
            True,
            "当事人拒绝签名",
            "李四",
        )
        assert party["image_sha256"] is None
        assert doc["signatures"][-1]["role"] == "witness"
        assert kinds(session).count("document.signature_refused") == 1
        pdf = client.get(doc["pdf_url"], headers=lead).content
        pages = PdfReader(io.BytesIO(pdf)).pages
        text = "".join(page.extract_text() for page in pages).replace("\n", "")
        assert "当事人拒绝签名" in text
        assert "见证人：李四" in text

    def test_the_command_centre_hears_of_the_issue_once_it_is_committed(
        self,
        db: Database,
        settings: Settings,
        session: Session,
        world: DocWorld,
    ) -> None:
        actor = helpers.actor(session, world.field.officer)
        data = DocumentIn.model_validate(body(world, "inspection_record"))

        def issue() -> None:
            with db.unit_of_work() as s:
                document_service.issue(s, actor, data=data, config=settings, locale="zh_CN")

        async def main() -> list[BusEvent]:
            got: list[BusEvent] = []
            async with broker.subscribe(frozenset({"510184"})) as queue:
                await asyncio.to_thread(issue)
                try:
                    while True:
                        got.append(await asyncio.wait_for(queue.get(), 0.5))
                except TimeoutError:
                    return got

        [event] = asyncio.run(main())
        assert event.topic == "document.issued"
        assert event.data["task_id"] == world.task_id
        assert event.data["number_text"].startswith("崇综执检字")


class TestExactlyOnce:
    def test_a_retry_gets_the_first_answer_and_issues_nothing_more(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        request = body(world, "inspection_record")
        first = client.post(DOCS, json=request, headers=lead)
        after_first = state(session)
        again = client.post(DOCS, json=request, headers=lead)

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert state(session) == after_first

    def test_other_content_under_the_same_uuid_is_a_conflict(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        request = body(world, "inspection_record")
        client.post(DOCS, json=request, headers=lead)
        after_first = state(session)

        other = client.post(
            DOCS,
            json=body(world, "rectification_notice", client_uuid=request["client_uuid"]),
            headers=lead,
        )

        assert other.status_code == 409
        assert state(session) == after_first


def refused(
    client: TestClient, session: Session, headers: dict[str, str], request: dict[str, Any]
) -> Any:
    before = state(session)
    answer = client.post(DOCS, json=request, headers=headers)
    assert state(session) == before, "a refused issue must change nothing"
    return answer


class TestRefusals:
    def test_an_unsubmitted_inspection_is_refused(
        self, client: TestClient, session: Session
    ) -> None:
        w = submitted_world(session, submit=False)
        headers = factories.bearer(session, w.field.officer)
        session.commit()

        answer = refused(client, session, headers, body(w, "inspection_record"))

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "inspection_not_submitted"
        assert "请先提交检查结果" in answer.json()["error"]["message"]

    def test_numbering_must_be_configured(self, client: TestClient, session: Session) -> None:
        w = submitted_world(session, configure=False)
        headers = factories.bearer(session, w.field.officer)
        session.commit()

        answer = refused(client, session, headers, body(w, "inspection_record"))

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "numbering_not_configured"

    def test_a_cancelled_task_is_refused(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        session.execute(update(InspectionTask).values(status=TaskStatus.CANCELLED))
        session.commit()

        answer = refused(client, session, lead, body(world, "inspection_record"))

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "task_cancelled"

    def test_an_officer_not_assigned_to_the_task_is_refused(
        self, client: TestClient, session: Session, world: DocWorld
    ) -> None:
        headers = factories.bearer(session, world.field.leader)
        session.commit()

        answer = refused(client, session, headers, body(world, "inspection_record"))

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "not_assigned"

    def test_a_task_outside_the_scope_does_not_exist(
        self, client: TestClient, session: Session, world: DocWorld
    ) -> None:
        headers = factories.bearer(session, world.field.outsider)
        session.commit()

        answer = refused(client, session, headers, body(world, "inspection_record"))

        assert answer.status_code == 404

    @pytest.mark.parametrize(
        ("change", "status", "code"),
        [
            ("drop_officer", 422, "officer_signature_missing"),
            ("absent_officer", 422, "officer_not_present"),
            ("no_party", 422, "party_signature"),
            ("two_parties", 422, "party_signature"),
            ("refusal_without_reason", 422, "invalid_input"),
            ("officer_refuses", 422, "invalid_input"),
            ("officer_twice", 422, "invalid_input"),
            ("party_without_name", 422, "invalid_input"),
            ("not_png", 415, "unsupported_media_type"),
            ("not_base64", 422, "invalid_input"),
            ("not_data_url", 422, "invalid_input"),
            ("too_large", 413, "payload_too_large"),
        ],
    )
    def test_signatures_that_break_the_rules_are_refused(
        self,
        client: TestClient,
        session: Session,
        world: DocWorld,
        lead: dict[str, str],
        change: str,
        status: int,
        code: str,
    ) -> None:
        request = body(world, "inspection_record")
        sigs = request["signatures"]
        party, first, second = sigs
        jpeg = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 200).decode()
        too_big = base64.b64encode(png(1)[:16] + b"\0" * 500_001).decode()
        request["signatures"] = {
            "drop_officer": [party, first],
            "absent_officer": [
                party,
                first,
                second,
                {**second, "officer_id": world.field.leader.id},
            ],
            "no_party": [first, second],
            "two_parties": [party, party, first, second],
            "refusal_without_reason": [{"role": "party", "refused": True}, first, second],
            "officer_refuses": [party, first, {**second, "refused": True}],
            "officer_twice": [party, first, first, second],
            "party_without_name": [{**party, "name": ""}, first, second],
            "not_png": [party, first, {**second, "image_png": "data:image/png;base64," + jpeg}],
            "not_base64": [party, first, {**second, "image_png": "data:image/png;base64,!!"}],
            "not_data_url": [party, first, {**second, "image_png": "https://example.org/a.png"}],
            "too_large": [
                party,
                first,
                {**second, "image_png": "data:image/png;base64," + too_big},
            ],
        }[change]

        answer = refused(client, session, lead, request)

        assert answer.status_code == status
        assert answer.json()["error"]["code"] == code
        assert answer.json()["error"]["detail"]["field"].startswith("signatures")

    @pytest.mark.parametrize(
        ("doc_type", "items", "code"),
        [
            ("rectification_notice", ["WB-03"], "item_not_failed"),
            ("rectification_notice", ["WB-02"], "item_measure_mismatch"),
            ("rectification_notice", ["WB-99"], "item_not_failed"),
            ("rectification_notice", [], "invalid_input"),
            ("rectification_notice", ["WB-01", "WB-01"], "invalid_input"),
            ("inspection_record", ["WB-01"], "invalid_input"),
        ],
    )
    def test_items_that_the_document_cannot_carry_out_are_refused(
        self,
        client: TestClient,
        session: Session,
        world: DocWorld,
        lead: dict[str, str],
        doc_type: str,
        items: list[str],
        code: str,
    ) -> None:
        answer = refused(client, session, lead, body(world, doc_type, item_codes=items))

        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == code
        assert answer.json()["error"]["detail"]["field"] == "item_codes"

    def test_a_decision_covers_one_act(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        serial = block(client, lead)["first_serial"]
        request = body(world, "on_spot_penalty", item_codes=["WB-02", "WB-01"], serial=serial)

        answer = refused(client, session, lead, request)

        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "one_act_per_decision"

    def test_the_same_item_cannot_be_carried_out_twice(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        assert (
            client.post(DOCS, json=body(world, "rectification_notice"), headers=lead).status_code
            == 201
        )

        answer = refused(client, session, lead, body(world, "rectification_notice"))

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "already_issued"
        assert "WB-01" in answer.json()["error"]["message"]

    def test_an_inspection_has_one_record(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        assert (
            client.post(DOCS, json=body(world, "inspection_record"), headers=lead).status_code
            == 201
        )

        answer = refused(client, session, lead, body(world, "inspection_record"))

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "already_issued"

    def test_a_site_needs_the_party_named(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        session.execute(update(Subject).values(kind=SubjectKind.SITE, uscc=None))
        session.commit()

        answer = refused(client, session, lead, body(world, "rectification_notice"))
        named = client.post(
            DOCS,
            json=body(
                world,
                "rectification_notice",
                party={"name": "张三", "id_number": "510184199001011234"},
            ),
            headers=lead,
        )

        assert answer.status_code == 422
        assert answer.json()["error"]["detail"]["field"] == "party.name"
        assert named.status_code == 201
        fields = session.get_one(Document, named.json()["id"]).fields
        assert fields["party"]["id"] == "5101**********1234"
        assert fields["party"]["kind"] == "person"

    def test_a_proof_of_service_needs_documents_to_serve(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        answer = refused(client, session, lead, body(world, "service_receipt"))

        assert answer.status_code == 422
        assert answer.json()["error"]["detail"]["field"] == "service.document_ids"
