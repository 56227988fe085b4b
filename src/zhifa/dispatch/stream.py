"""The command centre's live stream: server-sent events from the in-process event bus.

One subscription per open stream (``kit.events.broker``), for the viewer's districts and the topics
the page shows: the field inspections' ``inspection.submitted``, ``document.issued`` and
``check_in``, and the complaint loop's ``complaint`` (a step), ``officer`` (a position batch or a
duty status), ``alert`` (a supervision alert) and ``sla`` (a clock changed state). Each bus event
becomes ``id``/``event``/``data`` lines (``data`` is the event's JSON on one line); a comment line
is sent every ``HEARTBEAT_SECONDS`` so proxies keep the connection open and a dead client is
noticed. The stream ends when the client disconnects (the response is cancelled, which leaves the
subscription) or when the bus reports that this subscriber lagged behind (``event: lagged``: the
page reloads).

Events carrying a ``unit_id`` are shown to a squad- or brigade-scoped viewer only for their squads.
The complaint loop's topics are always about a squad's rows: one without a ``unit_id`` (a complaint
not routed yet, an officer of no squad) is shown only to viewers with district or city scope, as the
repositories would.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request

from zhifa.kit.events import BusEvent, broker

INSPECTION_TOPICS = frozenset({"inspection.submitted", "document.issued", "check_in"})
# Every event of these concerns a unit's rows (complaints, officers, alerts).
COMPLAINT_TOPICS = frozenset({"complaint", "officer", "alert", "sla"})
TOPICS = INSPECTION_TOPICS | COMPLAINT_TOPICS
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 5_000


def sse(item: BusEvent, number: int) -> str:
    data = json.dumps(
        {"topic": item.topic, "district_code": item.district_code, **item.data},
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return f"id: {number}\nevent: {item.topic}\ndata: {data}\n\n"


def visible(item: BusEvent, unit_ids: frozenset[int] | None) -> bool:
    """May a viewer narrowed to ``unit_ids`` (None: the whole district) see ``item``?"""
    if unit_ids is None:
        return True
    unit_id = item.data.get("unit_id")
    if unit_id is None:
        return item.topic not in COMPLAINT_TOPICS
    return unit_id in unit_ids


async def event_stream(
    request: Request, district_codes: frozenset[str], unit_ids: frozenset[int] | None
) -> AsyncIterator[str]:
    async with broker.subscribe(district_codes, TOPICS | {"lagged"}) as queue:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        number = 0
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": heartbeat\n\n"
                continue
            if item.topic == "lagged":
                yield "event: lagged\ndata: {}\n\n"
                return
            if visible(item, unit_ids):
                number += 1
                yield sse(item, number)
