"""Chinese working days (工作日) for deadlines: statutory holidays, make-up working days (调休上班)
and a district's own exceptions.

``WorkCalendar(overrides, tz).is_workday(day)`` asks, in this order:

1. the district's override for that day (``WorkdayOverride``: a local holiday, a day of extra
   duty), if any;
2. chinese-calendar, which knows the State Council's holiday notices year by year (e.g. 国庆 2026:
   1–7 October off, Saturday 10 October a working day);
3. for a year chinese-calendar does not know yet (it raises ``NotImplementedError``): Monday to
   Friday, with one logged warning per year and process, so that someone adds the year's
   holidays as overrides (or upgrades the library) before they matter.

``add_workdays(start, n)`` follows 12345 practice: the day of the start does not count, the
deadline is the end (23:59:59.999999 local time) of the n-th working day after it, returned in
UTC. ``calendar_for(session, district_code)`` loads a district's overrides; the calendar is cached
per district and reloaded when the overrides change (a cheap fingerprint query tells, so a change
made by another process is seen too).

Invariants: days are local dates in the calendar's zone; every datetime in or out is aware.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhifa.config import get_settings
from zhifa.kit.clock import SHANGHAI, as_utc
from zhifa.models.complaints import WorkdayOverride

log = logging.getLogger("zhifa.workdays")

# A deadline further than this is a configuration error (e.g. every day overridden as off).
MAX_SEARCH_DAYS = 3660
END_OF_DAY = time.max

_warned_lock = threading.Lock()
_warned_years: set[int] = set()


def _national_workday(day: date) -> bool:
    """chinese-calendar's answer; Monday–Friday for a year it does not know (warned once)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        with _warned_lock:
            first = day.year not in _warned_years
            _warned_years.add(day.year)
        if first:
            log.warning(
                "chinese-calendar has no holidays for %s: counting Monday to Friday as working "
                "days; add the year's holidays and make-up days as working-day overrides",
                day.year,
            )
        return day.weekday() < 5


def known_year(year: int) -> bool:
    """Whether chinese-calendar knows the statutory holidays of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class WorkCalendar:
    def __init__(self, overrides: Mapping[date, bool], tz: ZoneInfo = SHANGHAI) -> None:
        self.overrides = dict(overrides)
        self.tz = tz

    def is_workday(self, day: date) -> bool:
        override = self.overrides.get(day)
        if override is not None:
            return override
        return _national_workday(day)

    def local_day(self, at: datetime) -> date:
        return as_utc(at).astimezone(self.tz).date()

    def end_of_day(self, day: date) -> datetime:
        """The last instant of the local ``day``, in UTC."""
        return datetime.combine(day, END_OF_DAY, self.tz).astimezone(UTC)

    def nth_workday_after(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (``day`` itself does not count; n=0 is ``day``)."""
        if n < 0:
            raise ValueError("the number of working days cannot be negative")
        found, current = 0, day
        for _ in range(MAX_SEARCH_DAYS):
            if found == n:
                return current
            current += timedelta(days=1)
            if self.is_workday(current):
                found += 1
        if found == n:
            return current
        raise ValueError(f"no {n} working days within {MAX_SEARCH_DAYS} days after {day}")

    def add_workdays(self, start: datetime, n: int) -> datetime:
        """The end (local 23:59:59.999999, in UTC) of the n-th working day after the start's
        local day; the start's own day does not count, whatever the hour (12345 practice)."""
        return self.end_of_day(self.nth_workday_after(self.local_day(start), n))

    def workdays_between(self, first: date, last: date) -> int:
        """Working days in the closed range ``first``…``last`` (0 when ``last`` < ``first``)."""
        count, day = 0, first
        while day <= last:
            count += self.is_workday(day)
            day += timedelta(days=1)
        return count


# district code → (fingerprint of its overrides, calendar)
_cache: dict[str, tuple[tuple[int, int, datetime | None], WorkCalendar]] = {}
_cache_lock = threading.Lock()


def _fingerprint(session: Session, district_code: str) -> tuple[int, int, datetime | None]:
    """Changes whenever an override is added or removed (rows are never edited in place)."""
    row = session.execute(
        select(
            func.count(WorkdayOverride.id),
            func.coalesce(func.sum(WorkdayOverride.id), 0),
            func.max(WorkdayOverride.created_at),
        ).where(WorkdayOverride.district_code == district_code)
    ).one()
    latest = row[2]
    return int(row[0]), int(row[1]), as_utc(latest) if latest is not None else None


def calendar_for(session: Session, district_code: str, tz: ZoneInfo | None = None) -> WorkCalendar:
    """The district's working-day calendar (national calendar + its overrides)."""
    if tz is None:
        tz = get_settings().tz
    stamp = _fingerprint(session, district_code)
    with _cache_lock:
        cached = _cache.get(district_code)
    if cached is not None and cached[0] == stamp and cached[1].tz == tz:
        return cached[1]
    rows = session.execute(
        select(WorkdayOverride.day, WorkdayOverride.is_workday).where(
            WorkdayOverride.district_code == district_code
        )
    ).all()
    calendar = WorkCalendar({day: bool(is_workday) for day, is_workday in rows}, tz)
    with _cache_lock:
        _cache[district_code] = (stamp, calendar)
    return calendar


def invalidate(district_code: str | None = None) -> None:
    """Forget the cached calendar of one district (or all)."""
    with _cache_lock:
        if district_code is None:
            _cache.clear()
        else:
            _cache.pop(district_code, None)
