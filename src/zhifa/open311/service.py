"""The rules of the two Open311 writes: a city platform files a request (``POST requests``) and
adds a citizen's comment to one (``POST servicerequestupdates``, mySociety's extension).

- A write needs the api_key of an active integration of the jurisdiction (403 otherwise).
- Every problem of a posted request is reported at once (400, one error each): the location
  (``lat`` + ``long`` or ``address_string``; ``address_id`` is not supported), each attribute of
  the service definition (required, number, date, list keys) and the media URLs. Attributes the
  definition does not name (FixMyStreet sends its own, some personal) are not kept.
- The complaint is created by ``complaints.intake.create_complaint`` (source ``open311``, the
  integration as the place its answers go back to), which routes it and starts its clocks.
- A comment is a non-public ``note`` step of the complaint; the same ``update_id`` posted again
  by the same integration is answered with the first note, not added twice. The commenter's
  name, phone and e-mail are not kept.
"""

from __future__ import annotations

import math
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from zhifa.complaints import workflow
from zhifa.complaints.intake import create_complaint
from zhifa.complaints.schemas import ComplaintIn
from zhifa.config import Settings
from zhifa.errors import AppError
from zhifa.integrations.service import authenticate_api_key
from zhifa.models.complaints import Complaint, ComplaintCategory, ComplaintEvent, ComplaintSource
from zhifa.models.integrations import Integration
from zhifa.models.org import District
from zhifa.open311 import repository as repo
from zhifa.open311.formats import Open311Error, Problem
from zhifa.open311.mapping import attributes_of
from zhifa.open311.params import N_, PostedForm, parse_time

CJK = re.compile(r"[\u3400-\u9fff]")
MAX_TEXT = 4_000


def authenticate(
    session: Session, district: District, api_key: str, settings: Settings
) -> Integration:
    """The integration posting with ``api_key`` to this jurisdiction, or 403."""
    if not api_key:
        raise Open311Error.one(403, N_("An api_key is required to submit to this endpoint."))
    integration = authenticate_api_key(session, api_key, settings=settings)
    if integration is None or integration.district_code != district.code:
        raise Open311Error.one(403, N_("Invalid api_key received: it cannot submit here."))
    return integration


def from_app_error(exc: AppError) -> Open311Error:
    """One of our refusals (intake's checks …) as an Open311 error body."""
    status = {403: 403, 404: 404, 401: 403}.get(exc.status_code, 400)
    return Open311Error(status, [Problem(exc.message, dict(exc.params))])


def from_validation_error(exc: ValidationError) -> Open311Error:
    problems = [
        Problem(
            N_("{name} is not valid: {problem}"),
            {"name": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]},
        )
        for err in exc.errors()
    ]
    return Open311Error(400, problems)


# ---- POST requests ----------------------------------------------------------------------------


def reporter_name(first: str, last: str) -> str | None:
    """A Chinese name is family name first (王 + 芳 → 王芳); others "first last"."""
    if CJK.search(first + last):
        return (last + first).strip() or None
    return f"{first} {last}".strip() or None


def _number(text: str) -> int | float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):
        return None
    return int(value) if value.is_integer() and "." not in text else value


def _answer(attr: dict[str, Any], given: list[str], problems: list[Problem]) -> Any:
    """The stored answer to one attribute, or None (with the problem added) when it is wrong."""
    code, datatype = attr["code"], attr["datatype"]
    name = f"attribute[{code}]"
    keys = [v["key"] for v in attr["values"]]
    if datatype == "multivaluelist":
        wrong = [v for v in given if v not in keys]
        for value in wrong:
            problems.append(
                Problem(
                    N_("{name}: {value} is not one of {allowed}."),
                    {"name": name, "value": value, "allowed": ", ".join(keys)},
                )
            )
        return None if wrong else given
    if len(given) > 1:
        problems.append(Problem(N_("{name} takes one value only."), {"name": name}))
        return None
    value = given[0]
    if datatype == "singlevaluelist" and value not in keys:
        problems.append(
            Problem(
                N_("{name}: {value} is not one of {allowed}."),
                {"name": name, "value": value, "allowed": ", ".join(keys)},
            )
        )
        return None
    if datatype == "number":
        number = _number(value)
        if number is None:
            problems.append(
                Problem(N_("{name} must be a number, not {value}."), {"name": name, "value": value})
            )
        return number
    if datatype == "datetime":
        try:
            return parse_time(name, value).isoformat()
        except Open311Error as exc:
            problems.extend(exc.problems)
            return None
    return value[:MAX_TEXT]


def attribute_answers(
    category: ComplaintCategory, form: PostedForm, problems: list[Problem]
) -> dict[str, Any]:
    """The answers to the category's attributes (informational ones take none)."""
    answers: dict[str, Any] = {}
    for attr in attributes_of(category):
        if not attr["variable"]:
            continue
        given = [v.strip() for v in form.attributes.get(attr["code"], []) if v.strip()]
        if not given:
            if attr["required"]:
                problems.append(
                    Problem(N_("{name} is required."), {"name": f"attribute[{attr['code']}]"})
                )
            continue
        answer = _answer(attr, given, problems)
        if answer is not None:
            answers[attr["code"]] = answer
    return answers


def _coordinate(form: PostedForm, name: str, limit: float, problems: list[Problem]) -> float:
    text = form.get(name) or (form.get("lon") if name == "long" else "")
    value = _number(text)
    if value is None or not -limit <= value <= limit:
        problems.append(
            Problem(
                N_("{name} must be a number between -{limit} and {limit}."),
                {"name": name, "limit": int(limit)},
            )
        )
        return 0.0
    return float(value)


@dataclass(frozen=True)
class Place:
    lon: float | None
    lat: float | None
    address: str


def place(form: PostedForm, problems: list[Problem]) -> Place:
    """``lat`` + ``long`` (WGS-84), or ``address_string``; both may come."""
    address = form.get("address_string")[:300]
    has_lat, has_long = bool(form.get("lat")), bool(form.get("long") or form.get("lon"))
    if has_lat or has_long:
        lat = _coordinate(form, "lat", 90.0, problems)
        lon = _coordinate(form, "long", 180.0, problems)
        return Place(lon, lat, address)
    if address:
        return Place(None, None, address)
    if form.get("address_id"):
        problems.append(
            Problem(N_("address_id is not supported here: send lat and long, or address_string."))
        )
    else:
        problems.append(Problem(N_("A location is required: lat and long, or address_string.")))
    return Place(None, None, "")


def media_urls(form: PostedForm, problems: list[Problem]) -> list[str]:
    for url in form.media_urls:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
            problems.append(
                Problem(N_("media_url {value} is not an http(s) address."), {"value": url[:80]})
            )
    return list(form.media_urls)


def complaint_in(session: Session, district: District, form: PostedForm) -> ComplaintIn:
    """The posted form as a ``ComplaintIn``, or 400/404 listing every problem."""
    code = form.get("service_code")
    if not code:
        raise Open311Error.one(400, N_("service_code is required."))
    category = repo.service(session, district.code, code)
    if category is None:
        raise Open311Error.one(404, N_("service_code {value} is not a service here."), value=code)
    problems: list[Problem] = []
    where = place(form, problems)
    answers = attribute_answers(category, form, problems)
    urls = media_urls(form, problems)
    if problems:
        raise Open311Error(400, problems)
    try:
        return ComplaintIn(
            category_code=category.code,
            description=form.get("description")[: MAX_TEXT + 1],
            lon=where.lon,
            lat=where.lat,
            address=where.address,
            attributes=answers,
            media_urls=urls,
            reporter_name=reporter_name(form.get("first_name"), form.get("last_name")),
            reporter_phone=form.get("phone") or None,
            reporter_email=form.get("email") or None,
        )
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def submit(
    session: Session,
    district: District,
    integration: Integration,
    form: PostedForm,
    settings: Settings,
) -> Complaint:
    """File the posted request as a complaint (routed, clocks started, answer path recorded)."""
    data = complaint_in(session, district, form)
    try:
        result = create_complaint(
            session,
            district_code=district.code,
            data=data,
            source=ComplaintSource.OPEN311,
            actor_id=None,
            integration_id=integration.id,
            source_ref=None,
            settings=settings,
        )
    except AppError as exc:
        raise from_app_error(exc) from None
    return result.complaint


# ---- POST servicerequestupdates ---------------------------------------------------------------


def add_comment(
    session: Session, district: District, integration: Integration, form: PostedForm
) -> ComplaintEvent:
    """A citizen's comment relayed by the city platform, as a non-public note on the complaint."""
    tracking_no, text = form.get("service_request_id"), form.get("description")
    problems = [
        Problem(N_("{name} is required."), {"name": name})
        for name, value in (("service_request_id", tracking_no), ("description", text))
        if not value
    ]
    if problems:
        raise Open311Error(400, problems)
    complaint = repo.by_tracking_no(session, district.code, tracking_no)
    if complaint is None:
        raise Open311Error.one(
            400, N_("service_request_id {value} is not a request here."), value=tracking_no
        )
    update_id = form.get("update_id")[:100]
    if update_id:
        for event in repo.citizen_notes(session, complaint.id):
            data = event.data or {}
            if data.get("update_id") == update_id and data.get("integration_id") == integration.id:
                return event
    data = {
        "via": "open311",
        "integration_id": integration.id,
        "update_id": update_id,
        "status": form.get("status")[:40],
        "updated_datetime": form.get("updated_datetime")[:40],
        "media_url": (form.media_urls or [""])[0][:500],
    }
    return workflow.advance(
        session, complaint, "note", actor_id=None, public=False, note=text[:MAX_TEXT], data=data
    )
