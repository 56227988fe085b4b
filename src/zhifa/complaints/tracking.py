"""Tracking numbers (受理编号): the complaint's public id and Open311 ``service_request_id``.

Form: ``<prefix><yyyymmdd>-<6 Crockford base32 characters>``, e.g. ``TS20261129-7K3QD2``: the
district's prefix (``ComplaintSettings.tracking_prefix``, default ``TS``), the local (bureau) day
of reception, and 30 random bits from the operating system's generator. Crockford's alphabet has
no I, L, O or U, so a number read over the phone is not misheard.

Invariants: unique across the deployment (checked, and drawn again on a collision) and not
guessable from its neighbours (random, not sequential): knowing one number tells nothing of others.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from zhifa.complaints import repository as repo
from zhifa.kit.clock import SHANGHAI, local

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 6
DEFAULT_PREFIX = "TS"
ATTEMPTS = 8


def random_part(length: int = RANDOM_LENGTH) -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(length))


def compose(prefix: str, received_at: datetime, suffix: str, tz: ZoneInfo = SHANGHAI) -> str:
    return f"{prefix}{local(received_at, tz):%Y%m%d}-{suffix}"


def new_tracking_no(
    session: Session, *, prefix: str, received_at: datetime, tz: ZoneInfo = SHANGHAI
) -> str:
    """A tracking number no complaint has yet (a collision draws again)."""
    for _ in range(ATTEMPTS):
        candidate = compose(prefix or DEFAULT_PREFIX, received_at, random_part(), tz)
        if not repo.tracking_taken(session, candidate):
            return candidate
    # 8 collisions in a space of 2^30 a day: the generator is broken, not unlucky.
    raise RuntimeError("could not draw a free tracking number")
