"""The reporter's identity (举报人保密): sealed at intake, masked everywhere, revealed only to
complaints:reveal with a reason, and every reveal on the record without the values."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.test_intake_helpers import (
    actor,
    counts,
    events_of,
    headers,
    ledger_events,
    payload,
    pending_bus,
    take_in,
)
from tests.complaints.world import ComplaintWorld, complaint_world
from zhifa.complaints import reporter
from zhifa.config import Settings
from zhifa.errors import Conflict, InvalidInput, PermissionDenied
from zhifa.models.complaints import Complaint
from zhifa.models.ledger import LedgerEvent

NAME, PHONE, EMAIL = "张三丰", "13812345678", "zhang.sanfeng@example.com"


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def identified(session: Session, world: ComplaintWorld, settings: Settings) -> Complaint:
    return take_in(
        session,
        world,
        settings,
        reporter_name=NAME,
        reporter_phone=PHONE,
        reporter_email=EMAIL,
    ).complaint


class TestSealing:
    def test_name_and_mobile_are_masked_and_sealed(self, settings: Settings) -> None:
        sealed = reporter.seal(name=NAME, phone="138 1234 5678", email=EMAIL, settings=settings)

        assert sealed.anonymous is False
        assert sealed.masked == "张**，138****5678"
        box = reporter.box(settings)
        assert sealed.name_cipher is not None
        assert NAME not in sealed.name_cipher
        assert box.open(sealed.name_cipher) == NAME
        assert sealed.phone_cipher is not None
        assert box.open(sealed.phone_cipher) == PHONE
        assert sealed.email_cipher is not None
        assert box.open(sealed.email_cipher) == EMAIL
        assert sealed.phone_digest == reporter.phone_digest("+86 138-1234-5678", settings)

    def test_the_same_phone_seals_differently_but_digests_the_same(
        self, settings: Settings
    ) -> None:
        one = reporter.seal(name=None, phone=PHONE, email=None, settings=settings)
        two = reporter.seal(name=None, phone=PHONE, email=None, settings=settings)

        assert one.phone_cipher != two.phone_cipher
        assert one.phone_digest == two.phone_digest

    @pytest.mark.parametrize(
        ("raw", "stored", "masked"),
        [
            ("028-82000000", "028-82000000", "028-****0000"),
            ("(028) 8200 0000", "028-82000000", "028-****0000"),
            ("01062001234", "010-62001234", "010-****1234"),
            ("0838-2212345", "0838-2212345", "0838-****2345"),
            ("+8613812345678", "13812345678", "138****5678"),
            ("0086 139 0000 1111", "13900001111", "139****1111"),
        ],
    )
    def test_phones_are_normalised_and_masked(self, raw: str, stored: str, masked: str) -> None:
        assert reporter.normalise_phone(raw) == stored
        assert reporter.mask_phone(stored) == masked

    def test_an_email_alone_is_masked(self, settings: Settings) -> None:
        sealed = reporter.seal(name="", phone=" ", email=EMAIL, settings=settings)

        assert sealed.masked == "z***@example.com"
        assert sealed.phone_digest is None

    def test_nothing_given_is_anonymous(self, settings: Settings) -> None:
        sealed = reporter.seal(name=None, phone="", email="  ", settings=settings)

        assert sealed == reporter.SealedReporter(True, None, None, None, "匿名", None)

    @pytest.mark.parametrize(("name", "masked"), [("李", "李*"), ("欧阳娜娜", "欧***")])
    def test_names_keep_their_first_character(self, name: str, masked: str) -> None:
        assert reporter.mask_name(name) == masked


class TestStoredComplaint:
    def test_the_row_holds_ciphers_masks_and_a_digest_only(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)

        assert row.anonymous is False
        assert row.reporter_masked == "张**，138****5678"
        for cipher in (
            row.reporter_name_cipher,
            row.reporter_phone_cipher,
            row.reporter_email_cipher,
        ):
            assert cipher is not None
            assert NAME not in cipher
            assert PHONE not in cipher
        assert row.reporter_phone_digest == reporter.phone_digest(PHONE, settings)

    def test_an_anonymous_complaint_says_so(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint

        assert (row.anonymous, row.reporter_masked, row.reporter_phone_cipher) == (
            True,
            "匿名",
            None,
        )


class TestReveal:
    def test_the_dispatcher_gets_the_clear_values_for_a_reason(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)

        revealed = reporter.reveal(
            session,
            actor(session, world.dispatcher),
            complaint_id=row.id,
            reason="需电话联系举报人核实摊点位置",
            settings=settings,
        )

        assert (revealed.name, revealed.phone, revealed.email) == (NAME, PHONE, EMAIL)
        assert revealed.tracking_no == row.tracking_no

    def test_the_reveal_is_a_step_and_a_ledger_event_without_the_values(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)

        reporter.reveal(
            session,
            actor(session, world.dispatcher),
            complaint_id=row.id,
            reason="  需电话联系举报人\n核实 ",
            settings=settings,
        )
        session.commit()

        step = events_of(session, row)[-1]
        assert (step.kind, step.public, step.actor_id) == (
            "reporter_revealed",
            False,
            world.dispatcher.id,
        )
        assert step.data == {"reason": "需电话联系举报人 核实"}
        entry = ledger_events(session)[-1]
        assert entry.kind == "complaint.reporter_revealed"
        assert entry.actor_id == world.dispatcher.id
        assert entry.payload["data"] == {"reason": "需电话联系举报人 核实"}
        text = entry.body.decode("utf-8")
        for secret in (NAME, PHONE, EMAIL):
            assert secret not in text

    def test_an_officer_without_the_permission_is_refused(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)
        session.commit()
        before = counts(session)

        with pytest.raises(PermissionDenied):
            reporter.reveal(
                session, actor(session, world.officer), complaint_id=row.id, reason="想知道"
            )

        session.rollback()
        assert counts(session) == before

    def test_a_reveal_without_a_reason_is_refused(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)
        session.commit()
        before = counts(session)

        with pytest.raises(InvalidInput) as caught:
            reporter.reveal(
                session, actor(session, world.dispatcher), complaint_id=row.id, reason=" \n"
            )

        assert caught.value.detail == {"field": "reason"}
        session.rollback()
        assert counts(session) == before

    def test_an_anonymous_complaint_has_nothing_to_reveal(
        self, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = take_in(session, world, settings).complaint
        session.commit()
        before = counts(session)

        with pytest.raises(Conflict) as caught:
            reporter.reveal(
                session, actor(session, world.dispatcher), complaint_id=row.id, reason="核实"
            )

        assert caught.value.code == "anonymous"
        session.rollback()
        assert counts(session) == before


class TestRevealOverHttp:
    def test_the_dispatcher_reads_the_values_once_asked(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)
        auth = headers(session, world.dispatcher)

        response = client.post(
            f"/api/v1/complaints/{row.id}/reveal", json={"reason": "回访核实"}, headers=auth
        )

        assert response.status_code == 200, response.text
        assert response.json() == {
            "complaint_id": row.id,
            "tracking_no": row.tracking_no,
            "name": NAME,
            "phone": PHONE,
            "email": EMAIL,
        }

    def test_an_officer_gets_403_and_the_refusal_is_ledgered(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)
        auth = headers(session, world.officer)

        response = client.post(
            f"/api/v1/complaints/{row.id}/reveal", json={"reason": "回访核实"}, headers=auth
        )

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"
        assert "reporter_revealed" not in [e.kind for e in events_of(session, row)]
        denial = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "security.permission_denied")
        ).one()
        assert denial.payload["permission"] == "complaints:reveal"

    def test_no_reason_is_422_in_chinese(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)
        auth = headers(session, world.dispatcher)

        response = client.post(
            f"/api/v1/complaints/{row.id}/reveal", json={"reason": ""}, headers=auth
        )

        assert response.status_code == 422
        assert response.json()["error"]["detail"] == {"field": "reason"}
        assert response.json()["error"]["message"] == "请填写查看举报人信息的理由，该理由将被记录。"


class TestNothingElseCarriesTheIdentity:
    def test_list_detail_ledger_and_bus_carry_no_name_phone_or_email(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        auth = headers(session, world.dispatcher)
        created = client.post(
            "/api/v1/complaints",
            json=payload(reporter_name=NAME, reporter_phone=PHONE, reporter_email=EMAIL),
            headers=auth,
        )
        assert created.status_code == 201, created.text
        complaint_id = created.json()["id"]
        listed = client.get("/api/v1/complaints", headers=auth)
        detail = client.get(f"/api/v1/complaints/{complaint_id}", headers=auth)
        row = take_in(
            session, world, settings, reporter_name=NAME, reporter_phone=PHONE, reporter_email=EMAIL
        ).complaint
        bus = json.dumps([b.data for b in pending_bus(session)], ensure_ascii=False)
        session.commit()
        ledger = [e.body.decode("utf-8") for e in session.scalars(select(LedgerEvent))]

        assert created.json()["reporter_masked"] == "张**，138****5678"
        assert detail.json()["reporter_masked"] == "张**，138****5678"
        assert row.id != complaint_id
        for text in (created.text, listed.text, detail.text, bus, *ledger):
            for secret in (NAME, PHONE, EMAIL, "12345678"):
                assert secret not in text

    def test_a_complaint_of_another_squad_cannot_be_revealed_by_a_squad_scoped_leader(
        self, client: TestClient, session: Session, world: ComplaintWorld, settings: Settings
    ) -> None:
        row = identified(session, world, settings)
        leader = factories.officer(
            session,
            world.district_code,
            "zd02.leader",
            [factories.Role.LEADER],
            unit=world.field.other_squad,
            scope="squad",
        )
        auth = headers(session, leader)

        response = client.post(
            f"/api/v1/complaints/{row.id}/reveal", json={"reason": "核实"}, headers=auth
        )

        assert response.status_code == 404
