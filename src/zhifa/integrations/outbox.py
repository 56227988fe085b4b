"""The outbox (placeholder for the integration work in progress: replaced by the real module)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zhifa.config import Settings
from zhifa.db import Database
from zhifa.models.complaints import Complaint, ComplaintEvent


def on_event(session: Session, complaint: Complaint, event: ComplaintEvent) -> None:
    """Queue a public step for the complaint's originating platform (see the contract)."""


def deliver_due(db: Database, settings: Settings) -> int:
    """Send every message whose next attempt is due; the number delivered."""
    return 0
