"""The one error handler: JSON for the API, a fragment for htmx, a page for browsers.

JSON body: ``{"error": {"code", "message", "detail"}}``. Messages are translated into the request's
language. An unauthenticated browser is sent to the login page instead of an error page.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, RedirectResponse, Response

from zhifa.errors import AppError, NotAuthenticated, PermissionDenied
from zhifa.org.auth import record_denial
from zhifa.web.i18n import translate
from zhifa.web.templating import render, request_locale

log = logging.getLogger("zhifa.errors")

API_PREFIXES = ("/api/", "/open311/", "/healthz")
HTTP_MESSAGES = {
    404: ("not_found", "The page or record does not exist, or is outside your data scope."),
    405: ("method_not_allowed", "This action is not allowed here."),
}


def wants_json(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def error_response(
    request: Request, status: int, code: str, message: str, detail: Any = None
) -> Response:
    if wants_json(request):
        body = {"error": {"code": code, "message": message, "detail": jsonable_encoder(detail)}}
        return JSONResponse(body, status_code=status)
    if status == 401:
        target = "/login?next=" + quote(request.url.path)
        if is_htmx(request):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    context = {"status": status, "code": code, "message": message, "detail": detail}
    if is_htmx(request):
        response = render(request, "components/flash.html", context, status_code=status)
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "error.html", context, status_code=status)


async def handle_app_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AppError)
    if isinstance(exc, PermissionDenied):
        await run_in_threadpool(record_denial, request, exc)
    message = translate(request_locale(request), exc.message, **exc.params)
    status = exc.status_code
    if isinstance(exc, NotAuthenticated) and status != 401 and not wants_json(request):
        status = 401
    return error_response(request, status, exc.code, message, exc.detail)


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    locale = request_locale(request)
    errors = [
        {"field": ".".join(str(p) for p in err.get("loc", ())[1:]), "problem": err.get("msg")}
        for err in exc.errors()
    ]
    message = translate(
        locale,
        "Some fields are missing or not valid: {fields}.",
        fields=", ".join(e["field"] for e in errors),
    )
    return error_response(request, 422, "invalid_input", message, errors)


async def handle_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code, message = HTTP_MESSAGES.get(exc.status_code, ("http_error", str(exc.detail)))
    return error_response(
        request, exc.status_code, code, translate(request_locale(request), message)
    )


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    message = translate(
        request_locale(request),
        "Something went wrong on the server. "
        "Nothing was saved. Try again, or tell the system administrator.",
    )
    return error_response(request, 500, "internal_error", message)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_unexpected)
