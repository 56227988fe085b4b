"""Chinese working days: 国庆 2026 and its make-up Saturday, district overrides, years the library
does not know, and the 12345 counting rule (the start day does not count; the deadline is the end
of the n-th working day)."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from tests import factories
from zhifa.kit import workdays
from zhifa.kit.clock import SHANGHAI
from zhifa.kit.workdays import WorkCalendar, calendar_for, known_year
from zhifa.models.complaints import WorkdayOverride
from zhifa.models.org import District

NATIONAL = WorkCalendar({})


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def end_of(y: int, m: int, d: int) -> datetime:
    """The end of a local day, in UTC (local 23:59:59.999999 is 15:59:59.999999 UTC)."""
    return datetime(y, m, d, 15, 59, 59, 999999, tzinfo=UTC)


class TestNationalCalendar2026:
    def test_the_national_day_week_is_off(self) -> None:
        for day in range(1, 8):
            assert not NATIONAL.is_workday(date(2026, 10, day))

    def test_saturday_10_october_is_a_make_up_working_day(self) -> None:
        assert date(2026, 10, 10).weekday() == 5
        assert NATIONAL.is_workday(date(2026, 10, 10))

    def test_an_ordinary_sunday_is_off_and_an_ordinary_monday_works(self) -> None:
        assert not NATIONAL.is_workday(date(2026, 10, 11))
        assert NATIONAL.is_workday(date(2026, 10, 12))


class TestAddWorkdaysAcrossNationalDay:
    def test_one_working_day_from_30_september_ends_on_8_october(self) -> None:
        assert NATIONAL.add_workdays(local(2026, 9, 30), 1) == end_of(2026, 10, 8)

    def test_the_make_up_saturday_counts_as_the_third_working_day(self) -> None:
        # 8 Oct (Thu), 9 Oct (Fri), 10 Oct (Sat, make-up).
        assert NATIONAL.add_workdays(local(2026, 9, 30), 3) == end_of(2026, 10, 10)

    def test_the_sunday_after_the_make_up_day_is_skipped(self) -> None:
        assert NATIONAL.add_workdays(local(2026, 9, 30), 4) == end_of(2026, 10, 12)

    def test_thirteen_working_days_from_30_september_end_on_23_october(self) -> None:
        # 8, 9, 10, 12, 13, 14, 15, 16, 19, 20, 21, 22, 23 October.
        assert NATIONAL.add_workdays(local(2026, 9, 30), 13) == end_of(2026, 10, 23)

    def test_a_complaint_received_during_the_holiday_counts_from_the_first_working_day(
        self,
    ) -> None:
        assert NATIONAL.add_workdays(local(2026, 10, 3, 22, 30), 1) == end_of(2026, 10, 8)

    def test_the_start_day_is_the_local_day_not_the_utc_day(self) -> None:
        # 17:30 UTC on 29 September is 01:30 on 30 September in Shanghai.
        start = datetime(2026, 9, 29, 17, 30, tzinfo=UTC)
        assert NATIONAL.add_workdays(start, 1) == end_of(2026, 10, 8)

    def test_the_start_day_does_not_count_even_at_one_minute_past_midnight(self) -> None:
        assert NATIONAL.add_workdays(local(2026, 10, 12, 0, 1), 1) == end_of(2026, 10, 13)

    def test_zero_working_days_ends_the_start_day_and_a_negative_count_is_refused(self) -> None:
        assert NATIONAL.add_workdays(local(2026, 10, 12), 0) == end_of(2026, 10, 12)
        with pytest.raises(ValueError, match="negative"):
            NATIONAL.add_workdays(local(2026, 10, 12), -1)


class TestDistrictOverrides:
    def test_an_override_turning_8_october_off_moves_the_deadline_to_the_9th(self) -> None:
        calendar = WorkCalendar({date(2026, 10, 8): False})
        assert not calendar.is_workday(date(2026, 10, 8))
        assert calendar.add_workdays(local(2026, 9, 30), 1) == end_of(2026, 10, 9)

    def test_an_override_can_make_a_sunday_a_working_day(self) -> None:
        calendar = WorkCalendar({date(2026, 10, 11): True})
        assert calendar.add_workdays(local(2026, 9, 30), 4) == end_of(2026, 10, 11)

    def test_every_day_off_is_a_configuration_error_not_an_endless_loop(self) -> None:
        start = date(2026, 10, 12)
        all_off = {start + timedelta(days=i): False for i in range(1, workdays.MAX_SEARCH_DAYS + 2)}
        with pytest.raises(ValueError, match="no 1 working days"):
            WorkCalendar(all_off).add_workdays(local(2026, 10, 12), 1)


class TestYearsTheLibraryDoesNotKnow:
    def test_2026_is_known_and_2031_is_not(self) -> None:
        assert known_year(2026)
        assert not known_year(2031)

    def test_monday_to_friday_counts_with_one_warning_per_year(
        self, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(workdays, "_warned_years", set())  # as in a fresh process
        calendar = WorkCalendar({})
        with caplog.at_level(logging.WARNING, logger="zhifa.workdays"):
            # Friday 7 March 2031 → Monday 10 March, then Tuesday 11 March.
            assert calendar.add_workdays(local(2031, 3, 7), 1) == end_of(2031, 3, 10)
            assert calendar.add_workdays(local(2031, 3, 10), 1) == end_of(2031, 3, 11)
        warnings = [r for r in caplog.records if "2031" in r.getMessage()]
        assert len(warnings) == 1
        assert "add the year's holidays" in warnings[0].getMessage()

    def test_an_override_fixes_a_holiday_of_an_unknown_year(self) -> None:
        calendar = WorkCalendar({date(2031, 1, 1): False})
        assert not calendar.is_workday(date(2031, 1, 1))
        # 31 December 2030 (Tuesday) + 1 working day: 1 January is off → Thursday 2 January.
        assert calendar.add_workdays(local(2030, 12, 31), 1) == end_of(2031, 1, 2)


class TestCalendarForDistrict:
    def test_the_district_overrides_are_loaded_and_a_change_is_seen(self, session: Session) -> None:
        workdays.invalidate()
        code = _district(session)
        assert calendar_for(session, code).is_workday(date(2026, 10, 8))

        row = WorkdayOverride(district_code=code, day=date(2026, 10, 8), is_workday=False)
        session.add(row)
        session.flush()
        assert not calendar_for(session, code).is_workday(date(2026, 10, 8))

        session.delete(row)
        session.flush()
        assert calendar_for(session, code).is_workday(date(2026, 10, 8))

    def test_the_calendar_is_reused_while_the_overrides_stay_the_same(
        self, session: Session
    ) -> None:
        code = _district(session)
        first = calendar_for(session, code)
        assert calendar_for(session, code) is first

    def test_another_districts_override_does_not_apply(self, session: Session) -> None:
        code = _district(session)
        other = _district(session, "510104")
        session.add(WorkdayOverride(district_code=other, day=date(2026, 10, 9), is_workday=False))
        session.flush()
        assert calendar_for(session, code).is_workday(date(2026, 10, 9))
        assert not calendar_for(session, other).is_workday(date(2026, 10, 9))


def _district(session: Session, code: str = "510184") -> str:
    if session.get(District, code) is None:
        factories.district(session, code, name=f"区{code}")
    return code


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2004, 1, 2), max_value=datetime(2026, 11, 30)),
    n=st.integers(min_value=1, max_value=30),
)
def test_the_deadline_ends_the_nth_working_day_after_the_start_day(start: datetime, n: int) -> None:
    aware = start.replace(tzinfo=SHANGHAI)
    due = NATIONAL.add_workdays(aware, n)
    due_local = due.astimezone(SHANGHAI)
    assert (due_local.hour, due_local.minute, due_local.second) == (23, 59, 59)
    assert NATIONAL.is_workday(due_local.date())
    first = aware.date() + timedelta(days=1)
    assert NATIONAL.workdays_between(first, due_local.date()) == n
    assert due > aware
