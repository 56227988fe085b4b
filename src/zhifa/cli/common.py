"""Shared pieces of the CLI: settings, database, a unit of work, failing with one clear line."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from sqlalchemy.orm import Session

from zhifa.config import get_settings
from zhifa.db import Database


def database() -> Database:
    settings = get_settings()
    settings.prepare_data_dir()
    return Database(settings.database_url)


@contextmanager
def unit_of_work() -> Iterator[Session]:
    db = database()
    try:
        with db.unit_of_work() as session:
            yield session
    finally:
        db.dispose()


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(1)
