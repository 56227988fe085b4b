"""The calculator page compares the norms one act breaches (行政处罚法 art. 29): the higher fine
applies, and the others are shown with their figures."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.catalog.test_pages import CODE, HOME, build, cafe_power, calculate, login, per_minor_spec
from zhifa.catalog.schemas import BenchmarkVersionIn
from zhifa.catalog.service import Author, benchmark_service, power_service
from zhifa.catalog.spec import BenchmarkSpec

OTHER = "CF-WH-002"


def add_other_power(session: Session, per_minor_fen: int) -> None:
    author = Author(officer_id=None, district_code=HOME, via="test")
    power_service.put(session, author, code=OTHER, data=cafe_power(name="另一规定下的同一行为"))
    spec = BenchmarkSpec.model_validate(per_minor_spec(per_minor_fen))
    data = BenchmarkVersionIn(spec=spec, effective_from=date(2022, 5, 1))
    benchmark_service.put(session, author, code=OTHER, data=data)
    session.commit()


class TestSeveralNorms:
    def test_the_higher_fine_applies_and_the_other_norm_is_listed(
        self, client: TestClient, session: Session
    ) -> None:
        world = build(session)
        add_other_power(session, 500_000)
        csrf = login(client, session, world.officer)

        answer = calculate(client, csrf, **{"fact.minors": "2", "concurrent": OTHER})

        assert answer.status_code == 200  # type: ignore[attr-defined]
        html = answer.text  # type: ignore[attr-defined]
        assert 'data-recommended-fen="1000000"' in html  # 2 × 5,000 under the other norm
        assert f'data-considered="{CODE}"' in html
        assert "6,000" in html  # the main norm's 2 × 3,000, shown as considered

    def test_an_unknown_other_code_is_named(self, client: TestClient, session: Session) -> None:
        world = build(session)
        csrf = login(client, session, world.officer)

        answer = calculate(client, csrf, **{"fact.minors": "2", "concurrent": "CF-NOPE"})

        assert "CF-NOPE" in answer.text  # type: ignore[attr-defined]
        assert "data-recommended-fen" not in answer.text  # type: ignore[attr-defined]
