"""The error tree. Every refusal a person may see is one of these, rendered by one handler.

    AppError (500)                      base; carries a status code, a code and a message
    ├── BadRequest (400)                the request is well-formed but its content is unusable
    │   ├── InvalidInput (422)          a field fails a business rule (district code, GeoJSON …)
    │   ├── PayloadTooLarge (413)       an upload above its size limit
    │   └── UnsupportedMediaType (415)  a file whose content is not of an accepted type
    ├── NotAuthenticated (401)          no or bad credentials (wrong password, expired token)
    │   └── AccountLocked (423)         too many failed logins; locked for a while
    ├── Throttled (429)                 too many attempts from one address
    ├── PermissionDenied (403)          authenticated, but the role does not allow it
    │   └── CsrfFailed (403)            a form post without a valid CSRF token
    ├── NotFound (404)                  missing, or outside the data scope (never 403: no leak)
    └── Conflict (409)                  the state forbids it (duplicate 执法证号, other district)

Messages are English in the code and pass through the translation catalog when rendered, so users
read them in Chinese by default. ``detail`` carries machine-readable context (field names, ids).
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(
        self, message: str, *, detail: Any = None, error_code: str | None = None, **params: Any
    ) -> None:
        # Every other keyword fills a {placeholder} of the message ({code} included).
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.params = params
        if error_code is not None:
            self.code = error_code


class BadRequest(AppError):
    status_code = 400
    code = "bad_request"


class InvalidInput(BadRequest):
    status_code = 422
    code = "invalid_input"


class PayloadTooLarge(BadRequest):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(BadRequest):
    status_code = 415
    code = "unsupported_media_type"


class NotAuthenticated(AppError):
    status_code = 401
    code = "not_authenticated"


class AccountLocked(NotAuthenticated):
    status_code = 423
    code = "account_locked"


class Throttled(AppError):
    status_code = 429
    code = "throttled"


class PermissionDenied(AppError):
    status_code = 403
    code = "permission_denied"


class CsrfFailed(PermissionDenied):
    code = "csrf_failed"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"
