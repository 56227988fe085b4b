"""The citizen's public page (群众投诉举报): file a complaint from a phone, follow it, rate it.

- ``GET /c/``: the filing form of a district (chosen from the active ones when there are several):
  category tiles, a map pin or the phone's position, address, description, photos from the
  camera, optional name and phone (anonymous by default). ``POST /c/`` files it
  (``create_complaint(source=WEB)`` and ``add_media(role=report)`` for each photo, in one
  transaction) and sends the citizen to ``/c/filed/{tracking_no}``.
- ``GET /c/t/{tracking_no}``: the status page: status in words, the **public** steps only, the
  answer when closed, and the rating form once closed (``handling.rate``, once).
- ``GET /c/media/{tracking_no}/{media_id}``: the citizen's own photos (officers' photos are not
  public).

Public on purpose: no login, no cookie, no CSRF token (there is no session to forge). Instead the
posts carry a signed form token and a honeypot, and filings are limited per client address
(``public_guard``). Everything answers 404 when ``Settings.public_complaints_enabled`` is off.

Invariants: a refused post writes nothing (the transaction is rolled back and the form is shown
again with the message beside its field); the pages never show the reporter's identity, not even
masked; the tracking number is the only key (unguessable: ``complaints.tracking``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile
from starlette.responses import FileResponse, RedirectResponse, Response

from zhifa import blobs
from zhifa.catalog.presenters import FormValues
from zhifa.complaints import handling, page_forms, public_guard
from zhifa.complaints import repository as repo
from zhifa.complaints.page_forms import CategoryView
from zhifa.config import Settings
from zhifa.errors import AppError, InvalidInput, NotFound
from zhifa.models.complaints import (
    Complaint,
    ComplaintSource,
    ComplaintStatus,
    MediaRole,
)
from zhifa.models.org import District
from zhifa.org import repository as org_repo
from zhifa.org.auth import DbSession
from zhifa.org.grids import repository as grid_repo
from zhifa.org.roles import ScopeLevel
from zhifa.org.scope import DataScope
from zhifa.subjects.maps import grid_collection
from zhifa.web.templating import render, request_locale

router = APIRouter(include_in_schema=False)

CHUNK = 64 * 1024
# Room for the text fields and the multipart envelope around the photos.
FORM_OVERHEAD_BYTES = 1_000_000
TRACKING_NO = re.compile(r"^[A-Z]{1,8}\d{8}-[0-9A-Z]{4,12}$")
# Crockford base32: letters a caller may type for the digits they look like.
CROCKFORD_READ = str.maketrans({"I": "1", "L": "1", "O": "0"})


def N_(message: str) -> str:
    """Mark ``message`` for the translation catalog; it is translated where it is shown."""
    return message


# What the status means for the citizen.
STATUS_WORDS = {
    ComplaintStatus.RECEIVED: N_("Your report has been received and is being examined."),
    ComplaintStatus.FILED: N_("Your report has been accepted; officers are being assigned."),
    ComplaintStatus.DISPATCHED: N_("Officers have been sent to deal with it."),
    ComplaintStatus.TAKEN: N_("An officer has taken the task and is on the way."),
    ComplaintStatus.ON_SCENE: N_("Officers are at the place."),
    ComplaintStatus.DISPOSED: N_("Officers have dealt with it on site."),
    ComplaintStatus.FED_BACK: N_("The result has been reported and is being checked."),
    ComplaintStatus.CLOSED: N_("Finished: the answer is below."),
    ComplaintStatus.REJECTED: N_("Your report was not accepted; the reason is shown below."),
    ComplaintStatus.TRANSFERRED: N_(
        "Your report was passed to the agency in charge; the reason is shown below."
    ),
    ComplaintStatus.MERGED: N_(
        "Another report of the same problem came in earlier; yours is handled together with it."
    ),
}
# The steps of the public timeline, as the citizen reads them.
STEP_LABELS = {
    "received": N_("Report received"),
    "filed": N_("Accepted for handling"),
    "rejected": N_("Not accepted"),
    "transferred": N_("Transferred to another agency"),
    "merged": N_("Handled together with an earlier report"),
    "dispatched": N_("Officers dispatched"),
    "arrived": N_("Officers on site"),
    "fed_back": N_("Result reported"),
    "rework": N_("Sent back for more work"),
    "closed": N_("Finished and answered"),
    "rated": N_("Rated"),
}
OTHER_STEP = N_("Update")
STARS = (
    (5, N_("Very satisfied")),
    (4, N_("Satisfied")),
    (3, N_("Acceptable")),
    (2, N_("Dissatisfied")),
    (1, N_("Very dissatisfied")),
)


def public_settings(request: Request) -> Settings:
    """The app's settings; the whole public page is 404 when it is switched off."""
    settings: Settings = request.app.state.settings
    if not settings.public_complaints_enabled:
        raise NotFound("The page or record does not exist, or is outside your data scope.")
    return settings


PublicSettings = Annotated[Settings, Depends(public_settings)]


async def public_form(request: Request, settings: PublicSettings) -> AsyncIterator[FormValues]:
    """The posted form, refused (413) before it is read when it is bigger than the photos
    allowed could make it."""
    limit = settings.complaint_photos_max * settings.complaint_photo_max_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD_BYTES:
        raise blobs.too_large(settings.complaint_photo_max_bytes)
    form = await request.form(max_files=settings.complaint_photos_max + 5, max_fields=500)
    try:
        yield FormValues(form)
    finally:
        await form.close()


PublicForm = Annotated[FormValues, Depends(public_form)]


# ---- districts and the form ------------------------------------------------------------------


def _open_districts(session: Session) -> list[District]:
    """Active districts that have at least one active category to report in."""
    return [
        d
        for d in org_repo.all_districts(session)
        if d.active and repo.categories(session, d.code, active=True)
    ]


def _district(session: Session, code: str) -> District | None:
    return next((d for d in _open_districts(session) if d.code == code), None)


def _views(session: Session, district_code: str) -> list[CategoryView]:
    rows = repo.categories(session, district_code, active=True)
    return [page_forms.category_view(row) for row in rows]


def _map_layers(session: Session, district_code: str) -> tuple[Any, Any]:
    """The district's outline, and its grids when it has no outline (where reports are taken)."""
    row = repo.settings_row(session, district_code)
    if row is not None and row.boundary:
        return row.boundary, None
    scope = DataScope(ScopeLevel.DISTRICT, frozenset({district_code}))
    return None, grid_collection(grid_repo.grids(session, scope, active=True))


def _form_page(
    request: Request,
    session: Session,
    settings: Settings,
    district: District,
    *,
    values: dict[str, Any],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    views = _views(session, district.code)
    outline, grids = _map_layers(session, district.code)
    values.setdefault("submission", uuid.uuid4().hex)
    ctx = {
        "district": district,
        "bureau_name": district.bureau_name or district.name,
        "other_districts": len(_open_districts(session)) > 1,
        "categories": views,
        "groups": page_forms.grouped(views),
        "values": values,
        "errors": errors,
        "status_code": status_code,
        "form_token": public_guard.issue_token(settings),
        "outline": outline,
        "grids": grids,
        "photos_max": settings.complaint_photos_max,
        "photo_max_mb": f"{settings.complaint_photo_max_bytes / 1_000_000:g}",
    }
    return render(request, "public/form.html", ctx, status_code=status_code)


@router.get("/c/")
def show_public_form(
    request: Request,
    session: DbSession,
    settings: PublicSettings,
    district: str = "",
    choose: str = "",
) -> Response:
    """The citizen's filing form (the district chooser first when there are several)."""
    districts = _open_districts(session)
    chosen = next((d for d in districts if d.code == district), None)
    if chosen is None and len(districts) == 1 and not choose:
        chosen = districts[0]
    if chosen is None:
        return render(request, "public/choose.html", {"districts": districts})
    return _form_page(request, session, settings, chosen, values={}, errors={})


def _posted_values(posted: FormValues, category: CategoryView | None) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: posted.text(name)
        for name in (
            "category",
            "lon",
            "lat",
            "address",
            "description",
            "reporter_name",
            "reporter_phone",
            "anonymous",
            "submission",
        )
    }
    _, shown = page_forms.attribute_answers(posted, category)
    return values | shown


@router.post("/c/")
def file_public_complaint(
    request: Request, session: DbSession, settings: PublicSettings, posted: PublicForm
) -> Response:
    """File the citizen's complaint with its photos; refusals show the form again."""
    district = _district(session, posted.text("district"))
    if district is None:
        raise NotFound("The page or record does not exist, or is outside your data scope.")
    category = page_forms.chosen_category(_views(session, district.code), posted.text("category"))
    values = _posted_values(posted, category)
    key = public_guard.client_key(request)
    try:
        complaint = _file(request, session, settings, district, posted, category, values, key)
    except AppError as exc:
        if exc.status_code >= 500:
            raise
        session.rollback()
        errors = page_forms.field_errors(
            request_locale(request),
            exc,
            category_code=category.code if category else "",
            default_field="photos" if exc.status_code in (413, 415) else "",
        )
        return _form_page(
            request,
            session,
            settings,
            district,
            values=values,
            errors=errors,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/c/filed/{complaint.tracking_no}", status_code=303)


def _file(
    request: Request,
    session: Session,
    settings: Settings,
    district: District,
    posted: FormValues,
    category: CategoryView | None,
    values: dict[str, Any],
    key: str,
) -> Complaint:
    from zhifa.complaints import intake, media

    public_guard.check_honeypot(posted.text(public_guard.HONEYPOT_FIELD))
    public_guard.check_token(settings, posted.text(public_guard.TOKEN_FIELD))
    limiter = public_guard.limiter(request)
    limiter.check(key)
    photos = posted.files("photos")
    _check_photo_count(settings, photos)
    if category is None:
        raise InvalidInput("Choose what kind of problem it is.", detail={"field": "category"})
    answers, _ = page_forms.attribute_answers(posted, category)
    data = page_forms.complaint_in(values, answers=answers)
    submission = values.get("submission", "")
    result = intake.create_complaint(
        session,
        district_code=district.code,
        data=data,
        source=ComplaintSource.WEB,
        actor_id=None,
        # The form's own id: a second tap on «send» answers the first complaint.
        source_ref=f"web:{submission}" if _is_hex_id(submission) else None,
        settings=settings,
    )
    if result.created:
        for photo in photos:
            media.add_media(
                session,
                complaint=result.complaint,
                role=MediaRole.REPORT,
                content=_chunks(photo),
                officer_id=None,
                client_uuid=None,
                settings=settings,
            )
        limiter.record(key)
    return result.complaint


def _is_hex_id(text: str) -> bool:
    return len(text) == 32 and all(c in "0123456789abcdef" for c in text)


def _check_photo_count(settings: Settings, photos: list[UploadFile]) -> None:
    if len(photos) > settings.complaint_photos_max:
        raise InvalidInput(
            "Send at most {max} photos.",
            detail={"field": "photos"},
            max=settings.complaint_photos_max,
        )


def _chunks(upload: UploadFile) -> Iterator[bytes]:
    upload.file.seek(0)
    while chunk := upload.file.read(CHUNK):
        yield chunk


# ---- after filing; the status page -----------------------------------------------------------


def normalise_tracking_no(text: str) -> str:
    """What a citizen typed, as a tracking number: upper case, no spaces, and in the random
    part the letters people type for Crockford digits (I, L → 1; O → 0)."""
    compact = re.sub(r"\s+", "", text).upper()
    head, dash, tail = compact.partition("-")
    if not dash:
        return compact
    day = head[-8:].translate(CROCKFORD_READ)
    if len(head) > 8 and day.isdigit():
        head = head[:-8] + day
    return head + dash + tail.translate(CROCKFORD_READ)


def _complaint(session: Session, tracking_no: str) -> Complaint | None:
    number = normalise_tracking_no(tracking_no)
    if not TRACKING_NO.match(number):
        return None
    return repo.by_tracking_no(session, number)


def _missing(request: Request, tracking_no: str) -> Response:
    return render(request, "public/missing.html", {"lookup_no": tracking_no[:40]}, status_code=404)


def _district_ctx(session: Session, complaint: Complaint) -> dict[str, Any]:
    district = next(
        (d for d in org_repo.all_districts(session) if d.code == complaint.district_code), None
    )
    name = (district.bureau_name or district.name) if district is not None else ""
    return {"district": district, "bureau_name": name}


@router.get("/c/filed/{tracking_no}")
def show_filed(
    request: Request, session: DbSession, settings: PublicSettings, tracking_no: str
) -> Response:
    """The tracking number, big, right after filing."""
    complaint = _complaint(session, tracking_no)
    if complaint is None:
        return _missing(request, tracking_no)
    ctx = _district_ctx(session, complaint) | {"complaint": complaint}
    return render(request, "public/filed.html", ctx)


@router.get("/c/t")
def look_up(settings: PublicSettings, no: str = "") -> Response:
    """The look-up form's target: on to the status page of the number typed."""
    number = normalise_tracking_no(no)[:40] or "-"
    return RedirectResponse(f"/c/t/{number}", status_code=303)


@dataclass(frozen=True)
class Step:
    kind: str
    label: str
    at: datetime
    note: str


@dataclass(frozen=True)
class StatusView:
    tracking_no: str
    category_name: str
    address: str
    received_at: datetime
    closed_at: datetime | None
    status: str
    status_label: str
    status_words: str
    is_open: bool
    answer: str
    rating: int | None
    rating_comment: str
    can_rate: bool


def status_view(session: Session, complaint: Complaint) -> StatusView:
    status = ComplaintStatus(complaint.status)
    category = repo.category(session, complaint.district_code, complaint.category_id)
    return StatusView(
        tracking_no=complaint.tracking_no,
        category_name=category.name if category is not None else "",
        address=complaint.address,
        received_at=complaint.received_at,
        closed_at=complaint.closed_at,
        status=status.value,
        status_label=status.label,
        status_words=STATUS_WORDS[status],
        is_open=status.is_open,
        answer=complaint.answer,
        rating=complaint.rating,
        rating_comment=complaint.rating_comment,
        can_rate=status is ComplaintStatus.CLOSED and complaint.rated_at is None,
    )


def public_timeline(session: Session, complaint: Complaint) -> list[Step]:
    """The steps the citizen may read, in order, with their public wording."""
    return [
        Step(e.kind, STEP_LABELS.get(e.kind, OTHER_STEP), e.at, e.note)
        for e in repo.events(session, complaint.id)
        if e.public
    ]


def _status_page(
    request: Request,
    session: Session,
    settings: Settings,
    complaint: Complaint,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    photos = [
        {"url": f"/c/media/{complaint.tracking_no}/{m.id}"}
        for m in repo.media(session, complaint.id)
        if m.role == MediaRole.REPORT
    ]
    ctx = _district_ctx(session, complaint) | {
        "view": status_view(session, complaint),
        "timeline": public_timeline(session, complaint),
        "photos": photos,
        "stars": STARS,
        "form_token": public_guard.issue_token(settings),
        "values": values or {},
        "errors": errors or {},
    }
    return render(request, "public/status.html", ctx, status_code=status_code)


@router.get("/c/t/{tracking_no}")
def show_status(
    request: Request, session: DbSession, settings: PublicSettings, tracking_no: str
) -> Response:
    """The citizen's status page: public steps, the answer, the rating."""
    complaint = _complaint(session, tracking_no)
    if complaint is None:
        return _missing(request, tracking_no)
    return _status_page(request, session, settings, complaint)


@router.post("/c/t/{tracking_no}/rate")
def rate_complaint(
    request: Request,
    session: DbSession,
    settings: PublicSettings,
    posted: PublicForm,
    tracking_no: str,
) -> Response:
    """The citizen's rating (回访) of a closed complaint, once."""
    complaint = _complaint(session, tracking_no)
    if complaint is None:
        return _missing(request, tracking_no)
    comment = posted.text("comment")
    try:
        public_guard.check_honeypot(posted.text(public_guard.HONEYPOT_FIELD))
        public_guard.check_token(settings, posted.text(public_guard.TOKEN_FIELD))
        rating = posted.text("rating")
        handling.rate(
            session,
            tracking_no=complaint.tracking_no,
            rating=int(rating) if rating.isdigit() else 0,
            comment=comment,
        )
    except AppError as exc:
        if exc.status_code >= 500:
            raise
        session.rollback()
        errors = page_forms.field_errors(request_locale(request), exc)
        fresh = _complaint(session, tracking_no)
        assert fresh is not None
        return _status_page(
            request,
            session,
            settings,
            fresh,
            values={"comment": comment},
            errors=errors,
            status_code=exc.status_code,
        )
    return RedirectResponse(f"/c/t/{complaint.tracking_no}#rating", status_code=303)


@router.get("/c/media/{tracking_no}/{media_id}")
def get_public_photo(
    request: Request,
    session: DbSession,
    settings: PublicSettings,
    tracking_no: str,
    media_id: int,
) -> Response:
    """A photo the citizen sent with the report (officers' photos are not public)."""
    complaint = _complaint(session, tracking_no)
    row = repo.media_row(session, complaint.id, media_id) if complaint is not None else None
    if row is None or row.role != MediaRole.REPORT:
        raise NotFound("The page or record does not exist, or is outside your data scope.")
    path = blobs.open_path(settings.blob_dir, row.sha256)
    return FileResponse(
        path,
        media_type=row.media_type,
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )
