"""The indicators (analytics.kpis) on a constructed month whose figures are worked out by hand in
``tests.analytics.helpers``: exact rates and medians per squad, per officer and in total; the
local-date edges of the period; scope; an empty period; the period's defaults and refusals."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from tests.analytics.helpers import END, START, Month, march
from zhifa.analytics.kpis import Grouping, KpiRow, kpis, period
from zhifa.errors import InvalidInput
from zhifa.models.org import Unit
from zhifa.org.roles import ScopeLevel
from zhifa.org.scope import DataScope, build_scope

DISTRICT = DataScope(ScopeLevel.DISTRICT, frozenset({"510184"}))


@pytest.fixture
def month(session: Session) -> Month:
    return march(session)


def _row(rows: list[KpiRow], key: int | None) -> KpiRow:
    (found,) = [r for r in rows if r.key == key]
    return found


class TestPerSquad:
    def test_the_first_squad_has_the_figures_worked_out_by_hand(
        self, session: Session, month: Month
    ) -> None:
        table = kpis(session, DISTRICT, start=START, end=END, by="unit")

        a = _row(table.rows, month.squad_a)
        assert a.name == "一中队"
        assert (a.received, a.excluded, a.should_close, a.deferred, a.closed) == (6, 1, 5, 1, 2)
        assert a.close_rate == pytest.approx(2 / 4)
        assert (a.handled, a.handled_timed, a.handled_on_time) == (3, 3, 2)
        assert a.on_time_rate == pytest.approx(2 / 3)
        assert a.reworked == 1
        assert a.rework_rate == pytest.approx(1 / 3)
        assert (a.dispatched, a.arrived) == (3, 3)
        assert a.median_dispatch_minutes == 20.0
        assert a.median_arrive_minutes == 20.0
        assert a.median_close_minutes == 150.0

    def test_a_squad_without_handling_deadlines_has_no_on_time_rate(
        self, session: Session, month: Month
    ) -> None:
        table = kpis(session, DISTRICT, start=START, end=END, by="unit")

        b = _row(table.rows, month.squad_b)
        assert (b.received, b.excluded, b.should_close, b.closed) == (2, 1, 1, 1)
        assert b.close_rate == 1.0
        assert (b.handled, b.handled_timed) == (1, 0)
        assert b.on_time_rate is None
        assert b.rework_rate == 0.0
        assert (b.median_dispatch_minutes, b.median_arrive_minutes) == (5.0, 20.0)
        assert b.median_close_minutes == 60.0

    def test_complaints_of_no_squad_get_their_own_row(self, session: Session, month: Month) -> None:
        table = kpis(session, DISTRICT, start=START, end=END, by="unit")

        none = _row(table.rows, None)
        assert (none.received, none.should_close, none.closed) == (1, 1, 0)
        assert none.close_rate == 0.0
        assert none.on_time_rate is None and none.rework_rate is None  # noqa: PT018
        assert [r.key for r in table.rows] == [month.squad_a, month.squad_b, None]

    def test_the_total_counts_each_complaint_once(self, session: Session, month: Month) -> None:
        total = kpis(session, DISTRICT, start=START, end=END, by="unit").total

        assert (total.received, total.excluded, total.should_close) == (9, 2, 7)
        assert (total.deferred, total.closed) == (1, 3)
        assert total.close_rate == pytest.approx(3 / 6)
        assert (total.handled, total.handled_timed, total.handled_on_time) == (4, 3, 2)
        assert total.on_time_rate == pytest.approx(2 / 3)
        assert total.rework_rate == pytest.approx(1 / 4)
        assert total.median_dispatch_minutes == 15.0  # 5, 10, 20, 30
        assert total.median_arrive_minutes == 20.0  # 10, 20, 20, 40
        assert total.median_close_minutes == 120.0  # 60, 90, 150, 3000


class TestPerOfficer:
    def test_each_officer_of_the_assignment_gets_the_complaint(
        self, session: Session, month: Month
    ) -> None:
        table = kpis(session, DISTRICT, start=START, end=END, by=Grouping.OFFICER)

        lee, wang, sun = (_row(table.rows, k) for k in (month.lee, month.wang, month.sun))
        assert (lee.name, wang.name, sun.name) == ("李明", "王芳", "孙丽")
        assert (lee.received, lee.should_close, lee.closed) == (3, 3, 2)
        assert lee.close_rate == pytest.approx(2 / 3)
        assert (lee.handled, lee.on_time_rate, lee.rework_rate) == (2, 0.5, 0.5)
        assert (lee.median_dispatch_minutes, lee.median_arrive_minutes) == (20.0, 20.0)
        assert lee.median_close_minutes == 120.0
        assert (wang.received, wang.closed, wang.close_rate) == (2, 2, 1.0)
        assert wang.handled == 3
        assert wang.on_time_rate == pytest.approx(2 / 3)
        assert wang.rework_rate == pytest.approx(1 / 3)
        assert (wang.median_dispatch_minutes, wang.median_arrive_minutes) == (15.0, 15.0)
        assert wang.median_close_minutes == 150.0
        assert (sun.handled, sun.on_time_rate, sun.rework_rate) == (1, None, 0.0)

    def test_officers_never_assigned_have_no_row(self, session: Session, month: Month) -> None:
        table = kpis(session, DISTRICT, start=START, end=END, by="officer")

        assert {r.key for r in table.rows} == {month.lee, month.wang, month.sun}
        assert table.total.received == 9  # the total does not depend on the grouping


class TestPeriodEdges:
    def test_local_dates_decide_what_falls_in_the_month(
        self, session: Session, month: Month
    ) -> None:
        # 03-01 00:30 local is February in UTC; 04-01 00:10 local is still March in UTC.
        table = kpis(session, DISTRICT, start=date(2026, 3, 1), end=date(2026, 3, 1), by="unit")

        a = _row(table.rows, month.squad_a)
        assert (a.received, a.deferred, a.handled, a.closed) == (1, 1, 1, 0)
        assert a.median_close_minutes == 3000.0  # a6, received in February, closed on 03-01

    def test_a_complaint_closed_after_the_period_is_not_closed_in_it(
        self, session: Session, month: Month
    ) -> None:
        last_day = kpis(session, DISTRICT, start=END, end=END, by="unit")
        next_day = kpis(session, DISTRICT, start=date(2026, 4, 1), end=date(2026, 4, 1), by="unit")

        assert (last_day.total.should_close, last_day.total.closed) == (1, 0)
        assert next_day.total.received == 0
        assert next_day.total.median_close_minutes == 40.0  # a7: 23:30 → 00:10


class TestScope:
    def test_a_squad_leader_counts_only_their_squad(self, session: Session, month: Month) -> None:
        leader = month.world.field.leader
        squad = session.get(Unit, leader.unit_id)
        scope = build_scope(
            session, level=ScopeLevel.SQUAD, district_code=leader.district_code, unit=squad
        )

        table = kpis(session, scope, start=START, end=END, by="unit")

        assert [r.key for r in table.rows] == [month.squad_a]
        assert table.total.received == 6
        assert table.total.close_rate == pytest.approx(2 / 4)

    def test_another_district_is_not_counted(self, session: Session, month: Month) -> None:
        other = DataScope(ScopeLevel.DISTRICT, frozenset({"510104"}))

        table = kpis(session, other, start=START, end=END, by="unit")

        assert table.total.received == 1
        assert table.total.closed == 1


class TestEmptyPeriod:
    def test_nothing_to_divide_gives_no_rate_and_no_error(
        self, session: Session, month: Month
    ) -> None:
        table = kpis(session, DISTRICT, start=date(2025, 1, 1), end=date(2025, 1, 31), by="unit")

        assert [r.key for r in table.rows] == [month.squad_a, month.squad_b]
        for row in (*table.rows, table.total):
            assert (row.received, row.handled, row.closed) == (0, 0, 0)
            assert (row.on_time_rate, row.close_rate, row.rework_rate) == (None, None, None)
            assert row.median_dispatch_minutes is None
            assert row.median_arrive_minutes is None
            assert row.median_close_minutes is None

    def test_only_deferred_complaints_leave_nothing_to_divide(
        self, session: Session, month: Month
    ) -> None:
        # 03-01: a5 should close but is deferred (0 ÷ (1 − 1)); a6 was received in February.
        table = kpis(session, DISTRICT, start=START, end=START, by="unit")

        a = _row(table.rows, month.squad_a)
        assert (a.should_close, a.deferred, a.close_rate) == (1, 1, None)


class TestPeriod:
    TODAY = date(2026, 2, 14)

    def test_the_default_is_this_whole_month(self) -> None:
        assert period(None, None, today=self.TODAY) == (date(2026, 2, 1), date(2026, 2, 28))

    def test_a_start_alone_runs_to_the_end_of_its_month(self) -> None:
        assert period(date(2024, 2, 10), None, today=self.TODAY) == (
            date(2024, 2, 10),
            date(2024, 2, 29),
        )

    def test_an_end_alone_starts_on_the_first_of_its_month(self) -> None:
        assert period(None, date(2025, 12, 20), today=self.TODAY) == (
            date(2025, 12, 1),
            date(2025, 12, 20),
        )

    def test_a_period_ending_before_it_starts_is_refused(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            period(date(2026, 3, 2), date(2026, 3, 1), today=self.TODAY)

        assert caught.value.code == "period_reversed"
        assert caught.value.params == {"start": "2026-03-02", "end": "2026-03-01"}
        assert caught.value.detail == {"field": "start"}

    def test_a_period_longer_than_a_leap_year_is_refused(self) -> None:
        assert period(date(2024, 1, 1), date(2024, 12, 31), today=self.TODAY)[1].year == 2024
        with pytest.raises(InvalidInput) as caught:
            period(date(2024, 1, 1), date(2025, 1, 1), today=self.TODAY)

        assert caught.value.code == "period_too_long"
        assert caught.value.params == {"days": 366}
