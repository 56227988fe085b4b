"""The five tamper scenarios of issue 3, each caught by ``zhifa ledger verify`` with a non-zero exit
that names the culprit — from the database and from an export taken after the tampering.

The administrator works in raw SQL with the append-only triggers dropped: (1) a business row
edited, inserted or deleted; (2) an entry's body edited; (3) body and leaf hash edited together;
(4) the whole tree rebuilt after an edit and re-signed; (5) the tail truncated or an old backup
restored. (4) and (5) need something the forger cannot rewrite: the log's published key, or a
checkpoint remembered earlier (the witness's, in ``test_witness.py``).
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.ledger.tamper_kit import (
    Log,
    build_log,
    cli_runner,
    current_state,
    entry_body,
    rebuild_everything,
    record_events,
    set_entry,
    sign,
    sql,
    triggers_dropped,
    truncate,
    write_note,
    zhifa,
)
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.ledger import checkpoints
from zhifa.models.org import Officer

SOURCES = ["database", "export"]


@pytest.fixture
def runner(
    monkeypatch: pytest.MonkeyPatch, database_url: str, settings: Settings
) -> Iterator[CliRunner]:
    yield from cli_runner(monkeypatch, database_url, settings)


@pytest.fixture
def log(db: Database, settings: Settings) -> Log:
    return build_log(db, settings)


@pytest.fixture(params=SOURCES)
def source(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def verify(runner: CliRunner, source: str, tmp_path: Path, log: Log, *extra: str) -> Result:
    """``zhifa ledger verify`` on the database, or on an export of it made now."""
    if source == "database":
        return zhifa(runner, "ledger", "verify", "--log-key", log.verifier_key, *extra)
    target = tmp_path / f"export-{len(list(tmp_path.glob('export-*')))}"
    assert zhifa(runner, "ledger", "export", str(target)).exit_code == 0
    args = ("--export", str(target), "--log-key", log.verifier_key, *extra)
    return zhifa(runner, "ledger", "verify", *args)


def first_problem(result: Result) -> str:
    assert result.exit_code == 1, result.output
    return next(line for line in result.stdout.splitlines() if line.startswith("first "))[14:]


def problems(result: Result) -> list[str]:
    lines = [line[14:] for line in result.stdout.splitlines() if line.startswith("problem ")]
    return [line.split("] ", 1)[1] for line in lines if line.startswith("[")]


def checkpoint_note(db: Database, size: int) -> str:
    with db.sessionmaker() as session:
        row = checkpoints.at_size(session, size)
        assert row is not None
        return row.note


class TestTheCleanLogPasses:
    def test_both_sources_verify_before_anyone_tampers(
        self, runner: CliRunner, source: str, tmp_path: Path, log: Log
    ) -> None:
        assert verify(runner, source, tmp_path, log).exit_code == 0


class TestScenario1BusinessRowEditedBySql:
    def test_an_officers_cert_no_edited_by_hand_is_named(
        self, runner: CliRunner, db: Database, source: str, tmp_path: Path, log: Log
    ) -> None:
        with triggers_dropped(db):
            sql(
                db,
                "UPDATE officer SET cert_no = 'CD-FORGED-0001' WHERE id = :id",
                id=log.officer_id,
            )
            result = verify(runner, source, tmp_path, log)
        first = first_problem(result)
        assert first.startswith(
            f"officer {log.officer_id}: differs from entry {log.officer_updated}"
        )
        assert "cert_no: ledger " in first
        assert first.endswith(', row "CD-FORGED-0001"')

    def test_a_grids_name_edited_by_hand_is_named(
        self, runner: CliRunner, db: Database, source: str, tmp_path: Path, log: Log
    ) -> None:
        with triggers_dropped(db):
            sql(db, "UPDATE grid SET name = '无人网格' WHERE id = :id", id=log.grid_id)
            result = verify(runner, source, tmp_path, log)
        first = first_problem(result)
        assert first.startswith(f"grid {log.grid_id}: differs from entry")
        assert 'name: ledger "街子古镇网格（调整）", row "无人网格"' in first

    def test_a_row_inserted_behind_the_ledgers_back_is_named(
        self, runner: CliRunner, db: Database, source: str, tmp_path: Path, log: Log
    ) -> None:
        with triggers_dropped(db):
            sql(
                db,
                "INSERT INTO department (id, district_code, code, name, active, created_at, "
                "updated_at) VALUES (9001, '510184', 'ghost', '幽灵部门', true, :t, :t)",
                t="2026-11-28 12:00:00",
            )
            result = verify(runner, source, tmp_path, log)
        assert first_problem(result) == (
            "department 9001: no entry in the ledger records this row: inserted behind its back"
        )

    def test_a_row_deleted_behind_the_ledgers_back_is_named(
        self, runner: CliRunner, db: Database, source: str, tmp_path: Path, log: Log
    ) -> None:
        with triggers_dropped(db):
            sql(db, "DELETE FROM grid WHERE id = :id", id=log.grid_id)
            result = verify(runner, source, tmp_path, log)
        first = first_problem(result)
        assert first.startswith(f"grid {log.grid_id}: entry ")
        assert first.endswith("but it is gone: deleted behind the ledger's back")


class TestScenario2EntryBodyEdited:
    def test_the_edited_entry_is_named_by_its_index(
        self, runner: CliRunner, db: Database, source: str, tmp_path: Path, log: Log
    ) -> None:
        envelope = entry_body(db, log.officer_updated)
        envelope["payload"]["state"]["phone"] = "110"
        with triggers_dropped(db):
            set_entry(db, log.officer_updated, envelope, leaf_too=False)
            result = verify(runner, source, tmp_path, log)
        first = first_problem(result)
        assert first.startswith(f"entry {log.officer_updated}: the body hashes to ")
        assert "but the stored leaf hash is" in first
        assert any(p.startswith(f"checkpoint {log.size_b}: signed root") for p in problems(result))


class TestScenario3BodyAndLeafHashEditedTogether:
    def test_an_edit_in_the_last_batch_is_pinned_between_two_checkpoints(
        self, runner: CliRunner, db: Database, source: str, tmp_path: Path, log: Log
    ) -> None:
        """The forger also edits the row to match, so only the tree can tell."""
        envelope = entry_body(db, log.officer_updated)
        envelope["payload"]["state"]["phone"] = "110"
        with triggers_dropped(db):
            set_entry(db, log.officer_updated, envelope, leaf_too=True)
            sql(db, "UPDATE officer SET phone = '110' WHERE id = :id", id=log.officer_id)
            result = verify(runner, source, tmp_path, log)
        assert first_problem(result).startswith(f"checkpoint {log.size_b}: signed root ")
        assert f"an entry in {log.size_a}–{log.size_b - 1} was altered" in first_problem(result)
        if source == "database":
            pair = log.officer_updated // 2 * 2
            node = f"node (1, {pair // 2}): the stored hash differs from entries {pair}–{pair + 1}"
            assert any(p.startswith(node) for p in problems(result))

    def test_an_edit_with_a_later_entry_about_the_subject_is_named_by_its_chain(
        self, runner: CliRunner, db: Database, source: str, tmp_path: Path, log: Log
    ) -> None:
        envelope = entry_body(db, log.officer_created)
        envelope["payload"]["state"]["cert_no"] = "CD-FORGED-0002"
        with triggers_dropped(db):
            set_entry(db, log.officer_created, envelope, leaf_too=True)
            result = verify(runner, source, tmp_path, log)
        first = first_problem(result)
        assert first.startswith(f"entry {log.officer_updated}: prev is ")
        assert f"(entry {log.officer_created}) hashes to " in first
        assert first.endswith(
            f"entry {log.officer_created} was altered (or entry {log.officer_updated} was)"
        )


class TestScenario4WholeTreeRebuilt:
    def _forge(self, db: Database, log: Log) -> None:
        """Change the officer's certificate in its first entry and the row, then rebuild all."""
        envelope = entry_body(db, log.officer_created)
        envelope["payload"]["state"]["cert_no"] = "CD-FORGED-0003"
        set_entry(db, log.officer_created, envelope, leaf_too=True)
        sql(db, "UPDATE officer SET cert_no = 'CD-FORGED-0003' WHERE id = :id", id=log.officer_id)
        rebuild_everything(db)

    def test_re_signed_with_a_new_key_the_published_key_rejects_it(
        self,
        runner: CliRunner,
        db: Database,
        settings: Settings,
        source: str,
        tmp_path: Path,
        log: Log,
    ) -> None:
        with triggers_dropped(db):
            self._forge(db, log)
            settings.ledger_key_path.unlink()
            checkpoints.keygen(settings.ledger_key_path, settings.ledger_origin)
            assert sign(db, settings) == log.size_b
            result = verify(runner, source, tmp_path, log)
        assert current_state(db, Officer, log.officer_id)["cert_no"] == "CD-FORGED-0003"
        first = first_problem(result)
        assert first.startswith(f"checkpoint {log.size_b}: not signed by the log key ")
        assert "no known key signed this note" in first

    def test_re_signed_with_the_same_key_a_remembered_checkpoint_rejects_it(
        self,
        runner: CliRunner,
        db: Database,
        settings: Settings,
        source: str,
        tmp_path: Path,
        log: Log,
    ) -> None:
        remembered = write_note(tmp_path / "checkpoint.note", checkpoint_note(db, log.size_b))
        with triggers_dropped(db):
            self._forge(db, log)
            assert sign(db, settings) == log.size_b
            result = verify(runner, source, tmp_path, log, "--checkpoint", str(remembered))
        first = first_problem(result)
        assert first.startswith(
            f"remembered checkpoint ({remembered}) of size {log.size_b}: signed root "
        )
        assert "was altered (or the tree rebuilt)" in first


class TestScenario5TailTruncatedOrBackupRestored:
    def test_a_truncated_tail_is_caught_by_a_remembered_checkpoint(
        self,
        runner: CliRunner,
        db: Database,
        settings: Settings,
        source: str,
        tmp_path: Path,
        log: Log,
    ) -> None:
        record_events(db, 5)
        size_c = sign(db, settings)
        remembered = write_note(tmp_path / "checkpoint.note", checkpoint_note(db, size_c))
        with triggers_dropped(db):
            truncate(db, log.size_b)
            result = verify(runner, source, tmp_path, log, "--checkpoint", str(remembered))
        assert first_problem(result) == (
            f"remembered checkpoint ({remembered}) of size {size_c}: signed for size {size_c}, "
            f"but the log holds only {log.size_b} entries: its tail was truncated or an older "
            "backup restored"
        )

    def test_an_old_sqlite_backup_restored_is_caught_by_a_remembered_checkpoint(
        self,
        runner: CliRunner,
        db: Database,
        settings: Settings,
        source: str,
        tmp_path: Path,
        log: Log,
    ) -> None:
        if not db.is_sqlite:
            pytest.skip("a file backup is SQLite's; PostgreSQL's truncation case covers the rest")
        path = Path(str(db.engine.url.database))
        backup = tmp_path / "backup.db"
        with closing(sqlite3.connect(path)) as live, closing(sqlite3.connect(backup)) as copy:
            live.backup(copy)
        record_events(db, 5)
        size_c = sign(db, settings)
        remembered = write_note(tmp_path / "checkpoint.note", checkpoint_note(db, size_c))
        db.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(backup, path)
        # On its own the restored database is a consistent, older log: only memory catches it.
        assert verify(runner, source, tmp_path, log).exit_code == 0
        result = verify(runner, source, tmp_path, log, "--checkpoint", str(remembered))
        assert f"signed for size {size_c}, but the log holds only {log.size_b}" in (
            first_problem(result)
        )
