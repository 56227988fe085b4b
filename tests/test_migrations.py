"""Migrations: an empty database upgrades to head through the CLI, and the migrated schema matches
the models exactly (Alembic autogenerate finds nothing to do).

SQLite: a fresh file. PostgreSQL (``ZHIFA_TEST_DATABASE_URL``): a fresh schema of its own, selected
through ``search_path``, so the schema the other tests share is left alone.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from zhifa import migrate
from zhifa.db import make_engine
from zhifa.models import Base

PG_URL = os.environ.get("ZHIFA_TEST_DATABASE_URL", "")
ZHIFA = Path(sys.executable).parent / "zhifa"


def _postgres_schema_url(base_url: str, schema: str) -> str:
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    schema = f"migration_test_{secrets.token_hex(4)}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _postgres_schema_url(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _zhifa(url: str, data_dir: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIFA_")}
    env |= {"ZHIFA_DATABASE_URL": url, "ZHIFA_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        [str(ZHIFA), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()
    assert head is not None
    return head


class TestUpgradeFromEmpty:
    def test_the_cli_upgrades_an_empty_database_to_head(
        self, empty_database_url: str, tmp_path: Path
    ) -> None:
        head = _head(empty_database_url)
        assert _zhifa(empty_database_url, tmp_path / "var", "db", "current") == (
            "empty (no migrations applied)"
        )

        _zhifa(empty_database_url, tmp_path / "var", "db", "upgrade")

        assert _zhifa(empty_database_url, tmp_path / "var", "db", "current") == head

    def test_every_model_table_exists_after_the_upgrade(self, empty_database_url: str) -> None:
        engine = make_engine(empty_database_url)
        migrate.upgrade(engine)
        tables = set(inspect(engine).get_table_names())
        engine.dispose()

        assert set(Base.metadata.tables) <= tables
        assert "alembic_version" in tables

    def test_upgrading_twice_changes_nothing(self, empty_database_url: str) -> None:
        engine = make_engine(empty_database_url)
        migrate.upgrade(engine)
        migrate.upgrade(engine)

        assert migrate.current(engine) == _head(empty_database_url)
        engine.dispose()


class TestModelsAndMigrationsAgree:
    def test_autogenerate_finds_no_difference_after_the_upgrade(
        self, empty_database_url: str
    ) -> None:
        engine = make_engine(empty_database_url)
        migrate.upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        engine.dispose()

        assert differences == [], "models and migrations disagree; run `make migration-initial`"
