"""``zhifa witness``: an independent witness run against the real app, served by uvicorn on
127.0.0.1, over the public ledger API. It cosigns a log that only grows, and refuses — exit 1,
naming the sizes, state untouched — a key swap, a fork, an inconsistent extension and a shrink:
tamper scenarios (4) and (5) seen by a witness holding an earlier checkpoint.

The server runs without its lifespan, so the background checkpoint signer stays off and the tests
decide when a checkpoint is signed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from click.testing import Result
from typer.testing import CliRunner

from tests.ledger.tamper_kit import (
    Log,
    build_log,
    entry_body,
    rebuild_everything,
    record_events,
    set_entry,
    sign,
    triggers_dropped,
    truncate,
)
from zhifa.app import create_app
from zhifa.cli import app as cli_app
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.ledger import checkpoints, note, witness
from zhifa.ledger.audit import AuditKeys, audit
from zhifa.ledger.audit_sources import DatabaseSource

WITNESS = "jiwei.example/witness"


@pytest.fixture
def witness_key(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "witness" / "witness.key"
    return path, witness.keygen(WITNESS, path)


@pytest.fixture
def log_settings(settings: Settings, witness_key: tuple[Path, str]) -> Settings:
    return settings.model_copy(update={"ledger_witnesses": [witness_key[1]]})


@pytest.fixture
def log(db: Database, log_settings: Settings) -> Log:
    return build_log(db, log_settings)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def server(db: Database, log_settings: Settings, log: Log) -> Iterator[str]:
    port = _free_port()
    app = create_app(log_settings, db)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 20 s"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "witness" / "state"


def run_witness(server: str, state: Path, key: Path, *extra: str) -> Result:
    args = ["witness", "run", "--log", server, "--state", str(state), "--key", str(key), *extra]
    return CliRunner().invoke(cli_app, args)


def _snapshot(state: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(state.iterdir())}


def _refused(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.output.startswith("REFUSED: ")
    return result.output


class TestKeygen:
    def test_prints_a_witness_verifier_key_and_never_overwrites_it(self, tmp_path: Path) -> None:
        path = tmp_path / "w.key"
        runner = CliRunner()
        result = runner.invoke(
            cli_app, ["witness", "keygen", "--name", WITNESS, "--out", str(path)]
        )
        assert result.exit_code == 0, result.output
        verifier = note.parse_verifier(result.stdout.strip())
        assert (verifier.name, verifier.key_type) == (WITNESS, note.COSIGNATURE_V1)
        assert oct(path.stat().st_mode & 0o777) == "0o600"
        again = runner.invoke(cli_app, ["witness", "keygen", "--name", WITNESS, "--out", str(path)])
        assert again.exit_code == 2
        assert "never overwritten" in again.output


class TestCosigning:
    def test_the_first_run_trusts_the_key_and_the_log_keeps_a_valid_cosignature(
        self,
        server: str,
        state: Path,
        witness_key: tuple[Path, str],
        db: Database,
        log: Log,
    ) -> None:
        result = run_witness(server, state, witness_key[0])
        assert result.exit_code == 0, result.output
        assert "trusting the log key" in result.stdout
        assert f"size {log.size_b} root " in result.stdout
        assert "first checkpoint seen" in result.stdout
        assert (state / "log.vkey").read_text().strip() == log.verifier_key
        with db.sessionmaker() as session:
            [kept] = checkpoints.cosignatures(session, log.size_b)
        with db.sessionmaker() as session:
            report = audit(
                DatabaseSource(session, "db"), AuditKeys.parse(log.verifier_key, [witness_key[1]])
            )
        assert kept.witness == WITNESS
        assert (report.ok, report.cosignatures) == (True, 1)

    def test_a_grown_log_is_cosigned_after_its_consistency_proof_checks_out(
        self,
        server: str,
        state: Path,
        witness_key: tuple[Path, str],
        db: Database,
        log_settings: Settings,
        log: Log,
    ) -> None:
        assert run_witness(server, state, witness_key[0]).exit_code == 0
        record_events(db, 7)
        size_c = sign(db, log_settings)
        result = run_witness(server, state, witness_key[0], "--log-key", log.verifier_key)
        assert result.exit_code == 0, result.output
        assert f"size {size_c} root " in result.stdout
        assert f"extends size {log.size_b} (consistency proof verified)" in result.stdout
        with db.sessionmaker() as session:
            assert [c.witness for c in checkpoints.cosignatures(session, size_c)] == [WITNESS]

    def test_an_unchanged_log_is_not_cosigned_twice(
        self, server: str, state: Path, witness_key: tuple[Path, str]
    ) -> None:
        assert run_witness(server, state, witness_key[0]).exit_code == 0
        result = run_witness(server, state, witness_key[0])
        assert result.exit_code == 0, result.output
        assert "unchanged since the last run; already cosigned" in result.stdout

    def test_a_log_signed_by_another_key_than_the_one_given_is_refused(
        self, server: str, state: Path, witness_key: tuple[Path, str]
    ) -> None:
        stranger = note.generate_signer("zhifa.local/ledger")[1]
        result = run_witness(server, state, witness_key[0], "--log-key", stranger)
        assert "is not signed by the trusted log key" in _refused(result)
        assert not (state / "checkpoint.note").exists()

    def test_an_unreachable_log_is_an_error_not_a_refusal(
        self, state: Path, witness_key: tuple[Path, str]
    ) -> None:
        result = run_witness(f"http://127.0.0.1:{_free_port()}", state, witness_key[0])
        assert result.exit_code == 2
        assert "cannot reach the log" in result.output


class TestTheWitnessCatchesTampering:
    """Scenarios (4) and (5), by a witness that cosigned size B before the forger struck."""

    def _forge(self, db: Database, log: Log) -> None:
        envelope = entry_body(db, log.officer_created)
        envelope["payload"]["state"]["cert_no"] = "CD-FORGED-0004"
        set_entry(db, log.officer_created, envelope, leaf_too=True)
        rebuild_everything(db)

    def test_a_tree_rebuilt_and_re_signed_with_a_new_key_is_refused(
        self,
        server: str,
        state: Path,
        witness_key: tuple[Path, str],
        db: Database,
        log_settings: Settings,
        log: Log,
    ) -> None:
        assert run_witness(server, state, witness_key[0]).exit_code == 0
        before = _snapshot(state)
        with triggers_dropped(db):
            self._forge(db, log)
            log_settings.ledger_key_path.unlink()
            new_key = checkpoints.keygen(log_settings.ledger_key_path, log_settings.ledger_origin)
            sign(db, log_settings)
        output = _refused(run_witness(server, state, witness_key[0]))
        assert f"the log key {new_key} differs from the key this witness trusts" in output
        assert _snapshot(state) == before

    def test_a_tree_rebuilt_at_the_same_size_with_the_same_key_is_a_fork(
        self,
        server: str,
        state: Path,
        witness_key: tuple[Path, str],
        db: Database,
        log_settings: Settings,
        log: Log,
    ) -> None:
        assert run_witness(server, state, witness_key[0]).exit_code == 0
        before = _snapshot(state)
        with triggers_dropped(db):
            self._forge(db, log)
            assert sign(db, log_settings) == log.size_b
        output = _refused(run_witness(server, state, witness_key[0]))
        assert f"fork at size {log.size_b}: this witness saw root " in output
        assert _snapshot(state) == before

    def test_a_tree_rebuilt_and_grown_fails_the_consistency_proof(
        self,
        server: str,
        state: Path,
        witness_key: tuple[Path, str],
        db: Database,
        log_settings: Settings,
        log: Log,
    ) -> None:
        assert run_witness(server, state, witness_key[0]).exit_code == 0
        before = _snapshot(state)
        with triggers_dropped(db):
            self._forge(db, log)
            record_events(db, 3)
            size_c = sign(db, log_settings)
        output = _refused(run_witness(server, state, witness_key[0]))
        assert f"inconsistent: size {size_c} (root " in output
        assert f"does not extend size {log.size_b} (root " in output
        assert _snapshot(state) == before

    def test_a_truncated_tail_or_restored_backup_is_a_shrink(
        self,
        server: str,
        state: Path,
        witness_key: tuple[Path, str],
        db: Database,
        log_settings: Settings,
        log: Log,
    ) -> None:
        record_events(db, 4)
        size_c = sign(db, log_settings)
        assert run_witness(server, state, witness_key[0]).exit_code == 0
        before = _snapshot(state)
        with triggers_dropped(db):
            truncate(db, log.size_b)
        output = _refused(run_witness(server, state, witness_key[0]))
        assert f"shrink: this witness saw size {size_c}, the log now serves size {log.size_b}" in (
            output
        )
        assert _snapshot(state) == before
