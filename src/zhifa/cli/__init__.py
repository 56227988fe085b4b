"""The ``zhifa`` command line (Typer). 执法平台命令行.

Every command exits non-zero with one clear line on stderr when it fails.
"""

from __future__ import annotations

import sys

import typer

from zhifa.cli import catalog as catalog_cli
from zhifa.cli import complaints as complaints_cli
from zhifa.cli import db as db_cli
from zhifa.cli import demo as demo_cli
from zhifa.cli import districts as districts_cli
from zhifa.cli import integrations as integrations_cli
from zhifa.cli import ledger as ledger_cli
from zhifa.cli import serve as serve_cli
from zhifa.cli import tokens as tokens_cli
from zhifa.cli import users as users_cli
from zhifa.cli import witness as witness_cli
from zhifa.errors import AppError
from zhifa.web.i18n import translate

app = typer.Typer(
    help="zhifa 执法: comprehensive administrative law-enforcement platform / 综合行政执法平台",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.command("serve")(serve_cli.serve)
app.add_typer(catalog_cli.app, name="catalog")
app.add_typer(complaints_cli.app, name="complaints")
app.add_typer(db_cli.app, name="db")
app.add_typer(demo_cli.app, name="demo")
app.add_typer(districts_cli.app, name="districts")
app.add_typer(integrations_cli.app, name="integrations")
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(witness_cli.app, name="witness")
app.add_typer(users_cli.app, name="users")
app.add_typer(tokens_cli.app, name="tokens")


def main() -> None:
    try:
        app()
    except AppError as exc:
        message = translate("en", exc.message, **exc.params)
        print(
            f"error: {message} / {translate('zh_CN', exc.message, **exc.params)}", file=sys.stderr
        )
        sys.exit(2)
