"""The Open311 GeoReport v2 server under ``/open311/v2`` (see ``docs/open311.md``).

Every resource is ``{resource}.{format}`` with ``format`` ``json`` or ``xml``; anything else under
the prefix is a 404 in the standard error body. Reads are public (no login, no key); writes need
an integration's ``api_key``. ``jurisdiction_id`` is the district code, required only while the
deployment serves several districts. Errors — ours and the protocol's — are written as Open311
error bodies by the router's route class, after the request's transaction has been rolled back.

Invariant: the reporter's identity is in no response.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from zhifa.config import Settings
from zhifa.errors import AppError
from zhifa.kit.clock import utcnow
from zhifa.models.org import District
from zhifa.open311 import mapping
from zhifa.open311 import repository as repo
from zhifa.open311 import service as rules
from zhifa.open311.formats import (
    MEDIA_TYPES,
    Open311Error,
    error_document,
    error_format,
    render,
)
from zhifa.open311.params import (
    N_,
    PostedForm,
    answer_locale,
    comma_list,
    date_window,
    optional_jurisdiction,
    posted_form,
    resolve_jurisdiction,
)
from zhifa.org.auth import DbSession
from zhifa.web.i18n import translate

# When this server's answers last changed shape (discovery's changeset when no service changed
# since).
IMPLEMENTED = datetime(2026, 11, 29, tzinfo=UTC)


class Open311Route(APIRoute):
    """Writes every refusal of a route as the standard Open311 error body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except Open311Error as exc:
                return error_response(request, exc)
            except AppError as exc:
                return error_response(request, rules.from_app_error(exc))

        return guarded


def error_response(request: Request, exc: Open311Error) -> Response:
    locale = answer_locale(request)
    texts = [translate(locale, p.message, **p.params) for p in exc.problems]
    return render(error_format(request), error_document(exc.status, texts), exc.status)


router = APIRouter(prefix="/open311/v2", tags=["open311"], route_class=Open311Route)


def wire_format(fmt: str) -> str:
    if fmt not in MEDIA_TYPES:
        raise Open311Error.one(404, N_("Unknown format {value}: use .json or .xml."), value=fmt)
    return fmt


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


Format = Annotated[str, Depends(wire_format)]
AppSettings = Annotated[Settings, Depends(settings_of)]
Jurisdiction = Annotated[
    str | None, Query(description="The district code (GB/T 2260); needed with several districts")
]
Form = Annotated[PostedForm, Depends(posted_form)]


def base_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


@router.get("/discovery.{fmt}")
def get_discovery(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    fmt: Format,
    jurisdiction_id: Jurisdiction = None,
) -> Response:
    """Service discovery: where the endpoint is, its formats, limits and how to get a key."""
    district = optional_jurisdiction(session, jurisdiction_id)
    locale = answer_locale(request)
    changed = IMPLEMENTED
    if district is not None:
        changed = max(repo.last_service_change(session, district.code) or changed, changed)
    limits = {"days": settings.open311_max_days, "max": settings.open311_max_requests}
    endpoint = {
        "specification": mapping.SPECIFICATION,
        "url": f"{base_url(settings)}/open311/v2",
        "changeset": changed,
        "type": "production",
        "formats": ["text/xml", "application/json"],
    }
    document = {
        "discovery": {
            "changeset": changed,
            "contact": _contact(locale, district),
            "key_service": translate(
                locale,
                N_(
                    "Reading is open to all. To submit requests or updates, ask the bureau for "
                    "the api_key of an integration and send it as the api_key form field. A query "
                    "of requests covers at most {days} days (by default the last {days} days) and "
                    "returns at most {max} requests, newest first."
                ),
                **limits,
            ),
            "max_requests": settings.open311_max_requests,
            "max_days": settings.open311_max_days,
            "endpoints": [endpoint],
        }
    }
    return render(fmt, document)


def _contact(locale: str, district: District | None) -> str:
    if district is None:
        return translate(
            locale,
            N_("Each district bureau's command centre; jurisdiction_id is the district code."),
        )
    return translate(
        locale,
        N_("{bureau} command centre (jurisdiction_id {code})."),
        bureau=district.bureau_name or district.name,
        code=district.code,
    )


@router.get("/services.{fmt}")
def list_services(
    session: DbSession, fmt: Format, jurisdiction_id: Jurisdiction = None
) -> Response:
    """The complaint categories one can report in (Open311 services)."""
    district = resolve_jurisdiction(session, jurisdiction_id)
    services = [mapping.service(c) for c in repo.active_services(session, district.code)]
    return render(fmt, {"services": services})


@router.get("/services/{service_code}.{fmt}")
def get_service_definition(
    session: DbSession, service_code: str, fmt: Format, jurisdiction_id: Jurisdiction = None
) -> Response:
    """A service's definition: the extra questions (attributes) of the category."""
    district = resolve_jurisdiction(session, jurisdiction_id)
    category = repo.service(session, district.code, service_code)
    if category is None:
        raise Open311Error.one(
            404, N_("service_code {value} is not a service here."), value=service_code
        )
    return render(fmt, mapping.service_definition(category))


@router.post("/requests.{fmt}")
def post_request(
    request: Request, session: DbSession, settings: AppSettings, fmt: Format, form: Form
) -> Response:
    """File a request (form-encoded; needs an integration's api_key). Answers 200 with its id."""
    district = resolve_jurisdiction(session, form.get("jurisdiction_id"))
    integration = rules.authenticate(session, district, form.get("api_key"), settings)
    complaint = rules.submit(session, district, integration, form, settings)
    notice = mapping.service_notice(answer_locale(request), complaint)
    item = {
        "service_request_id": complaint.tracking_no,
        "service_notice": notice,
        "account_id": None,
    }
    return render(fmt, {"service_requests": [item]})


def _context(
    request: Request,
    session: DbSession,
    settings: Settings,
    district_code: str,
    ids: list[int],
    extensions: bool,
) -> mapping.RequestContext:
    return mapping.RequestContext(
        locale=answer_locale(request),
        base_url=base_url(settings),
        categories=repo.categories(session, district_code),
        departments=repo.department_names(session, district_code),
        events=repo.public_events(session, ids),
        photos=repo.first_citizen_photos(session, ids),
        extensions=extensions,
    )


def _statuses(value: str | None) -> set[str]:
    statuses = {s.lower() for s in comma_list(value)}
    wrong = statuses - {"open", "closed"}
    if wrong:
        raise Open311Error.one(
            400, N_("status must be open or closed, not {value}."), value=",".join(sorted(wrong))
        )
    return statuses


@router.get("/requests.{fmt}")
def list_requests(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    fmt: Format,
    jurisdiction_id: Jurisdiction = None,
    service_request_id: str | None = None,
    service_code: str | None = None,
    status: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    extensions: str | None = None,
) -> Response:
    """Requests, newest first: by ids (which override every other filter), or by service codes,
    status and a date range of at most ``open311_max_days`` (default: the last ones)."""
    district = resolve_jurisdiction(session, jurisdiction_id)
    ids = comma_list(service_request_id)
    statuses = set() if ids else _statuses(status)
    start, end = (None, None) if ids else (start_date, end_date)
    begin, finish = date_window(start, end, max_days=settings.open311_max_days, now=utcnow())
    query = repo.RequestQuery(
        tracking_nos=ids,
        service_codes=comma_list(service_code),
        statuses=statuses,
        start=begin,
        end=finish,
        limit=settings.open311_max_requests,
    )
    rows = repo.complaints(session, district.code, query)
    wants_extensions = (extensions or "").lower() == "true"
    ctx = _context(
        request, session, settings, district.code, [r.id for r in rows], wants_extensions
    )
    items = [mapping.service_request(row, ctx) for row in rows]
    return render(fmt, {"service_requests": items})


@router.get("/requests/{service_request_id}.{fmt}")
def get_request(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    service_request_id: str,
    fmt: Format,
    jurisdiction_id: Jurisdiction = None,
    extensions: str | None = None,
) -> Response:
    """One request (an array of one, as the specification has it)."""
    district = resolve_jurisdiction(session, jurisdiction_id)
    row = repo.by_tracking_no(session, district.code, service_request_id)
    if row is None:
        raise Open311Error.one(
            404, N_("service_request_id {value} is not a request here."), value=service_request_id
        )
    wants_extensions = (extensions or "").lower() == "true"
    ctx = _context(request, session, settings, district.code, [row.id], wants_extensions)
    return render(fmt, {"service_requests": [mapping.service_request(row, ctx)]})


@router.get("/tokens/{token}.{fmt}")
def get_token(
    session: DbSession, token: str, fmt: Format, jurisdiction_id: Jurisdiction = None
) -> Response:
    """The request id a token stands for (ours are known at once; the token is kept for clients
    that ask)."""
    district = resolve_jurisdiction(session, jurisdiction_id)
    row = repo.by_token(session, district.code, token)
    if row is None:
        raise Open311Error.one(404, N_("Token {value} is not known here."), value=token)
    item = {"service_request_id": row.tracking_no, "token": row.token}
    return render(fmt, {"service_requests": [item]})


@router.get("/servicerequestupdates.{fmt}")
def list_updates(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    fmt: Format,
    jurisdiction_id: Jurisdiction = None,
    start_date: str | None = None,
    end_date: str | None = None,
) -> Response:
    """The public steps of every request between two times (mySociety's extension), oldest first,
    at most ``open311_max_requests``: ask again from the last ``updated_datetime`` for more."""
    district = resolve_jurisdiction(session, jurisdiction_id)
    begin, finish = date_window(
        start_date, end_date, max_days=settings.open311_max_days, now=utcnow(), required=True
    )
    rows = repo.updates_between(
        session, district.code, begin, finish, settings.open311_max_requests
    )
    locale = answer_locale(request)
    updates = [mapping.request_update(locale, event, tn) for event, tn in rows]
    return render(fmt, {"service_request_updates": updates})


@router.post("/servicerequestupdates.{fmt}")
def post_update(session: DbSession, settings: AppSettings, fmt: Format, form: Form) -> Response:
    """A citizen's comment on a request, from the city platform (needs its api_key)."""
    district = resolve_jurisdiction(session, form.get("jurisdiction_id"))
    integration = rules.authenticate(session, district, form.get("api_key"), settings)
    event = rules.add_comment(session, district, integration, form)
    return render(fmt, {"service_request_updates": [{"update_id": str(event.id)}]})


@router.api_route("/{anything:path}", methods=["GET", "POST"], include_in_schema=False)
def unknown_resource(anything: str) -> Response:
    """Anything else under the prefix: the standard 404 body."""
    raise Open311Error.one(404, N_("There is no Open311 resource {value}."), value=anything)
