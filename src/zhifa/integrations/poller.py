"""Upstream polling (placeholder: replaced by the real module)."""

from __future__ import annotations

from zhifa.config import Settings
from zhifa.db import Database


def poll_due(db: Database, settings: Settings) -> int:
    """Poll every integration whose poll is due; the number of requests taken in."""
    return 0
