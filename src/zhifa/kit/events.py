"""The in-process event bus: what pages and devices hear about at once (server-sent events).

A service calls ``publish_after_commit(session, topic, data, district_code=...)``; the event is held
on the session and delivered to subscribers only when the transaction commits (a rolled-back change
announces nothing). Subscribers are asyncio queues (one per open SSE stream), fed from any thread.

On PostgreSQL the same events also reach the other app processes: just before the commit each
pending event is sent with ``pg_notify`` on channel ``zhifa_events`` (inside the transaction, so
PostgreSQL delivers it only if the transaction commits), and every app process runs a
``PgListener`` thread (started in the app's lifespan) that feeds what it hears into its own broker.
Each process tags its notifications with ``ORIGIN`` and ignores its own (it delivered them locally
at commit already).

Invariants: delivery is best effort: a slow subscriber whose queue is full loses events (it is told
by a ``lagged`` event) rather than slowing the request that published; an event larger than a
notification may carry (about 8 kB) stays in its own process (logged); a listener that loses its
connection reconnects, and events sent while it was away are not replayed (pages reload state from
the database on ``lagged`` and on reconnect).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger("zhifa.events")

PENDING_KEY = "zhifa_bus_pending"
QUEUE_SIZE = 256
CHANNEL = "zhifa_events"
# PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more.
MAX_PAYLOAD_BYTES = 7_900
# This process's tag on its notifications.
ORIGIN = uuid.uuid4().hex


@dataclass(frozen=True)
class BusEvent:
    topic: str
    district_code: str
    data: dict[str, Any]


@dataclass(eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[BusEvent]
    district_codes: frozenset[str]
    topics: frozenset[str] | None = None
    lagged: bool = field(default=False)


class Broker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[_Subscriber] = set()

    def publish(self, item: BusEvent) -> None:
        with self._lock:
            targets = [s for s in self._subscribers if item.district_code in s.district_codes]
        for sub in targets:
            if sub.topics is not None and item.topic not in sub.topics:
                continue
            try:
                sub.loop.call_soon_threadsafe(_offer, sub, item)
            except RuntimeError:  # the subscriber's loop has closed
                self._remove(sub)

    @asynccontextmanager
    async def subscribe(
        self, district_codes: frozenset[str], topics: frozenset[str] | None = None
    ) -> AsyncIterator[asyncio.Queue[BusEvent]]:
        sub = _Subscriber(
            loop=asyncio.get_running_loop(),
            queue=asyncio.Queue(QUEUE_SIZE),
            district_codes=district_codes,
            topics=topics,
        )
        with self._lock:
            self._subscribers.add(sub)
        try:
            yield sub.queue
        finally:
            self._remove(sub)

    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    def _remove(self, sub: _Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)


def _offer(sub: _Subscriber, item: BusEvent) -> None:
    try:
        sub.queue.put_nowait(item)
    except asyncio.QueueFull:
        if not sub.lagged:
            sub.lagged = True
            # Make room for one notice so the page knows to reload.
            sub.queue.get_nowait()
            sub.queue.put_nowait(BusEvent("lagged", item.district_code, {}))


broker = Broker()


def publish_after_commit(
    session: Session, topic: str, data: dict[str, Any], *, district_code: str
) -> None:
    """Announce ``data`` under ``topic`` to the district's subscribers once ``session`` commits."""
    session.info.setdefault(PENDING_KEY, []).append(BusEvent(topic, district_code, data))


def pending_mark(session: Session) -> int:
    """How many announcements ``session`` holds now (see ``forget_after``)."""
    return len(session.info.get(PENDING_KEY, []))


def forget_after(session: Session, mark: int) -> None:
    """Drop the announcements made after ``mark``: their savepoint was rolled back."""
    pending: list[BusEvent] = session.info.get(PENDING_KEY, [])
    del pending[mark:]


@event.listens_for(Session, "before_commit")
def _notify_other_processes(session: Session) -> None:
    # SQLAlchemy fires the commit hooks when a SAVEPOINT is released too: wait for the real one.
    if session.in_nested_transaction():
        return
    pending: list[BusEvent] = session.info.get(PENDING_KEY, [])
    if not pending or session.get_bind().dialect.name != "postgresql":
        return
    for item in pending:
        payload = encode(item)
        if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            log.warning("bus event %s is too large to notify other processes", item.topic)
            continue
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload}
        )


def encode(item: BusEvent) -> str:
    return json.dumps(
        {"o": ORIGIN, "t": item.topic, "d": item.district_code, "x": item.data},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def decode(payload: str) -> tuple[str, BusEvent] | None:
    try:
        body = json.loads(payload)
        return body["o"], BusEvent(body["t"], body["d"], body["x"])
    except (ValueError, KeyError, TypeError):
        log.warning("ignored a malformed bus notification")
        return None


class PgListener:
    """A thread that LISTENs on ``CHANNEL`` and publishes other processes' events locally."""

    POLL_SECONDS = 1.0
    RECONNECT_SECONDS = 2.0

    def __init__(self, database_url: str, target: Broker | None = None) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._broker = target or broker
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zhifa-pg-listen", daemon=True)
        self.received = 0  # notifications from other processes, for tests and diagnostics

    def start(self) -> PgListener:
        self._thread.start()
        return self

    def wait_listening(self, timeout: float = 10.0) -> bool:
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.POLL_SECONDS * 5)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._listening.set()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=self.POLL_SECONDS):
                            self._deliver(note.payload)
            except Exception:
                self._listening.clear()
                if self._stop.is_set():
                    return
                log.exception("bus listener lost its connection; reconnecting")
                self._stop.wait(self.RECONNECT_SECONDS)

    def _deliver(self, payload: str) -> None:
        decoded = decode(payload)
        if decoded is None:
            return
        origin, item = decoded
        if origin == ORIGIN:
            return
        self.received += 1
        self._broker.publish(item)


def start_listener(database_url: str) -> PgListener | None:
    """On PostgreSQL, start hearing other app processes' events; None on SQLite."""
    if make_url(database_url).get_backend_name() != "postgresql":
        return None
    return PgListener(database_url).start()


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    if session.in_nested_transaction():  # a released SAVEPOINT, not the commit
        return
    pending: list[BusEvent] = session.info.pop(PENDING_KEY, [])
    for item in pending:
        broker.publish(item)


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(PENDING_KEY, None)
