"""GET /api/v1/kpis (command:view): the constructed month per squad and per officer, the default
period, scope, and the refusals (role, reversed or too long a period, an unknown grouping)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests import factories
from tests.analytics.helpers import Month, march
from zhifa.analytics.kpis import this_month
from zhifa.kit.clock import today_local
from zhifa.models.org import Officer

MARCH = "/api/v1/kpis?start=2026-03-01&end=2026-03-31"


@pytest.fixture
def month(session: Session) -> Month:
    return march(session)


def _get(client: TestClient, session: Session, who: Officer, url: str) -> Any:
    headers = factories.bearer(session, who)
    session.commit()
    return client.get(url, headers=headers)


def _row(body: dict[str, Any], key: int | None) -> dict[str, Any]:
    (found,) = [r for r in body["rows"] if r["key"] == key]
    return found


class TestKpiApi:
    def test_per_squad_with_rates_medians_and_the_no_squad_row(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        response = _get(client, session, month.world.dispatcher, f"{MARCH}&by=unit")

        assert response.status_code == 200
        body = response.json()
        assert (body["start"], body["end"], body["by"]) == ("2026-03-01", "2026-03-31", "unit")
        a = _row(body, month.squad_a)
        assert a["on_time_rate"] == pytest.approx(2 / 3)
        assert a["close_rate"] == 0.5
        assert a["rework_rate"] == pytest.approx(1 / 3)
        assert a["median_dispatch_minutes"] == 20.0
        assert _row(body, None)["name"] == "未归属中队"
        assert body["total"]["close_rate"] == 0.5
        assert body["total"]["median_close_minutes"] == 120.0

    def test_per_officer(self, client: TestClient, session: Session, month: Month) -> None:
        response = _get(client, session, month.world.bureau_leader, f"{MARCH}&by=officer")

        assert response.status_code == 200
        lee = _row(response.json(), month.lee)
        assert (lee["name"], lee["handled"], lee["on_time_rate"]) == ("李明", 2, 0.5)

    def test_a_squad_leader_sees_their_squad_only(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        response = _get(client, session, month.world.field.leader, MARCH)

        body = response.json()
        assert [r["key"] for r in body["rows"]] == [month.squad_a]
        assert body["total"]["received"] == 6

    def test_the_default_period_is_this_month(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        response = _get(client, session, month.world.dispatcher, "/api/v1/kpis")

        start, end = this_month(today_local())
        body = response.json()
        assert (body["start"], body["end"]) == (start.isoformat(), end.isoformat())
        assert body["by"] == "unit"
        assert body["total"]["on_time_rate"] is None  # nothing happened this month


class TestKpiApiRefusals:
    def test_a_field_officer_is_refused(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        response = _get(client, session, month.world.officer, MARCH)

        assert response.status_code == 403
        assert response.json()["error"]["code"] == "permission_denied"

    def test_a_reversed_period_is_refused_in_chinese(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        url = "/api/v1/kpis?start=2026-03-31&end=2026-03-01"
        response = _get(client, session, month.world.dispatcher, url)

        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "period_reversed"
        assert error["message"] == "统计期间的开始日期（2026-03-31）晚于结束日期（2026-03-01）。"
        assert error["detail"] == {"field": "start"}

    def test_a_period_of_more_than_366_days_is_refused(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        url = "/api/v1/kpis?start=2025-01-01&end=2026-03-01"
        response = _get(client, session, month.world.dispatcher, url)

        assert response.status_code == 422
        assert response.json()["error"]["message"] == "统计期间最长 366 天。"

    def test_an_unknown_grouping_is_refused(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        response = _get(client, session, month.world.dispatcher, f"{MARCH}&by=district")

        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_input"
