"""The task bundle: everything the officer's device keeps offline for one task."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.catalog.helpers import check_item, checklist, per_minor_spec
from tests.field import DISTRICT, FieldWorld, field_world
from tests.inspections.helpers import bundle, check_in, headers
from zhifa.catalog.checklists import check_item_service, checklist_service
from zhifa.catalog.spec import BenchmarkSpec
from zhifa.inspections.bundle import offline_payload
from zhifa.inspections.common import today
from zhifa.ledger.canonical import canonical_bytes
from zhifa.ledger.envelope import normalise
from zhifa.models.subjects import SubjectKind


@pytest.fixture
def w(session: Session) -> FieldWorld:
    world = field_world(session)
    session.commit()
    return world


def add_item_to_the_catalog(session: Session, w: FieldWorld) -> None:
    check_item_service.put(
        session, w.author, code="WB-04", data=check_item("是否落实实名登记", "wenhua")
    )
    checklist_service.put(
        session,
        w.author,
        code="QD-WB",
        data=checklist(
            "网吧检查清单",
            "internet_cafe",
            "WB-01",
            "WB-02",
            "WB-03",
            "WB-04",
            effective_from=date(2024, 6, 1),
            note="增加实名登记检查项",
        ),
    )
    session.commit()


class TestBundle:
    def test_it_holds_the_task_the_subject_with_its_fence_and_the_checklist(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = bundle(client, headers(session, w.officer), w.task.id)

        assert body["id"] == w.task.id
        assert body["subject"]["uscc"] == w.cafe.uscc
        assert body["subject"]["geofence"]["type"] == "Polygon"
        assert body["subject"]["subject_type_name"] == "网吧"
        assert body["subject"]["kind_label"] == "企业"
        assert [i["code"] for i in body["checklist"]["items"]] == ["WB-01", "WB-02", "WB-03"]
        assert body["checklist"]["items"][1]["powers"][0]["citations"][0]["text"]
        assert body["party_type"] == "organisation"
        assert body["inspection"] is None
        assert body["check_ins"] == []
        assert body["documents"] == []

    def test_the_checklist_digest_is_the_sha256_of_its_canonical_json(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = bundle(client, headers(session, w.officer), w.task.id)

        expected = hashlib.sha256(canonical_bytes(normalise(body["checklist"]))).hexdigest()
        assert body["checklist_sha256"] == expected

    def test_the_simple_procedure_caps_come_from_the_policy_in_force(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        body = bundle(client, headers(session, w.officer), w.task.id)

        assert body["simple_procedure_caps"] == {"person_fen": 20_000, "organisation_fen": 300_000}


class TestQuotes:
    def test_a_fixed_fine_is_quoted_with_its_evaluation(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        quote = bundle(client, headers(session, w.officer), w.task.id)["quotes"]["WB-LICENCE"]

        assert quote["needs_facts"] == []
        assert quote["reason"] is None
        assert quote["evaluation"]["recommended_fen"] == 200_000
        assert quote["evaluation"]["simple_procedure_allowed"] is True

    def test_a_fine_that_needs_facts_lists_them_without_an_evaluation(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        quote = bundle(client, headers(session, w.officer), w.task.id)["quotes"]["WB-MINORS"]

        assert quote["needs_facts"] == [{"key": "minors", "label": "未成年人人数"}]
        assert quote["evaluation"] is None
        assert quote["reason"] == "needs_facts"

    def test_an_item_without_a_power_has_no_quote(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        quotes = bundle(client, headers(session, w.officer), w.task.id)["quotes"]

        assert set(quotes) == {"WB-MINORS", "WB-LICENCE"}

    def test_a_site_has_no_party_type_so_no_fine_is_quoted(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.cafe.kind = SubjectKind.SITE
        session.commit()

        body = bundle(client, headers(session, w.officer), w.task.id)

        assert body["party_type"] is None
        assert body["quotes"]["WB-LICENCE"]["reason"] == "party_type_unknown"
        assert body["quotes"]["WB-LICENCE"]["evaluation"] is None

    def test_a_person_is_not_fined_under_an_organisations_power(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.cafe.kind = SubjectKind.INDIVIDUAL_BUSINESS
        session.commit()

        body = bundle(client, headers(session, w.officer), w.task.id)

        assert body["party_type"] == "person"
        assert body["quotes"]["WB-LICENCE"]["reason"] == "party_type_not_applicable"


class TestOfflineFine:
    def test_a_fine_that_needs_facts_carries_what_the_app_needs_to_compute_it(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        quote = bundle(client, headers(session, w.officer), w.task.id)["quotes"]["WB-MINORS"]
        offline = quote["offline"]

        assert offline["version"] == 1
        assert offline["party_type"] == "organisation"
        assert offline["on"] == today().isoformat()
        assert offline["power"]["code"] == "WB-MINORS"
        assert offline["benchmark"]["version"] == 1
        assert offline["policy"] == {
            "version": None,
            "position": "0.5",
            "round_to_yuan": True,
            "simple_procedure_cap_fen": 300_000,
        }
        assert [f["key"] for f in offline["spec"]["facts"]] == ["minors"]
        assert offline["spec"]["tiers"][0]["organisation"]["kind"] == "per_unit"
        assert offline["citations"]

    def test_the_offline_spec_is_the_benchmark_in_force_as_stored(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        quote = bundle(client, headers(session, w.officer), w.task.id)["quotes"]["WB-MINORS"]

        spec = BenchmarkSpec.model_validate(quote["offline"]["spec"])

        assert spec == per_minor_spec()

    def test_a_fine_without_facts_has_no_offline_payload(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        quote = bundle(client, headers(session, w.officer), w.task.id)["quotes"]["WB-LICENCE"]

        assert quote["evaluation"] is not None
        assert quote["offline"] is None

    def test_without_a_party_type_nothing_is_computed_offline(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        w.cafe.kind = SubjectKind.SITE
        session.commit()

        quote = bundle(client, headers(session, w.officer), w.task.id)["quotes"]["WB-MINORS"]

        assert quote["reason"] == "party_type_unknown"
        assert quote["offline"] is None

    def test_a_power_the_engine_cannot_load_gets_a_null_payload(
        self, session: Session, w: FieldWorld
    ) -> None:
        offline = offline_payload(session, DISTRICT, "NO-SUCH-POWER", "person", today())

        assert offline is None


class TestFrozenChecklist:
    def test_before_check_in_the_checklist_follows_the_catalog(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.officer)
        before = bundle(client, auth, w.task.id)
        add_item_to_the_catalog(session, w)

        after = bundle(client, auth, w.task.id)

        assert len(after["checklist"]["items"]) == 4
        assert after["checklist_sha256"] != before["checklist_sha256"]

    def test_once_the_run_started_the_checklist_stays_as_it_was(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        auth = headers(session, w.officer)
        check_in(client, auth, w.task.id)
        started = bundle(client, auth, w.task.id)
        add_item_to_the_catalog(session, w)

        after = bundle(client, auth, w.task.id)

        assert [i["code"] for i in after["checklist"]["items"]] == ["WB-01", "WB-02", "WB-03"]
        assert after["checklist_sha256"] == started["checklist_sha256"]
        assert after["inspection"]["status"] == "draft"
        assert after["inspection"]["checklist_sha256"] == started["checklist_sha256"]
        assert [c["outcome"] for c in after["check_ins"]] == ["accepted"]


class TestScope:
    def test_an_officer_of_another_squad_gets_404(
        self, client: TestClient, session: Session, w: FieldWorld
    ) -> None:
        response = client.get(f"/api/v1/tasks/{w.task.id}", headers=headers(session, w.outsider))

        assert response.status_code == 404
