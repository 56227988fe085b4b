"""Number blocks for pre-numbered forms: allotted once per UUID, capped per officer, returned
(unused numbers voided for good), and usable only by their officer, once."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.documents import helpers
from tests.documents.helpers import DocWorld, body
from zhifa.documents.blocks import block_service
from zhifa.errors import Conflict
from zhifa.models.documents import (
    Document,
    DocumentNumber,
    DocumentType,
    NumberBlock,
    NumberStatus,
)
from zhifa.models.inspections import SubmissionRecord
from zhifa.models.ledger import LedgerEvent

BLOCKS = "/api/v1/number-blocks"


def allot(client: TestClient, headers: dict[str, str], **changes: Any) -> Any:
    data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": 5}
    return client.post(BLOCKS, json=data | changes, headers=headers)


def kinds(session: Session, kind: str) -> list[LedgerEvent]:
    return list(session.scalars(select(LedgerEvent).where(LedgerEvent.kind == kind)))


def count(session: Session, model: type[Any]) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def lead(session: Session, world: DocWorld) -> dict[str, str]:
    headers = factories.bearer(session, world.field.officer)
    session.commit()
    return headers


@pytest.fixture
def second(session: Session, world: DocWorld) -> dict[str, str]:
    headers = factories.bearer(session, world.field.second)
    session.commit()
    return headers


class TestAllotment:
    def test_a_block_reserves_consecutive_numbers_for_the_caller(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        answer = allot(client, lead, count=3, device_id="pad-7")

        assert answer.status_code == 201
        block = answer.json()
        assert (block["first_serial"], block["last_serial"]) == (1, 3)
        assert block["officer_id"] == world.field.officer.id
        assert [n["text"] for n in block["unused"]][0].startswith("崇综执罚当字〔")
        assert [n["status"] for n in block["unused"]] == ["reserved"] * 3
        assert len(kinds(session, "document.block.allotted")) == 1 + 3

    def test_a_retry_with_the_same_uuid_gets_the_same_block_and_nothing_more(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": 4}
        first = client.post(BLOCKS, json=data, headers=lead)
        again = client.post(BLOCKS, json=data, headers=lead)

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert count(session, NumberBlock) == 1
        assert count(session, DocumentNumber) == 4

    def test_the_same_uuid_with_other_content_is_a_conflict(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        key = str(uuid.uuid4())
        allot(client, lead, client_uuid=key, count=2)
        answer = allot(client, lead, client_uuid=key, count=3)

        assert answer.status_code == 409
        assert count(session, DocumentNumber) == 2

    def test_more_than_fifty_reserved_numbers_are_refused_and_nothing_changes(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        assert allot(client, lead, count=48).status_code == 201
        answer = allot(client, lead, count=3)

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "too_many_reserved"
        assert "最多持有 50 个" in answer.json()["error"]["message"]
        assert count(session, DocumentNumber) == 48
        assert count(session, SubmissionRecord) == 1

    def test_a_count_outside_one_to_fifty_is_invalid(
        self, client: TestClient, world: DocWorld, lead: dict[str, str]
    ) -> None:
        assert allot(client, lead, count=0).status_code == 422
        assert allot(client, lead, count=51).status_code == 422

    def test_an_officer_may_not_allot_to_another_officer(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        answer = allot(client, lead, officer_id=world.field.second.id)

        assert answer.status_code == 403
        assert count(session, NumberBlock) == 0

    def test_a_squad_leader_allots_to_an_officer_of_the_squad_but_not_outside_it(
        self, client: TestClient, session: Session, world: DocWorld
    ) -> None:
        headers = factories.bearer(session, world.field.leader)
        session.commit()

        mine = allot(client, headers, officer_id=world.field.second.id)
        outside = allot(client, headers, officer_id=world.field.outsider.id)

        assert mine.status_code == 201
        assert mine.json()["officer_id"] == world.field.second.id
        assert outside.status_code == 404

    def test_my_blocks_lists_open_blocks_with_their_unused_numbers(
        self, client: TestClient, world: DocWorld, lead: dict[str, str], second: dict[str, str]
    ) -> None:
        allot(client, lead, count=2)
        allot(client, second, count=2)

        mine = client.get(f"{BLOCKS}/mine", headers=lead).json()

        assert [(b["first_serial"], len(b["unused"])) for b in mine] == [(1, 2)]


class TestReturn:
    def test_returning_voids_the_unused_numbers_with_the_reason(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        block = allot(client, lead, count=3).json()
        issued = client.post(
            "/api/v1/documents",
            json=body(world, "on_spot_penalty", serial=block["first_serial"]),
            headers=lead,
        )
        assert issued.status_code == 201

        answer = client.post(
            f"{BLOCKS}/{block['id']}/return", json={"reason": "设备更换"}, headers=lead
        )

        assert answer.status_code == 200
        assert answer.json()["returned_at"] is not None
        assert answer.json()["unused"] == []
        statuses = dict(session.execute(select(DocumentNumber.serial, DocumentNumber.status)).all())
        assert statuses == {1: NumberStatus.USED, 2: NumberStatus.VOIDED, 3: NumberStatus.VOIDED}
        voided = kinds(session, "document.number.voided")
        assert sorted(e.payload["serial"] for e in voided) == [2, 3]
        assert {e.payload["reason"] for e in voided} == {"设备更换"}
        [returned] = kinds(session, "document.block.returned")
        assert returned.payload["voided"] == [2, 3]
        assert client.get(f"{BLOCKS}/mine", headers=lead).json() == []

    def test_a_block_cannot_be_returned_twice(
        self, client: TestClient, world: DocWorld, lead: dict[str, str]
    ) -> None:
        block = allot(client, lead).json()
        client.post(f"{BLOCKS}/{block['id']}/return", json={"reason": "交回"}, headers=lead)

        again = client.post(f"{BLOCKS}/{block['id']}/return", json={"reason": "再交"}, headers=lead)

        assert again.status_code == 409
        assert again.json()["error"]["code"] == "block_returned"

    def test_another_officers_block_does_not_exist_for_an_officer(
        self,
        client: TestClient,
        session: Session,
        world: DocWorld,
        lead: dict[str, str],
        second: dict[str, str],
    ) -> None:
        block = allot(client, lead).json()

        answer = client.post(f"{BLOCKS}/{block['id']}/return", json={"reason": "x"}, headers=second)

        assert answer.status_code == 404
        assert kinds(session, "document.number.voided") == []

    def test_a_squad_leader_may_return_an_officers_block(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        block = allot(client, lead, count=2).json()
        headers = factories.bearer(session, world.field.leader)
        session.commit()

        answer = client.post(
            f"{BLOCKS}/{block['id']}/return", json={"reason": "离岗"}, headers=headers
        )

        assert answer.status_code == 200
        assert len(kinds(session, "document.number.voided")) == 2

    def test_a_return_needs_a_reason(
        self, client: TestClient, world: DocWorld, lead: dict[str, str]
    ) -> None:
        block = allot(client, lead).json()
        answer = client.post(f"{BLOCKS}/{block['id']}/return", json={"reason": ""}, headers=lead)
        assert answer.status_code == 422


class TestUse:
    def issue(
        self, client: TestClient, world: DocWorld, headers: dict[str, str], serial: int
    ) -> Any:
        return client.post(
            "/api/v1/documents", json=body(world, "on_spot_penalty", serial=serial), headers=headers
        )

    def test_a_serial_of_my_block_numbers_the_decision(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        block = allot(client, lead, count=3).json()

        answer = self.issue(client, world, lead, block["first_serial"] + 1)

        assert answer.status_code == 201
        assert answer.json()["number_text"] == block["unused"][1]["text"]
        number = session.scalars(select(DocumentNumber).where(DocumentNumber.serial == 2)).one()
        assert (number.status, number.document_id) == (NumberStatus.USED, answer.json()["id"])
        used = kinds(session, "document.number.used")
        assert [e.payload["from_block"] for e in used] == [True]

    def test_a_used_serial_is_refused(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        block = allot(client, lead, count=3).json()
        assert self.issue(client, world, lead, block["first_serial"]).status_code == 201
        actor = helpers.actor(session, world.field.officer)

        with pytest.raises(Conflict) as refused:
            block_service.take(
                session, actor, doc_type=DocumentType.ON_SPOT_PENALTY, serial=block["first_serial"]
            )

        assert refused.value.code == "number_used"
        session.rollback()
        assert len(kinds(session, "document.number.used")) == 1

    def test_a_voided_serial_is_refused(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        block = allot(client, lead, count=2).json()
        client.post(f"{BLOCKS}/{block['id']}/return", json={"reason": "作废"}, headers=lead)

        answer = self.issue(client, world, lead, block["first_serial"])

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "number_voided"
        assert count(session, Document) == 0

    def test_another_officers_serial_is_refused(
        self,
        client: TestClient,
        session: Session,
        world: DocWorld,
        lead: dict[str, str],
        second: dict[str, str],
    ) -> None:
        block = allot(client, second, count=2).json()

        answer = self.issue(client, world, lead, block["first_serial"])

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "number_not_yours"
        number = session.scalars(select(DocumentNumber).where(DocumentNumber.serial == 1)).one()
        assert number.status == NumberStatus.RESERVED

    def test_a_serial_never_allotted_is_refused(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        answer = self.issue(client, world, lead, 99)

        assert answer.status_code == 409
        assert answer.json()["error"]["code"] == "number_not_allotted"
        assert count(session, DocumentNumber) == 0

    def test_a_decision_without_a_serial_is_refused_as_not_pre_numbered(
        self, client: TestClient, session: Session, world: DocWorld, lead: dict[str, str]
    ) -> None:
        answer = client.post("/api/v1/documents", json=body(world, "on_spot_penalty"), headers=lead)

        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "serial_required"
        assert count(session, DocumentNumber) == 0
