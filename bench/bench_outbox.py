"""The officer app's outbox replayed against a real server: 1,000 queued submissions, sent once,
then the whole queue again as if every response had been lost.

Usage: ``python bench/bench_outbox.py [--quick]`` (``--quick``: 200 submissions).

A real server (``zhifa serve`` in a subprocess, uvicorn on a free 127.0.0.1 port) runs on a fresh
SQLite database in a temporary folder, with the demo district, a construction site with a 60 m fence
and a task for today assigned to two demo officers. The queue is what a phone builds up offline:
half evidence uploads (``PUT /api/v1/tasks/{id}/evidence/{uuid}``, a small JPEG of its own each),
half check-ins (``POST /api/v1/tasks/{id}/check-ins``, offline fixes inside the fence), each with
the UUID made when the officer acted. It is sent in order over one keep-alive connection, as the
app's sender does; then all of it again (every answer lost): the server must answer each repeat
with the first answer and store nothing twice.

Baseline, in the same run and on the same connection: 1,000 plain ``GET /healthz``. The table
gives the time of each pass, requests per second and the ratio to the baseline; below it the rows
stored, the duplicates (must be 0) and the repeats whose answer differed from the first (must be
0). The server is stopped at the end, whatever happens.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
from PIL import Image
from sqlalchemy import func, select

from zhifa import migrate
from zhifa.catalog.sample.loader import load_sample_catalog
from zhifa.db import Database
from zhifa.demo.loader import load_demo
from zhifa.kit.clock import SHANGHAI, today_local, utcnow
from zhifa.models.inspections import CheckIn, Evidence, InspectionTask, TaskKind
from zhifa.models.ledger import LedgerEvent
from zhifa.models.org import Grid, Officer
from zhifa.models.security import ApiToken
from zhifa.models.subjects import RiskLevel, Subject, SubjectKind
from zhifa.org.credentials import TOKEN_PREFIX, digest, new_secret
from zhifa.org.roles import Permission

QUICK = "--quick" in sys.argv
COUNT = 200 if QUICK else 1000
BASELINE = 1000
REPO = Path(__file__).resolve().parent.parent
ZHIFA = Path(sys.executable).parent / "zhifa"
START_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 30


@dataclass(frozen=True)
class World:
    task_id: int
    lon: float
    lat: float
    token: str


@dataclass(frozen=True)
class Submission:
    """One outbox entry: the request exactly as the app would repeat it."""

    kind: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Pass:
    name: str
    seconds: float
    requests: int
    statuses: dict[int, int]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def build_world(db: Database) -> World:
    """The demo district and sample catalog, a fenced construction site in the lead officer's
    grid and today's task for two."""
    with db.sessionmaker() as session:
        summary = load_demo(session)
        session.commit()
        load_sample_catalog(session, summary.district_code)
        session.commit()
        lead = session.scalars(select(Officer).where(Officer.username == "officer")).one()
        second = session.scalars(
            select(Officer)
            .where(Officer.unit_id == lead.unit_id, Officer.id != lead.id)
            .order_by(Officer.id)
        ).first()
        assert second is not None, "the demo squad has a second officer"
        grid = session.scalars(select(Grid).where(Grid.unit_id == lead.unit_id)).first()
        assert grid is not None, "the demo squad has a grid"
        lon, lat = (grid.min_lon + grid.max_lon) / 2, (grid.min_lat + grid.max_lat) / 2
        site = Subject(
            district_code=lead.district_code,
            kind=SubjectKind.ENTERPRISE,
            name="演示建设工程有限公司（出箱测试工地）",
            uscc="91510184MA6CXXXX00",
            representative="周建国",
            address="崇州市演示路 1 号",
            subject_type_code="construction_site",
            risk_level=RiskLevel.MEDIUM,
            lon=lon,
            lat=lat,
            geofence_radius_m=60.0,
            grid_id=grid.id,
            unit_id=lead.unit_id,
        )
        session.add(site)
        session.flush()
        start = datetime.combine(today_local(), datetime.min.time(), SHANGHAI)
        task = InspectionTask(
            district_code=lead.district_code,
            kind=TaskKind.PLANNED,
            subject_id=site.id,
            title="出箱回放",
            window_start=start,
            window_end=start + timedelta(days=1) - timedelta(seconds=1),
            unit_id=lead.unit_id,
            lead_officer_id=lead.id,
            officer_ids=[lead.id, second.id],
        )
        session.add(task)
        token = new_secret(TOKEN_PREFIX)
        session.add(
            ApiToken(
                district_code=lead.district_code,
                officer_id=lead.id,
                name="bench",
                prefix=token[:10],
                token_hash=digest(token),
                scopes=[str(p) for p in Permission],
                expires_at=utcnow() + timedelta(days=1),
            )
        )
        session.commit()
        return World(task.id, lon, lat, token)


def photo(n: int) -> bytes:
    """A small JPEG of its own (the pixel colours carry ``n``)."""
    image = Image.new("RGB", (32, 24), ((n * 37) % 256, (n * 91) % 256, (n // 256) % 256))
    image.putpixel((0, 0), (n % 256, (n // 256) % 256, 7))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def queue(world: World, count: int) -> list[Submission]:
    """What a phone queues offline: evidence and check-ins, alternately, each with its UUID."""
    auth = {"Authorization": f"Bearer {world.token}"}
    acted = datetime.now(UTC) - timedelta(minutes=5)
    entries = []
    for n in range(count):
        client_uuid = str(uuid.uuid4())
        if n % 2 == 0:
            query = urlencode(
                {"kind": "photo", "name": f"p{n}.jpg", "device_time": acted.isoformat()}
            )
            url = f"/api/v1/tasks/{world.task_id}/evidence/{client_uuid}?{query}"
            headers = {**auth, "Content-Type": "image/jpeg"}
            entries.append(Submission("evidence", "PUT", url, headers, photo(n)))
        else:
            body = {
                "client_uuid": client_uuid,
                "lon": world.lon + 0.0001,
                "lat": world.lat,
                "accuracy_m": 8.0,
                "device_time": (acted + timedelta(milliseconds=n)).isoformat(),
                "offline": True,
                "exception_reason": None,
            }
            url = f"/api/v1/tasks/{world.task_id}/check-ins"
            headers = {**auth, "Content-Type": "application/json"}
            entries.append(Submission("check_in", "POST", url, headers, _json(body)))
    return entries


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


def replay(client: httpx2.Client, name: str, entries: list[Submission]) -> tuple[Pass, list[Any]]:
    statuses: dict[int, int] = {}
    answers = []
    start = time.perf_counter()
    for entry in entries:
        response = client.request(
            entry.method, entry.url, headers=entry.headers, content=entry.body
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        answers.append(response.json())
    return Pass(name, time.perf_counter() - start, len(entries), statuses), answers


def healthz(client: httpx2.Client) -> Pass:
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    for _ in range(BASELINE):
        status = client.get("/healthz").status_code
        statuses[status] = statuses.get(status, 0) + 1
    return Pass(
        f"GET /healthz × {BASELINE} (baseline)", time.perf_counter() - start, BASELINE, statuses
    )


def start_server(tmp: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ZHIFA_DATABASE_URL": url,
        "ZHIFA_DATA_DIR": str(tmp / "var"),
        "ZHIFA_SECRET_KEY": "bench-secret-not-for-production",
    }
    log = (tmp / "server.log").open("wb")
    command = [str(ZHIFA), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(server: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped while starting (exit {server.returncode})")
        try:
            if httpx2.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {START_TIMEOUT_S} s")


def stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=15)


def count_rows(db: Database, task_id: int) -> dict[str, int]:
    with db.sessionmaker() as session:

        def rows(model: Any, *where: Any) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        return {
            "evidence": rows(Evidence, Evidence.task_id == task_id),
            "check_in": rows(CheckIn, CheckIn.task_id == task_id),
            "evidence events": rows(LedgerEvent, LedgerEvent.kind == "inspection.evidence.added"),
        }


def print_results(baseline: Pass, passes: list[Pass]) -> None:
    width = max(len(p.name) for p in [baseline, *passes])
    per_base = baseline.seconds / baseline.requests
    print(
        f"\noutbox replay against a real server (SQLite, one keep-alive connection), "
        f"{COUNT} entries"
    )
    print(
        f"{'case':<{width}}  {'total':>9}  {'per request':>12}  {'req/s':>8}  "
        f"{'× baseline':>10}  statuses"
    )
    for p in [baseline, *passes]:
        per = p.seconds / p.requests
        statuses = ", ".join(f"{code}×{n}" for code, n in sorted(p.statuses.items()))
        print(
            f"{p.name:<{width}}  {p.seconds:>8.2f}s  {per * 1000:>9.2f} ms  {1 / per:>8.0f}  "
            f"{per / per_base:>10.2f}  {statuses}"
        )


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = f"sqlite:///{tmp / 'bench.db'}"
        db = Database(url)
        migrate.upgrade(db.engine)
        world = build_world(db)
        entries = queue(world, COUNT)
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(tmp, url, port)
        try:
            wait_until_up(server, base)
            with httpx2.Client(base_url=base, timeout=REQUEST_TIMEOUT_S) as client:
                baseline = healthz(client)
                first, first_answers = replay(client, f"first pass × {COUNT}", entries)
                again, again_answers = replay(client, f"again, all answers lost × {COUNT}", entries)
        finally:
            stop(server)
        stored = count_rows(db, world.task_id)
        db.dispose()
    print_results(baseline, [first, again])
    refused = {e.kind: a for e, a in zip(entries, first_answers, strict=True) if "error" in a}
    for kind, answer in sorted(refused.items()):
        print(f"refused ({kind}), first example: {answer['error']}")
    rows = stored["evidence"] + stored["check_in"]
    changed = sum(1 for a, b in zip(first_answers, again_answers, strict=True) if a != b)
    print(
        f"rows stored {rows} (evidence {stored['evidence']}, check-ins {stored['check_in']}; "
        f"evidence ledger events {stored['evidence events']}) for {COUNT} submissions: "
        f"duplicates {rows - COUNT}; repeats answered differently {changed}"
    )


if __name__ == "__main__":
    main()
