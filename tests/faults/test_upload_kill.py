"""The server is killed (SIGKILL) in the middle of an evidence upload and restarted on the same
data; the device retries the same client UUID with the same bytes. The evidence is stored once, the
ledger has one event for it and still verifies.

A real server process (uvicorn running ``zhifa.app:create_app``) on a free 127.0.0.1 port, with
its own data folder and the test's database (SQLite file, or PostgreSQL when
``ZHIFA_TEST_DATABASE_URL`` is set). The world is written before the server starts and its rows
attested in the ledger, so ``zhifa ledger verify`` has a whole log to check. Every wait has a
deadline and the test stops the servers it started.
"""

from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories
from tests.blobs import media
from tests.field import field_world
from zhifa import blobs
from zhifa.ledger import attest
from zhifa.models.inspections import Blob, Evidence
from zhifa.models.ledger import LedgerEvent

pytestmark = pytest.mark.timeout(180)

START_SECONDS = 30
CHUNK = 64 * 1024
SIZE = 4 * 1024 * 1024  # a few MB, sent in 64 KiB chunks
ADDED = "inspection.evidence.added"


@dataclass
class Server:
    """One uvicorn process; ``stop`` and ``kill`` are safe to call twice."""

    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "uvicorn", "zhifa.app:create_app", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx2.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not answer within {START_SECONDS} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no rollback, no cleanup; the process is gone at once."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZHIFA_")}
    return env | {
        "ZHIFA_DATABASE_URL": database_url,
        "ZHIFA_DATA_DIR": str(data_dir),
        "ZHIFA_SECRET_KEY": "fault-test-secret-not-for-production",
        "ZHIFA_LEDGER_CHECKPOINT_SECONDS": "0.2",
    }


def _zhifa(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the ``zhifa`` command line with the server's environment."""
    command = [sys.executable, "-c", "from zhifa.cli import main; main()", *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


@dataclass
class Setup:
    env: dict[str, str]
    data_dir: Path
    task_id: int
    headers: dict[str, str]

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"


@pytest.fixture
def setup(session: Session, database_url: str, tmp_path: Path) -> Setup:
    world = field_world(session)
    headers = factories.bearer(session, world.officer)
    session.commit()
    # The world was written without events: give every row one, with its state as stored (read
    # back from the database, so times are in UTC as the auditor will read them).
    session.expire_all()
    attest.attest_rows(session)
    session.commit()
    data_dir = tmp_path / "server-var"
    env = _environment(database_url, data_dir)
    keygen = _zhifa(env, "ledger", "keygen")
    assert keygen.returncode == 0, keygen.stdout + keygen.stderr
    return Setup(env, data_dir, world.task.id, headers)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    """Servers the test started; each is stopped at the end, whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def _evidence_file(blob_dir: Path) -> list[Path]:
    return [
        p for p in blob_dir.rglob("*") if p.is_file() and p.relative_to(blob_dir).parts[0] != "tmp"
    ]


def _parts(blob_dir: Path) -> list[Path]:
    return sorted((blob_dir / "tmp").glob("*.part")) if (blob_dir / "tmp").exists() else []


def _counts(session: Session) -> tuple[int, int, int]:
    session.expire_all()
    evidence = session.scalar(select(func.count()).select_from(Evidence)) or 0
    blob_rows = session.scalar(select(func.count()).select_from(Blob)) or 0
    events = session.scalar(select(func.count()).where(LedgerEvent.kind == ADDED)) or 0
    return int(evidence), int(blob_rows), int(events)


class SlowUpload:
    """A PUT whose body is sent in chunks; after the first half it waits until told to go on."""

    def __init__(self, url: str, headers: dict[str, str], data: bytes) -> None:
        self.url, self.headers, self.data = url, headers, data
        self.halfway = threading.Event()
        self.go_on = threading.Event()
        self.outcome: dict[str, Any] = {}
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _body(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), CHUNK):
            if start >= len(self.data) // 2 and not self.halfway.is_set():
                self.halfway.set()
                self.go_on.wait(timeout=30)
            yield self.data[start : start + CHUNK]
            time.sleep(0.002)

    def _run(self) -> None:
        try:
            response = httpx2.put(
                self.url,
                content=self._body(),
                params={"kind": "photo", "caption": "断电重传"},
                headers=self.headers,
                timeout=httpx2.Timeout(20.0),
            )
            self.outcome["status"] = response.status_code
        except httpx2.TransportError as exc:
            self.outcome["error"] = exc


def _wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


class TestKillingTheServerMidUpload:
    def test_the_retried_upload_is_stored_once_with_one_ledger_event(
        self, session: Session, setup: Setup, servers: list[Server], tmp_path: Path
    ) -> None:
        data = media.padded(media.jpeg(), SIZE, fill=b"\xa5")
        client_uuid = str(uuid.uuid4())
        port = _free_port()
        first = Server(setup.env, port, tmp_path / "server-1.log")
        servers.append(first)
        first.start()
        path = f"/api/v1/tasks/{setup.task_id}/evidence/{client_uuid}"

        upload = SlowUpload(first.url + path, setup.headers, data)
        upload.thread.start()
        assert upload.halfway.wait(timeout=30), "the upload never reached half way"
        _wait_for(
            lambda: any(p.stat().st_size > 0 for p in _parts(setup.blob_dir)),
            20,
            "the server to write the arriving body",
        )
        first.kill()
        upload.go_on.set()
        upload.thread.join(timeout=30)

        assert not upload.thread.is_alive()
        assert "status" not in upload.outcome  # the device saw a network failure, no answer
        assert isinstance(upload.outcome.get("error"), httpx2.TransportError)
        assert _counts(session) == (0, 0, 0)
        assert _evidence_file(setup.blob_dir) == []
        stray = _parts(setup.blob_dir)
        assert len(stray) == 1  # what the killed server had received, under tmp/ only

        second = Server(setup.env, port, tmp_path / "server-2.log")
        servers.append(second)
        second.start()
        params = {"kind": "photo", "caption": "断电重传"}
        with httpx2.Client(base_url=second.url, headers=setup.headers, timeout=30) as client:
            retry = client.put(path, content=data, params=params)
            again = client.put(path, content=data, params=params)

        assert retry.status_code == 201, retry.text
        assert again.status_code == 200, again.text
        assert again.json() == retry.json()
        sha = hashlib.sha256(data).hexdigest()
        assert retry.json()["sha256"] == sha
        assert _counts(session) == (1, 1, 1)
        assert [p.name for p in _evidence_file(setup.blob_dir)] == [sha]
        assert blobs.path_for(setup.blob_dir, sha).read_bytes() == data
        assert _parts(setup.blob_dir) == stray  # the dead upload's part is not a blob

        second.stop()
        assert blobs.sweep_partials(setup.blob_dir, older_than=timedelta(0)) == 1
        verify = _zhifa(setup.env, "ledger", "verify")
        assert verify.returncode == 0, verify.stdout + verify.stderr
