"""SLA clocks (placeholder for the SLA work in progress: replaced by the real module)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zhifa.models.complaints import Complaint, ComplaintEvent


def on_event(session: Session, complaint: Complaint, event: ComplaintEvent) -> None:
    """Start, stop, pause or move the complaint's clocks after ``event`` (see the contract)."""
