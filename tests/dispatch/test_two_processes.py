"""Two app processes on one PostgreSQL database (the scale path: stateless app nodes): an officer's
phone talks to process A, the dispatcher's command centre is served by process B, and what the
officer does reaches the dispatcher's live stream at once (LISTEN/NOTIFY). SQLite runs one process,
so this does not apply there."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.orm import Session

from tests import factories
from tests.complaints.world import IN_WG01, ComplaintWorld, complaint_world
from tests.conftest import PG_URL
from zhifa.kit.clock import utcnow

pytestmark = pytest.mark.skipif(not PG_URL, reason="several app processes need PostgreSQL")

START_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_app(database_url: str, data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {
        "ZHIFA_DATABASE_URL": database_url,
        "ZHIFA_DATA_DIR": str(data_dir),
        "ZHIFA_SECRET_KEY": "test-secret-not-for-production",
        "ZHIFA_BACKGROUND_JOBS": "false",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "zhifa.app:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS
    while True:
        assert process.poll() is None, process.stderr.read() if process.stderr else b""
        try:
            if httpx2.get(f"{url}/healthz", timeout=1).status_code == 200:
                return process, url
        except httpx2.TransportError:
            pass
        assert time.monotonic() < deadline, "the app process did not start"
        time.sleep(0.2)


@pytest.fixture
def two_apps(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    a, url_a = start_app(database_url, tmp_path / "a")
    b, url_b = start_app(database_url, tmp_path / "b")
    try:
        yield url_a, url_b
    finally:
        for process in (a, b):
            process.terminate()
            process.wait(timeout=15)
            if process.stderr is not None:
                process.stderr.close()


@pytest.fixture
def world(session: Session) -> ComplaintWorld:
    built = complaint_world(session)
    session.commit()
    return built


def next_event(lines: Iterator[str], topic: str, deadline: float) -> dict[str, object]:
    current = ""
    for line in lines:
        assert time.monotonic() < deadline, f"no {topic} event in time"
        if line.startswith("event: "):
            current = line[7:]
        elif line.startswith("data: ") and current == topic:
            return dict(json.loads(line[6:]))
    raise AssertionError("the stream ended")


def test_an_officers_position_sent_to_one_process_reaches_the_command_stream_of_another(
    two_apps: tuple[str, str], world: ComplaintWorld, session: Session
) -> None:
    url_a, url_b = two_apps
    officer_headers = factories.bearer(session, world.officer)
    dispatcher_headers = factories.bearer(session, world.dispatcher)
    session.commit()
    lon, lat = IN_WG01

    with (
        httpx2.Client(timeout=httpx2.Timeout(10.0, read=20.0)) as client,
        client.stream("GET", f"{url_b}/command/stream", headers=dispatcher_headers) as stream,
    ):
        assert stream.status_code == 200
        lines = stream.iter_lines()
        # The stream is open (its first comment arrived) before the officer acts.
        assert next(lines).startswith("retry:")
        answer = client.post(
            f"{url_a}/api/v1/positions",
            headers=officer_headers,
            json={
                "fixes": [
                    {
                        "lon": lon,
                        "lat": lat,
                        "accuracy_m": 8.0,
                        "fix_at": utcnow().isoformat(),
                    }
                ]
            },
        )
        assert answer.status_code == 200, answer.text
        event = next_event(lines, "officer", time.monotonic() + 15)

    assert event["officer_id"] == world.officer.id
    assert event["lon"] == pytest.approx(lon)
    assert event["lat"] == pytest.approx(lat)
