"""The numbering rule of a district: defaults, validation, ledgered changes, who may set it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.catalog.helpers import world as catalog_world
from zhifa.documents import settings as numbering_settings
from zhifa.documents.schemas import SettingsIn
from zhifa.errors import InvalidInput
from zhifa.kit.clock import today_local
from zhifa.models.documents import DocumentSettings, DocumentType
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Officer
from zhifa.org.credentials import actor_for
from zhifa.org.roles import Role
from zhifa.web.i18n import translate

DISTRICT = "510184"
CODES = {
    "on_spot_penalty": "罚当字",
    "rectification_notice": "责改字",
    "inspection_record": "检字",
    "service_receipt": "送字",
}


def rule(**changes: Any) -> dict[str, Any]:
    data = {
        "agency_name": "崇州市综合行政执法局",
        "agency_short": "崇综执",
        "codes": dict(CODES),
        "pattern": "{agency}{code}〔{year}〕第{serial}号",
        "width": 0,
    }
    return data | changes


@pytest.fixture
def admin(session: Session) -> Officer:
    catalog_world(session, DISTRICT)
    row = factories.officer(session, DISTRICT, "admin", [Role.SYSTEM_ADMIN], name="管理员")
    session.commit()
    return row


def events(session: Session) -> list[LedgerEvent]:
    stmt = select(LedgerEvent).where(LedgerEvent.kind == "document.settings.changed")
    return list(session.scalars(stmt.order_by(LedgerEvent.seq)))


class TestDefaults:
    def test_an_unconfigured_district_shows_the_bureau_and_the_default_codes(
        self, session: Session, admin: Officer
    ) -> None:
        read = numbering_settings.read(session, DISTRICT)

        assert read.configured is False
        assert read.agency_name == "崇州市（演示）综合行政执法局"
        assert read.codes["on_spot_penalty"] == "罚当字"
        assert read.codes["rectification_notice"] == "责改字"
        assert read.pattern == "{agency}{code}〔{year}〕第{serial}号"

    def test_numbers_cannot_be_taken_before_the_rule_is_saved(
        self, session: Session, admin: Officer
    ) -> None:
        from zhifa.documents import numbering
        from zhifa.errors import Conflict

        with pytest.raises(Conflict) as refused:
            numbering.next_number(session, DISTRICT, DocumentType.INSPECTION_RECORD, 2026)
        assert refused.value.code == "numbering_not_configured"


class TestSaving:
    def test_the_first_save_creates_the_rule_and_ledgers_every_field(
        self, session: Session, admin: Officer
    ) -> None:
        actor = actor_for(session, admin, via="token")
        numbering_settings.settings_service.put(session, actor, data=SettingsIn(**rule()))
        session.commit()

        row = session.scalars(select(DocumentSettings)).one()
        assert (row.agency_short, row.codes["inspection_record"]) == ("崇综执", "检字")
        [event] = events(session)
        assert event.payload["created"] is True
        assert event.payload["changes"]["agency_short"] == {"before": None, "after": "崇综执"}
        assert event.payload["state"]["pattern"] == "{agency}{code}〔{year}〕第{serial}号"

    def test_a_change_records_before_and_after_and_an_unchanged_save_records_nothing(
        self, session: Session, admin: Officer
    ) -> None:
        actor = actor_for(session, admin, via="token")
        numbering_settings.settings_service.put(session, actor, data=SettingsIn(**rule()))
        numbering_settings.settings_service.put(session, actor, data=SettingsIn(**rule(width=3)))
        numbering_settings.settings_service.put(session, actor, data=SettingsIn(**rule(width=3)))
        session.commit()

        assert [e.payload["changes"].get("width") for e in events(session)] == [
            {"before": None, "after": 0},
            {"before": 0, "after": 3},
        ]

    def test_width_pads_the_serial(self, session: Session, admin: Officer) -> None:
        actor = actor_for(session, admin, via="token")
        row = numbering_settings.settings_service.put(
            session, actor, data=SettingsIn(**rule(width=3))
        )
        text = numbering_settings.format_number(row, DocumentType.ON_SPOT_PENALTY, 2026, 7)
        assert text == "崇综执罚当字〔2026〕第007号"


class TestRefusals:
    @pytest.mark.parametrize(
        ("changes", "field", "fragment"),
        [
            ({"pattern": "{agency}{code}〔{year}〕第号"}, "pattern", "{serial}"),
            ({"pattern": "{agency}{code}第{serial}号"}, "pattern", "{year}"),
            ({"pattern": "{agency}{code}〔{year}〕第{serial}号{extra}"}, "pattern", "{extra}"),
            ({"pattern": "{agency}{code}〔{year}〕第{serial:03d}号"}, "pattern", "placeholders"),
            ({"pattern": "{agency}{code}〔{year}〕第{serial号"}, "pattern", "brace"),
            ({"codes": {k: v for k, v in CODES.items() if k != "service_receipt"}}, "codes", ""),
            ({"codes": CODES | {"service_receipt": "{送}"}}, "codes", "service_receipt"),
            ({"codes": CODES | {"permit": "许字"}}, "codes", "permit"),
            ({"agency_short": "  "}, "agency_short", ""),
        ],
    )
    def test_a_bad_rule_is_refused_naming_the_field_and_nothing_is_saved(
        self, session: Session, admin: Officer, changes: dict[str, Any], field: str, fragment: str
    ) -> None:
        actor = actor_for(session, admin, via="token")
        with pytest.raises(InvalidInput) as refused:
            numbering_settings.settings_service.put(
                session, actor, data=SettingsIn(**rule(**changes))
            )
        session.rollback()

        assert refused.value.detail["field"] == field
        assert fragment in translate("en", refused.value.message, **refused.value.params)
        assert session.scalar(select(func.count()).select_from(DocumentSettings)) == 0
        assert events(session) == []


class TestEndpoints:
    def test_a_system_admin_reads_and_saves_the_rule(
        self, client: TestClient, session: Session, admin: Officer
    ) -> None:
        headers = factories.bearer(session, admin)
        session.commit()

        before = client.get("/api/v1/documents/settings", headers=headers)
        saved = client.put("/api/v1/documents/settings", json=rule(width=2), headers=headers)

        assert before.status_code == 200
        assert before.json()["configured"] is False
        assert saved.status_code == 200
        assert saved.json()["configured"] is True
        year = today_local().year
        assert saved.json()["examples"]["on_spot_penalty"] == f"崇综执罚当字〔{year}〕第01号"

    def test_a_bad_pattern_answers_422_in_chinese(
        self, client: TestClient, session: Session, admin: Officer
    ) -> None:
        headers = factories.bearer(session, admin)
        session.commit()

        answer = client.put(
            "/api/v1/documents/settings", json=rule(pattern="{agency}{code}"), headers=headers
        )

        assert answer.status_code == 422
        assert answer.json()["error"]["detail"]["field"] == "pattern"
        assert "文号格式必须包含" in answer.json()["error"]["message"]

    def test_an_officer_may_not_change_the_rule(
        self, client: TestClient, session: Session, admin: Officer
    ) -> None:
        officer = factories.officer(session, DISTRICT, "li", [Role.OFFICER])
        headers = factories.bearer(session, officer)
        session.commit()

        answer = client.put("/api/v1/documents/settings", json=rule(), headers=headers)

        assert answer.status_code == 403
        assert session.scalar(select(func.count()).select_from(DocumentSettings)) == 0
