"""The inbound api_key: who may post to our Open311 server (``authenticate_api_key``)."""

from __future__ import annotations

from pydantic import SecretStr
from sqlalchemy.orm import Session

from tests.integrations.helpers import IntegrationWorld, actor, peer
from zhifa.config import Settings
from zhifa.integrations.service import authenticate_api_key, integration_service

HOOK = "https://wlzz.chengdu.example.cn/hooks/zhifa"


def _issue(session: Session, settings: Settings, world: IntegrationWorld) -> tuple[int, str]:
    row = peer(session, settings, endpoint_url=HOOK)
    issued = integration_service.issue_key(
        session, actor(session, world.admin), settings=settings, integration_id=row.id
    )
    session.commit()
    return row.id, issued.api_key


class TestAuthenticateApiKey:
    def test_the_issued_key_names_its_integration(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        integration_id, key = _issue(session, settings, world)

        found = authenticate_api_key(session, key, settings=settings)

        assert found is not None
        assert found.id == integration_id

    def test_any_other_key_names_nobody(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        _, key = _issue(session, settings, world)

        for wrong in (
            "",
            key[:-1],
            key + "x",
            "zi_" + "A" * 43,
            key.replace("zi_", "zf_"),
            "x" * 500,
        ):
            assert authenticate_api_key(session, wrong, settings=settings) is None

    def test_a_new_key_replaces_the_old_one(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        integration_id, old = _issue(session, settings, world)
        new = integration_service.issue_key(
            session, actor(session, world.admin), settings=settings, integration_id=integration_id
        ).api_key
        session.commit()

        assert authenticate_api_key(session, old, settings=settings) is None
        assert authenticate_api_key(session, new, settings=settings) is not None

    def test_an_inactive_integrations_key_names_nobody(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        integration_id, key = _issue(session, settings, world)
        row = integration_service.get(
            session, actor(session, world.admin), integration_id=integration_id
        )
        row.active = False
        session.commit()

        assert authenticate_api_key(session, key, settings=settings) is None

    def test_the_digest_is_keyed_by_the_servers_secret(
        self, session: Session, settings: Settings, world: IntegrationWorld
    ) -> None:
        _, key = _issue(session, settings, world)
        elsewhere = settings.model_copy(update={"secret_key": SecretStr("another-server-secret")})

        assert authenticate_api_key(session, key, settings=elsewhere) is None
