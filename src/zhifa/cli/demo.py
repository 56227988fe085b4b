"""``zhifa demo load``: load the fictional demo district (idempotent). 加载演示数据.

It applies nothing else: the database must already be migrated (``zhifa db upgrade``).
"""

from __future__ import annotations

import unicodedata

import typer
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError

from zhifa import migrate
from zhifa.catalog.exchange.importer import ImportReport
from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.cli.common import database, fail, unit_of_work
from zhifa.config import get_settings
from zhifa.db import Database
from zhifa.demo.field import load_field_demo
from zhifa.demo.loader import DemoSummary, load_demo
from zhifa.kit.clock import today_local
from zhifa.org.roles import Role
from zhifa.web.i18n import translate

app = typer.Typer(help="Demo district / 演示数据", no_args_is_help=True)


def _head_revision() -> str | None:
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    return script.get_current_head()


def _require_migrated(db: Database) -> None:
    try:
        current = migrate.current(db.engine)
    except OperationalError as exc:
        fail(f"cannot reach the database: {str(exc.orig).splitlines()[0]}")
    head = _head_revision()
    if current != head:
        fail(
            f"the database is not migrated (at {current or 'empty'}, need {head}): "
            "run `zhifa db upgrade` first / 数据库未迁移，请先运行 zhifa db upgrade"
        )


@app.command("load")
def load(
    show_all: bool = typer.Option(
        False, "--all", help="List every demo account, not one per role / 列出全部演示账户"
    ),
) -> None:
    """Load the demo district 崇州市（演示）; running it again adds nothing. 加载演示区县."""
    db = database()
    try:
        _require_migrated(db)
    finally:
        db.dispose()
    with unit_of_work() as session:
        summary = load_demo(session)
    with unit_of_work() as session:
        laws, report = load_sample_catalog(session, summary.district_code)
    with unit_of_work() as session:
        field = load_field_demo(
            session, summary.district_code, today=today_local(get_settings().tz)
        )
    _print_summary(summary)
    _print_catalog(laws, report)
    typer.echo(
        f"field data 现场执法演示数据: subjects +{field.subjects}, "
        f"numbering rules +{field.document_settings}, tasks for today +{field.tasks}, "
        f"complaint categories and deadlines +{field.complaint_setup}"
    )
    _print_accounts(summary, show_all=show_all)


def _print_summary(summary: DemoSummary) -> None:
    typer.echo(f"demo district {summary.district_name} ({summary.district_code}) — fictional data")
    typer.echo(
        f"departments {summary.departments} · units {summary.units} · grids {summary.grids} · "
        f"officers {summary.officers} · created this run {summary.created}"
    )


def _print_catalog(laws: int, report: ImportReport) -> None:
    counts = report.counts
    typer.echo(
        f"sample catalog 示例权责清单: {laws} new statutes, "
        + ", ".join(f"{name} +{tally.created}" for name, tally in counts.items())
        + " (sample data: verify against local rules / 示例数据，须按本地规定核实)"
    )


def _pad(text: str, width: int) -> str:
    """Left-align by display width: CJK characters take two columns in a terminal."""
    wide = sum(1 for c in text if unicodedata.east_asian_width(c) in "WF")
    return text + " " * max(width - len(text) - wide, 1)


def _print_accounts(summary: DemoSummary, *, show_all: bool) -> None:
    shown = [(r, u) for r, u in summary.accounts if show_all or r != Role.OFFICER or u == "officer"]
    typer.echo("")
    typer.echo(_pad("role 角色", 34) + _pad("username 用户名", 18) + "password 密码")
    for role_value, username in shown:
        role = Role(role_value)
        label = f"{translate('zh_CN', role.label)} {role.label}"
        typer.echo(_pad(label, 34) + _pad(username, 18) + summary.password)
    hidden = len(summary.accounts) - len(shown)
    if hidden:
        typer.echo(f"+ {hidden} more field officers (officer02 …), same password; --all lists them")
