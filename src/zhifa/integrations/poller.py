"""Polling an upstream Open311 endpoint (the city platform) for new service requests.

``poll_due`` (the periodic worker) polls each active integration with ``poll_enabled`` whose
interval has passed, each in its own transaction (the integration's row is locked with
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two processes never poll one peer at once).

``poll`` asks ``GET {endpoint}/requests.json?start_date=<cursor>&end_date=<now>`` (a window of at
most ``open311_max_days``; an older cursor catches up window by window) and takes every open
request in through ``complaints.intake.create_complaint`` (source ``upstream``, ``source_ref`` =
its ``service_request_id``, received at its ``requested_datetime``).

Invariants:
- A request is taken in at most once however often it is polled (intake is idempotent on
  ``(district, source, source_ref)``; the window starts at the cursor, inclusive).
- The cursor moves to the newest ``requested_datetime`` seen, only after an answer was read; a
  failed poll (no answer, non-2xx, not a list of requests) records ``last_poll_error`` and keeps
  the cursor.
- A request that cannot be taken in (unknown ``service_code``, refused by intake) is skipped and
  named in ``last_poll_error``; the others are taken in (each in a savepoint).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhifa import ledger
from zhifa.config import Settings
from zhifa.db import Database
from zhifa.errors import AppError
from zhifa.integrations import client
from zhifa.integrations import repository as repo
from zhifa.integrations.outbox import iso
from zhifa.kit.clock import utcnow
from zhifa.models.complaints import ComplaintCategory, ComplaintSource
from zhifa.models.integrations import Integration
from zhifa.web.i18n import translate

log = logging.getLogger("zhifa.poller")

MAX_ERROR_CHARS = 4_000


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is recorded."""
    return message


UNREACHABLE = N_("The city platform could not be polled: {error}")
NOT_A_LIST = N_("The city platform's answer is not a list of Open311 service requests.")
NO_ID = N_("A request without service_request_id or requested_datetime was skipped.")
UNKNOWN_SERVICE = N_("Request {ref}: service code {code} is not one of our categories; skipped.")
REFUSED = N_("Request {ref} was not taken in: {problem}")


def poll_due(db: Database, settings: Settings) -> int:
    """Poll every integration whose poll is due; the number of requests taken in."""
    with db.unit_of_work() as session:
        due = repo.due_polls(session, utcnow())
    taken = 0
    for integration_id in due:
        taken += _poll_one(db, settings, integration_id)
    return taken


def _poll_one(db: Database, settings: Settings, integration_id: int) -> int:
    stmt = select(Integration).where(Integration.id == integration_id)
    if not db.is_sqlite:
        stmt = stmt.with_for_update(skip_locked=True)
    with db.unit_of_work() as session:
        integration = session.scalars(stmt).first()
        if integration is None or integration.id not in repo.due_polls(session, utcnow()):
            return 0  # another process has it, or polled it meanwhile
        return poll(session, integration, settings)


def poll(session: Session, integration: Integration, settings: Settings) -> int:
    """Poll ``integration`` once (see the module docstring); the number of requests taken in.
    Never commits; the caller's transaction keeps the intake, the cursor and the error."""
    now = utcnow()
    start = integration.poll_cursor or integration.created_at
    end = min(now, start + timedelta(days=settings.open311_max_days))
    integration.last_polled_at = now
    answer = client.get(
        client.join(integration.endpoint_url, "requests.json"),
        _query(integration, start, end),
        timeout=settings.outbox_timeout_seconds,
    )
    requests = _requests_of(answer)
    if requests is None:
        failure = answer.error or f"HTTP {answer.status}"
        error = _say(settings, NOT_A_LIST) if answer.ok else failure
        integration.last_poll_error = _say(settings, UNREACHABLE, error=error)
        log.info("poll of integration %s failed: %s", integration.id, error)
        return 0
    result = _take_all(session, integration, requests, settings)
    # Caught up to the window's end, or else up to the newest request seen (inclusive next time).
    cursor = end if end < now else start
    newest = max(result.times, default=None)
    integration.poll_cursor = newest if newest is not None and newest > cursor else cursor
    integration.last_poll_error = "\n".join(result.problems)[:MAX_ERROR_CHARS]
    return result.taken


def _query(integration: Integration, start: datetime, end: datetime) -> dict[str, str]:
    params = {"start_date": iso(start), "end_date": iso(end)}
    if integration.jurisdiction_id:
        params["jurisdiction_id"] = integration.jurisdiction_id
    return params


def _requests_of(answer: client.Response) -> list[dict[str, Any]] | None:
    """The request objects of an answer: a JSON array (GeoReport v2), or one wrapped in an object
    under ``service_requests`` / ``requests``; None for anything else."""
    if not answer.ok:
        return None
    try:
        data = answer.json()
    except ValueError:
        return None
    if isinstance(data, dict):
        data = data.get("service_requests", data.get("requests"))
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        return None
    return data


@dataclass
class _TakeResult:
    taken: int = 0
    problems: list[str] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)


def _take_all(
    session: Session, integration: Integration, requests: list[dict[str, Any]], settings: Settings
) -> _TakeResult:
    result = _TakeResult()
    for item in requests:
        ref = str(item.get("service_request_id") or "").strip()
        received = _parse_time(item.get("requested_datetime"), settings)
        if not ref or received is None:
            result.problems.append(_say(settings, NO_ID))
            continue
        result.times.append(received)
        if str(item.get("status", "open")).lower() == "closed":
            continue  # finished upstream: nothing for us to do
        outcome = _take(session, integration, item, ref, received, settings)
        if outcome.problem:
            result.problems.append(outcome.problem)
        result.taken += outcome.created
    return result


@dataclass(frozen=True)
class _Outcome:
    created: bool = False  # False with no problem: the request was taken in before
    problem: str = ""


def _take(
    session: Session,
    integration: Integration,
    item: dict[str, Any],
    ref: str,
    received: datetime,
    settings: Settings,
) -> _Outcome:
    """Take one request in through intake, in a savepoint (a refusal leaves nothing behind)."""
    from zhifa.complaints.intake import create_complaint
    from zhifa.complaints.schemas import ComplaintIn

    code = str(item.get("service_code") or "").strip()
    if not _category_exists(session, integration.district_code, code):
        return _Outcome(problem=_say(settings, UNKNOWN_SERVICE, ref=ref, code=code or "-"))
    try:
        data = ComplaintIn.model_validate(_complaint_in(item, code))
        with ledger.savepoint(session):
            result = create_complaint(
                session,
                district_code=integration.district_code,
                data=data,
                source=ComplaintSource.UPSTREAM,
                actor_id=None,
                integration_id=integration.id,
                source_ref=ref,
                received_at=received,
                settings=settings,
            )
    except AppError as exc:
        problem = translate(settings.default_locale, exc.message, **exc.params)
        return _Outcome(problem=_say(settings, REFUSED, ref=ref, problem=problem))
    except ValueError as exc:  # a field of the wrong type (pydantic's errors are ValueErrors)
        first_line = str(exc).splitlines()[0]
        return _Outcome(problem=_say(settings, REFUSED, ref=ref, problem=first_line))
    return _Outcome(created=result.created)


def _complaint_in(item: dict[str, Any], code: str) -> dict[str, Any]:
    """An upstream request object as our intake's input (no reporter: Open311 publishes none)."""
    media = item.get("media_url")
    attributes = item.get("attributes")
    values: dict[str, Any] = {
        "category_code": code,
        "description": str(item.get("description") or item.get("service_name") or "").strip(),
        "address": str(item.get("address") or item.get("address_string") or "").strip(),
        "attributes": attributes if isinstance(attributes, dict) else {},
        "media_urls": [media] if isinstance(media, str) and media else [],
    }
    lon, lat = item.get("long"), item.get("lat")
    if lon not in (None, "") and lat not in (None, ""):
        values["lon"], values["lat"] = float(lon), float(lat)
    return values


def _category_exists(session: Session, district_code: str, code: str) -> bool:
    stmt = select(ComplaintCategory.id).where(
        ComplaintCategory.district_code == district_code,
        ComplaintCategory.code == code,
        ComplaintCategory.active.is_(True),
    )
    return bool(code) and session.scalar(stmt) is not None


def _parse_time(value: Any, settings: Settings) -> datetime | None:
    """An ISO 8601 time; one without an offset is taken in the bureau's time zone."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=settings.tz)


def _say(settings: Settings, message: str, **params: Any) -> str:
    return translate(settings.default_locale, message, **params)
