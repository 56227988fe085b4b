"""Queuing: which steps of a complaint go back to its platform, and what each message says."""

from __future__ import annotations

import json
from datetime import UTC

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.complaints.world import FOOD, IN_WG01
from tests.integrations.helpers import (
    IntegrationWorld,
    complaint_from,
    messages,
    peer,
    step,
)
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.integrations import outbox
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint, ComplaintEvent, ComplaintSource
from zhifa.models.integrations import IntegrationKind, OutboxMessage, OutboxStatus

HOOK = "http://127.0.0.1:9/hooks/zhifa"
OPEN311 = "http://127.0.0.1:9/open311/v2"
HANDLING = ("filed", "dispatched", "taken", "arrived", "disposed", "fed_back", "verified")


def _events(session: Session, complaint: Complaint) -> list[ComplaintEvent]:
    stmt = select(ComplaintEvent).where(ComplaintEvent.complaint_id == complaint.id)
    return list(session.scalars(stmt.order_by(ComplaintEvent.id)))


def _close(session: Session, complaint: Complaint, answer: str) -> None:
    for kind in HANDLING:
        step(session, complaint, kind, note=f"{kind} note")
    complaint.answer = answer
    step(session, complaint, "closed", note=answer)


class TestQueuing:
    def test_each_public_step_of_a_complaint_from_a_peer_queues_one_message(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint = complaint_from(session, settings, hook)
        filed = step(session, complaint, "filed", note="已立案")
        session.commit()

        rows = messages(session)
        received = _events(session, complaint)[0]
        assert [m.dedupe_key for m in rows] == [f"{hook.id}:{received.id}", f"{hook.id}:{filed.id}"]
        assert all(m.status == OutboxStatus.PENDING and m.attempts == 0 for m in rows)
        assert all(m.complaint_id == complaint.id for m in rows)
        assert all(m.next_attempt_at <= utcnow() for m in rows)
        assert rows[1].payload["step"] == "filed"

    def test_a_step_the_citizen_does_not_see_queues_nothing(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint = complaint_from(session, settings, hook)
        for kind in ("filed", "dispatched"):
            step(session, complaint, kind)
        step(session, complaint, "taken")  # not public
        step(session, complaint, "note", note="内部备注")  # not public
        session.commit()

        assert [m.payload["step"] for m in messages(session)] == ["received", "filed", "dispatched"]

    def test_a_complaint_of_our_own_intake_queues_nothing(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        peer(session, settings, endpoint_url=HOOK)
        complaint = complaint_from(session, settings, None)
        step(session, complaint, "filed")
        session.commit()

        assert messages(session) == []

    def test_a_peer_that_wants_no_updates_gets_none(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        quiet = peer(session, settings, endpoint_url=HOOK, send_updates=False)
        complaint = complaint_from(session, settings, quiet)
        step(session, complaint, "filed")
        session.commit()

        assert messages(session) == []

    def test_an_inactive_peer_gets_nothing(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint = complaint_from(session, settings, hook)
        session.commit()
        hook.active = False
        step(session, complaint, "filed")
        session.commit()

        assert [m.payload["step"] for m in messages(session)] == ["received"]

    def test_a_rolled_back_step_queues_nothing(
        self, session: Session, settings: Settings, world: IntegrationWorld, db: Database
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint = complaint_from(session, settings, hook)
        session.commit()

        with db.sessionmaker() as other:
            again = other.get(Complaint, complaint.id)
            assert again is not None
            step(other, again, "filed")
            assert other.scalar(select(func.count()).select_from(OutboxMessage)) == 2
            other.rollback()

        assert [m.payload["step"] for m in messages(session)] == ["received"]
        assert session.get(Complaint, complaint.id).status == "received"  # type: ignore[union-attr]

    def test_the_same_step_is_queued_only_once(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint = complaint_from(session, settings, hook)
        filed = step(session, complaint, "filed")
        outbox.on_event(session, complaint, filed)
        outbox.on_event(session, complaint, filed)
        session.commit()

        rows = messages(session)
        assert len(rows) == 2
        assert [m.dedupe_key for m in rows].count(f"{hook.id}:{filed.id}") == 1


class TestWebhookBody:
    def test_a_step_says_where_the_complaint_stands_in_open311_and_our_terms(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint = complaint_from(session, settings, hook, source_ref="WLZZ-2026-0001")
        dispatched = [step(session, complaint, k, note="已派遣执法队员") for k in HANDLING[:2]][1]
        session.commit()

        message = messages(session)[-1]
        assert message.payload == {
            "delivery_id": message.id,
            "tracking_no": complaint.tracking_no,
            "source_ref": "WLZZ-2026-0001",
            "status": "open",
            "zhifa_status": "dispatched",
            "step": "dispatched",
            "note": "已派遣执法队员",
            "updated_datetime": dispatched.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def test_the_closing_step_carries_the_answer_and_a_rating_follows(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint = complaint_from(session, settings, hook)
        _close(session, complaint, "垃圾已清运，已责令物业每日清理")
        complaint.rating = 5
        step(session, complaint, "rated", note="群众评价：5 星", public=True)  # as handling.rate
        session.commit()

        closed, rated = (m.payload for m in messages(session)[-2:])
        assert closed["status"] == "closed"
        assert closed["zhifa_status"] == "closed"
        assert closed["answer"] == "垃圾已清运，已责令物业每日清理"
        assert "rating" not in closed
        assert rated["step"] == "rated"
        assert rated["rating"] == 5

    def test_no_message_carries_the_reporter(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        create_complaint(
            session,
            district_code=world.district_code,
            data=ComplaintIn(
                category_code="SRHJ-BLLJ",
                description="垃圾没人清运",
                lon=IN_WG01[0],
                lat=IN_WG01[1],
                reporter_name="张三丰",
                reporter_phone="13800138000",
                reporter_email="zhang@example.cn",
            ),
            source=ComplaintSource.OPEN311,
            actor_id=None,
            integration_id=hook.id,
            settings=settings,
        )
        session.commit()

        text = json.dumps([m.payload for m in messages(session)], ensure_ascii=False)
        assert "张三丰" not in text
        assert "13800138000" not in text
        assert "zhang@" not in text


class TestOpen311Update:
    def test_the_fields_are_those_of_a_servicerequestupdates_post(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        upstream = peer(
            session,
            settings,
            endpoint_url=OPEN311,
            kind=IntegrationKind.OPEN311,
            secret="upstream-api-key-0001",
            jurisdiction_id="chengdu.wlzz",
        )
        complaint = complaint_from(session, settings, upstream, source_ref="SR-88")
        session.commit()

        received = _events(session, complaint)[0]
        assert messages(session)[0].payload == {
            "service_request_id": "SR-88",
            "update_id": str(received.id),
            "status": "OPEN",
            "updated_datetime": outbox.iso(received.at),
            "description": received.note,
            "jurisdiction_id": "chengdu.wlzz",
        }

    def test_a_request_the_peer_posted_to_us_is_named_by_our_tracking_number(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        upstream = peer(session, settings, endpoint_url=OPEN311, kind=IntegrationKind.OPEN311)
        complaint = complaint_from(session, settings, upstream)
        session.commit()

        payload = messages(session)[0].payload
        assert payload["service_request_id"] == complaint.tracking_no
        assert "jurisdiction_id" not in payload

    def test_statuses_follow_fixmystreet_extended_statuses_to_the_end(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        upstream = peer(session, settings, endpoint_url=OPEN311, kind=IntegrationKind.OPEN311)
        complaint = complaint_from(session, settings, upstream, source_ref="SR-1")
        _close(session, complaint, "已清理完毕")
        session.commit()

        sent = [(m.payload["status"], m.payload["description"]) for m in messages(session)]
        assert [s for s, _ in sent] == [
            "OPEN",  # received
            "OPEN",  # filed
            "IN_PROGRESS",  # dispatched
            "IN_PROGRESS",  # arrived
            "IN_PROGRESS",  # fed back
            "FIXED",  # closed
        ]
        assert sent[-1][1] == "已清理完毕"

    def test_transferred_rejected_and_merged_complaints_say_so(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        upstream = peer(session, settings, endpoint_url=OPEN311, kind=IntegrationKind.OPEN311)
        food = complaint_from(session, settings, upstream, source_ref="SR-2", category=FOOD)
        rejected = complaint_from(session, settings, upstream, source_ref="SR-3")
        step(session, rejected, "rejected", note="不属于受理范围")
        merged = complaint_from(session, settings, upstream, source_ref="SR-4")
        step(session, merged, "merged", note="与其他投诉为同一问题，已合并处理")
        session.commit()

        last = {m.payload["service_request_id"]: m.payload["status"] for m in messages(session)}
        assert food.status == "transferred"
        assert last == {
            "SR-2": "NOT_COUNCILS_RESPONSIBILITY",
            "SR-3": "NO_FURTHER_ACTION",
            "SR-4": "DUPLICATE",
        }

    def test_neither_the_api_key_nor_any_reporter_field_is_stored(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        upstream = peer(
            session,
            settings,
            endpoint_url=OPEN311,
            kind=IntegrationKind.OPEN311,
            secret="upstream-api-key-0001",
        )
        complaint_from(session, settings, upstream, source_ref="SR-5")
        session.commit()

        payload = messages(session)[0].payload
        forbidden = {"api_key", "email", "first_name", "last_name", "phone"}
        assert forbidden.isdisjoint(payload)
        assert "upstream-api-key-0001" not in json.dumps(payload)
