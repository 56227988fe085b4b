"""The officer's device push (``GET /api/v1/me/stream``): assignments as server-sent events.

One subscription per open stream (``kit.events.broker``) to topic ``complaint`` of the officer's
district, the same framing as the command centre's stream (``dispatch.stream``): a ``retry`` line,
``id``/``event``/``data`` per event, a heartbeat comment every ``HEARTBEAT_SECONDS``, and
``event: lagged`` (then the end) when this subscriber fell behind — the phone reloads its list.

Only the caller's jobs are forwarded, as ``event: assignment`` with the bus data plus
``category_name`` and ``assigned``: every step of a complaint whose ``officer_ids`` include the
caller (``assigned`` false once it is no longer an open job for them, e.g. fed back), and the step
that took a job away from the caller (declined, re-dispatched to others) so the phone drops it.
The stream remembers which complaints are the caller's, starting from their open assignments.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from zhifa.complaints.workflow import BUS_TOPIC
from zhifa.kit.events import BusEvent, broker

EVENT_NAME = "assignment"
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 5_000
# Statuses in which a complaint is an open job of its officers.
OPEN_JOB = frozenset({"dispatched", "taken", "on_scene", "disposed"})


@dataclass
class Follower:
    """Which complaints are the officer's, as the stream goes."""

    officer_id: int
    mine: set[int] = field(default_factory=set)

    def judge(self, data: dict[str, Any]) -> bool | None:
        """None when the event is not for this officer; else whether the job is (still) theirs."""
        complaint_id = data.get("complaint_id")
        if not isinstance(complaint_id, int):
            return None
        if self.officer_id in (data.get("officer_ids") or []):
            assigned = data.get("status") in OPEN_JOB
            (self.mine.add if assigned else self.mine.discard)(complaint_id)
            return assigned
        if complaint_id in self.mine:
            self.mine.discard(complaint_id)
            return False
        return None


def sse(data: dict[str, Any], number: int) -> str:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {number}\nevent: {EVENT_NAME}\ndata: {body}\n\n"


async def assignment_stream(
    request: Request,
    *,
    follower: Follower,
    district_code: str,
    category_names: dict[int, str],
    load_category_name: Callable[[int], str],
) -> AsyncIterator[str]:
    async with broker.subscribe(frozenset({district_code}), frozenset({BUS_TOPIC, "lagged"})) as q:
        yield f"retry: {RETRY_MS}\n: connected\n\n"
        number = 0
        while True:
            try:
                item = await asyncio.wait_for(q.get(), timeout=HEARTBEAT_SECONDS)
            except TimeoutError:
                if await request.is_disconnected():
                    return
                yield ": heartbeat\n\n"
                continue
            if item.topic == "lagged":
                yield "event: lagged\ndata: {}\n\n"
                return
            assigned = follower.judge(item.data)
            if assigned is None:
                continue
            number += 1
            name = await _category_name(item, category_names, load_category_name)
            yield sse({**item.data, "category_name": name, "assigned": assigned}, number)


async def _category_name(item: BusEvent, names: dict[int, str], load: Callable[[int], str]) -> str:
    category_id = item.data.get("category_id")
    if not isinstance(category_id, int):
        return ""
    if category_id not in names:
        names[category_id] = await run_in_threadpool(load, category_id)
    return names[category_id]
