"""The demo district gets its numbering rule (崇综执) once; loading again changes nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.catalog.helpers import world as catalog_world
from zhifa.demo import documents as demo_documents
from zhifa.models.documents import DocumentSettings
from zhifa.models.ledger import LedgerEvent


def test_the_demo_rule_is_created_once(session: Session) -> None:
    catalog_world(session, "510184")

    first = demo_documents.load(session, "510184", today=date(2026, 11, 29))
    again = demo_documents.load(session, "510184", today=date(2026, 11, 29))
    session.commit()

    assert (first, again) == (1, 0)
    row = session.scalars(select(DocumentSettings)).one()
    assert row.agency_short == "崇综执"
    assert row.agency_name == "崇州市（演示）综合行政执法局"
    assert row.codes["on_spot_penalty"] == "罚当字"
    events = session.scalar(
        select(func.count())
        .select_from(LedgerEvent)
        .where(LedgerEvent.kind == "document.settings.changed")
    )
    assert events == 1
