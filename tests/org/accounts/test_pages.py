"""The login form, logging out and "my account", through real form posts and cookies."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests import factories
from tests.org.accounts.conftest import World, count, csrf_from, events, login
from zhifa.app import create_app
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.kit.clock import utcnow
from zhifa.models.org import Officer
from zhifa.models.security import ApiToken, LoginAttempt, WebSession
from zhifa.org.accounts.pages import safe_next
from zhifa.org.credentials import digest

WRONG = "Wrong-Password-1"


def set_cookie(response: object, name: str) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    [value] = [h for h in headers if h.startswith(f"{name}=")]
    return str(value)


def post_login(client: TestClient, username: str, password: str, **form: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").text)
    data = {"username": username, "password": password, "next": "/", "csrf_token": token} | form
    return client.post("/login", data=data, follow_redirects=False)


def account_csrf(client: TestClient) -> str:
    return csrf_from(client.get("/account").text)


class TestLoginPage:
    def test_the_login_page_is_chinese_and_sets_a_csrf_cookie(self, client: TestClient) -> None:
        response = client.get("/login")

        assert response.status_code == 200
        assert '<html lang="zh-CN">' in response.text
        assert "登录" in response.text
        assert 'id="login-submit"' in response.text
        cookie = set_cookie(response, "zhifa_csrf")
        assert "HttpOnly" in cookie
        assert "Secure" in cookie
        assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
        assert cookie.split(";")[0] == f"zhifa_csrf={csrf_from(response.text)}"

    def test_logging_in_opens_a_session_and_goes_on_to_next(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        response = login(client, "zhang.wei", next_path="/account")

        assert response.status_code == 303
        assert response.headers["location"] == "/account"
        cookie = set_cookie(response, "zhifa_session")
        for flag in ("HttpOnly", "Secure", "Path=/", "Max-Age=43200"):
            assert flag in cookie
        secret = cookie.split(";")[0].split("=", 1)[1]
        row = session.scalars(select(WebSession)).one()
        assert row.token_hash == digest(secret)
        assert row.officer_id == world.officer.id
        assert client.get("/account").status_code == 200
        assert len(events(session, "security.login_succeeded")) == 1

    def test_a_foreign_next_is_replaced_by_home(self, client: TestClient, world: World) -> None:
        response = login(client, "zhang.wei", next_path="//evil.example/x")

        assert response.headers["location"] == "/"

    def test_only_local_paths_are_redirect_targets(self) -> None:
        assert safe_next("/cases/1?tab=2") == "/cases/1?tab=2"
        for bad in ("https://evil.example", "//evil.example", "/\\evil.example", "", None, "x"):
            assert safe_next(bad) == "/"

    def test_a_login_without_the_csrf_token_is_refused_before_the_password(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        client.get("/login")
        form = {"username": "zhang.wei", "password": factories.PASSWORD, "next": "/"}

        missing = client.post("/login", data=form, follow_redirects=False)
        mismatched = client.post(
            "/login", data=form | {"csrf_token": "forged"}, follow_redirects=False
        )

        assert missing.status_code == mismatched.status_code == 403
        assert "表单已过期" in missing.text
        assert count(session, WebSession) == 0
        assert count(session, LoginAttempt) == 0

    def test_a_login_without_the_csrf_cookie_is_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        token = csrf_from(client.get("/login").text)
        client.cookies.delete("zhifa_csrf")
        form = {"username": "zhang.wei", "password": factories.PASSWORD, "csrf_token": token}

        response = client.post("/login", data=form, follow_redirects=False)

        assert response.status_code == 403
        assert count(session, WebSession) == 0

    def test_wrong_credentials_show_one_message_whether_or_not_the_user_exists(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        wrong = post_login(client, "zhang.wei", WRONG)
        unknown = post_login(client, "nobody", WRONG)

        assert wrong.status_code == unknown.status_code == 401
        assert "用户名或密码错误。" in wrong.text
        assert "用户名或密码错误。" in unknown.text
        assert 'value="zhang.wei"' in wrong.text  # the name stays filled in
        assert count(session, WebSession) == 0
        assert count(session, LoginAttempt) == 2

    def test_a_locked_account_says_how_long_it_stays_locked(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        statuses = [post_login(client, "zhang.wei", WRONG).status_code for _ in range(5)]
        right = post_login(client, "zhang.wei", factories.PASSWORD)

        assert statuses == [401, 401, 401, 401, 423]
        assert right.status_code == 423
        assert "15 分钟" in right.text
        assert count(session, WebSession) == 0
        session.execute(update(Officer).values(locked_until=utcnow() - timedelta(seconds=1)))
        session.commit()
        assert post_login(client, "zhang.wei", factories.PASSWORD).status_code == 303

    def test_a_throttled_address_is_told_to_wait(
        self, settings: Settings, db: Database, session: Session, world: World
    ) -> None:
        tight = settings.model_copy(update={"login_ip_max_failures": 1})
        with TestClient(create_app(tight, db), base_url="https://testserver") as client:
            assert post_login(client, "nobody", WRONG).status_code == 401
            response = post_login(client, "zhang.wei", factories.PASSWORD)

        assert response.status_code == 429
        assert "该地址登录失败次数过多" in response.text
        assert count(session, WebSession) == 0

    def test_an_anonymous_visit_to_my_account_goes_to_the_login_page(
        self, client: TestClient
    ) -> None:
        response = client.get("/account", follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=/account"


class TestLogout:
    def test_logging_out_revokes_the_session_and_clears_the_cookie(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")
        token = account_csrf(client)

        response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)

        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert "Max-Age=0" in set_cookie(response, "zhifa_session")
        assert session.scalars(select(WebSession.revoked_at)).one() is not None
        assert len(events(session, "security.logout")) == 1
        assert client.get("/account", follow_redirects=False).status_code == 303

    def test_logging_out_without_the_csrf_token_is_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")

        missing = client.post("/logout", follow_redirects=False)
        forged = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)

        assert missing.status_code == forged.status_code == 403
        assert session.scalars(select(WebSession.revoked_at)).one() is None
        assert len(events(session, "security.permission_denied")) == 2
        assert client.get("/account").status_code == 200


class TestMyAccount:
    def test_the_page_shows_who_i_am(self, client: TestClient, world: World) -> None:
        login(client, "zhang.wei")

        page = client.get("/account").text

        for text in ("张伟", "执法队员", "崇阳中队", "本中队", "51018420260001", "有效"):
            assert text in page

    def test_changing_my_password_ends_my_other_sessions(
        self, client: TestClient, app: object, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")
        with TestClient(app, base_url="https://testserver") as phone:  # type: ignore[arg-type]
            login(phone, "zhang.wei")
            form = {
                "csrf_token": account_csrf(client),
                "current_password": factories.PASSWORD,
                "new_password": "Nova-Password-2027",
                "repeat_password": "Nova-Password-2027",
            }

            response = client.post("/account/password", data=form, follow_redirects=False)

            assert response.status_code == 303
            assert client.get("/account?done=password").status_code == 200
            assert phone.get("/account", follow_redirects=False).status_code == 303
        assert len(events(session, "account.password_changed")) == 1

    def test_a_bad_password_change_shows_the_reason_and_changes_nothing(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")
        token = account_csrf(client)
        base = {"csrf_token": token, "current_password": factories.PASSWORD}

        mismatch = client.post(
            "/account/password",
            data=base | {"new_password": "Nova-Password-2027", "repeat_password": "Other-2027-x"},
        )
        weak = client.post(
            "/account/password", data=base | {"new_password": "abc", "repeat_password": "abc"}
        )

        assert mismatch.status_code == weak.status_code == 422
        assert "两次输入的新密码不一致" in mismatch.text
        assert "密码长度至少 10 位" in weak.text
        assert events(session, "account.password_changed") == []

    def test_i_create_a_token_see_its_secret_once_and_revoke_it(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")
        form = {"csrf_token": account_csrf(client), "name": "手持终端 07", "days": "30"}

        created = client.post("/account/tokens", data=form | {"scopes": ["org:read"]})

        assert created.status_code == 201
        assert created.headers["cache-control"] == "no-store"
        row = session.scalars(select(ApiToken)).one()
        assert row.scopes == ["org:read"]
        secret = next(w for w in created.text.split('"') if w.startswith(row.prefix))
        assert digest(secret) == row.token_hash
        page = client.get("/account").text
        assert row.prefix in page
        assert secret not in page
        revoke = client.post(
            f"/account/tokens/{row.id}/revoke",
            data={"csrf_token": account_csrf(client)},
            follow_redirects=False,
        )
        assert revoke.status_code == 303
        session.expire_all()
        assert session.get(ApiToken, row.id).revoked_at is not None  # type: ignore[union-attr]

    def test_a_form_post_without_the_csrf_token_is_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")

        response = client.post("/account/tokens", data={"name": "x", "days": "30"})

        assert response.status_code == 403
        assert count(session, ApiToken) == 0

    def test_a_token_beyond_my_permissions_is_refused_on_the_page(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")
        form = {"csrf_token": account_csrf(client), "name": "x", "days": "30"}

        response = client.post("/account/tokens", data=form | {"scopes": ["org:manage"]})

        assert response.status_code == 422
        assert "令牌的权限范围必须在持有人的权限之内" in response.text
        assert count(session, ApiToken) == 0

    def test_my_language_choice_is_kept(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")

        response = client.post(
            "/account/locale", data={"csrf_token": account_csrf(client), "locale": "en"}
        )

        assert response.status_code == 200
        assert "Your language was saved." in response.text
        session.expire_all()
        assert session.get(Officer, world.officer.id).locale == "en"  # type: ignore[union-attr]
        assert len(events(session, "account.locale_changed")) == 1

    def test_an_unknown_language_is_refused(
        self, client: TestClient, session: Session, world: World
    ) -> None:
        login(client, "zhang.wei")

        response = client.post(
            "/account/locale", data={"csrf_token": account_csrf(client), "locale": "fr"}
        )

        assert response.status_code == 422
        session.expire_all()
        assert session.get(Officer, world.officer.id).locale == ""  # type: ignore[union-attr]
