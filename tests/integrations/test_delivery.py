"""Delivery to a real HTTP server standing in for the city platform: signed, retried with back-off
while it is down, delivered exactly once when it comes back, in order, never sent twice."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.integrations.helpers import (
    UPSTREAM_KEY,
    IntegrationWorld,
    complaint_from,
    ledger_payloads,
    make_due,
    messages,
    peer,
    step,
)
from tests.integrations.platform import OPEN311_BASE, CityPlatform
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.integrations import outbox
from zhifa.kit.clock import utcnow
from zhifa.models.integrations import IntegrationKind, OutboxMessage, OutboxStatus

UPDATES_PATH = OPEN311_BASE + "/servicerequestupdates.json"


def _accepted_ids(city: CityPlatform) -> list[int]:
    return [int(r.headers["x-zhifa-delivery"]) for r in city.accepted_bodies]


class TestWebhookDelivery:
    def test_a_due_message_is_posted_signed_and_recorded_as_delivered(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        hook = peer(session, settings, endpoint_url=platform.hook_url)
        complaint = complaint_from(session, settings, hook)
        session.commit()
        (queued,) = messages(session)

        assert outbox.deliver_due(db, settings) == 1

        (request,) = platform.received
        assert platform.bad_signatures == 0
        assert platform.accepted == {str(queued.id): 1}
        assert request.headers["content-type"].startswith("application/json")
        assert request.json() == queued.payload
        assert request.json()["tracking_no"] == complaint.tracking_no
        (sent,) = messages(session)
        assert sent.status == OutboxStatus.DELIVERED
        assert sent.attempts == 1
        assert sent.last_http_status == 200
        assert sent.locked_until is None
        assert sent.delivered_at is not None
        (entry,) = ledger_payloads(session, "integration.delivered")
        assert entry["outbox_message_id"] == queued.id
        assert entry["dedupe_key"] == queued.dedupe_key
        assert entry["http_status"] == 200

    def test_a_delivered_message_is_never_sent_again(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        hook = peer(session, settings, endpoint_url=platform.hook_url)
        complaint_from(session, settings, hook)
        session.commit()
        outbox.deliver_due(db, settings)
        (sent,) = messages(session)
        sent.next_attempt_at = utcnow() - timedelta(hours=1)  # even when "due" again
        session.commit()

        assert outbox.deliver_due(db, settings) == 0
        assert len(platform.received) == 1
        assert len(ledger_payloads(session, "integration.delivered")) == 1

    def test_a_message_signed_with_another_secret_is_refused_and_kept_for_later(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        hook = peer(session, settings, endpoint_url=platform.hook_url, secret="not-the-shared-one")
        complaint_from(session, settings, hook)
        session.commit()

        assert outbox.deliver_due(db, settings) == 0

        (kept,) = messages(session)
        assert platform.bad_signatures == 1
        assert not platform.accepted
        assert kept.status == OutboxStatus.PENDING
        assert kept.attempts == 1
        assert kept.last_http_status == 401
        assert "401" in kept.last_error
        assert kept.next_attempt_at > utcnow()


class TestPlatformDown:
    def test_messages_queued_while_it_is_down_are_delivered_exactly_once_when_it_is_back(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        hook = peer(session, settings, endpoint_url=platform.hook_url)
        platform.go_down()
        complaint = complaint_from(session, settings, hook)
        step(session, complaint, "filed", note="已立案")
        step(session, complaint, "dispatched", note="已派遣")
        other = complaint_from(session, settings, hook, description="又有垃圾堆在路边")
        session.commit()
        queued = [m.id for m in messages(session)]

        base = settings.outbox_backoff_base_seconds
        for attempt in (1, 2, 3):  # down: refused, retried later and later
            before = utcnow()
            assert outbox.deliver_due(db, settings) == 0
            tried = messages(session)[0]
            assert tried.attempts == attempt
            assert tried.last_http_status is None
            assert "refused" in tried.last_error.lower()
            wait = (tried.next_attempt_at - before).total_seconds()
            assert (
                base * 2 ** (attempt - 1) * 0.9 - 1 <= wait <= base * 2 ** (attempt - 1) * 1.1 + 1
            )
            make_due(session)
        # One failed peer is not hammered in the same round: the others waited untried.
        assert [m.attempts for m in messages(session)][1:] == [0, 0, 0]

        platform.come_back()
        make_due(session)
        assert outbox.deliver_due(db, settings) == 4

        assert platform.accepted == {str(i): 1 for i in queued}
        assert platform.bad_signatures == 0
        assert all(m.status == OutboxStatus.DELIVERED for m in messages(session))
        make_due(session, *messages(session))
        assert outbox.deliver_due(db, settings) == 0
        assert sum(platform.accepted.values()) == 4
        assert {m.complaint_id for m in messages(session)} == {complaint.id, other.id}

    def test_a_503_is_a_failure_with_its_status_and_the_next_try_succeeds(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        hook = peer(session, settings, endpoint_url=platform.hook_url)
        complaint_from(session, settings, hook)
        session.commit()
        platform.answer_with(503)

        assert outbox.deliver_due(db, settings) == 0
        (failed,) = messages(session)
        assert failed.last_http_status == 503
        assert "503" in failed.last_error
        assert failed.status == OutboxStatus.PENDING

        platform.come_back()
        assert outbox.deliver_due(db, settings) == 0  # not due yet: back-off
        make_due(session)
        assert outbox.deliver_due(db, settings) == 1
        assert platform.accepted == {str(failed.id): 1}
        (sent,) = messages(session)
        assert sent.attempts == 2
        assert sent.last_error == ""


class TestBackOff:
    @pytest.mark.parametrize(
        ("attempts", "expected"), [(1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0), (9, 1280.0)]
    )
    def test_the_wait_doubles_with_each_failure(
        self, settings: Settings, attempts: int, expected: float
    ) -> None:
        waits = [
            outbox.backoff_seconds(attempts, settings, rng=random.Random(s)) for s in range(50)
        ]

        assert all(expected * 0.9 <= w <= expected * 1.1 for w in waits)
        assert len(set(waits)) > 1  # jittered: peers are not hit in lock step

    def test_the_wait_is_capped(self, settings: Settings) -> None:
        cap = settings.outbox_backoff_max_seconds

        for attempts in (12, 40, 10_000):
            assert cap * 0.9 <= outbox.backoff_seconds(attempts, settings) <= cap * 1.1


class TestOrder:
    def test_a_later_message_waits_while_an_earlier_one_of_its_complaint_is_pending(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        hook = peer(session, settings, endpoint_url=platform.hook_url)
        complaint = complaint_from(session, settings, hook)
        step(session, complaint, "filed")
        session.commit()
        first, second = messages(session)
        first.next_attempt_at = utcnow() + timedelta(minutes=5)  # as after a failure
        first.attempts = 1
        session.commit()

        assert outbox.deliver_due(db, settings) == 0
        assert platform.received == []
        assert messages(session)[1].attempts == 0

        make_due(session, messages(session)[0])
        assert outbox.deliver_due(db, settings) == 2
        assert _accepted_ids(platform) == [first.id, second.id]
        steps = [r.json()["step"] for r in platform.accepted_bodies]
        assert steps == ["received", "filed"]

    def test_another_complaint_is_not_held_up(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        hook = peer(session, settings, endpoint_url=platform.hook_url)
        complaint_from(session, settings, hook)
        complaint_from(session, settings, hook, description="另一处垃圾")
        session.commit()
        blocked, free = messages(session)
        blocked.next_attempt_at = utcnow() + timedelta(minutes=5)
        session.commit()

        assert outbox.deliver_due(db, settings) == 1
        assert _accepted_ids(platform) == [free.id]


class TestLease:
    def test_a_claimed_message_is_not_claimed_again_until_its_lease_ends(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        hook = peer(session, settings, endpoint_url=platform.hook_url)
        complaint_from(session, settings, hook)
        session.commit()

        claimed = outbox.claim_next(db, settings)
        assert claimed is not None
        assert outbox.claim_next(db, settings) is None
        (leased,) = messages(session)
        lease = (leased.locked_until - utcnow()).total_seconds()  # type: ignore[operator]
        assert 0 < lease <= 2 * settings.outbox_timeout_seconds

        # The worker died after claiming: the lease runs out and another worker sends it.
        leased.locked_until = utcnow() - timedelta(seconds=1)
        session.commit()
        assert outbox.deliver_due(db, settings) == 1
        # The dead worker's late record finds the message delivered and changes nothing.
        assert outbox.record_result(db, settings, claimed, outbox.send(claimed, settings)) is False
        assert platform.accepted == {str(claimed.message_id): 2}  # the receiver sees the repeat …
        (sent,) = messages(session)
        assert sent.attempts == 1  # … by its delivery id; our record is unchanged

    def test_on_postgresql_a_row_locked_by_another_worker_is_skipped(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        if db.is_sqlite:
            pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite has one writer")
        hook = peer(session, settings, endpoint_url=platform.hook_url)
        complaint_from(session, settings, hook)
        complaint_from(session, settings, hook, description="另一处垃圾")
        session.commit()
        first, second = messages(session)

        with db.sessionmaker() as holder:
            holder.execute(
                select(OutboxMessage).where(OutboxMessage.id == first.id).with_for_update()
            )
            claimed = outbox.claim_next(db, settings)
            holder.rollback()

        assert claimed is not None
        assert claimed.message_id == second.id


class TestOpen311Delivery:
    def test_an_update_is_posted_as_a_form_with_the_sealed_api_key(
        self,
        session: Session,
        settings: Settings,
        world: IntegrationWorld,
        db: Database,
        platform: CityPlatform,
    ) -> None:
        upstream = peer(
            session,
            settings,
            endpoint_url=platform.open311_url,
            kind=IntegrationKind.OPEN311,
            secret=UPSTREAM_KEY,
            jurisdiction_id="chengdu",
        )
        complaint_from(session, settings, upstream, source_ref="SR-2026-77")
        session.commit()
        (queued,) = messages(session)

        assert outbox.deliver_due(db, settings) == 1

        (request,) = platform.posts(UPDATES_PATH)
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert request.headers["x-zhifa-delivery"] == str(queued.id)
        assert request.form() == queued.payload | {"api_key": UPSTREAM_KEY}
        assert request.form()["service_request_id"] == "SR-2026-77"
        assert request.form()["status"] == "OPEN"
        assert messages(session)[0].status == OutboxStatus.DELIVERED

    def test_a_message_of_a_peer_without_endpoint_fails_with_a_reason(
        self, session: Session, settings: Settings, world: IntegrationWorld, db: Database
    ) -> None:
        hook = peer(session, settings, endpoint_url="http://127.0.0.1:9/hook")
        complaint_from(session, settings, hook)
        hook.endpoint_url = ""
        session.commit()

        assert outbox.deliver_due(db, settings) == 0
        (kept,) = messages(session)
        assert kept.attempts == 1
        assert kept.last_error == "对接平台没有填写接口地址。"


def test_the_payload_sent_is_valid_utf8_json_with_chinese_kept(
    session: Session,
    settings: Settings,
    world: IntegrationWorld,
    db: Database,
    platform: CityPlatform,
) -> None:
    hook = peer(session, settings, endpoint_url=platform.hook_url)
    complaint_from(session, settings, hook)
    session.commit()
    outbox.deliver_due(db, settings)

    (request,) = platform.received
    assert "受理".encode() in request.body
    assert json.loads(request.body.decode("utf-8"))["note"].startswith("您反映的问题已受理")
