"""HTTP to the city platform, with the standard library only, and the webhook signature scheme.

Signature (``X-Zhifa-Signature``): ``sha256=`` + the lower-case hex HMAC-SHA256, under the
integration's shared secret, of the bytes ``<timestamp>.<body>``, where ``<timestamp>`` is the
``X-Zhifa-Timestamp`` header (Unix seconds, ASCII digits) and ``<body>`` the exact request body.
``X-Zhifa-Delivery`` carries the outbox message id: the same for every attempt of one message, so a
receiver drops a repeat it has already accepted.

Invariants:
- A request never follows a redirect: a 3xx is an answer like any other non-2xx (a redirected POST
  would arrive as a bodiless GET, unsigned).
- ``send`` never raises for a network or HTTP failure: it answers a ``Response`` whose ``status``
  is ``None`` (no HTTP answer: refused, timed out, bad address) or the HTTP status, with a short
  error text for the outbox page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

USER_AGENT = "zhifa-outbox/1"
# How much of a peer's answer is kept (in ``last_error``) and read at most (a GET's body).
ERROR_EXCERPT_CHARS = 300
MAX_BODY_BYTES = 20_000_000
SIGNATURE_SCHEME = "sha256="


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Zhifa-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SIGNATURE_SCHEME + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    tolerance_seconds: int | None = 300,
    now: float | None = None,
) -> bool:
    """Does ``header`` sign ``body`` at ``timestamp`` under ``secret``? Constant-time. With a
    ``tolerance_seconds``, a timestamp further than that from ``now`` fails too (a replayed old
    request); pass ``None`` to check the signature alone."""
    if not timestamp.isdigit() or not header.startswith(SIGNATURE_SCHEME):
        return False
    if tolerance_seconds is not None:
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > tolerance_seconds:
            return False
    expected = signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))


@dataclass(frozen=True)
class Response:
    status: int | None  # None: no HTTP answer at all
    body: bytes = b""
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8-sig"))


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None  # urllib then raises HTTPError with the 3xx


_opener = urllib.request.build_opener(_NoRedirect())


def send(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
) -> Response:
    """One HTTP request; see the module docstring for what it never does."""
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("User-Agent", USER_AGENT)
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with _opener.open(request, timeout=timeout) as answer:
            return Response(answer.status, answer.read(MAX_BODY_BYTES))
    except urllib.error.HTTPError as exc:
        try:
            excerpt = _excerpt(exc.read(ERROR_EXCERPT_CHARS * 4))
        except OSError:
            excerpt = ""
        finally:
            exc.close()
        return Response(exc.code, b"", f"HTTP {exc.code} {exc.reason}: {excerpt}".strip(": "))
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return Response(None, b"", f"{type(exc).__name__}: {reason}"[:ERROR_EXCERPT_CHARS])


def _excerpt(raw: bytes) -> str:
    return " ".join(raw.decode("utf-8", "replace").split())[:ERROR_EXCERPT_CHARS]


def post_signed_json(
    url: str, payload: dict[str, Any], *, secret: str, delivery_id: int, timeout: float
) -> Response:
    """A webhook delivery: the JSON body, signed (see the module docstring)."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "X-Zhifa-Delivery": str(delivery_id),
        "X-Zhifa-Timestamp": timestamp,
        "X-Zhifa-Signature": signature(secret, timestamp, body),
    }
    return send("POST", url, body=body, headers=headers, timeout=timeout)


def post_form(
    url: str, fields: dict[str, str], *, delivery_id: int | None = None, timeout: float
) -> Response:
    """A form-encoded POST (Open311)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if delivery_id is not None:
        headers["X-Zhifa-Delivery"] = str(delivery_id)
    body = urllib.parse.urlencode(fields).encode("ascii")
    return send("POST", url, body=body, headers=headers, timeout=timeout)


def get(url: str, params: dict[str, str], *, timeout: float) -> Response:
    """A GET with a query string, asking for JSON."""
    query = urllib.parse.urlencode(params)
    full = f"{url}{'&' if '?' in url else '?'}{query}" if query else url
    return send("GET", full, headers={"Accept": "application/json"}, timeout=timeout)


def join(base: str, resource: str) -> str:
    """``{base}/{resource}`` with exactly one slash between them."""
    return f"{base.rstrip('/')}/{resource.lstrip('/')}"
