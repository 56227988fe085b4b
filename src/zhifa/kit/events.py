"""The in-process event bus: what pages and devices hear about at once (server-sent events).

A service calls ``publish_after_commit(session, topic, data, district_code=...)``; the event is held
on the session and delivered to subscribers only when the transaction commits (a rolled-back change
announces nothing). Subscribers are asyncio queues (one per open SSE stream), fed from any thread.

Invariants: delivery is best effort and in-process: a slow subscriber whose queue is full loses
events (it is told by a ``lagged`` event) rather than slowing the request that published. Several
app processes on PostgreSQL would need LISTEN/NOTIFY to share events; that is not built yet.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

PENDING_KEY = "zhifa_bus_pending"
QUEUE_SIZE = 256


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


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    pending: list[BusEvent] = session.info.pop(PENDING_KEY, [])
    for item in pending:
        broker.publish(item)


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous_transaction: SessionTransaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction rolled back
        session.info.pop(PENDING_KEY, None)
