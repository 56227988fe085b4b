"""/healthz through the whole app (routing, middleware, database ping) against a bare ``SELECT 1``.

Baseline: the database round trip alone. The ratio shows what the web stack adds around it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi.testclient import TestClient
from harness import measure, print_table
from pydantic import SecretStr
from sqlalchemy import text

from zhifa import migrate
from zhifa.app import create_app
from zhifa.config import Settings
from zhifa.db import Database


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(url)
        migrate.upgrade(db.engine)
        settings = Settings(database_url=url, data_dir=Path(tmp), secret_key=SecretStr("bench"))

        def select_one() -> None:
            with db.engine.connect() as conn:
                conn.execute(text("SELECT 1"))

        with TestClient(create_app(settings, db), base_url="https://testserver") as client:
            baseline = measure("SELECT 1 (baseline)", select_one)
            cases = [measure("GET /healthz", lambda: client.get("/healthz"))]
        db.dispose()
    print_table("health check, SQLite", baseline, cases)


if __name__ == "__main__":
    main()
