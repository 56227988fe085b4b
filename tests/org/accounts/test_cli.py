"""``zhifa users`` and ``zhifa tokens`` against the test database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from tests.org.accounts.conftest import World, count, events
from zhifa.cli import app
from zhifa.config import get_settings
from zhifa.kit.clock import utcnow
from zhifa.models.org import Officer
from zhifa.models.security import ApiToken
from zhifa.org.accounts.passwords import verify_password
from zhifa.org.credentials import actor_from_bearer
from zhifa.org.roles import ROLE_PERMISSIONS, Role

STRONG = "Strong-Pass-2027"


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("ZHIFA_DATABASE_URL", database_url)
    monkeypatch.setenv("ZHIFA_DATA_DIR", str(tmp_path / "cli-var"))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def invoke(runner: CliRunner, args: list[str], stdin: str | None = None) -> Result:
    return runner.invoke(app, args, input=stdin)


CREATE = [
    "users",
    "create",
    "--username",
    "chen.jie",
    "--name",
    "陈杰",
    "--district",
    "510184",
    "--roles",
    "officer,squad_leader",
    "--scope",
    "squad",
    "--unit",
    "CZ-1-1",
    "--cert-no",
    "51018420269999",
    "--phone",
    "13800000000",
]


def assert_clean_failure(result: Result, text: str) -> None:
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ")
    assert text in result.stderr
    assert "Traceback" not in result.output


class TestUsersCreate:
    def test_an_account_is_created_from_stdin(
        self, run: CliRunner, session: Session, world: World
    ) -> None:
        result = invoke(run, [*CREATE, "--password-stdin"], f"{STRONG}\n")

        assert result.exit_code == 0, result.output
        assert "created chen.jie" in result.stdout
        officer = session.scalars(select(Officer).where(Officer.username == "chen.jie")).one()
        assert (officer.unit_id, officer.cert_no, officer.phone) == (
            world.squad_a.id,
            "51018420269999",
            "13800000000",
        )
        assert verify_password(officer.password_hash, STRONG)
        [event] = events(session, "account.created")
        assert event.actor_id is None
        assert event.payload["via"] == "cli"

    def test_the_password_prompt_asks_twice(
        self, run: CliRunner, session: Session, world: World
    ) -> None:
        result = invoke(run, CREATE, f"{STRONG}\n{STRONG}\n")

        assert result.exit_code == 0, result.output
        assert STRONG not in result.output
        assert count(session, Officer) == 6

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (["--username", "zhang.wei"], "already taken"),
            (["--unit", "DJY-1"], "is not in district 510184"),
            (["--unit", "NOPE"], "Unit NOPE does not exist"),
            (["--district", "510199"], "District 510199 does not exist"),
            (["--roles", "officer,king"], "Unknown roles: king"),
            (["--cert-no", "51018420260001"], "already in use"),
        ],
    )
    def test_bad_input_fails_with_one_line(
        self,
        run: CliRunner,
        session: Session,
        world: World,
        change: list[str],
        message: str,
    ) -> None:
        flag = CREATE.index(change[0])
        args = [*CREATE[:flag], *change, *CREATE[flag + 2 :], "--password-stdin"]

        result = invoke(run, args, f"{STRONG}\n")

        assert_clean_failure(result, message)
        assert count(session, Officer) == 5

    def test_a_weak_password_is_refused(
        self, run: CliRunner, session: Session, world: World
    ) -> None:
        result = invoke(run, [*CREATE, "--password-stdin"], "weak\n")

        assert_clean_failure(result, "at least 10 characters")
        assert "密码长度至少 10 位" in result.stderr
        assert count(session, Officer) == 5


class TestUsersResetPassword:
    def test_a_reset_sets_the_password_and_clears_the_lock_out(
        self, run: CliRunner, session: Session, world: World
    ) -> None:
        officer = session.get(Officer, world.officer.id)
        assert officer is not None
        officer.locked_until = utcnow()
        officer.failed_logins = 3
        session.commit()

        result = invoke(run, ["users", "reset-password", "zhang.wei", "--password-stdin"], STRONG)

        assert result.exit_code == 0, result.output
        session.expire_all()
        officer = session.get(Officer, world.officer.id)
        assert officer is not None
        assert (officer.locked_until, officer.failed_logins) == (None, 0)
        assert verify_password(officer.password_hash, STRONG)
        assert events(session, "account.password_reset")[0].payload["via"] == "cli"

    def test_an_unknown_user_fails_cleanly(self, run: CliRunner, world: World) -> None:
        result = invoke(run, ["users", "reset-password", "nobody", "--password-stdin"], STRONG)

        assert_clean_failure(result, "No account has the user name nobody")


class TestTokens:
    def test_a_token_is_printed_once_and_revoked_by_prefix(
        self, run: CliRunner, session: Session, world: World
    ) -> None:
        created = invoke(
            run, ["tokens", "create", "--username", "zhang.wei", "--name", "终端", "--days", "7"]
        )

        assert created.exit_code == 0, created.output
        secret = created.stdout.strip().splitlines()[-1]
        assert actor_from_bearer(session, secret).officer_id == world.officer.id
        session.commit()  # it noted the token's use: release the write before the CLI writes
        row = session.scalars(select(ApiToken)).one()
        # An officer's token carries exactly the officer role's permissions.
        assert row.scopes == sorted(p.value for p in ROLE_PERMISSIONS[Role.OFFICER])
        assert "inspections:inspect" in row.scopes
        revoked = invoke(run, ["tokens", "revoke", row.prefix])
        assert revoked.exit_code == 0, revoked.output
        session.expire_all()
        assert session.get(ApiToken, row.id).revoked_at is not None  # type: ignore[union-attr]
        assert events(session, "account.token_revoked")[0].payload["via"] == "cli"
        assert_clean_failure(invoke(run, ["tokens", "revoke", str(row.id)]), "already revoked")

    def test_scopes_beyond_the_holders_permissions_fail(
        self, run: CliRunner, session: Session, world: World
    ) -> None:
        result = invoke(
            run,
            [
                "tokens",
                "create",
                "--username",
                "zhang.wei",
                "--name",
                "x",
                "--scopes",
                "org:manage",
            ],
        )

        assert_clean_failure(result, "org:manage")
        assert count(session, ApiToken) == 0

    def test_an_unknown_token_fails_cleanly(self, run: CliRunner, world: World) -> None:
        assert_clean_failure(invoke(run, ["tokens", "revoke", "999"]), "No token has the id")

    def test_a_short_prefix_is_refused(
        self, run: CliRunner, session: Session, world: World
    ) -> None:
        assert (
            invoke(run, ["tokens", "create", "--username", "li.na", "--name", "x"]).exit_code == 0
        )

        result = invoke(run, ["tokens", "revoke", "zf_"])

        assert_clean_failure(result, "at least 8 characters")
        assert session.scalars(select(ApiToken.revoked_at)).one() is None
