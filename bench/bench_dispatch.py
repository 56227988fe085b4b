"""Dispatch under load: officers' positions pouring in while complaints arrive, each answered with
a recommendation, and assignments pushed to officers' phones; beside a bare FastAPI app driven the
same way in the same run.

Usage: ``python bench/bench_dispatch.py [--quick] [--duration S] [--officers N]
[--fixes-per-second N] [--batch N] [--complaints-per-second N] [--pushes-per-second N]
[--pool-size N]`` (``--quick``: 5 s, 2,000 officers). Load is generated on 127.0.0.1 only and
every phase is bounded in time: the run ends by itself.

The world (``dispatch_setup.py``): a fresh SQLite database in a temporary folder holding one
district of 20 squads, each owning a 0.04° square grid (a 5 × 4 block of about 19 × 18 km), one
street-order complaint category, and N field officers (default 10,000, bulk-inserted) spread over
the grids, each with an API token and a live row (on duty, a fresh fix at home). The server is
``zhifa serve`` (uvicorn, one process, a free 127.0.0.1 port); ``--pool-size`` runs the same app
with that many database connections instead of the default pool.

Phase 1, the mix, for the duration, open loop (a request is sent on its schedule whatever the
earlier ones are doing; at most ``MAX_IN_FLIGHT`` of a kind at a time, the rest counted as not
sent):

- positions: batches of ``--batch`` fixes (default 50, a phone's upload of a minute or so), each
  from the next officer in turn with that officer's token, at ``--fixes-per-second`` (default
  2,500) — ``POST /api/v1/positions``;
- complaints at ``--complaints-per-second`` (default 100), as a dispatcher: ``POST
  /api/v1/complaints`` at a random point of the district, then at once ``GET
  /api/v1/complaints/{id}/recommendation``; the time from sending the first to receiving the
  second is *complaint in → recommendation*;
- pushes at ``--pushes-per-second`` (default 5): officers hold ``GET /api/v1/me/stream`` open from
  the start; a complaint just taken in is dispatched to one of them (``POST
  /api/v1/complaints/{id}/dispatch``) and the time from sending the dispatch to the ``assignment``
  event arriving on that officer's stream is *push to device* (an upper bound of publish → receipt:
  it includes the dispatch request's own work and commit).

Phase 2, positions alone, for half the duration: the same position load with nothing else, which
is the sustained ingest the server can give when complaints do not compete for SQLite's one
writer.

Baseline, in the same run with the same client, schedule and concurrency: a bare FastAPI app on
uvicorn (a temporary module) with the same routes doing nothing but parsing the body and answering
(the dispatch route hands the event to the stream's queue). The table shows both, with the issue's
goals: complaint in → recommendation p99 ≤ 50 ms, sustained ingest ≥ 2,000 fixes/s on SQLite, push
p99 ≤ 1 s. Below it: the rows the server stored, and ``recommend()`` called in process on the
complaints of the run (N live officers), against ``SELECT 1``. Servers are stopped at the end,
whatever happens.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import random
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx2
from dispatch_setup import (
    CATEGORY,
    COLUMNS,
    ROWS,
    SIDE,
    SOUTH,
    START_TIMEOUT_S,
    WEST,
    Member,
    World,
    build_world,
    free_port,
    start_bare,
    start_zhifa,
    stop,
    wait_until_up,
)
from harness import measure
from sqlalchemy import func, select, text

from zhifa import migrate
from zhifa.db import Database
from zhifa.dispatch.recommend import recommend
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import Complaint
from zhifa.models.dispatch import PositionFix

REQUEST_TIMEOUT_S = 10
MAX_IN_FLIGHT = 16
MAX_STREAMS = 200
RECOMMEND_SAMPLES = 200


@dataclass(frozen=True)
class Plan:
    duration: float
    officers: int
    fixes_per_second: float
    batch: int
    complaints_per_second: float
    pushes_per_second: float
    pool_size: int

    @property
    def streams(self) -> int:
        return max(1, min(MAX_STREAMS, math.ceil(self.pushes_per_second * self.duration)))

    def positions_alone(self) -> Plan:
        return dataclasses.replace(
            self, duration=self.duration / 2, complaints_per_second=0.0, pushes_per_second=0.0
        )


def parse_plan(argv: list[str]) -> Plan:
    parser = argparse.ArgumentParser(description="Dispatch under load (see the module doc).")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--duration", type=float)
    parser.add_argument("--officers", type=int)
    parser.add_argument("--fixes-per-second", type=float, default=2500.0)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--complaints-per-second", type=float, default=100.0)
    parser.add_argument("--pushes-per-second", type=float, default=5.0)
    parser.add_argument(
        "--pool-size",
        type=int,
        default=0,
        help="database connections of the server (0: as `zhifa serve` sets them)",
    )
    args = parser.parse_args(argv)
    return Plan(
        duration=args.duration or (5.0 if args.quick else 20.0),
        officers=args.officers or (2_000 if args.quick else 10_000),
        fixes_per_second=args.fixes_per_second,
        batch=max(1, min(args.batch, 500)),
        complaints_per_second=args.complaints_per_second,
        pushes_per_second=args.pushes_per_second,
        pool_size=max(0, args.pool_size),
    )


# --- Load ---


@dataclass
class Outcome:
    """What one run of the load against one server measured (seconds)."""

    name: str
    complaint_in: list[float] = field(default_factory=list)
    complaint_post: list[float] = field(default_factory=list)
    recommendation: list[float] = field(default_factory=list)
    positions: list[float] = field(default_factory=list)
    push: list[float] = field(default_factory=list)
    fixes_accepted: int = 0
    fixes_offered: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    skipped: int = 0
    pushes_lost: int = 0
    pushes_without_complaint: int = 0
    # Device streams the server closed because they fell behind the bus (``event: lagged``), and
    # those that did not open within START_TIMEOUT_S.
    streams_lagged: int = 0
    streams_unopened: int = 0
    complaint_ids: list[int] = field(default_factory=list)

    def count(self, what: str, status: int) -> None:
        key = f"{what} {status}"
        self.statuses[key] = self.statuses.get(key, 0) + 1


class Load:
    """The open-loop load of one run (see the module doc)."""

    def __init__(self, plan: Plan, world: World, outcome: Outcome) -> None:
        self.plan, self.world, self.out = plan, world, outcome
        self.rng = random.Random(11)
        self.next_officer = 0
        self.created: deque[int] = deque(maxlen=1000)
        self.waiting: dict[int, tuple[float, asyncio.Future[float]]] = {}
        pushers = world.officers[: plan.streams]
        self.pushers = deque(pushers)
        self.stream_officers = {m.officer_id for m in pushers}
        self.positions_from = plan.streams  # pushers keep their fixes out of the way

    def auth(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async def positions(self, client: httpx2.AsyncClient) -> None:
        members = self.world.officers
        index = self.positions_from + self.next_officer % max(1, len(members) - self.positions_from)
        self.next_officer += 1
        m = members[index % len(members)]
        now = utcnow()
        fixes = [
            {
                "lon": m.lon + self.rng.uniform(-3e-4, 3e-4),
                "lat": m.lat + self.rng.uniform(-3e-4, 3e-4),
                "accuracy_m": 8.0,
                "speed_mps": 1.2,
                "fix_at": (now - timedelta(seconds=self.plan.batch - k)).isoformat(),
            }
            for k in range(self.plan.batch)
        ]
        self.out.fixes_offered += len(fixes)
        start = time.perf_counter()
        response = await client.post(
            "/api/v1/positions", json={"fixes": fixes}, headers=self.auth(m.token)
        )
        self.out.positions.append(time.perf_counter() - start)
        self.out.count("positions", response.status_code)
        if response.status_code == 200:
            self.out.fixes_accepted += len(fixes)

    async def complaint(self, client: httpx2.AsyncClient) -> None:
        body = {
            "category_code": CATEGORY,
            "description": "基准测试：流动摊贩占道经营",
            "lon": WEST + self.rng.random() * COLUMNS * SIDE,
            "lat": SOUTH + self.rng.random() * ROWS * SIDE,
            "address": "崇州市基准测试路",
        }
        headers = self.auth(self.world.dispatcher_token)
        start = time.perf_counter()
        created = await client.post("/api/v1/complaints", json=body, headers=headers)
        posted = time.perf_counter()
        self.out.count("complaints", created.status_code)
        if created.status_code != 201:
            return
        complaint_id = int(created.json()["id"])
        found = await client.get(
            f"/api/v1/complaints/{complaint_id}/recommendation", headers=headers
        )
        done = time.perf_counter()
        self.out.count("recommendation", found.status_code)
        if found.status_code == 200:
            self.out.complaint_post.append(posted - start)
            self.out.recommendation.append(done - posted)
            self.out.complaint_in.append(done - start)
            self.out.complaint_ids.append(complaint_id)
            self.created.append(complaint_id)

    async def push(self, client: httpx2.AsyncClient) -> None:
        if not self.pushers or not self.created:
            self.out.pushes_without_complaint += 1
            return
        officer = self.pushers.popleft()
        complaint_id = self.created.pop()
        arrived: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        start = time.perf_counter()
        self.waiting[complaint_id] = (start, arrived)
        response = await client.post(
            f"/api/v1/complaints/{complaint_id}/dispatch",
            json={"officer_ids": [officer.officer_id], "note": "基准测试派遣"},
            headers=self.auth(self.world.dispatcher_token),
        )
        self.out.count("dispatch", response.status_code)
        if response.status_code != 200:
            self.waiting.pop(complaint_id, None)
            return
        try:
            received = await asyncio.wait_for(arrived, timeout=REQUEST_TIMEOUT_S)
            self.out.push.append(received - start)
        except TimeoutError:
            self.out.pushes_lost += 1

    async def stream(self, client: httpx2.AsyncClient, m: Member, ready: asyncio.Event) -> None:
        url = f"/api/v1/me/stream?officer={m.officer_id}"
        async with client.stream("GET", url, headers=self.auth(m.token)) as response:
            ready.set()
            topic = ""
            async for line in response.aiter_lines():
                if line.startswith("event: "):
                    topic = line[7:]
                    self.out.streams_lagged += topic == "lagged"
                elif line.startswith("data: ") and topic == "assignment":
                    data = json.loads(line[6:])
                    waiting = self.waiting.get(data.get("complaint_id"))
                    if waiting is not None and not waiting[1].done():
                        waiting[1].set_result(time.perf_counter())

    async def every(self, rate: float, end: float, fire: Any, client: httpx2.AsyncClient) -> None:
        """Call ``fire`` ``rate`` times a second until ``end``, not waiting for the answers."""
        if rate <= 0:
            return
        interval, due = 1.0 / rate, time.perf_counter()
        running: set[asyncio.Task[None]] = set()
        while due < end:
            if len(running) < MAX_IN_FLIGHT:
                task = asyncio.create_task(self._guard(fire, client))
                running.add(task)
                task.add_done_callback(running.discard)
            else:
                self.out.skipped += 1
            due += interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if running:
            await asyncio.wait(running, timeout=REQUEST_TIMEOUT_S * 2)

    async def _guard(self, fire: Any, client: httpx2.AsyncClient) -> None:
        try:
            await fire(client)
        except httpx2.HTTPError as exc:
            self.out.count(type(exc).__name__, 0)

    async def _streams_ready(self, readies: list[asyncio.Event]) -> None:
        """Wait for the device streams to open; go on with those that did in time (pushes go to
        them only; the others are counted)."""
        waits = [asyncio.create_task(r.wait()) for r in readies]
        _, pending = await asyncio.wait(waits, timeout=START_TIMEOUT_S)
        for task in pending:
            task.cancel()
        self.out.streams_unopened = len(pending)
        self.pushers = deque(m for m, r in zip(self.pushers, readies, strict=True) if r.is_set())
        await asyncio.sleep(0.5)  # a stream subscribes to the bus after its first line

    async def run(self, base: str) -> None:
        limits = httpx2.Limits(max_connections=4 * MAX_IN_FLIGHT)
        timeout = httpx2.Timeout(REQUEST_TIMEOUT_S)
        async with (
            httpx2.AsyncClient(base_url=base, timeout=timeout, limits=limits) as client,
            httpx2.AsyncClient(
                base_url=base,
                timeout=httpx2.Timeout(REQUEST_TIMEOUT_S, read=None),
                limits=httpx2.Limits(max_connections=MAX_STREAMS + 10),
            ) as streams,
        ):
            readies = [asyncio.Event() for _ in self.pushers]
            listeners = [
                asyncio.create_task(self.stream(streams, m, r))
                for m, r in zip(self.pushers, readies, strict=True)
            ]
            try:
                await self._streams_ready(readies)
                end = time.perf_counter() + self.plan.duration
                await asyncio.gather(
                    self.every(
                        self.plan.fixes_per_second / self.plan.batch, end, self.positions, client
                    ),
                    self.every(self.plan.complaints_per_second, end, self.complaint, client),
                    self.every(self.plan.pushes_per_second, end, self.push, client),
                )
            finally:
                for task in listeners:
                    task.cancel()
                await asyncio.gather(*listeners, return_exceptions=True)


def drive(base: str, plan: Plan, world: World, name: str) -> Outcome:
    outcome = Outcome(name)
    load = Load(plan, world, outcome)
    asyncio.run(asyncio.wait_for(load.run(base), timeout=plan.duration + 3 * START_TIMEOUT_S))
    return outcome


# --- Report ---


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value * 1000:.1f} ms"


def _rate(value: float) -> str:
    return f"{value:,.0f}/s"


def _verdict(value: float | None, goal: float, *, below: bool) -> str:
    if value is None:
        return "no data"
    return "met" if (value <= goal if below else value >= goal) else "MISSED"


Row = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Run:
    """Both servers' outcomes of one phase."""

    plan: Plan
    bare: Outcome
    zhifa: Outcome

    def timing(self, label: str, attr: str, goal: float | None = None) -> list[Row]:
        rows = []
        for q, tag in ((0.5, "p50"), (0.99, "p99")):
            ours = _pct(getattr(self.zhifa, attr), q)
            goal_text = verdict = ""
            if goal is not None and tag == "p99":
                goal_text, verdict = f"≤ {goal * 1000:.0f} ms", _verdict(ours, goal, below=True)
            theirs = _ms(_pct(getattr(self.bare, attr), q))
            rows.append((f"{label} {tag}", theirs, _ms(ours), goal_text, verdict))
        return rows

    def ingest(self, label: str) -> list[Row]:
        seconds = self.plan.duration
        bare, ours = self.bare.fixes_accepted / seconds, self.zhifa.fixes_accepted / seconds
        offered = (self.bare.fixes_offered / seconds, self.zhifa.fixes_offered / seconds)
        return [
            (f"{label}: fixes sent", _rate(offered[0]), _rate(offered[1]), "", ""),
            (
                f"{label}: fixes stored",
                _rate(bare),
                _rate(ours),
                "≥ 2,000/s",
                _verdict(ours, 2000, below=False),
            ),
        ]

    def counts(self) -> list[Row]:
        b, z = self.bare, self.zhifa
        return [
            ("complaints answered", str(len(b.complaint_in)), str(len(z.complaint_in)), "", ""),
            (
                "pushes received / lost",
                f"{len(b.push)} / {b.pushes_lost}",
                f"{len(z.push)} / {z.pushes_lost}",
                "",
                "",
            ),
            (
                "device streams lagged / not opened",
                f"{b.streams_lagged} / {b.streams_unopened}",
                f"{z.streams_lagged} / {z.streams_unopened}",
                "",
                "",
            ),
            ("not sent (in flight ≥ cap)", str(b.skipped), str(z.skipped), "", ""),
        ]


def print_report(mix: Run, alone: Run) -> None:
    plan = mix.plan
    rows = [
        *mix.timing("complaint in → recommendation", "complaint_in", 0.050),
        *mix.timing("  POST /api/v1/complaints", "complaint_post"),
        *mix.timing("  GET …/recommendation", "recommendation"),
        *mix.timing("POST /api/v1/positions", "positions"),
        *mix.ingest("mix"),
        *mix.timing("push to device", "push", 1.0),
        *mix.counts(),
        *alone.timing("positions alone: POST", "positions"),
        *alone.ingest("positions alone"),
    ]
    header: Row = ("measure", "bare FastAPI", "zhifa", "goal", "")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
    pool = f"a pool of {plan.pool_size} connections" if plan.pool_size else "as `zhifa serve`"
    print(
        f"\ndispatch under load, SQLite, one uvicorn process each (zhifa {pool}), "
        f"{plan.officers:,} officers, {plan.duration:.0f} s: {plan.fixes_per_second:,.0f} fixes/s "
        f"sent in batches of {plan.batch}, {plan.complaints_per_second:.0f} complaints/s, "
        f"{plan.pushes_per_second:.0f} pushes/s to {plan.streams} open device streams; then "
        f"positions alone for {alone.plan.duration:.0f} s"
    )
    for row in [header, *rows]:
        print(
            f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}  "
            f"{row[3]:>{widths[3]}}  {row[4]}"
        )
    for run in (mix, alone):
        for outcome in (run.bare, run.zhifa):
            statuses = ", ".join(f"{k}×{v}" for k, v in sorted(outcome.statuses.items()))
            print(f"answers ({outcome.name}): {statuses}")
    timeouts = sum(n for k, n in mix.zhifa.statuses.items() if k.startswith("ReadTimeout"))
    if timeouts:
        print(
            f"note: {timeouts} requests to zhifa timed out after {REQUEST_TIMEOUT_S} s "
            "(docs/dispatch.md, Benchmark: a request holding a connection or SQLite's write lock "
            "while it waits for a thread)."
            + ("" if plan.pool_size else " Compare with --pool-size 45.")
        )


def report_rows(db: Database, zhifa: Outcome, alone: Outcome) -> None:
    with db.sessionmaker() as session:
        fixes = session.scalar(select(func.count()).select_from(PositionFix)) or 0
        complaints = session.scalar(select(func.count()).select_from(Complaint)) or 0
    accepted = zhifa.fixes_accepted + alone.fixes_accepted
    print(
        f"stored: {fixes:,} fixes for {accepted:,} accepted; "
        f"{complaints:,} complaints for {len(zhifa.complaint_ids):,} answered"
    )


def in_process(db: Database, zhifa: Outcome, officers: int) -> None:
    """recommend() without HTTP, on complaints of the run, against SELECT 1 (harness style)."""
    ids = zhifa.complaint_ids[:RECOMMEND_SAMPLES]
    if not ids:
        return
    with db.sessionmaker() as session:
        complaints = list(session.scalars(select(Complaint).where(Complaint.id.in_(ids))))
        cycle = iter(complaints * 1000)
        baseline = measure("SELECT 1 (baseline)", lambda: session.execute(text("SELECT 1")))
        case = measure(
            f"recommend(), {officers:,} live officers",
            lambda: recommend(session, next(cycle)),
            number=max(1, len(complaints) // 5),
        )
        session.rollback()
    width = max(len(baseline.name), len(case.name))
    print(f"\nin process, one session\n{'case':<{width}}  {'per op':>10}  {'× baseline':>10}")
    for result in (baseline, case):
        ratio = result.seconds_per_op / baseline.seconds_per_op
        print(f"{result.name:<{width}}  {_ms(result.seconds_per_op):>10}  {ratio:>10.1f}")


def both(plan: Plan, world: World, bare_url: str, zhifa_url: str) -> Run:
    return Run(
        plan,
        drive(bare_url, plan, world, "bare FastAPI"),
        drive(zhifa_url, plan, world, "zhifa"),
    )


def main(argv: list[str]) -> None:
    plan = parse_plan(argv)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        url = f"sqlite:///{tmp / 'bench.db'}"
        db = Database(url)
        migrate.upgrade(db.engine)
        started = time.perf_counter()
        world = build_world(db, plan.officers)
        print(f"world built in {time.perf_counter() - started:.1f} s", flush=True)
        bare_port, zhifa_port = free_port(), free_port()
        bare_url, zhifa_url = f"http://127.0.0.1:{bare_port}", f"http://127.0.0.1:{zhifa_port}"
        bare_server = start_bare(tmp, bare_port)
        zhifa_server = start_zhifa(tmp, url, zhifa_port, plan.pool_size)
        try:
            wait_until_up(bare_server, bare_url)
            wait_until_up(zhifa_server, zhifa_url)
            mix = both(plan, world, bare_url, zhifa_url)
            alone = both(plan.positions_alone(), world, bare_url, zhifa_url)
        finally:
            stop(bare_server)
            stop(zhifa_server)
        print_report(mix, alone)
        report_rows(db, mix.zhifa, alone.zhifa)
        in_process(db, mix.zhifa, plan.officers)
        db.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
