"""``zhifa tokens create|revoke``: API tokens for devices and integrations. API 令牌.

The secret is printed once, on creation; only its digest is stored.
"""

from __future__ import annotations

import typer

from zhifa.cli.common import unit_of_work
from zhifa.cli.users import guarded
from zhifa.config import get_settings
from zhifa.kit.clock import local
from zhifa.org.accounts.service import account_service

app = typer.Typer(help="API tokens / API 令牌", no_args_is_help=True)


@app.command("create")
def create(
    username: str = typer.Option(..., help="Holder's login name / 持有人登录名"),
    name: str = typer.Option(..., help="What the token is for / 用途"),
    scopes: str | None = typer.Option(
        None, help="Comma-separated, default all the holder's / 权限范围，逗号分隔"
    ),
    days: int | None = typer.Option(None, help="Validity in days / 有效天数"),
) -> None:
    """Create a token and print its secret once. 创建令牌（仅显示一次）."""
    wanted = [s.strip() for s in scopes.split(",")] if scopes is not None else None
    settings = get_settings()
    with guarded(), unit_of_work() as session:
        holder = account_service.get_officer_by_username(session, username=username)
        issued = account_service.create_token(
            session, None, settings=settings, holder=holder, name=name, scopes=wanted, days=days
        )
        until = local(issued.row.expires_at, settings.tz).strftime("%Y-%m-%d %H:%M")
        typer.echo(f"token {issued.row.id} for {holder.username}, valid until {until}")
        typer.echo(f"scopes: {','.join(issued.row.scopes)}")
        typer.echo(issued.secret)


@app.command("revoke")
def revoke(key: str = typer.Argument(..., help="Token id or prefix / 令牌编号或前缀")) -> None:
    """Revoke a token. 吊销令牌."""
    with guarded(), unit_of_work() as session:
        row = account_service.revoke_token_by_key(session, key=key)
        typer.echo(f"revoked token {row.id} ({row.prefix}…, {row.name})")
