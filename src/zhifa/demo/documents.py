"""The demo district's document numbering rule: its bureau as the issuing agency, 崇综执 as the
agency abbreviation and the default 文种代字, so that documents can be numbered at once."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from zhifa.documents import settings

AGENCY_SHORT = "崇综执"


def load(session: Session, district_code: str, *, today: date) -> int:
    """Create the rule if the district has none; return how many rows were created. Idempotent."""
    created = settings.ensure(session, district_code, agency_short=AGENCY_SHORT, via="demo")
    return 0 if created is None else 1
