"""Time: stored in UTC, shown in the configured zone (Asia/Shanghai by default)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC (that is how SQLite hands them back)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local(value: datetime, tz: ZoneInfo) -> datetime:
    return as_utc(value).astimezone(tz)


SHANGHAI = ZoneInfo("Asia/Shanghai")


def today_local(tz: ZoneInfo = SHANGHAI) -> date:
    """Today's date where the bureau is (legal dates are local dates, not UTC ones)."""
    return utcnow().astimezone(tz).date()
