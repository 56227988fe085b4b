"""``zhifa integrations list|deliver|poll|sign`` against the test database and the platform."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from tests.integrations.helpers import SECRET, IntegrationWorld, complaint_from, messages, peer
from tests.integrations.platform import CityPlatform
from zhifa.cli.integrations import app
from zhifa.config import Settings, get_settings
from zhifa.kit.clock import utcnow
from zhifa.models.integrations import IntegrationKind, OutboxStatus


@pytest.fixture
def run(
    database_url: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[CliRunner]:
    monkeypatch.setenv("ZHIFA_DATABASE_URL", database_url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(tmp_path / "cli-var"))
    assert settings.secret_key is not None
    monkeypatch.setenv("ZHIFA_SECRET_KEY", settings.secret_key.get_secret_value())
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_deliver_sends_what_is_due(
    run: CliRunner,
    session: Session,
    settings: Settings,
    world: IntegrationWorld,
    platform: CityPlatform,
) -> None:
    hook = peer(session, settings, endpoint_url=platform.hook_url)
    complaint_from(session, settings, hook)
    session.commit()

    result = run.invoke(app, ["deliver"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "delivered 1"
    assert messages(session)[0].status == OutboxStatus.DELIVERED
    assert platform.bad_signatures == 0


def test_poll_takes_in_what_is_new(
    run: CliRunner,
    session: Session,
    settings: Settings,
    world: IntegrationWorld,
    platform: CityPlatform,
) -> None:
    now = utcnow().replace(microsecond=0)
    platform.upstream_requests = [
        {
            "service_request_id": "SR-CLI",
            "service_code": "SRHJ-BLLJ",
            "description": "路边垃圾",
            "requested_datetime": (now - timedelta(minutes=5)).isoformat(),
            "address": "蜀州中路 1 号",
        }
    ]
    peer(
        session,
        settings,
        endpoint_url=platform.open311_url,
        kind=IntegrationKind.OPEN311,
        poll_enabled=True,
        poll_cursor=now - timedelta(hours=1),
    )
    session.commit()

    result = run.invoke(app, ["poll"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "taken in 1"


def test_list_shows_each_peer_with_its_queue(
    run: CliRunner, session: Session, settings: Settings, world: IntegrationWorld
) -> None:
    hook = peer(session, settings, endpoint_url="https://wlzz.example.cn/hook")
    complaint_from(session, settings, hook)
    session.commit()

    result = run.invoke(app, ["list"])

    assert result.exit_code == 0, result.output
    (line,) = result.output.strip().splitlines()
    assert line.split("\t")[:5] == [str(hook.id), "510184", "wlzz", "webhook", "active"]
    assert "pending 1" in line
    assert "https://wlzz.example.cn/hook" in line


def test_sign_prints_headers_the_platform_can_check(run: CliRunner, tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes('{"tracking_no":"TS1","note":"已受理"}'.encode())

    result = run.invoke(app, ["sign", str(body), "--timestamp", "1777600000"], input=SECRET + "\n")

    assert result.exit_code == 0, result.output
    expected = hmac.new(
        SECRET.encode(), b"1777600000." + body.read_bytes(), hashlib.sha256
    ).hexdigest()
    assert "X-Zhifa-Timestamp: 1777600000" in result.output
    assert f"X-Zhifa-Signature: sha256={expected}" in result.output
