"""The officer app (执法终端) under ``/m/``: the shell, the service worker, the manifest, the
session and the app's strings.

Routes:
- ``GET /m/`` — the app shell (login required, ``inspections:inspect``; others get the 403 page).
- ``GET /m/sw.js`` — the service worker (public), served with ``Service-Worker-Allowed: /m/`` and
  ``Cache-Control: no-cache``; its cache version is the digest of everything it precaches, so a
  changed file installs a new worker.
- ``GET /m/manifest.webmanifest`` — the web app manifest (public).
- ``GET /m/session`` — who is using the device, the CSRF token and the server time (JSON); for an
  officer who handles complaints also their duty status (the 上岗/离岗 toggle) and the map's tile
  source (none by default: the job map draws on a plain background).
- ``GET /m/i18n.json`` — every string the app shows, in the request's language (public: the
  strings are the same for everyone).

Everything the app does with data goes through the JSON API of ``docs/field-api.md`` and, for the
complaint jobs (派单), of ``docs/complaints-api.md``; these routes only carry the app itself.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.orm import Session

from zhifa.config import Settings
from zhifa.errors import PermissionDenied
from zhifa.kit.clock import utcnow
from zhifa.mobile.strings import MESSAGES
from zhifa.models.dispatch import DutyStatus, OfficerLive
from zhifa.models.org import District, Officer, Unit
from zhifa.org.actor import Actor
from zhifa.org.auth import CurrentActor, DbSession, OptionalActor
from zhifa.org.roles import Permission
from zhifa.web.i18n import translate
from zhifa.web.templating import TEMPLATE_DIR, render, request_locale

router = APIRouter(prefix="/m", tags=["mobile"], include_in_schema=False)

STATIC_DIR = Path(__file__).resolve().parent.parent / "web" / "static"
APP_DIR = STATIC_DIR / "m"
SERVICE_WORKER = APP_DIR / "sw.js"
SHELL_TEMPLATE = "mobile/shell.html"
# What the service worker precaches besides the app's own folder (served cache-first offline).
VENDORED = (
    "vendor/signature_pad/signature_pad.umd.min.js",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/leaflet.css",
)
APP_PAGES = ("/m/", "/m/i18n.json", "/m/manifest.webmanifest")
NO_CACHE = {"Cache-Control": "no-cache"}


def require_inspector(actor: CurrentActor) -> Actor:
    """The app is for officers who inspect; anyone else gets a 403 page that says so."""
    if not actor.can(Permission.INSPECT):
        raise PermissionDenied(
            "The officer app is for officers who carry out inspections.",
            detail={"permission": str(Permission.INSPECT)},
        )
    return actor


Inspector = Annotated[Actor, Depends(require_inspector)]


def _app_files() -> list[Path]:
    """The app's files the worker precaches (the worker itself excluded)."""
    own = sorted(p for p in APP_DIR.rglob("*") if p.is_file() and p != SERVICE_WORKER)
    return own + [STATIC_DIR / name for name in VENDORED if (STATIC_DIR / name).is_file()]


def precache_urls() -> list[str]:
    files = [f"/static/{p.relative_to(STATIC_DIR).as_posix()}" for p in _app_files()]
    return [*APP_PAGES, *files]


def cache_version() -> str:
    """A digest of the precached files, the shell template and the strings: a new value makes
    devices fetch the app again."""
    digest = hashlib.sha256()
    for path in [*_app_files(), SERVICE_WORKER, TEMPLATE_DIR / SHELL_TEMPLATE]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(json.dumps(MESSAGES, ensure_ascii=False).encode())
    return digest.hexdigest()[:16]


@router.get("/", response_class=HTMLResponse)
def show_app(request: Request, actor: Inspector) -> Response:
    """The app shell; screens are drawn by the app's script from the API."""
    response = render(request, SHELL_TEMPLATE, {"version": cache_version()})
    response.headers.update(NO_CACHE)
    return response


@router.get("/sw.js")
def get_service_worker() -> Response:
    """The service worker (public): precache list and version filled in."""
    source = SERVICE_WORKER.read_text(encoding="utf-8")
    source = source.replace('"__VERSION__"', json.dumps(cache_version()))
    source = source.replace("__PRECACHE__", json.dumps(precache_urls()))
    headers = {**NO_CACHE, "Service-Worker-Allowed": "/m/"}
    return Response(source, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/manifest.webmanifest")
def get_manifest(request: Request) -> Response:
    """The web app manifest (public): installable on the home screen, opens on /m/."""
    locale = request_locale(request)
    manifest = {
        "name": translate(locale, "Field inspection — zhifa"),
        "short_name": translate(locale, "Field inspection"),
        "lang": "zh-CN" if locale == "zh_CN" else "en",
        "start_url": "/m/",
        "scope": "/m/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#0b4f8a",
        "icons": [
            {"src": "/static/m/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": "/static/m/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {"src": "/static/m/icon.svg", "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    body = json.dumps(manifest, ensure_ascii=False)
    return Response(body, media_type="application/manifest+json", headers=NO_CACHE)


@router.get("/session")
def get_session(request: Request, session: DbSession, actor: Inspector) -> JSONResponse:
    """Who is using the device: officer, unit, district, the CSRF token and the server time; the
    duty status and the map's tiles for an officer who handles complaints."""
    settings: Settings = request.app.state.settings
    body = session_info(session, actor) | complaint_info(
        session, actor, settings, request_locale(request)
    )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


def session_info(session: Session, actor: Actor) -> dict[str, Any]:
    officer = session.get(Officer, actor.officer_id)
    unit = session.get(Unit, actor.unit_id) if actor.unit_id is not None else None
    district = session.get(District, actor.district_code)
    return {
        "officer_id": actor.officer_id,
        "username": actor.username,
        "name": actor.name,
        "cert_no": officer.cert_no if officer is not None else None,
        "unit": {"id": unit.id, "name": unit.name} if unit is not None else None,
        "district": {
            "code": actor.district_code,
            "name": district.name if district is not None else actor.district_name,
            "bureau_name": district.bureau_name if district is not None else "",
            "fictional": actor.district_fictional,
        },
        "csrf_token": actor.csrf_token,
        "via": actor.via,
        "server_time": utcnow().isoformat().replace("+00:00", "Z"),
    }


@router.get("/i18n.json")
def get_strings(request: Request, actor: OptionalActor) -> JSONResponse:
    """Every string the app shows, translated for the request's language (zh-CN by default)."""
    locale = request_locale(request)
    messages = {msgid: translate(locale, msgid) for msgid in MESSAGES}
    return JSONResponse({"locale": locale, "messages": messages}, headers=NO_CACHE)


def complaint_info(
    session: Session, actor: Actor, settings: Settings, locale: str
) -> dict[str, Any]:
    """What the complaint jobs need at start-up: whether the officer handles complaints, their
    duty status as the server has it (off duty when never set) and the map's tile source."""
    handles = actor.can(Permission.COMPLAINTS_HANDLE)
    live = session.get(OfficerLive, actor.officer_id) if handles else None
    status = DutyStatus(live.status) if live is not None else DutyStatus.OFF_DUTY
    return {
        "complaints": handles,
        "duty": {
            "status": str(status),
            "status_label": translate(locale, status.label),
            "on_duty": status != DutyStatus.OFF_DUTY,
            "complaint_id": live.complaint_id if live is not None else None,
        }
        if handles
        else None,
        "map": {"tile_url": settings.map_tile_url, "attribution": settings.map_tile_attribution},
    }
