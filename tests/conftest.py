"""Test fixtures: a real database per test (SQLite by default, PostgreSQL when
``ZHIFA_TEST_DATABASE_URL`` is set), the real app, and a client speaking to it.

SQLite: the schema is migrated once into a template file, copied for each test.
PostgreSQL: the schema is migrated once; every table is truncated after each test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.orm import Session

from zhifa import migrate
from zhifa.app import create_app
from zhifa.config import Settings
from zhifa.db import Database, make_engine
from zhifa.models import Base

PG_URL = os.environ.get("ZHIFA_TEST_DATABASE_URL", "")


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database: a file path (SQLite) or the PostgreSQL URL."""
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return str(path)


def _truncate_all(url: str) -> None:
    engine = make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        # The migration seeds the ledger's sequencer row; an emptied database needs it back.
        conn.execute(text("INSERT INTO ledger_head (id, size) VALUES (1, 0)"))
    engine.dispose()


@pytest.fixture
def database_url(schema_template: str, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        yield PG_URL
        _truncate_all(PG_URL)
        return
    path = tmp_path / "zhifa.db"
    shutil.copyfile(schema_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session for arranging data and checking outcomes; commit what the app must see."""
    with db.sessionmaker() as s:
        yield s


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "var",
        secret_key=SecretStr("test-secret-not-for-production"),
        cookie_secure=True,
        # The SLA sweep, the outbox worker and upstream polling are driven by the tests.
        background_jobs=False,
    )


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    # https: the session cookie is Secure, and a client only sends it back over https.
    with TestClient(app, base_url="https://testserver") as c:
        yield c
