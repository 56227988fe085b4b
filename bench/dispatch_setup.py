"""The dispatch benchmark's world and servers (``bench_dispatch.py``): one district of 20 squads
and N field officers written in bulk to a fresh SQLite database, the zhifa server (``zhifa
serve``, or the same app with a given number of database connections) and the bare FastAPI
baseline app, each a uvicorn process on 127.0.0.1."""

from __future__ import annotations

import os
import random
import secrets
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
from sqlalchemy import insert, select

from zhifa.db import Database
from zhifa.kit.clock import utcnow
from zhifa.kit.geo import grid_shape
from zhifa.models.complaints import (
    ComplaintCategory,
    ComplaintSettings,
    HotlineType,
    Priority,
    SlaProfile,
)
from zhifa.models.dispatch import DutyStatus, OfficerLive
from zhifa.models.org import Department, District, Grid, Officer, Unit, UnitKind
from zhifa.models.security import ApiToken
from zhifa.org.credentials import TOKEN_PREFIX, digest
from zhifa.org.roles import Permission, Role

REPO = Path(__file__).resolve().parent.parent
ZHIFA = Path(sys.executable).parent / "zhifa"
DISTRICT = "510184"
CATEGORY = "JMZX-ZDJY"
WEST, SOUTH, SIDE = 103.55, 30.55, 0.04  # grids: 5 columns × 4 rows of SIDE degrees
COLUMNS, ROWS = 5, 4
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class Member:
    officer_id: int
    token: str
    lon: float
    lat: float


@dataclass(frozen=True)
class World:
    dispatcher_token: str
    officers: list[Member]


def _square(lon: float, lat: float) -> dict[str, Any]:
    ring = [[lon, lat], [lon + SIDE, lat], [lon + SIDE, lat + SIDE], [lon, lat + SIDE], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _units(session: Any) -> tuple[Unit, list[Unit]]:
    bureau = Unit(district_code=DISTRICT, kind=UnitKind.BUREAU, code="JU", name="综合执法局")
    session.add(bureau)
    session.flush()
    bureau.assign_path(None)
    brigade = Unit(
        district_code=DISTRICT,
        kind=UnitKind.BRIGADE,
        code="DD01",
        name="一大队",
        parent_id=bureau.id,
    )
    session.add(brigade)
    session.flush()
    brigade.assign_path(bureau)
    squads = []
    for n in range(COLUMNS * ROWS):
        squad = Unit(
            district_code=DISTRICT,
            kind=UnitKind.SQUAD,
            code=f"ZD{n + 1:02d}",
            name=f"第{n + 1}中队",
            parent_id=brigade.id,
        )
        session.add(squad)
        session.flush()
        squad.assign_path(brigade)
        col, row = n % COLUMNS, n // COLUMNS
        shape = grid_shape(_square(WEST + col * SIDE, SOUTH + row * SIDE))
        session.add(
            Grid(
                district_code=DISTRICT,
                code=f"WG{n + 1:02d}",
                name=f"第{n + 1}网格",
                unit_id=squad.id,
                geometry=shape.geometry,
                min_lon=shape.min_lon,
                min_lat=shape.min_lat,
                max_lon=shape.max_lon,
                max_lat=shape.max_lat,
                area_m2=shape.area_m2,
            )
        )
        squads.append(squad)
    session.flush()
    return bureau, squads


def _rules(session: Any, bureau: Unit) -> None:
    department = Department(district_code=DISTRICT, code="chengguan", name="城管")
    session.add(department)
    session.flush()
    east, north = WEST + COLUMNS * SIDE, SOUTH + ROWS * SIDE
    ring = [[WEST, SOUTH], [east, SOUTH], [east, north], [WEST, north], [WEST, SOUTH]]
    session.add_all(
        [
            SlaProfile(
                district_code=DISTRICT,
                code="street",
                name="街面即时处置",
                priority=Priority.NORMAL,
                limits={
                    "dispatch": {"minutes": 10},
                    "arrive": {"minutes": 20},
                    "handle": {"minutes": 30},
                    "feedback": {"minutes": 120},
                },
            ),
            ComplaintCategory(
                district_code=DISTRICT,
                code=CATEGORY,
                name="占道经营",
                group="街面秩序",
                hotline_type=HotlineType.COMPLAINT,
                department_id=department.id,
                sla_profile="street",
            ),
            ComplaintSettings(
                district_code=DISTRICT,
                boundary={"type": "Polygon", "coordinates": [ring]},
                default_unit_id=bureau.id,
            ),
        ]
    )


def _token(officer_id: int) -> dict[str, Any]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(24)
    return {
        "district_code": DISTRICT,
        "officer_id": officer_id,
        "name": "bench",
        "prefix": secret[:10],
        "token_hash": digest(secret),
        "scopes": [str(p) for p in Permission],
        "expires_at": utcnow() + timedelta(days=1),
        # As if the device had called a moment ago: the server notes a token's use at most once a
        # minute, and those writes are not what this benchmark measures.
        "last_used_at": utcnow(),
        "secret": secret,
    }


def build_world(db: Database, officers: int) -> World:
    """The district, its squads and grids, the category and the officers (bulk)."""
    rng = random.Random(7)
    with db.sessionmaker() as session:
        session.add(
            District(
                code=DISTRICT,
                name="崇州市（基准测试）",
                city_code="510100",
                fictional=True,
                center_lon=WEST + COLUMNS * SIDE / 2,
                center_lat=SOUTH + ROWS * SIDE / 2,
            )
        )
        session.flush()
        bureau, squads = _units(session)
        _rules(session, bureau)
        dispatcher = Officer(
            district_code=DISTRICT,
            username="bench-dispatcher",
            name="调度员",
            unit_id=bureau.id,
            roles=[str(Role.DISPATCHER)],
            scope="district",
        )
        session.add(dispatcher)
        session.flush()
        session.execute(
            insert(Officer),
            [
                {
                    "district_code": DISTRICT,
                    "username": f"bench-{n:05d}",
                    "name": f"队员{n:05d}",
                    "unit_id": squads[n % len(squads)].id,
                    "roles": [str(Role.OFFICER)],
                    "scope": "squad",
                }
                for n in range(officers)
            ],
        )
        rows = session.execute(
            select(Officer.id, Officer.unit_id)
            .where(Officer.username.startswith("bench-0"))
            .order_by(Officer.id)
        ).all()
        grid_of = {s.id: n for n, s in enumerate(squads)}
        tokens = [_token(dispatcher.id)] + [_token(oid) for oid, _ in rows]
        session.execute(
            insert(ApiToken), [{k: v for k, v in t.items() if k != "secret"} for t in tokens]
        )
        now = utcnow()
        members = []
        for (officer_id, unit_id), token in zip(rows, tokens[1:], strict=True):
            n = grid_of[unit_id]
            lon = WEST + (n % COLUMNS + rng.random()) * SIDE
            lat = SOUTH + (n // COLUMNS + rng.random()) * SIDE
            members.append(Member(officer_id, token["secret"], lon, lat))
        session.execute(
            insert(OfficerLive),
            [
                {
                    "officer_id": m.officer_id,
                    "district_code": DISTRICT,
                    "unit_id": unit_id,
                    "status": DutyStatus.AVAILABLE,
                    "status_at": now,
                    "lon": m.lon,
                    "lat": m.lat,
                    "accuracy_m": 10.0,
                    "fix_at": now,
                    "received_at": now,
                }
                for m, (_, unit_id) in zip(members, rows, strict=True)
            ],
        )
        session.commit()
    return World(tokens[0]["secret"], members)


# --- Servers ---

BARE_APP = '''
"""A bare FastAPI app with the routes the dispatch benchmark drives: the baseline."""

import asyncio
import itertools
import json

from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()
ids = itertools.count(1)
queues: dict[int, asyncio.Queue] = {}


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.post("/api/v1/positions")
def positions(body: dict) -> dict:
    return {"accepted": len(body.get("fixes", []))}


@app.post("/api/v1/complaints", status_code=201)
def complaint(body: dict) -> dict:
    return {"id": next(ids), "lon": body.get("lon"), "lat": body.get("lat")}


@app.get("/api/v1/complaints/{complaint_id}/recommendation")
def recommendation(complaint_id: int) -> dict:
    return {"complaint_id": complaint_id, "pair": [], "candidates": [], "explanation": []}


@app.post("/api/v1/complaints/{complaint_id}/dispatch")
async def dispatch(complaint_id: int, body: dict) -> dict:
    officers = body.get("officer_ids", [])
    for officer in officers:
        if officer in queues:
            queues[officer].put_nowait({"complaint_id": complaint_id, "officer_ids": officers})
    return {"complaint_id": complaint_id}


@app.get("/api/v1/me/stream")
async def stream(officer: int) -> StreamingResponse:
    queue = queues.setdefault(officer, asyncio.Queue())

    async def events():
        yield "retry: 5000\\n: connected\\n\\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), 15)
            except TimeoutError:
                yield ": heartbeat\\n\\n"
                continue
            yield f"event: assignment\\ndata: {json.dumps(item)}\\n\\n"

    return StreamingResponse(events(), media_type="text/event-stream")
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


FACTORY = """
from zhifa.app import create_app
from zhifa.config import get_settings
from zhifa.db import Database


def make():
    settings = get_settings()
    database = Database(settings.database_url, pool_size={pool_size}, max_overflow=0)
    return create_app(settings, database)
"""


def start_zhifa(tmp: Path, url: str, port: int, pool_size: int) -> subprocess.Popen[bytes]:
    """``zhifa serve``; with ``pool_size``, the same app with that many database connections."""
    env = {
        **os.environ,
        "ZHIFA_DATABASE_URL": url,
        "ZHIFA_DATA_DIR": str(tmp / "var"),
        "ZHIFA_SECRET_KEY": "bench-secret-not-for-production",
    }
    log = (tmp / "zhifa.log").open("wb")
    command = [str(ZHIFA), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if pool_size:
        (tmp / "zhifa_factory.py").write_text(FACTORY.format(pool_size=pool_size))
        command = [
            *(sys.executable, "-m", "uvicorn", "zhifa_factory:make", "--factory"),
            *("--app-dir", str(tmp), "--host", "127.0.0.1", "--port", str(port)),
        ]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def start_bare(tmp: Path, port: int) -> subprocess.Popen[bytes]:
    (tmp / "bare_app.py").write_text(BARE_APP)
    log = (tmp / "bare.log").open("wb")
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bare_app:app",
        "--app-dir",
        str(tmp),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    return subprocess.Popen(command, cwd=tmp, stdout=log, stderr=subprocess.STDOUT)


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
