"""Demo inspections of the demo district (placeholder, filled in by the issue 5 work)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session


def load(session: Session, district_code: str, *, today: date) -> int:
    """Create what is missing; return how many rows were created. Idempotent."""
    return 0
