"""Account rules on a real database: login, lock-out, throttling, passwords, tokens, accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tests import factories
from tests.org.accounts.conftest import World, count, events
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.errors import (
    AccountLocked,
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    Throttled,
)
from zhifa.kit.clock import utcnow
from zhifa.models.org import Officer, OfficerStatus
from zhifa.models.security import ApiToken, LoginAttempt, WebSession
from zhifa.org.accounts.login import LoginRequest, login_service
from zhifa.org.accounts.passwords import verify_password
from zhifa.org.accounts.service import AccountCreate, account_service
from zhifa.org.credentials import actor_for, actor_from_bearer, digest
from zhifa.org.roles import ROLE_PERMISSIONS, Permission, Role

IP = "10.0.0.7"

# What an officer account holds (the officer role), as the API lists it.
OFFICER_PERMISSIONS = sorted(p.value for p in ROLE_PERMISSIONS[Role.OFFICER])


def attempt(username: str, password: str = factories.PASSWORD, ip: str = IP) -> LoginRequest:
    return LoginRequest(username=username, password=password, ip=ip)


def authenticate(session: Session, db: Database, settings: Settings, req: LoginRequest) -> Officer:
    try:
        officer = login_service.authenticate(session, None, db=db, settings=settings, attempt=req)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return officer


def reload(session: Session, officer: Officer) -> Officer:
    session.expire_all()
    row = session.get(Officer, officer.id)
    assert row is not None
    return row


class TestAuthenticate:
    def test_the_right_password_lets_the_officer_in_and_is_recorded(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        officer = authenticate(session, db, settings, attempt("zhang.wei"))

        assert officer.id == world.officer.id
        assert reload(session, officer).last_login_at is not None
        assert session.scalars(select(LoginAttempt.succeeded)).all() == [True]
        [event] = events(session, "security.login_succeeded")
        assert event.actor_id == officer.id
        assert event.payload["ip"] == IP

    def test_a_wrong_password_is_refused_and_counted_although_the_request_rolls_back(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        with pytest.raises(NotAuthenticated) as refused:
            authenticate(session, db, settings, attempt("zhang.wei", "Wrong-Password-1"))

        assert refused.value.status_code == 401
        assert reload(session, world.officer).failed_logins == 1
        assert session.scalars(select(LoginAttempt.succeeded)).all() == [False]
        [event] = events(session, "security.login_failed")
        assert event.payload == {
            "username": "zhang.wei",
            "ip": IP,
            "reason": "wrong_password",
            "channel": "web",
        }

    def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        with pytest.raises(NotAuthenticated) as wrong:
            authenticate(session, db, settings, attempt("zhang.wei", "Wrong-Password-1"))
        with pytest.raises(NotAuthenticated) as unknown:
            authenticate(session, db, settings, attempt("nobody"))

        assert type(unknown.value) is type(wrong.value)
        assert unknown.value.message == wrong.value.message
        assert [e.payload["reason"] for e in events(session, "security.login_failed")] == [
            "wrong_password",
            "unknown_user",
        ]

    def test_the_fifth_failure_locks_the_account_for_fifteen_minutes(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        for _ in range(4):
            with pytest.raises(NotAuthenticated):
                authenticate(session, db, settings, attempt("zhang.wei", "Wrong-Password-1"))
        with pytest.raises(AccountLocked) as locked:
            authenticate(session, db, settings, attempt("zhang.wei", "Wrong-Password-1"))

        assert locked.value.status_code == 423
        assert locked.value.params == {"minutes": 15}
        until = reload(session, world.officer).locked_until
        assert until is not None
        assert timedelta(minutes=14) < until - utcnow() <= timedelta(minutes=15)
        [event] = events(session, "security.account_locked")
        assert event.subject_id == str(world.officer.id)

    def test_a_locked_account_refuses_even_the_right_password(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        lock(session, world.officer, minutes=10)

        with pytest.raises(AccountLocked) as locked:
            authenticate(session, db, settings, attempt("zhang.wei"))

        assert locked.value.params == {"minutes": 10}
        assert events(session, "security.login_failed")[-1].payload["reason"] == "locked"
        assert events(session, "security.login_succeeded") == []

    def test_the_account_opens_again_when_the_lock_out_is_over(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        lock(session, world.officer, minutes=-1)

        officer = authenticate(session, db, settings, attempt("zhang.wei"))

        assert reload(session, officer).locked_until is None
        assert reload(session, officer).failed_logins == 0

    def test_success_resets_the_failure_count(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        for _ in range(3):
            with pytest.raises(NotAuthenticated):
                authenticate(session, db, settings, attempt("zhang.wei", "Wrong-Password-1"))

        authenticate(session, db, settings, attempt("zhang.wei"))

        assert reload(session, world.officer).failed_logins == 0

    def test_an_address_with_too_many_failures_is_throttled(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        tight = settings.model_copy(update={"login_ip_max_failures": 3})
        for name in ("a", "b", "c"):
            with pytest.raises(NotAuthenticated):
                authenticate(session, db, tight, attempt(name))

        with pytest.raises(Throttled) as throttled:
            authenticate(session, db, tight, attempt("zhang.wei"))

        assert throttled.value.status_code == 429
        assert events(session, "security.login_failed")[-1].payload["reason"] == "throttled"
        assert authenticate(session, db, tight, attempt("zhang.wei", ip="10.0.0.8")).id

    def test_failures_older_than_the_window_do_not_throttle(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        tight = settings.model_copy(update={"login_ip_max_failures": 2})
        for name in ("a", "b"):
            with pytest.raises(NotAuthenticated):
                authenticate(session, db, tight, attempt(name))
        session.execute(update(LoginAttempt).values(created_at=utcnow() - timedelta(minutes=11)))
        session.commit()

        assert authenticate(session, db, tight, attempt("zhang.wei")).id == world.officer.id

    @pytest.mark.parametrize("status", [OfficerStatus.SUSPENDED, OfficerStatus.LEFT])
    def test_suspended_and_departed_officers_cannot_log_in(
        self,
        session: Session,
        db: Database,
        settings: Settings,
        world: World,
        status: OfficerStatus,
    ) -> None:
        reload(session, world.officer).status = status
        session.commit()

        with pytest.raises(NotAuthenticated):
            authenticate(session, db, settings, attempt("zhang.wei"))

        assert events(session, "security.login_failed")[-1].payload["reason"] == "disabled"

    def test_an_outdated_hash_is_rehashed_on_login(
        self, session: Session, db: Database, settings: Settings, world: World
    ) -> None:
        weak = PasswordHasher(time_cost=1, memory_cost=8192).hash(factories.PASSWORD)
        reload(session, world.officer).password_hash = weak
        session.commit()

        authenticate(session, db, settings, attempt("zhang.wei"))

        rehashed = reload(session, world.officer).password_hash
        assert rehashed != weak
        assert verify_password(rehashed, factories.PASSWORD)


def lock(session: Session, officer: Officer, *, minutes: int) -> None:
    reload(session, officer).locked_until = utcnow() + timedelta(minutes=minutes)
    session.commit()


class TestPasswords:
    def test_changing_my_password_ends_my_other_sessions_only(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        mine = login_service.start_session(
            session, world.officer, settings=settings, ip=IP, user_agent=""
        )
        other = login_service.start_session(
            session, world.officer, settings=settings, ip=IP, user_agent=""
        )
        actor = actor_for(session, world.officer, via="session")

        revoked = account_service.change_password(
            session,
            actor,
            settings=settings,
            current=factories.PASSWORD,
            new="Nova-Password-2027",
            keep_session_hash=digest(mine.secret),
        )
        session.commit()

        assert revoked == 1
        session.expire_all()
        assert session.get(WebSession, mine.row.id).revoked_at is None  # type: ignore[union-attr]
        assert session.get(WebSession, other.row.id).revoked_at is not None  # type: ignore[union-attr]
        assert verify_password(reload(session, world.officer).password_hash, "Nova-Password-2027")
        [event] = events(session, "account.password_changed")
        assert event.payload | {"state": None} == {
            "sessions_revoked": 1,
            "via": "session",
            "state": None,
        }
        assert event.payload["state"]["username"] == world.officer.username

    @pytest.mark.parametrize(
        ("current", "new"),
        [
            ("Wrong-Password-1", "Nova-Password-2027"),  # the current password is wrong
            (factories.PASSWORD, "short1A"),  # too short
            (factories.PASSWORD, "alllowercaseletters"),  # one character class
            (factories.PASSWORD, "Zhang.Wei-2027-x"),  # contains the user name
            (factories.PASSWORD, factories.PASSWORD),  # the same as before
        ],
    )
    def test_a_bad_password_change_is_refused(
        self, session: Session, settings: Settings, world: World, current: str, new: str
    ) -> None:
        actor = actor_for(session, world.officer, via="session")

        with pytest.raises(InvalidInput):
            account_service.change_password(
                session, actor, settings=settings, current=current, new=new
            )

    def test_a_reset_clears_the_lock_out(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        lock(session, world.officer, minutes=10)
        officer = reload(session, world.officer)

        account_service.reset_password(
            session, None, settings=settings, officer=officer, new="Reset-Password-2027"
        )
        session.commit()

        assert reload(session, officer).locked_until is None
        [event] = events(session, "account.password_reset")
        assert event.actor_id is None
        assert event.payload["via"] == "cli"
        assert not any("Reset-Password" in str(v) for v in event.payload.values())


class TestTokens:
    def test_a_token_is_stored_as_a_digest_with_the_holders_permissions(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        actor = actor_for(session, world.officer, via="session")

        issued = account_service.create_token(
            session, actor, settings=settings, holder=world.officer, name="手持终端 07"
        )
        session.commit()

        row = session.scalars(select(ApiToken)).one()
        assert row.token_hash == digest(issued.secret) != issued.secret
        assert row.prefix == issued.secret[:10]
        assert row.scopes == OFFICER_PERMISSIONS
        assert timedelta(days=89) < row.expires_at - utcnow() <= timedelta(days=90)
        assert actor_from_bearer(session, issued.secret).officer_id == world.officer.id
        [event] = events(session, "account.token_created")
        assert issued.secret not in str(event.payload)

    @pytest.mark.parametrize(
        ("scopes", "days"),
        [(["org:manage"], 30), (["org:read", "audit:read"], 30), ([], 30), (None, 0), (None, 3651)],
    )
    def test_scopes_beyond_the_holders_permissions_or_a_bad_validity_are_refused(
        self,
        session: Session,
        settings: Settings,
        world: World,
        scopes: list[str] | None,
        days: int,
    ) -> None:
        actor = actor_for(session, world.officer, via="session")

        with pytest.raises(InvalidInput):
            account_service.create_token(
                session,
                actor,
                settings=settings,
                holder=world.officer,
                name="x",
                scopes=scopes,
                days=days,
            )

    def test_a_narrow_token_cannot_mint_a_wider_one(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        actor = actor_for(session, world.admin, via="token", token_scopes=["tokens:own"])

        with pytest.raises(InvalidInput):
            account_service.create_token(
                session,
                actor,
                settings=settings,
                holder=world.admin,
                name="x",
                scopes=["org:manage"],
            )

    def test_another_officers_token_is_not_found_without_tokens_manage(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        issued = account_service.create_token(
            session, None, settings=settings, holder=world.neighbour, name="x"
        )
        actor = actor_for(session, world.officer, via="session")

        with pytest.raises(NotFound):
            account_service.revoke_token(session, actor, token_id=issued.row.id)

    def test_an_administrator_revokes_tokens_in_scope_but_not_in_another_district(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        here = account_service.create_token(
            session, None, settings=settings, holder=world.officer, name="here"
        )
        there = account_service.create_token(
            session, None, settings=settings, holder=world.outsider, name="there"
        )
        admin = actor_for(session, world.admin, via="session")

        account_service.revoke_token(session, admin, token_id=here.row.id)
        with pytest.raises(NotFound):
            account_service.revoke_token(session, admin, token_id=there.row.id)
        assert there.row.revoked_at is None
        with pytest.raises(Conflict):
            account_service.revoke_token(session, admin, token_id=here.row.id)

    def test_the_command_line_revokes_by_prefix(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        issued = account_service.create_token(
            session, None, settings=settings, holder=world.officer, name="x"
        )

        row = account_service.revoke_token_by_key(session, key=issued.row.prefix)

        assert row.id == issued.row.id
        assert row.revoked_at is not None
        with pytest.raises(NotFound):
            account_service.revoke_token_by_key(session, key="zf_nothing")


def new_account(**changes: object) -> AccountCreate:
    data = {
        "username": "chen.jie",
        "name": "陈杰",
        "district_code": "510184",
        "roles": ["officer", "squad_leader"],
        "scope": "squad",
        "password": "Chen-Jie-Pass-2027".replace("Chen-Jie", "Strong"),
        "unit_code": "CZ-1-1",
        "cert_no": "51018420269999",
    }
    data.update(changes)
    return AccountCreate(**data)  # type: ignore[arg-type]


class TestCreateAccount:
    def test_an_account_is_created_in_its_unit_and_ledgered(
        self, session: Session, settings: Settings, world: World
    ) -> None:
        officer = account_service.create_account(
            session, None, settings=settings, data=new_account()
        )
        session.commit()

        assert officer.unit_id == world.squad_a.id
        assert officer.roles == ["officer", "squad_leader"]
        assert verify_password(officer.password_hash, "Strong-Pass-2027")
        [event] = events(session, "account.created")
        assert event.payload["via"] == "cli"
        assert event.actor_id is None

    @pytest.mark.parametrize(
        ("changes", "error"),
        [
            ({"username": "zhang.wei"}, Conflict),
            ({"cert_no": "51018420260001"}, Conflict),
            ({"district_code": "510199"}, NotFound),
            ({"unit_code": "DJY-1"}, Conflict),  # a unit of another district
            ({"unit_code": "NOPE"}, NotFound),
            ({"unit_code": None}, InvalidInput),  # squad scope needs a unit
            ({"roles": ["officer", "king"]}, InvalidInput),
            ({"scope": "province"}, InvalidInput),
            ({"password": "weak"}, InvalidInput),
            ({"username": "two words"}, InvalidInput),
        ],
    )
    def test_bad_accounts_are_refused_and_nothing_is_added(
        self,
        session: Session,
        settings: Settings,
        world: World,
        changes: dict[str, object],
        error: type[Exception],
    ) -> None:
        before = count(session, Officer)

        with pytest.raises(error):
            account_service.create_account(
                session, None, settings=settings, data=new_account(**changes)
            )
        session.rollback()

        assert count(session, Officer) == before


def test_a_token_for_another_district_officer_is_not_found_for_an_administrator(
    session: Session, world: World
) -> None:
    admin = actor_for(session, world.admin, via="session")

    with pytest.raises(NotFound):
        account_service.token_holder(session, admin, officer_id=world.outsider.id)
    assert account_service.token_holder(session, admin, officer_id=world.officer.id).id == (
        world.officer.id
    )
    assert Permission.TOKENS_MANAGE in admin.permissions
