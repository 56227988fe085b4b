"""``zhifa users create|reset-password``: open accounts and set passwords. 用户管理.

The rules live in ``zhifa.org.accounts.service`` (shared with the web and the API); these commands
act as the system: their ledger events carry no actor and ``{"via": "cli"}``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from zhifa.cli.common import fail, unit_of_work
from zhifa.config import get_settings
from zhifa.errors import AppError
from zhifa.org.accounts.service import AccountCreate, account_service
from zhifa.web.i18n import translate

app = typer.Typer(help="Accounts / 用户账户", no_args_is_help=True)


@contextmanager
def guarded() -> Iterator[None]:
    """Turn a refusal or an unreachable database into one clear line and a non-zero exit."""
    try:
        yield
    except AppError as exc:
        english = translate("en", exc.message, **exc.params)
        fail(f"{english} / {translate('zh_CN', exc.message, **exc.params)}")
    except OperationalError as exc:
        fail(f"cannot reach the database: {exc.orig}")
    except SQLAlchemyError as exc:
        fail(f"database error: {type(exc).__name__}")


def read_password(from_stdin: bool) -> str:
    """One line from stdin, or a hidden prompt typed twice."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            fail("no password on stdin / 标准输入中没有密码")
        return password
    value: str = typer.prompt(
        "Password / 密码", hide_input=True, confirmation_prompt="Repeat / 再次输入"
    )
    return value


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


@app.command("create")
def create(
    username: str = typer.Option(..., help="Login name / 登录名"),
    name: str = typer.Option(..., help="Full name / 姓名"),
    district: str = typer.Option(..., help="District code (GB/T 2260) / 区划代码"),
    roles: str = typer.Option(..., help="Comma-separated roles, e.g. officer,squad_leader / 角色"),
    scope: str = typer.Option("squad", help="squad | brigade | district | city / 数据范围"),
    unit: str | None = typer.Option(None, help="Unit code / 所属单位代码"),
    cert_no: str | None = typer.Option(None, "--cert-no", help="Enforcement cert no. / 执法证号"),
    phone: str = typer.Option("", help="Phone / 电话"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin / 从标准输入读取密码"
    ),
) -> None:
    """Create an account. 创建用户账户."""
    password = read_password(password_stdin)
    data = AccountCreate(
        username=username,
        name=name,
        district_code=district,
        roles=_split(roles),
        scope=scope,
        password=password,
        unit_code=unit,
        cert_no=cert_no,
        phone=phone,
    )
    with guarded(), unit_of_work() as session:
        officer = account_service.create_account(session, None, settings=get_settings(), data=data)
        typer.echo(
            f"created {officer.username} (id {officer.id}, district {officer.district_code})"
        )


@app.command("reset-password")
def reset_password(
    username: str = typer.Argument(..., help="Login name / 登录名"),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from stdin / 从标准输入读取密码"
    ),
) -> None:
    """Set a new password; clears the lock-out and ends web sessions. 重置密码."""
    password = read_password(password_stdin)
    with guarded(), unit_of_work() as session:
        officer = account_service.get_officer_by_username(session, username=username)
        account_service.reset_password(
            session, None, settings=get_settings(), officer=officer, new=password
        )
        typer.echo(f"password reset for {officer.username}")
