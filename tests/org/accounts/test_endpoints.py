"""The accounts JSON API: device sign-in, /me, passwords, tokens, administrator resets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests import factories
from tests.org.accounts.conftest import World, count, events
from zhifa.app import create_app
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.kit.clock import utcnow
from zhifa.models.org import Officer
from zhifa.models.security import ApiToken, LoginAttempt, WebSession
from zhifa.org.accounts.passwords import verify_password
from zhifa.org.roles import ROLE_PERMISSIONS, Permission, Role

WRONG = "Wrong-Password-1"

# What an officer account holds (the officer role), as the API lists it.
OFFICER_PERMISSIONS = sorted(p.value for p in ROLE_PERMISSIONS[Role.OFFICER])


def sign_in(client: TestClient, username: str, password: str = factories.PASSWORD, **extra: Any):  # type: ignore[no-untyped-def]
    body = {"username": username, "password": password, "name": "手持终端 07"} | extra
    return client.post("/api/v1/auth/token", json=body)


def bearer_for(
    session: Session, officer: Officer, scopes: list[Permission] | None = None
) -> dict[str, str]:
    headers = factories.bearer(session, officer, scopes)
    session.commit()
    return headers


def error_code(response: Any) -> str:
    return str(response.json()["error"]["code"])


class TestDeviceSignIn:
    def test_a_device_signs_in_and_its_token_works(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = sign_in(client, "zhang.wei", days=30)

        assert response.status_code == 201
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["token"].startswith("zf_")
        assert body["prefix"] == body["token"][:10]
        assert body["scopes"] == OFFICER_PERMISSIONS
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
        assert me.status_code == 200
        assert me.json()["username"] == "zhang.wei"
        assert me.json()["via"] == "token"
        assert [e.payload["channel"] for e in events(session, "security.login_succeeded")] == [
            "api"
        ]
        [created] = events(session, "account.token_created")
        assert body["token"] not in str(created.payload)

    def test_a_wrong_password_answers_401_and_issues_nothing(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = sign_in(client, "zhang.wei", WRONG)

        assert response.status_code == 401
        assert set(response.json()["error"]) == {"code", "message", "detail"}
        assert response.json()["error"]["message"] == "用户名或密码错误。"
        assert count(session, ApiToken) == 0
        assert events(session, "security.login_failed")[0].payload["reason"] == "wrong_password"

    def test_an_unknown_user_answers_exactly_like_a_wrong_password(
        self, client: TestClient, world: World
    ) -> None:
        assert sign_in(client, "nobody").json() == sign_in(client, "zhang.wei", WRONG).json()

    def test_five_failures_lock_the_account_even_against_the_right_password(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        codes = [sign_in(client, "zhang.wei", WRONG).status_code for _ in range(5)]
        locked = sign_in(client, "zhang.wei")

        assert codes == [401, 401, 401, 401, 423]
        assert locked.status_code == 423
        assert "15" in locked.json()["error"]["message"]
        assert count(session, ApiToken) == 0
        assert len(events(session, "security.account_locked")) == 1
        session.execute(
            update(Officer)
            .where(Officer.id == world.officer.id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
        session.commit()
        assert sign_in(client, "zhang.wei").status_code == 201

    def test_an_address_with_too_many_failures_is_throttled(
        self, settings: Settings, db: Database, session: Session, world: World
    ) -> None:
        tight = settings.model_copy(update={"login_ip_max_failures": 2})
        with TestClient(create_app(tight, db), base_url="https://testserver") as client:
            assert [sign_in(client, n).status_code for n in ("x", "y")] == [401, 401]

            throttled = sign_in(client, "zhang.wei")

        assert throttled.status_code == 429
        assert error_code(throttled) == "throttled"
        assert count(session, ApiToken) == 0
        assert count(session, LoginAttempt) == 3

    def test_bad_scopes_refuse_the_token_and_keep_nothing_of_the_login(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = sign_in(client, "zhang.wei", scopes=["org:manage"])

        assert response.status_code == 422
        assert response.json()["error"]["detail"]["not_allowed"] == ["org:manage"]
        assert count(session, ApiToken) == 0
        assert events(session, "security.login_succeeded") == []


class TestBearerTokens:
    def test_an_expired_token_is_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer_for(session, world.officer)
        session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        session.commit()

        response = client.get("/api/v1/me", headers=headers)

        assert response.status_code == 401
        assert error_code(response) == "token_expired"

    def test_a_revoked_token_is_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer_for(session, world.officer)
        token_id = session.scalars(select(ApiToken.id)).one()

        assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 200
        response = client.get("/api/v1/me", headers=headers)

        assert response.status_code == 401
        assert error_code(response) == "token_revoked"
        [event] = events(session, "account.token_revoked")
        assert event.actor_id == world.officer.id

    def test_an_unknown_token_is_refused(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/me", headers={"Authorization": "Bearer zf_nope"})

        assert response.status_code == 401
        assert error_code(response) == "token_invalid"


class TestMe:
    def test_me_describes_the_actor(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = client.get("/api/v1/me", headers=bearer_for(session, world.officer))

        assert response.json() | {"locale": ""} == {
            "id": world.officer.id,
            "username": "zhang.wei",
            "name": "张伟",
            "district_code": "510184",
            "district_name": "崇州市（演示）",
            "unit_id": world.squad_a.id,
            "unit_name": "崇阳中队",
            "roles": ["officer"],
            "scope": "squad",
            "permissions": OFFICER_PERMISSIONS,
            "via": "token",
            "locale": "",
        }

    def test_me_needs_credentials(self, client: TestClient, world: World) -> None:
        response = client.get("/api/v1/me")

        assert response.status_code == 401
        assert error_code(response) == "not_authenticated"


class TestMyPassword:
    def test_changing_my_password_takes_effect(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        body = {"current_password": factories.PASSWORD, "new_password": "Nova-Password-2027"}

        response = client.post(
            "/api/v1/me/password", json=body, headers=bearer_for(session, world.officer)
        )

        assert response.status_code == 204
        assert sign_in(client, "zhang.wei").status_code == 401
        assert sign_in(client, "zhang.wei", "Nova-Password-2027").status_code == 201
        assert len(events(session, "account.password_changed")) == 1

    def test_a_weak_or_unproven_password_change_is_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer_for(session, world.officer)
        weak = {"current_password": factories.PASSWORD, "new_password": "password"}
        unproven = {"current_password": WRONG, "new_password": "Nova-Password-2027"}

        assert client.post("/api/v1/me/password", json=weak, headers=headers).status_code == 422
        assert client.post("/api/v1/me/password", json=unproven, headers=headers).status_code == 422
        session.expire_all()
        officer = session.get(Officer, world.officer.id)
        assert officer is not None
        assert verify_password(officer.password_hash, factories.PASSWORD)
        assert events(session, "account.password_changed") == []


class TestTokenManagement:
    def test_i_create_list_and_revoke_my_tokens(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer_for(session, world.officer)

        created = client.post(
            "/api/v1/tokens",
            json={"name": "平板", "scopes": ["org:read"], "days": 7},
            headers=headers,
        )
        listed = client.get("/api/v1/tokens", headers=headers)

        assert created.status_code == 201
        assert created.json()["scopes"] == ["org:read"]
        assert {t["name"] for t in listed.json()} == {"test", "平板"}
        assert "token" not in listed.json()[0]
        revoked = client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=headers)
        assert revoked.json()["revoked_at"] is not None
        again = client.delete(f"/api/v1/tokens/{created.json()['id']}", headers=headers)
        assert again.status_code == 409

    def test_scopes_beyond_my_permissions_are_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer_for(session, world.officer)

        response = client.post(
            "/api/v1/tokens", json={"name": "x", "scopes": ["districts:manage"]}, headers=headers
        )

        assert response.status_code == 422
        assert count(session, ApiToken) == 1  # only the one the test signed in with

    def test_other_officers_tokens_need_tokens_manage(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer_for(session, world.officer)

        listed = client.get(f"/api/v1/tokens?officer_id={world.neighbour.id}", headers=headers)
        created = client.post(
            "/api/v1/tokens", json={"name": "x", "officer_id": world.neighbour.id}, headers=headers
        )

        assert listed.status_code == 403
        assert created.status_code == 403
        denials = events(session, "security.permission_denied")
        assert [e.payload["reason"] for e in denials] == ["permission_denied"] * 2

    def test_an_administrator_manages_tokens_in_scope(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer_for(session, world.admin)

        created = client.post(
            "/api/v1/tokens", json={"name": "终端", "officer_id": world.officer.id}, headers=headers
        )
        listed = client.get(f"/api/v1/tokens?officer_id={world.officer.id}", headers=headers)

        assert created.status_code == 201
        assert created.json()["officer_id"] == world.officer.id
        assert created.json()["scopes"] == OFFICER_PERMISSIONS
        assert [t["name"] for t in listed.json()] == ["终端"]

    def test_another_districts_officers_and_tokens_answer_404(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        factories.bearer(session, world.outsider)
        their_token = session.scalars(select(ApiToken.id)).one()
        headers = bearer_for(session, world.admin)

        listed = client.get(f"/api/v1/tokens?officer_id={world.outsider.id}", headers=headers)
        created = client.post(
            "/api/v1/tokens", json={"name": "x", "officer_id": world.outsider.id}, headers=headers
        )
        revoked = client.delete(f"/api/v1/tokens/{their_token}", headers=headers)

        assert (listed.status_code, created.status_code, revoked.status_code) == (404, 404, 404)
        session.expire_all()
        assert session.get(ApiToken, their_token).revoked_at is None  # type: ignore[union-attr]
        assert count(session, ApiToken) == 2

    def test_a_token_without_tokens_own_cannot_manage_tokens(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        headers = bearer_for(session, world.officer, [Permission.ORG_READ])

        response = client.get("/api/v1/tokens", headers=headers)

        assert response.status_code == 403
        assert len(events(session, "security.permission_denied")) == 1


class TestAdministratorReset:
    def test_an_administrator_resets_a_password_in_scope(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        body = {"new_password": "Reset-Password-2027"}

        response = client.post(
            f"/api/v1/officers/{world.officer.id}/password",
            json=body,
            headers=bearer_for(session, world.admin),
        )

        assert response.status_code == 204
        assert sign_in(client, "zhang.wei", "Reset-Password-2027").status_code == 201
        [event] = events(session, "account.password_reset")
        assert event.actor_id == world.admin.id
        assert event.subject_id == str(world.officer.id)

    def test_a_reset_is_refused_to_officers_outside_scope_and_weak_passwords(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        strong = {"new_password": "Reset-Password-2027"}
        admin = bearer_for(session, world.admin)
        url = "/api/v1/officers/{}/password"

        outside = client.post(url.format(world.outsider.id), json=strong, headers=admin)
        weak = client.post(
            url.format(world.officer.id), json={"new_password": "abc"}, headers=admin
        )
        by_officer = client.post(
            url.format(world.neighbour.id), json=strong, headers=bearer_for(session, world.officer)
        )

        assert (outside.status_code, weak.status_code, by_officer.status_code) == (404, 422, 403)
        assert events(session, "account.password_reset") == []
        assert count(session, WebSession) == 0
