"""Reading an Open311 request: the answer's language, the jurisdiction, comma lists, W3C times, the
date window of a query and the posted form with its ``attribute[CODE]`` fields.

Every refusal is an ``Open311Error`` (the standard error body); messages are English ids marked
with ``N_`` and translated when the body is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from zhifa.kit.clock import SHANGHAI, as_utc
from zhifa.models.org import District
from zhifa.open311.formats import Open311Error, Problem

# Form fields an Open311 POST may carry at most (FixMyStreet sends a few dozen).
MAX_FORM_FIELDS = 1_000


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


def answer_locale(request: Request) -> str:
    """Chinese unless the client asks for English (``Accept-Language: en``, or ``?lang=en``)."""
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "")
    first = asked.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh_CN"


def resolve_jurisdiction(session: Session, jurisdiction_id: str | None) -> District:
    """The district a request is about: ``jurisdiction_id`` (a district code), which may be left
    out only while the deployment serves one district."""
    wanted = (jurisdiction_id or "").strip()
    if wanted:
        district = session.get(District, wanted)
        if district is None or not district.active:
            raise Open311Error.one(
                404, N_("jurisdiction_id {value} is not served here."), value=wanted
            )
        return district
    districts = session.scalars(select(District).where(District.active.is_(True)).limit(2)).all()
    if len(districts) == 1:
        return districts[0]
    if not districts:
        raise Open311Error.one(404, N_("No jurisdiction is served here yet."))
    raise Open311Error.one(
        400,
        N_("jurisdiction_id is required: this endpoint serves several districts."),
    )


def optional_jurisdiction(session: Session, jurisdiction_id: str | None) -> District | None:
    """The district asked for, or the only one; None when several are served and none was named
    (service discovery describes the whole endpoint)."""
    if jurisdiction_id:
        return resolve_jurisdiction(session, jurisdiction_id)
    active = session.scalars(select(District).where(District.active.is_(True)).limit(2)).all()
    return active[0] if len(active) == 1 else None


def comma_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def parse_time(name: str, value: str) -> datetime:
    """A W3C / ISO 8601 time; one without an offset is taken as the bureau's local time."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise Open311Error.one(
            400,
            N_("{name} is not a date and time in ISO 8601 form (2026-11-29T09:55:00+08:00)."),
            name=name,
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=SHANGHAI)
    return as_utc(parsed)


def date_window(
    start: str | None,
    end: str | None,
    *,
    max_days: int,
    now: datetime,
    required: bool = False,
) -> tuple[datetime, datetime]:
    """``[start, end]`` of a query: both given, one given (the other ``max_days`` away) or neither
    (the last ``max_days``); never longer than ``max_days``, never reversed."""
    problems = []
    if required:
        problems += [
            Problem(N_("{name} is required."), {"name": name})
            for name, value in (("start_date", start), ("end_date", end))
            if not value
        ]
    if problems:
        raise Open311Error(400, problems)
    span = timedelta(days=max_days)
    begin = parse_time("start_date", start) if start else None
    finish = parse_time("end_date", end) if end else None
    if begin is None and finish is None:
        return now - span, now
    if begin is None:
        assert finish is not None
        return finish - span, finish
    if finish is None:
        return begin, begin + span
    if finish < begin:
        raise Open311Error.one(400, N_("end_date is before start_date."))
    if finish - begin > span:
        raise Open311Error.one(
            400, N_("The date range may span at most {days} days."), days=max_days
        )
    return begin, finish


@dataclass
class PostedForm:
    """A form-encoded Open311 POST (query parameters count too, as some clients send them there):
    single fields, ``attribute[CODE]`` answers (a repeated or ``[]`` key is a list), media URLs."""

    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    media_urls: list[str] = field(default_factory=list)

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()

    def add(self, key: str, value: str) -> None:
        if key.startswith("attribute[") and "]" in key:
            code = key[len("attribute[") : key.index("]")]
            self.attributes.setdefault(code, []).append(value)
        elif key in ("media_url", "media_url[]"):
            if value.strip():
                self.media_urls.append(value.strip())
        else:
            self.fields.setdefault(key, value)


async def posted_form(request: Request) -> PostedForm:
    """The dependency that reads a posted Open311 form (files are ignored: media go by URL)."""
    form = PostedForm()
    try:
        posted = await request.form(max_fields=MAX_FORM_FIELDS)
    except HTTPException:  # a malformed body, or too many fields
        raise Open311Error.one(400, N_("The posted form cannot be read.")) from None
    in_body = set(posted.keys())
    for key, value in posted.multi_items():
        if not isinstance(value, UploadFile):
            form.add(key, value)
    for key, value in request.query_params.multi_items():
        if key not in in_body:
            form.add(key, value)
    return form
