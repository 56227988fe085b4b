"""Shared fixtures of the ledger tests: settings with a log key and one configured witness."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhifa.config import Settings
from zhifa.ledger import checkpoints, note

WITNESS = "witness.example/discipline"


@pytest.fixture
def witness_keys() -> tuple[str, str]:
    """A witness's (signer key, verifier key)."""
    return note.generate_cosigner(WITNESS)


@pytest.fixture
def keyed_settings(settings: Settings, tmp_path: Path, witness_keys: tuple[str, str]) -> Settings:
    """The test settings with a generated log key and the witness above configured."""
    key_file = tmp_path / "ledger.key"
    checkpoints.keygen(key_file, settings.ledger_origin)
    update = {"ledger_key_file": key_file, "ledger_witnesses": [witness_keys[1]]}
    return settings.model_copy(update=update)
