"""The offline auditor on a clean, realistic log: from the database and from an export.

The log is the demo district plus a batch of changes, signed twice (see ``tamper_kit``); the
auditor is run as the ``zhifa ledger verify`` command and through ``audit()`` directly.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.ledger.tamper_kit import Log, build_log, cli_runner, zhifa
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.ledger import checkpoints, merkle, note
from zhifa.ledger.audit import AuditKeys, audit
from zhifa.ledger.audit_sources import DatabaseSource
from zhifa.ledger.audit_tree import PackedTree
from zhifa.ledger.export import ExportSource

WITNESS = "jiwei.example/witness"


@pytest.fixture
def witness_keys() -> tuple[str, str]:
    return note.generate_cosigner(WITNESS)


@pytest.fixture
def witnessed(settings: Settings, witness_keys: tuple[str, str]) -> Settings:
    return settings.model_copy(update={"ledger_witnesses": [witness_keys[1]]})


@pytest.fixture
def runner(
    monkeypatch: pytest.MonkeyPatch, database_url: str, witnessed: Settings
) -> Iterator[CliRunner]:
    yield from cli_runner(monkeypatch, database_url, witnessed)


@pytest.fixture
def log(db: Database, witnessed: Settings) -> Log:
    return build_log(db, witnessed)


def _cosign(db: Database, settings: Settings, signer_key: str, size: int) -> None:
    with db.unit_of_work() as session:
        row = checkpoints.at_size(session, size)
        assert row is not None
        body, _ = note.parse_note(row.note)
        line = note.cosign(body, signer_key, 1_790_000_000)
        checkpoints.add_cosignature(session, settings, size=size, line=line)


def _summary(output: str) -> dict[str, str]:
    pairs = (line.split(None, 1) for line in output.splitlines() if line.strip())
    return {p[0]: p[1] if len(p) > 1 else "" for p in pairs}


class TestPackedTree:
    def test_roots_and_consistency_proofs_equal_the_reference_tree_up_to_70_leaves(self) -> None:
        packed, reference = PackedTree(), merkle.MemoryTree()
        for n in range(70):
            leaf = merkle.leaf_hash(n.to_bytes(4, "big"))
            packed.append_hash(leaf)
            reference.append_hash(leaf)
            assert packed.root(n + 1) == reference.root()
            assert packed.consistency_proof(max(1, n // 2), n + 1) == reference.consistency_proof(
                max(1, n // 2)
            )
        assert all(packed.read(lv, i) == h for (lv, i), h in reference.nodes.items())


class TestVerifyTheDatabase:
    def test_a_clean_log_with_business_rows_passes_with_exit_zero(
        self, runner: CliRunner, log: Log
    ) -> None:
        result = zhifa(runner, "ledger", "verify")
        assert result.exit_code == 0, result.output
        summary = _summary(result.stdout)
        assert summary["result"].startswith("OK")
        assert summary["entries"].startswith(f"{log.size_b} ")
        assert summary["checkpoints"].startswith("2 ")
        assert summary["rows"] == str(log.size_a)  # the demo made one entry per row

    def test_the_json_report_counts_what_was_checked(self, runner: CliRunner, log: Log) -> None:
        result = zhifa(runner, "ledger", "verify", "--json")
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["ok"] is True
        assert (report["entries"], report["checkpoints"], report["problems"]) == (
            log.size_b,
            2,
            [],
        )
        assert report["nodes"] == sum(log.size_b >> k for k in range(1, log.size_b.bit_length()))

    def test_a_known_witness_cosignature_is_verified(
        self,
        runner: CliRunner,
        db: Database,
        witnessed: Settings,
        witness_keys: tuple[str, str],
        log: Log,
    ) -> None:
        _cosign(db, witnessed, witness_keys[0], log.size_b)
        result = zhifa(runner, "ledger", "verify")
        assert result.exit_code == 0, result.output
        summary = _summary(result.stdout)
        assert summary["cosignatures"] == "1 verified"
        assert summary["witness"].startswith(f"{WITNESS}: 1 cosigned, latest size {log.size_b}")

    def test_an_unknown_witness_is_reported_but_not_fatal(
        self,
        runner: CliRunner,
        db: Database,
        witnessed: Settings,
        witness_keys: tuple[str, str],
        log: Log,
    ) -> None:
        _cosign(db, witnessed, witness_keys[0], log.size_b)
        other = note.generate_cosigner("someone.else/witness")[1]
        result = zhifa(runner, "ledger", "verify", "--witness-key", other)
        assert result.exit_code == 0, result.output
        assert f"cosigned by {WITNESS}+" in _summary(result.stdout)["notice"]

    def test_another_log_key_rejects_every_checkpoint(self, runner: CliRunner, log: Log) -> None:
        stranger = note.generate_signer("zhifa.local/ledger")[1]
        result = zhifa(runner, "ledger", "verify", "--log-key", stranger)
        assert result.exit_code == 1
        assert _summary(result.stdout)["first"].startswith(f"checkpoint {log.size_a}: not signed")

    def test_without_any_log_key_it_cannot_verify(self, runner: CliRunner, db: Database) -> None:
        result = zhifa(runner, "ledger", "verify")
        assert result.exit_code == 2
        assert "no log verifier key" in result.output


class TestVerifyAnExport:
    def test_an_export_verifies_with_nothing_but_the_files_and_the_verifier_key(
        self, runner: CliRunner, db: Database, log: Log, tmp_path: Path
    ) -> None:
        target = tmp_path / "audit-export"
        assert zhifa(runner, "ledger", "export", str(target)).exit_code == 0
        db.dispose()  # the auditor never touches the database
        source = ExportSource(target)
        report = audit(source, AuditKeys.parse(log.verifier_key, []))
        assert report.ok, report.problems
        assert (report.entries, report.checkpoints, report.rows) == (log.size_b, 2, log.size_a)
        assert report.nodes is None

    def test_the_export_holds_exact_bodies_checkpoints_and_rows(
        self, runner: CliRunner, db: Database, log: Log, tmp_path: Path
    ) -> None:
        target = tmp_path / "export"
        result = zhifa(runner, "ledger", "export", str(target))
        assert result.exit_code == 0, result.output
        manifest = json.loads((target / "manifest.json").read_text())
        assert (manifest["entries"], manifest["checkpoints"], manifest["size"]) == (
            log.size_b,
            2,
            log.size_b,
        )
        assert manifest["verifier_key"] == log.verifier_key
        assert sum(manifest["rows"].values()) == log.size_a
        with db.sessionmaker() as session:
            entries = list(DatabaseSource(session, "db").entries())
        lines = (target / "entries.jsonl").read_text().splitlines()
        exported = [json.loads(line) for line in lines]
        assert [e["index"] for e in exported] == list(range(log.size_b))
        assert all(
            merkle.leaf_hash(e.body).hex() == _b64_hex(x["leaf_hash"])
            for e, x in zip(entries, exported, strict=True)
        )

    def test_the_cli_verifies_an_export_with_the_published_key(
        self, runner: CliRunner, log: Log, tmp_path: Path
    ) -> None:
        target = tmp_path / "export"
        zhifa(runner, "ledger", "export", str(target))
        key_file = tmp_path / "published.vkey"
        key_file.write_text(log.verifier_key + "\n")
        result = zhifa(
            runner, "ledger", "verify", "--export", str(target), "--log-key", str(key_file)
        )
        assert result.exit_code == 0, result.output
        assert _summary(result.stdout)["source"] == f"export {target}"

    def test_export_refuses_a_directory_that_is_not_empty(
        self, runner: CliRunner, log: Log, tmp_path: Path
    ) -> None:
        target = tmp_path / "busy"
        target.mkdir()
        (target / "notes.txt").write_text("mine")
        result = zhifa(runner, "ledger", "export", str(target))
        assert result.exit_code == 1
        assert "not an empty directory" in result.output
        assert sorted(p.name for p in target.iterdir()) == ["notes.txt"]

    def test_a_directory_without_a_manifest_is_not_an_export(
        self, runner: CliRunner, tmp_path: Path
    ) -> None:
        result = zhifa(runner, "ledger", "verify", "--export", str(tmp_path), "--log-key", "x")
        assert result.exit_code == 2
        assert "manifest.json is missing" in result.output


def _b64_hex(value: str) -> str:
    return base64.b64decode(value).hex()
