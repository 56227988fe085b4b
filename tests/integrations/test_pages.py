"""The integration page: peers, what waits, what fails and why, retry now, polling state."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.integrations.helpers import IntegrationWorld, complaint_from, messages, peer
from tests.org.helpers import web_login
from zhifa.config import Settings
from zhifa.kit.clock import utcnow
from zhifa.models.integrations import IntegrationKind

HOOK = "https://wlzz.chengdu.example.cn/hooks/zhifa"


def _failing_world(session: Session, settings: Settings) -> tuple[int, str]:
    """A webhook peer whose first message failed seven times; the id and tracking number."""
    hook = peer(session, settings, endpoint_url=HOOK)
    complaint = complaint_from(session, settings, hook)
    failed = messages(session)[0]
    failed.attempts = 7
    failed.last_http_status = 503
    failed.last_error = "HTTP 503 Service Unavailable"
    failed.next_attempt_at = utcnow() + timedelta(minutes=30)
    upstream = peer(
        session,
        settings,
        endpoint_url="https://wlzz.chengdu.example.cn/open311/v2",
        kind=IntegrationKind.OPEN311,
        code="wlzz-open311",
        name="网络理政 Open311",
        poll_enabled=True,
        poll_interval_seconds=120,
        last_poll_error="无法从城市平台拉取工单：HTTP 500",
    )
    assert upstream.id
    session.commit()
    return failed.id, complaint.tracking_no


class TestIntegrationPage:
    def test_the_dispatcher_sees_peers_and_a_failure_with_its_reason(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        message_id, tracking_no = _failing_world(session, settings)
        web_login(client, session, world.dispatcher)

        response = client.get("/integrations")

        assert response.status_code == 200
        page = response.text
        assert "平台对接" in page
        assert "网络理政平台" in page
        assert "签名回调（Webhook）" in page
        assert HOOK in page
        assert f'data-message-id="{message_id}"' in page
        assert tracking_no in page
        assert "HTTP 503 Service Unavailable" in page
        assert "推送受阻" in page  # seven attempts: stuck
        assert "每 120 秒" in page
        assert "无法从城市平台拉取工单：HTTP 500" in page
        assert "立即重试" not in page  # a dispatcher reads, does not retry

    def test_an_administrator_retries_a_failure_from_the_page(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        message_id, _ = _failing_world(session, settings)
        csrf = web_login(client, session, world.admin)
        assert "立即重试" in client.get("/integrations").text

        response = client.post(
            f"/integrations/outbox/{message_id}/retry",
            data={"csrf_token": csrf},
            follow_redirects=False,
        )

        assert response.status_code == 303
        assert response.headers["location"] == "/integrations"
        assert messages(session)[0].next_attempt_at <= utcnow()

    def test_a_retry_without_the_form_token_changes_nothing(
        self, client: TestClient, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        message_id, _ = _failing_world(session, settings)
        web_login(client, session, world.admin)
        due = messages(session)[0].next_attempt_at

        response = client.post(f"/integrations/outbox/{message_id}/retry", follow_redirects=False)

        assert response.status_code == 403
        assert messages(session)[0].next_attempt_at == due

    def test_with_no_peers_the_page_says_how_to_add_one(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        web_login(client, session, world.dispatcher)

        page = client.get("/integrations").text

        assert "尚无对接平台" in page
        assert "没有推送失败" in page

    def test_a_field_officer_may_not_open_it(
        self, client: TestClient, session: Session, world: IntegrationWorld
    ) -> None:
        web_login(client, session, world.complaints.officer)

        assert client.get("/integrations").status_code == 403
