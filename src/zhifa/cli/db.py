"""``zhifa db upgrade|current``: apply and show migrations. 数据库迁移."""

from __future__ import annotations

import typer
from sqlalchemy.exc import OperationalError

from zhifa import migrate
from zhifa.cli.common import database, fail

app = typer.Typer(help="Database migrations / 数据库迁移", no_args_is_help=True)


@app.command("upgrade")
def upgrade(revision: str = typer.Argument("head", help="Target revision / 目标版本")) -> None:
    """Apply migrations up to REVISION (default: the latest). 升级数据库结构."""
    db = database()
    try:
        migrate.upgrade(db.engine, revision)
        typer.echo(f"database at {migrate.current(db.engine)} ({db.engine.url.get_backend_name()})")
    except OperationalError as exc:
        fail(f"cannot reach the database: {exc.orig}")
    finally:
        db.dispose()


@app.command("current")
def current() -> None:
    """Show the database's migration revision. 显示当前数据库版本."""
    db = database()
    try:
        typer.echo(migrate.current(db.engine) or "empty (no migrations applied)")
    except OperationalError as exc:
        fail(f"cannot reach the database: {exc.orig}")
    finally:
        db.dispose()
