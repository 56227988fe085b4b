"""``zhifa integrations list|deliver|poll|sign``: the outbox and upstream polling by hand. 平台对接.

``deliver`` and ``poll`` run one round of the app's background jobs now (what the app does every
few seconds when ``background_jobs`` is on); ``sign`` prints a sample signed request for the city
platform's developers to check their verification against.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from zhifa.cli.common import database
from zhifa.cli.users import guarded
from zhifa.config import get_settings
from zhifa.integrations import client, outbox, poller
from zhifa.integrations import repository as repo
from zhifa.integrations.schemas import STUCK_AFTER_ATTEMPTS
from zhifa.kit.clock import local
from zhifa.models.integrations import Integration

app = typer.Typer(help="City platform integrations / 平台对接", no_args_is_help=True)


@app.command("list")
def list_integrations() -> None:
    """Every integration with its waiting and stuck messages. 列出对接平台."""
    settings = get_settings()
    db = database()
    try:
        with guarded(), db.unit_of_work() as session:
            rows = list(
                session.query(Integration).order_by(Integration.district_code, Integration.id)
            )
            summary = repo.outbox_summary(session, [r.id for r in rows], STUCK_AFTER_ATTEMPTS)
            for row in rows:
                counts = summary.get(row.id, {"pending": 0, "stuck": 0})
                polled = (
                    local(row.last_polled_at, settings.tz).strftime("%Y-%m-%d %H:%M")
                    if row.last_polled_at
                    else "-"
                )
                state = "active" if row.active else "inactive"
                typer.echo(
                    f"{row.id}\t{row.district_code}\t{row.code}\t{row.kind}\t{state}\t"
                    f"pending {counts['pending']}\tstuck {counts['stuck']}\t"
                    f"polled {polled}\t{row.endpoint_url}"
                )
    finally:
        db.dispose()


@app.command("deliver")
def deliver() -> None:
    """Send every outbox message that is due now. 立即推送到期消息."""
    settings = get_settings()
    db = database()
    try:
        with guarded():
            typer.echo(f"delivered {outbox.deliver_due(db, settings)}")
    finally:
        db.dispose()


@app.command("poll")
def poll() -> None:
    """Poll every upstream Open311 endpoint that is due now. 立即拉取上游工单."""
    settings = get_settings()
    db = database()
    try:
        with guarded():
            typer.echo(f"taken in {poller.poll_due(db, settings)}")
    finally:
        db.dispose()


@app.command("sign")
def sign(
    body_file: Path = typer.Argument(..., help="The request body / 请求体文件", exists=True),
    secret: str = typer.Option(..., prompt=True, hide_input=True, help="Shared secret / 共享密钥"),
    timestamp: str | None = typer.Option(None, help="Unix seconds (default now) / 时间戳"),
) -> None:
    """Print the signature headers of a webhook body. 计算回调签名."""
    stamp = timestamp or str(int(time.time()))
    body = body_file.read_bytes()
    typer.echo(f"X-Zhifa-Timestamp: {stamp}")
    typer.echo(f"X-Zhifa-Signature: {client.signature(secret, stamp, body)}")
