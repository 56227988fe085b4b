"""The seed's complaint, as a test: an administrator who edits a benchmark in the database (3,000
yuan per minor → 2,000) or a power's legal basis behind the application's back is caught by
``zhifa ledger verify``, which names the row. The version tables also refuse the edit outright
unless their triggers are dropped first."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from tests.catalog.helpers import CAFE, benchmark_in, cafe_power, per_minor_spec, world
from tests.ledger.tamper_kit import cli_runner, sign, zhifa
from zhifa.catalog.service import benchmark_service, power_service
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.ledger import checkpoints
from zhifa.ledger.attest import attest_rows
from zhifa.models.catalog import BenchmarkVersion, PowerVersion

CODE = "CF-WH-001"


@pytest.fixture
def runner(
    monkeypatch: pytest.MonkeyPatch, database_url: str, settings: Settings
) -> Iterator[CliRunner]:
    yield from cli_runner(monkeypatch, database_url, settings)


@pytest.fixture
def log_key(db: Database, settings: Settings) -> str:
    """A signed log holding the café power and its 3,000-yuan-per-minor benchmark."""
    verifier_key = checkpoints.keygen(settings.ledger_key_path, settings.ledger_origin)
    with db.unit_of_work() as session:
        author = world(session, "510184", CAFE)
        power_service.put(session, author, code=CODE, data=cafe_power())
        benchmark_service.put(
            session, author, code=CODE, data=benchmark_in(per_minor_spec(3000), date(2022, 5, 1))
        )
    with db.unit_of_work() as session:
        attest_rows(session)  # the test world's org rows were built without ledger events
    sign(db, settings)
    return verifier_key


@contextmanager
def trigger_dropped(db: Database, table: str) -> Iterator[None]:
    """The administrator's first move: drop the table's append-only trigger (put back after)."""
    dialect = db.engine.dialect.name
    on = f" ON {table}" if dialect == "postgresql" else ""
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update{on}"))
    try:
        yield
    finally:
        with db.engine.begin() as conn:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update{on}"))
            if dialect == "postgresql":
                conn.execute(
                    text(
                        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW "
                        "EXECUTE FUNCTION zhifa_append_only()"
                    )
                )
            else:
                conn.execute(
                    text(
                        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
                        f"SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
                    )
                )


def verify(runner: CliRunner, key: str) -> tuple[int, str]:
    result = zhifa(runner, "ledger", "verify", "--log-key", key)
    return result.exit_code, result.output


class TestBenchmarkEditedBehindTheApplicationsBack:
    def test_the_untouched_catalog_verifies(self, runner: CliRunner, log_key: str) -> None:
        code, output = verify(runner, log_key)
        assert code == 0, output

    def test_3000_per_minor_lowered_to_2000_is_caught_and_named(
        self, runner: CliRunner, db: Database, log_key: str
    ) -> None:
        with db.sessionmaker() as session:
            row = session.scalars(select(BenchmarkVersion)).one()
            spec = dict(row.spec)
        tier = spec["tiers"][0]["organisation"]
        tier["min_fen"] = tier["max_fen"] = 200_000
        with trigger_dropped(db, "benchmark_version"), db.engine.begin() as conn:
            conn.execute(
                text("UPDATE benchmark_version SET spec = :spec WHERE id = :id"),
                {"spec": json.dumps(spec), "id": row.id},
            )
        code, output = verify(runner, log_key)
        assert code == 1
        assert f"benchmark_version {row.id}: differs from entry" in output
        assert "spec" in output

    def test_a_changed_legal_basis_is_caught_and_named(
        self, runner: CliRunner, db: Database, log_key: str
    ) -> None:
        with db.sessionmaker() as session:
            row = session.scalars(select(PowerVersion)).one()
        with trigger_dropped(db, "power_version"), db.engine.begin() as conn:
            conn.execute(
                text("UPDATE power_version SET penalty_text = '警告' WHERE id = :id"),
                {"id": row.id},
            )
        code, output = verify(runner, log_key)
        assert code == 1
        assert f"power_version {row.id}: differs from entry" in output
