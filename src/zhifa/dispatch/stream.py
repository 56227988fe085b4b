"""The command centre's live stream: server-sent events from the in-process event bus.

One subscription per open stream (``kit.events.broker``), for the viewer's districts and the three
topics the page shows. Each bus event becomes ``id``/``event``/``data`` lines (``data`` is the
event's JSON on one line); a comment line is sent every ``HEARTBEAT_SECONDS`` so proxies keep the
connection open and a dead client is noticed. The stream ends when the client disconnects (the
response is cancelled, which leaves the subscription) or when the bus reports that this subscriber
lagged behind (``event: lagged``: the page reloads).

Events carrying a ``unit_id`` are shown to a squad- or brigade-scoped viewer only for their squads.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from starlette.requests import Request

from zhifa.kit.events import BusEvent, broker

TOPICS = frozenset({"inspection.submitted", "document.issued", "check_in"})
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
    unit_id = item.data.get("unit_id")
    return unit_ids is None or unit_id is None or unit_id in unit_ids


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
