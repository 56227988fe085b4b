"""Every row the documents domain writes is described by the ledger: the latest entry about it
carries its state as it is in the database, as the auditor checks (a row without such an entry
would look inserted behind the ledger's back)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.documents.helpers import DocWorld, body
from zhifa.ledger.audit_sources import row_key
from zhifa.ledger.envelope import ledger_state
from zhifa.models.documents import (
    Document,
    DocumentNumber,
    DocumentSettings,
    DocumentSignature,
    NumberBlock,
)
from zhifa.models.inspections import Evidence, EvidenceKind
from zhifa.models.ledger import LedgerEvent


def latest_states(session: Session) -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for entry in session.scalars(select(LedgerEvent).order_by(LedgerEvent.seq)):
        payload = json.loads(entry.body)["payload"]
        if "state" in payload:
            found[(entry.subject_type, entry.subject_id)] = payload["state"]
    return found


def test_each_written_row_matches_its_latest_ledger_entry(
    client: TestClient, session: Session, world: DocWorld
) -> None:
    headers = factories.bearer(session, world.field.officer)
    session.commit()
    data = {"client_uuid": str(uuid.uuid4()), "doc_type": "on_spot_penalty", "count": 3}
    block = client.post("/api/v1/number-blocks", json=data, headers=headers).json()
    for request in (
        body(world, "inspection_record"),
        body(world, "on_spot_penalty", serial=block["first_serial"]),
        body(world, "rectification_notice"),
        body(world, "service_receipt"),
    ):
        assert client.post("/api/v1/documents", json=request, headers=headers).status_code == 201
    returned = client.post(
        f"/api/v1/number-blocks/{block['id']}/return", json={"reason": "交回"}, headers=headers
    )
    assert returned.status_code == 200

    session.expire_all()
    states = latest_states(session)
    rows: list[Any] = [
        *session.scalars(select(DocumentSettings)),
        *session.scalars(select(NumberBlock)),
        *session.scalars(select(DocumentNumber)),
        *session.scalars(select(Document)),
        *session.scalars(select(DocumentSignature)),
        *session.scalars(select(Evidence).where(Evidence.kind == EvidenceKind.SIGNATURE)),
    ]
    assert len(rows) == 1 + 1 + 6 + 4 + 12 + 12
    for row in rows:
        key = (type(row).__tablename__, row_key(row))
        assert key in states, f"{key} has no ledger entry carrying its state"
        assert states[key] == ledger_state(row), key
