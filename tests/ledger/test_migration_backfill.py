"""Migration 0002 turns events recorded before the Merkle log into leaves, and ``zhifa ledger
attest-rows`` gives rows that no entry describes a state, after which the log verifies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from tests.test_migrations import empty_database_url  # noqa: F401 - the shared fixture
from zhifa.db import make_engine

ZHIFA = Path(sys.executable).parent / "zhifa"


def _zhifa(url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIFA_")}
    env |= {"ZHIFA_DATABASE_URL": url, "ZHIFA_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [str(ZHIFA), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _write_old_events(url: str) -> None:
    """A district and two events as the 0001 schema stored them (no body, no hash)."""
    engine = make_engine(url)
    now = "2026-11-01 08:00:00.000000"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO district (code, name, city_code, bureau_name, fictional, active, "
                "created_at, updated_at) VALUES ('510184', '崇州市', '510100', '', false, true, "
                ":now, :now)"
            ),
            {"now": now},
        )
        for kind, payload in (
            ("org.district.created", {"name": "崇州市", "lon": 103.67}),
            ("security.login_failed", {"username": "nobody"}),
        ):
            conn.execute(
                text(
                    "INSERT INTO ledger_event (kind, district_code, actor_id, subject_type, "
                    "subject_id, payload, created_at) VALUES "
                    "(:kind, '510184', NULL, 'district', '510184', :payload, :now)"
                ),
                {"kind": kind, "payload": json.dumps(payload), "now": now},
            )
    engine.dispose()


def test_old_events_become_leaves_and_the_log_verifies_after_attesting(
    empty_database_url: str,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    data = tmp_path / "var"
    assert _zhifa(empty_database_url, data, "db", "upgrade", "0001").returncode == 0
    _write_old_events(empty_database_url)
    upgraded = _zhifa(empty_database_url, data, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert _zhifa(empty_database_url, data, "ledger", "keygen").returncode == 0
    assert _zhifa(empty_database_url, data, "ledger", "checkpoint").returncode == 0

    before = _zhifa(empty_database_url, data, "ledger", "verify")
    assert before.returncode == 1
    assert "district 510184" in before.stdout  # the row no entry describes is named

    attested = _zhifa(empty_database_url, data, "ledger", "attest-rows")
    assert "attested 1 row" in attested.stdout
    assert "attested 0 row" in _zhifa(empty_database_url, data, "ledger", "attest-rows").stdout
    assert _zhifa(empty_database_url, data, "ledger", "checkpoint").returncode == 0
    after = _zhifa(empty_database_url, data, "ledger", "verify")
    assert after.returncode == 0, after.stdout
    assert "entries       3" in after.stdout
