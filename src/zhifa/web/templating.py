"""Jinja2 environment: one layout, component macros, the translation catalog, display helpers."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from starlette.responses import HTMLResponse

from zhifa.config import get_settings
from zhifa.kit.clock import local
from zhifa.web.i18n import DEFAULT_LOCALE, normalise_locale, translate
from zhifa.web.nav import nav_for

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
LOCALE_COOKIE = "zhifa_lang"


@pass_context
def _gettext(context: Context, message: str) -> str:
    return translate(context.get("locale", DEFAULT_LOCALE), message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return translate(context.get("locale", DEFAULT_LOCALE), singular if n == 1 else plural)


def _format_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return local(value, get_settings().tz).strftime(fmt)


def _format_date(value: date | None) -> str:
    return "" if value is None else value.isoformat()


_env = Environment(
    loader=FileSystemLoader(str(TEMPLATE_DIR)),
    autoescape=select_autoescape(["html", "xml"]),
    extensions=["jinja2.ext.i18n"],
)
templates = Jinja2Templates(env=_env)
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    _gettext, _ngettext, newstyle=True
)
templates.env.filters["datetime"] = _format_datetime
templates.env.filters["date"] = _format_date


def request_locale(request: Request) -> str:
    """The page language: ?lang=, then the cookie, then the account's choice, else zh_CN."""
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    actor = getattr(request.state, "actor", None)
    if not chosen and actor is not None:
        chosen = actor.locale
    return normalise_locale(chosen or get_settings().default_locale)


def _with_lang(request: Request, code: str) -> str:
    query = request.url.include_query_params(lang=code).query
    return f"{request.url.path}?{query}"


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    """Render a page or fragment with the request's actor, locale and CSRF token in context."""
    actor = getattr(request.state, "actor", None)
    ctx: dict[str, Any] = {
        "actor": actor,
        "locale": request_locale(request),
        "csrf_token": actor.csrf_token if actor is not None else request.cookies.get("zhifa_csrf"),
        "settings": get_settings(),
        "nav": nav_for(actor),
        # Language links keep the rest of the query (e.g. the login page's ?next=).
        "lang_urls": {code: _with_lang(request, code) for code in ("zh_CN", "en")},
        "path": request.url.path,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)
