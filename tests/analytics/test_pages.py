"""The performance page /analytics (command:view): the table, the chart data for ECharts, the
definitions, the per-officer view, an empty month, and a bad date shown with the default period."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.analytics.helpers import Month, march
from tests.org.helpers import web_login

MARCH = "/analytics?start=2026-03-01&end=2026-03-31"


@pytest.fixture
def month(session: Session) -> Month:
    return march(session)


def _chart(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="kpi-data">(.*?)</script>', html)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


def _row(html: str, key: object) -> str:
    found = re.search(rf'<tr[^>]*data-kpi-row="{key}"[^>]*>(.*?)</tr>', html, re.S)
    assert found is not None
    return found.group(1)


class TestAnalyticsPage:
    def test_the_table_shows_the_squads_rates_and_the_total(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        web_login(client, session, month.world.dispatcher)

        response = client.get(f"{MARCH}&by=unit")

        assert response.status_code == 200
        html = response.text
        squad_a = _row(html, month.squad_a)
        assert "一中队" in squad_a
        assert '<td data-rate="on_time">66.7%</td>' in squad_a
        assert '<td data-rate="close">50.0%</td>' in squad_a
        assert '<td data-rate="rework">33.3%</td>' in squad_a
        total = _row(html, "total")
        assert '<td data-rate="rework">25.0%</td>' in total
        assert "/static/vendor/echarts/echarts.min.js" in html
        assert "按期处置率" in html and "结案率" in html and "返工率" in html  # noqa: PT018

    def test_the_charts_get_names_rates_in_percent_and_medians(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        web_login(client, session, month.world.dispatcher)

        chart = _chart(client.get(f"{MARCH}&by=unit").text)

        assert chart["names"] == ["一中队", "二中队", "未归属中队"]
        on_time, close, rework = chart["rates"]
        assert on_time["name"] == "按期处置率"
        assert on_time["data"] == [66.7, None, None]
        assert close["data"] == [50.0, 100.0, 0.0]
        assert rework["data"] == [33.3, 0.0, None]
        assert chart["medians"][0]["data"] == [20.0, 5.0, None]

    def test_the_definitions_say_how_edge_cases_count(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        web_login(client, session, month.world.dispatcher)

        html = client.get(MARCH).text

        assert "转办、不予受理和合并" in html
        assert "缓办" in html

    def test_per_officer(self, client: TestClient, session: Session, month: Month) -> None:
        web_login(client, session, month.world.bureau_leader)

        html = client.get(f"{MARCH}&by=officer").text

        assert "李明" in _row(html, month.lee)
        assert '<td data-rate="on_time">50.0%</td>' in _row(html, month.lee)

    def test_an_empty_month_shows_dashes(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        web_login(client, session, month.world.dispatcher)

        html = client.get("/analytics?start=2025-01-01&end=2025-01-31").text

        assert '<td data-rate="close">—</td>' in _row(html, "total")

    def test_a_bad_date_is_explained_and_the_default_month_shown(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        web_login(client, session, month.world.dispatcher)

        response = client.get("/analytics?start=2026-02-30")

        assert response.status_code == 422
        assert "“2026-02-30”不是有效日期" in response.text
        assert 'data-kpi-row="total"' in response.text

    def test_a_field_officer_may_not_open_it(
        self, client: TestClient, session: Session, month: Month
    ) -> None:
        web_login(client, session, month.world.officer)

        assert client.get("/analytics").status_code == 403
