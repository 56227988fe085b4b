"""SLA sweep and escalation (placeholder: replaced by the real module)."""

from __future__ import annotations

from zhifa.db import Database


def sweep_once(db: Database) -> int:
    """One sweep: refresh clocks, raise alerts; the number of alerts raised (see the contract)."""
    return 0
