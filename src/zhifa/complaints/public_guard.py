"""Abuse guards of the citizen's public page (no login, no cookies): a signed form token, a
honeypot field and a limit on complaints per client address.

- The **form token** is ``<unix seconds>.<HMAC-SHA256 of them>`` under a key derived from the
  application secret (``kit.sealed``, purpose ``public complaint form``). The page puts a fresh one
  in a hidden field; a post is accepted while the token is at most ``TOKEN_MAX_AGE`` old (and not
  from the future beyond a small clock allowance). It proves the post came from a page this server
  rendered recently, without a cookie or a stored session.
- The **honeypot** is a text field hidden from people by CSS and from screen readers by
  ``aria-hidden``; only a form-filling robot puts something in it.
- The **rate limit** counts complaints accepted per client address in the last hour
  (``COMPLAINTS_PER_HOUR``, [M]: no rule prescribes a figure; high enough for a family or a shop
  behind one carrier-grade NAT address, low enough to stop a flood). The counter lives in the
  process (``app.state``): several app processes each count their own, which is enough to blunt a
  flood and needs no shared store.

Invariant: a refused post writes nothing: the guards run before anything is created.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from fastapi import Request

from zhifa.config import Settings
from zhifa.errors import InvalidInput, Throttled
from zhifa.kit.sealed import box_for

TOKEN_FIELD = "form_token"
HONEYPOT_FIELD = "website"
TOKEN_MAX_AGE_SECONDS = 2 * 3600
# A token stamped by another app node whose clock runs a little ahead is still good.
TOKEN_CLOCK_ALLOWANCE_SECONDS = 120
# [M] Complaints accepted per client address per hour.
COMPLAINTS_PER_HOUR = 10
WINDOW_SECONDS = 3600.0
PURPOSE = "public complaint form"


def issue_token(settings: Settings, *, now: float | None = None) -> str:
    """A fresh form token for a page about to be rendered."""
    stamp = str(int(time.time() if now is None else now))
    return f"{stamp}.{box_for(settings.secret(), PURPOSE).digest(stamp)}"


def check_token(settings: Settings, token: str, *, now: float | None = None) -> None:
    """Refuse (422, field ``form_token``) a missing, forged or expired form token."""
    stamp, _, signature = token.strip().partition(".")
    expected = box_for(settings.secret(), PURPOSE).digest(stamp)
    if not stamp.isdigit() or not hmac.compare_digest(signature, expected):
        raise InvalidInput(
            "This form was not issued by this site. Open the page again and resend it.",
            detail={"field": TOKEN_FIELD},
            error_code="bad_form_token",
        )
    age = (time.time() if now is None else now) - int(stamp)
    if age > TOKEN_MAX_AGE_SECONDS or age < -TOKEN_CLOCK_ALLOWANCE_SECONDS:
        raise InvalidInput(
            "This form is more than two hours old. Nothing was saved: open the page again "
            "and resend it.",
            detail={"field": TOKEN_FIELD},
            error_code="expired_form_token",
        )


def check_honeypot(value: str) -> None:
    """Refuse a post whose hidden field a robot filled in."""
    if value.strip():
        raise InvalidInput(
            "The form could not be accepted. Open the page again and resend it.",
            detail={"field": HONEYPOT_FIELD},
            error_code="honeypot",
        )


@dataclass
class RateLimiter:
    """At most ``limit`` accepted complaints per key in any ``window`` seconds (in-process)."""

    limit: int = COMPLAINTS_PER_HOUR
    window: float = WINDOW_SECONDS
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def check(self, key: str, *, now: float | None = None) -> None:
        """Refuse (429) when ``key`` has used up its allowance."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            hits = self._recent(key, moment)
            if len(hits) >= self.limit:
                raise Throttled(
                    "Too many complaints were sent from your network in the last hour. "
                    "Please try again later, or call 12345.",
                    error_code="too_many_complaints",
                )

    def record(self, key: str, *, now: float | None = None) -> None:
        """Count one accepted complaint for ``key``."""
        moment = time.monotonic() if now is None else now
        with self._lock:
            self._recent(key, moment).append(moment)
            # Forget addresses that went quiet, so the table does not grow without bound.
            if len(self._hits) > 10_000:
                for other in list(self._hits):
                    if not self._recent(other, moment):
                        del self._hits[other]


_CREATE = threading.Lock()


def limiter(request: Request) -> RateLimiter:
    """The running app's limiter (one per app, created on first use)."""
    state = request.app.state
    with _CREATE:
        found = getattr(state, "public_complaint_limiter", None)
        if not isinstance(found, RateLimiter):
            found = RateLimiter()
            state.public_complaint_limiter = found
    return found


def client_key(request: Request) -> str:
    """The client address the limit counts (the proxy's, unless uvicorn trusts its headers)."""
    return request.client.host if request.client is not None else "unknown"
