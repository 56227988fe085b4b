"""``zhifa ledger keygen|verifier-key|checkpoint``: the log's key file and signing from the CLI."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from tests.ledger.tamper_kit import cli_runner, record_events, zhifa
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.ledger import checkpoints, note, store


@pytest.fixture
def runner(
    monkeypatch: pytest.MonkeyPatch, database_url: str, settings: Settings
) -> Iterator[CliRunner]:
    yield from cli_runner(monkeypatch, database_url, settings)


class TestKeygen:
    def test_writes_a_private_key_file_and_prints_the_verifier_key(
        self, runner: CliRunner, settings: Settings
    ) -> None:
        result = zhifa(runner, "ledger", "keygen")
        assert result.exit_code == 0, result.output
        verifier = note.parse_verifier(result.stdout.strip())
        assert (verifier.name, verifier.key_type) == (settings.ledger_origin, note.ED25519)
        path = settings.ledger_key_path
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        assert path.read_text().startswith(f"PRIVATE+KEY+{settings.ledger_origin}+")

    def test_refuses_to_overwrite_an_existing_key(
        self, runner: CliRunner, settings: Settings
    ) -> None:
        zhifa(runner, "ledger", "keygen")
        before = settings.ledger_key_path.read_text()
        result = zhifa(runner, "ledger", "keygen")
        assert result.exit_code == 1
        assert "never overwritten" in result.output
        assert settings.ledger_key_path.read_text() == before

    def test_if_missing_keeps_the_key_and_prints_its_verifier(
        self, runner: CliRunner, settings: Settings
    ) -> None:
        first = zhifa(runner, "ledger", "keygen", "--if-missing").stdout.strip()
        before = settings.ledger_key_path.read_text()
        again = zhifa(runner, "ledger", "keygen", "--if-missing")
        assert again.exit_code == 0, again.output
        assert again.stdout.strip() == first
        assert settings.ledger_key_path.read_text() == before


class TestVerifierKey:
    def test_prints_the_key_that_checks_the_log_signatures(
        self, runner: CliRunner, settings: Settings
    ) -> None:
        printed = zhifa(runner, "ledger", "keygen").stdout.strip()
        result = zhifa(runner, "ledger", "verifier-key")
        assert (result.exit_code, result.stdout.strip()) == (0, printed)

    def test_without_a_key_says_to_run_keygen(self, runner: CliRunner) -> None:
        result = zhifa(runner, "ledger", "verifier-key")
        assert result.exit_code == 1
        assert "zhifa ledger keygen" in result.output


class TestCheckpoint:
    def test_an_empty_log_has_nothing_to_sign(self, runner: CliRunner) -> None:
        zhifa(runner, "ledger", "keygen")
        result = zhifa(runner, "ledger", "checkpoint")
        assert (result.exit_code, result.stdout.strip()) == (
            0,
            "the log is empty: nothing to sign / 账本为空",
        )

    def test_signs_when_the_log_grew_and_not_again_until_it_grows(
        self, runner: CliRunner, db: Database, settings: Settings
    ) -> None:
        verifier_key = zhifa(runner, "ledger", "keygen").stdout.strip()
        record_events(db, 3)
        result = zhifa(runner, "ledger", "checkpoint")
        assert result.exit_code == 0, result.output
        with db.sessionmaker() as session:
            root = store.root(session, 3)
            latest = checkpoints.latest(session)
        assert result.stdout.strip() == f"size 3 root {root.hex()} signed"
        assert latest is not None
        body, signers = note.open_note(latest.note, [verifier_key])
        assert (note.Checkpoint.parse_body(body).size, signers) == (3, [settings.ledger_origin])
        again = zhifa(runner, "ledger", "checkpoint")
        assert again.stdout.strip() == f"size 3 root {root.hex()} unchanged (already signed)"

    def test_without_a_key_it_fails_with_one_line(self, runner: CliRunner, db: Database) -> None:
        record_events(db, 1)
        result = zhifa(runner, "ledger", "checkpoint")
        assert result.exit_code == 1
        assert result.output.startswith("error: no log key at ")


class TestVerifyExitCodes:
    def test_a_failed_verification_exits_one_with_a_json_report(
        self, runner: CliRunner, db: Database
    ) -> None:
        zhifa(runner, "ledger", "keygen")
        record_events(db, 2)
        zhifa(runner, "ledger", "checkpoint")
        stranger = note.generate_signer("zhifa.local/ledger")[1]
        result = zhifa(runner, "ledger", "verify", "--json", "--log-key", stranger)
        assert result.exit_code == 1
        assert '"ok": false' in result.stdout
        assert '"first_problem": "checkpoint 2: not signed by the log key' in result.stdout

    def test_a_malformed_key_exits_two(self, runner: CliRunner) -> None:
        result = zhifa(runner, "ledger", "verify", "--log-key", "not-a-key")
        assert result.exit_code == 2
        assert result.output.startswith("error: bad key: ")
