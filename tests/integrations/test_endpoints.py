"""The integrations API: create and change peers (secrets sealed, never returned), issue the
inbound api_key, read and retry the outbox; every refusal changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.integrations.helpers import (
    SECRET,
    IntegrationWorld,
    complaint_from,
    ledger_payloads,
    messages,
    peer,
)
from tests.org.helpers import build_side
from zhifa.config import Settings
from zhifa.integrations.service import box
from zhifa.kit.clock import utcnow
from zhifa.models.integrations import Integration, OutboxStatus
from zhifa.models.ledger import LedgerEvent
from zhifa.org.roles import Role

API = "/api/v1/integrations"
HOOK = "https://wlzz.chengdu.example.cn/hooks/zhifa"


def _body(**values: Any) -> dict[str, Any]:
    return (
        {"code": "wlzz", "name": "网络理政平台", "kind": "webhook", "endpoint_url": HOOK}
        | {"secret": SECRET}
        | values
    )


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Integration)) or 0


def _admin(session: Session, world: IntegrationWorld) -> dict[str, str]:
    headers = factories.bearer(session, world.admin)
    session.commit()
    return headers


def _dispatcher(session: Session, world: IntegrationWorld) -> dict[str, str]:
    headers = factories.bearer(session, world.dispatcher)
    session.commit()
    return headers


class TestCreate:
    def test_a_webhook_is_created_with_its_secret_sealed_and_never_returned(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        response = client.post(API, json=_body(), headers=_admin(session, world))

        assert response.status_code == 201
        data = response.json()
        assert data["secret_set"] is True
        assert data["secret_masked"] == "••••••••"
        assert SECRET not in response.text
        assert "secret_cipher" not in data
        assert data["district_code"] == world.district_code
        assert data["send_updates"] is True
        row = session.get(Integration, data["id"])
        assert row is not None
        assert row.secret_cipher not in (None, SECRET)
        assert box(settings).open(row.secret_cipher) == SECRET  # type: ignore[arg-type]
        (created,) = ledger_payloads(session, "integration.created")
        assert created["code"] == "wlzz"
        assert created["secret_set"] is True
        assert SECRET not in json.dumps(created, ensure_ascii=False)

    def test_polling_starts_from_now_unless_told_otherwise(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        body = _body(
            code="up", kind="open311", poll_enabled=True, secret=None, endpoint_url=HOOK + "/v2"
        )
        before = utcnow()
        response = client.post(API, json=body, headers=_admin(session, world))

        assert response.status_code == 201
        row = session.get(Integration, response.json()["id"])
        assert row is not None
        assert row.poll_cursor is not None
        assert row.poll_cursor >= before
        assert response.json()["secret_set"] is False

    def test_a_webhook_without_a_secret_is_refused(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        response = client.post(API, json=_body(secret=None), headers=_admin(session, world))

        assert response.status_code == 422
        assert response.json()["error"]["message"] == "签名回调需要设置用于签名的共享密钥。"
        assert response.json()["error"]["detail"] == {"field": "secret"}
        assert _count(session) == 0

    def test_an_endpoint_that_is_not_http_is_refused(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        body = _body(endpoint_url="ftp://wlzz.example.cn/hook")
        response = client.post(API, json=body, headers=_admin(session, world))

        assert response.status_code == 422
        assert response.json()["error"]["message"] == "接口地址必须以 http:// 或 https:// 开头。"
        assert _count(session) == 0

    def test_polling_a_webhook_is_refused(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        body = _body(poll_enabled=True)
        response = client.post(API, json=body, headers=_admin(session, world))

        assert response.status_code == 422
        assert response.json()["error"]["message"] == "只有 Open311 接口可以拉取新工单。"
        assert _count(session) == 0

    def test_sending_without_an_endpoint_is_refused(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        body = _body(endpoint_url="", kind="open311", secret=None)
        response = client.post(API, json=body, headers=_admin(session, world))

        assert response.status_code == 422
        assert response.json()["error"]["detail"] == {"field": "endpoint_url"}
        assert _count(session) == 0

    def test_an_inbound_only_peer_needs_no_endpoint(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        body = _body(endpoint_url="", kind="open311", secret=None, send_updates=False)
        response = client.post(API, json=body, headers=_admin(session, world))

        assert response.status_code == 201

    def test_a_short_secret_is_refused(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        response = client.post(API, json=_body(secret="short"), headers=_admin(session, world))

        assert response.status_code == 422
        assert _count(session) == 0

    def test_a_code_used_twice_in_a_district_is_refused(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        headers = _admin(session, world)
        assert client.post(API, json=_body(), headers=headers).status_code == 201

        response = client.post(API, json=_body(name="另一个"), headers=headers)

        assert response.status_code == 409
        assert response.json()["error"]["message"] == "本区县已有编码为 wlzz 的对接平台。"
        assert _count(session) == 1

    def test_a_dispatcher_may_not_create_one(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        response = client.post(API, json=_body(), headers=_dispatcher(session, world))

        assert response.status_code == 403
        assert _count(session) == 0
        denial = session.scalars(
            select(LedgerEvent).where(LedgerEvent.kind == "security.permission_denied")
        ).one()
        assert denial.payload["path"] == API


class TestUpdate:
    def test_a_change_is_applied_and_ledgered_with_the_secret_masked(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        headers = _admin(session, world)
        created = client.post(API, json=_body(), headers=headers).json()
        change = {"endpoint_url": HOOK + "/v2", "secret": "a-brand-new-secret"}

        response = client.patch(f"{API}/{created['id']}", json=change, headers=headers)

        assert response.status_code == 200
        assert response.json()["endpoint_url"] == HOOK + "/v2"
        session.expire_all()
        row = session.get(Integration, created["id"])
        assert row is not None
        assert box(settings).open(row.secret_cipher) == "a-brand-new-secret"  # type: ignore[arg-type]
        (updated,) = ledger_payloads(session, "integration.updated")
        assert updated["changes"]["endpoint_url"] == {"before": HOOK, "after": HOOK + "/v2"}
        assert updated["changes"]["secret"] == {"before": "••••••••", "after": "••••••••"}
        assert "a-brand-new-secret" not in json.dumps(updated)

    def test_removing_the_secret_of_a_sending_webhook_is_refused(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        headers = _admin(session, world)
        created = client.post(API, json=_body(), headers=headers).json()

        response = client.patch(f"{API}/{created['id']}", json={"secret": ""}, headers=headers)

        assert response.status_code == 422
        session.expire_all()
        row = session.get(Integration, created["id"])
        assert row is not None
        assert box(settings).open(row.secret_cipher) == SECRET
        assert ledger_payloads(session, "integration.updated") == []

    def test_a_peer_of_another_district_is_not_found(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        build_side(session, "510104", 104.06)
        foreign = peer(session, settings, endpoint_url=HOOK, district_code="510104")
        headers = _admin(session, world)

        response = client.patch(f"{API}/{foreign.id}", json={"name": "改名"}, headers=headers)

        assert response.status_code == 404
        assert client.get(f"{API}/{foreign.id}", headers=headers).status_code == 404
        assert [r["id"] for r in client.get(API, headers=headers).json()] == []
        session.expire_all()
        assert session.get(Integration, foreign.id).name == "网络理政平台"  # type: ignore[union-attr]


class TestRead:
    def test_the_command_centre_reads_peers_without_their_secrets(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        row = peer(session, settings, endpoint_url=HOOK)

        response = client.get(API, headers=_dispatcher(session, world))

        assert response.status_code == 200
        (item,) = response.json()
        assert item["id"] == row.id
        assert item["secret_set"] is True
        assert SECRET not in response.text
        assert row.secret_cipher not in response.text

    def test_a_field_officer_may_not_read_them(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        peer(session, settings, endpoint_url=HOOK)
        headers = factories.bearer(session, world.complaints.officer)
        session.commit()

        assert client.get(API, headers=headers).status_code == 403


class TestInboundKey:
    def test_the_key_is_shown_once_and_only_its_digest_is_kept(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        row = peer(session, settings, endpoint_url=HOOK)
        headers = _admin(session, world)

        response = client.post(f"{API}/{row.id}/key", headers=headers)

        assert response.status_code == 201
        key = response.json()["api_key"]
        assert key.startswith("zi_")
        assert len(key) > 40
        assert response.json()["prefix"] == key[:10]
        session.expire_all()
        stored = session.get(Integration, row.id)
        assert stored is not None
        assert stored.inbound_key_digest == box(settings).digest(key)
        assert stored.inbound_key_prefix == key[:10]
        again = client.get(f"{API}/{row.id}", headers=headers).json()
        assert key not in json.dumps(again)
        assert again["inbound_key_prefix"] == key[:10]
        (issued,) = ledger_payloads(session, "integration.key_issued")
        assert key not in json.dumps(issued)
        assert issued["prefix"] == key[:10]

    def test_a_dispatcher_may_not_issue_one(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        row = peer(session, settings, endpoint_url=HOOK)

        response = client.post(f"{API}/{row.id}/key", headers=_dispatcher(session, world))

        assert response.status_code == 403
        session.expire_all()
        assert session.get(Integration, row.id).inbound_key_digest is None  # type: ignore[union-attr]


class TestOutbox:
    def test_an_integrations_messages_are_listed_newest_first_with_the_stuck_flag(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint_from(session, settings, hook)
        complaint_from(session, settings, hook, description="另一处垃圾")
        stuck = messages(session)[0]
        stuck.attempts, stuck.last_error = 7, "HTTP 503 Service Unavailable"
        session.commit()
        headers = _dispatcher(session, world)

        page = client.get(f"{API}/{hook.id}/outbox", headers=headers).json()
        only_stuck = client.get(f"{API}/{hook.id}/outbox?stuck=true", headers=headers).json()

        assert page["total"] == 2
        assert [m["id"] for m in page["items"]] == [m.id for m in reversed(messages(session))]
        assert [m["stuck"] for m in page["items"]] == [False, True]
        assert [m["id"] for m in only_stuck["items"]] == [stuck.id]
        assert only_stuck["items"][0]["last_error"] == "HTTP 503 Service Unavailable"

    def test_retry_makes_a_waiting_message_due_now(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint_from(session, settings, hook)
        waiting = messages(session)[0]
        waiting.attempts, waiting.next_attempt_at = 6, utcnow() + timedelta(minutes=30)
        session.commit()

        response = client.post(f"/api/v1/outbox/{waiting.id}/retry", headers=_admin(session, world))

        assert response.status_code == 200
        retried = messages(session)[0]
        assert retried.next_attempt_at <= utcnow()
        assert retried.attempts == 6
        assert retried.status == OutboxStatus.PENDING
        (entry,) = ledger_payloads(session, "integration.updated")
        assert entry["retry"] == {"outbox_message_id": waiting.id, "dedupe_key": waiting.dedupe_key}

    def test_a_delivered_message_cannot_be_retried(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint_from(session, settings, hook)
        sent = messages(session)[0]
        sent.status, sent.delivered_at = OutboxStatus.DELIVERED, utcnow()
        due = sent.next_attempt_at
        session.commit()

        response = client.post(f"/api/v1/outbox/{sent.id}/retry", headers=_admin(session, world))

        assert response.status_code == 409
        assert response.json()["error"]["code"] == "already_delivered"
        assert response.json()["error"]["message"] == "该消息已送达，不会重复推送。"
        assert messages(session)[0].next_attempt_at == due
        assert ledger_payloads(session, "integration.updated") == []

    def test_a_dispatcher_may_not_retry(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint_from(session, settings, hook)
        waiting = messages(session)[0]
        waiting.next_attempt_at = later = utcnow() + timedelta(minutes=30)
        session.commit()

        response = client.post(
            f"/api/v1/outbox/{waiting.id}/retry", headers=_dispatcher(session, world)
        )

        assert response.status_code == 403
        assert messages(session)[0].next_attempt_at == later

    def test_a_message_of_another_district_is_not_found(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        side = build_side(session, "510104", 104.06)
        admin = factories.officer(
            session, "510104", "admin.other", [Role.SYSTEM_ADMIN], unit=side.bureau
        )
        hook = peer(session, settings, endpoint_url=HOOK)
        complaint_from(session, settings, hook)
        waiting = messages(session)[0]
        headers = factories.bearer(session, admin)
        session.commit()

        assert client.post(f"/api/v1/outbox/{waiting.id}/retry", headers=headers).status_code == 404
        assert client.get(f"{API}/{hook.id}/outbox", headers=headers).status_code == 404
